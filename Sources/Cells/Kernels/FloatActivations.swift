import Glibc
/// Vectorized σ and tanh for Float, 16 lanes at a time.
///
/// exp(x) = 2ⁿ · eʳ with n = round(x / ln 2), r = x − n·ln 2 (ln 2 split in two parts so r is
/// exact), eʳ from a degree-6 polynomial on |r| ≤ ln 2 / 2 (Cephes coefficients), and 2ⁿ built
/// in the exponent bits. Relative error about 1e-7 over the clamped range [−87, 88]; σ and tanh are
/// built on it. The PyTorch golden tests check the cells end to end at 1e-5.
extension FloatKernels {
    /// Only plain vector operations: the standard library's SIMD `rounded`, `clamped` and
    /// float→int conversions run lane by lane (measured 5× slower than scalar `expf`), so n is
    /// rounded by adding and subtracting 1.5·2²³, which also leaves n's integer in the low bits.
    @inline(__always)
    static func exp(_ x: V) -> V {
        var xc = x.replacing(with: V(repeating: -87), where: x .< -87)
        xc = xc.replacing(with: V(repeating: 88), where: xc .> 88)
        let magic = V(repeating: 12_582_912)                      // 1.5 · 2²³
        let t = xc * 1.442_695_04 + magic
        let n = t - magic                                         // round(x / ln 2)
        var r = xc - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        return p * unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
    }

    static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = load(x + i)
            store(1 / (1 + exp(-v)), x + i)
            i += 16
        }
        while i < count { x[i] = 1 / (1 + expf(-x[i])); i += 1 }
    }

    /// tanh(x) = 1 − 2 / (e^{2x} + 1); for |x| < 0.004 use x − x³/3 (the formula loses digits there).
    static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let v = load(x + i)
            let big = 1 - 2 / (exp(2 * v) + 1)
            let small = v - v * v * v * (1.0 / 3.0)
            store(big.replacing(with: small, where: abs(v) .< 0.004), x + i)
            i += 16
        }
        while i < count { x[i] = tanhf(x[i]); i += 1 }
    }
}

@inline(__always)
private func abs(_ v: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7fff_ffff, to: SIMD16<Float>.self)
}
