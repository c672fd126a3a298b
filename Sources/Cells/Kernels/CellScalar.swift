import Glibc

/// The number types the cells run in: `Float` in production, `Double` for gradient checks.
/// Kernels are generic over it and specialized for both, so the check and the product run the
/// same code.
public protocol CellScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
    static func exp(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    /// Safetensors dtype name.
    static var dtypeName: String { get }

    /// C[m, n] += Σₖ A[m, k] · B[n, k] (see `Gemm.nt`). `Float` has a SIMD kernel; other types
    /// use the plain loop below (Double only serves gradient checks).
    static func gemmNT(_ m: Int, _ n: Int, _ k: Int,
                       _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>)
    /// out[:] += Σᵢ coefficients[i·stride] · rows[i, :] (see `Gemm.axpyRows`).
    static func axpyRows(count: Int, coefficients: UnsafePointer<Self>, coefficientStride: Int,
                         rows: UnsafePointer<Self>, rowLength k: Int, into out: UnsafeMutablePointer<Self>)
    /// x[i] = σ(x[i]) for i < count.
    static func sigmoid(_ x: UnsafeMutablePointer<Self>, count: Int)
    /// x[i] = tanh(x[i]) for i < count.
    static func tanh(_ x: UnsafeMutablePointer<Self>, count: Int)
}

extension CellScalar {
    public static func gemmNT(_ m: Int, _ n: Int, _ k: Int,
                              _ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, _ c: UnsafeMutablePointer<Self>) {
        for i in 0..<m {
            for j in 0..<n {
                var s: Self = 0
                for p in 0..<k { s += a[i * k + p] * b[j * k + p] }
                c[i * n + j] += s
            }
        }
    }

    public static func sigmoid(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = 1 / (1 + exp(-x[i])) }
    }

    public static func tanh(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = tanh(x[i]) }
    }

    public static func axpyRows(count: Int, coefficients: UnsafePointer<Self>, coefficientStride: Int,
                                rows: UnsafePointer<Self>, rowLength k: Int, into out: UnsafeMutablePointer<Self>) {
        for r in 0..<count {
            let c = coefficients[r * coefficientStride]
            if c == 0 { continue }
            for p in 0..<k { out[p] += c * rows[r * k + p] }
        }
    }
}

extension Float: CellScalar {
    public static func gemmNT(_ m: Int, _ n: Int, _ k: Int,
                              _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        FloatKernels.nt(m, n, k, a, b, c)
    }
    public static func axpyRows(count: Int, coefficients: UnsafePointer<Float>, coefficientStride: Int,
                                rows: UnsafePointer<Float>, rowLength k: Int, into out: UnsafeMutablePointer<Float>) {
        FloatKernels.axpyRows(count: count, coefficients: coefficients, coefficientStride: coefficientStride,
                              rows: rows, rowLength: k, into: out)
    }
    public static func sigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) { FloatKernels.sigmoid(x, count: count) }
    public static func tanh(_ x: UnsafeMutablePointer<Float>, count: Int) { FloatKernels.tanh(x, count: count) }
    @inline(__always) public static func exp(_ x: Float) -> Float { expf(x) }
    @inline(__always) public static func tanh(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { logf(x) }
    public static var dtypeName: String { "F32" }
}

extension Double: CellScalar {
    @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    public static var dtypeName: String { "F64" }
}

@inline(__always)
func sigmoid<T: CellScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }
