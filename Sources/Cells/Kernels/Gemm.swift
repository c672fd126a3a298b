/// Dense kernels on row-major matrices, written with 16-lane SIMD so that AVX-512 (Float) or two
/// AVX-512 registers (Double) carry each step. Every kernel *accumulates* into C.
///
/// Shapes follow the training path: activations are [rows × features], weights [out × in]
/// (PyTorch's layout), so the forward product is `A · Bᵀ` (both operands read along K).
enum Gemm {
    @inline(__always)
    static func load<T: CellScalar>(_ p: UnsafePointer<T>) -> SIMD16<T> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<T>.self)
    }

    @inline(__always)
    static func store<T: CellScalar>(_ v: SIMD16<T>, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<T>.self)
    }

    /// C[m, n] += Σₖ A[m, k] · B[n, k].  A: M×K, B: N×K, C: M×N (row strides = K, K, N).
    /// Blocks of 2 rows of A × 4 rows of B share every load; with M = 1 this is the batch-1
    /// matrix-vector product of the streaming step.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func nt<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        let kv = k & ~15
        var i = 0
        while i < m {
            let rows = min(2, m - i)
            let a0 = a + i * k, a1 = a + (i + rows - 1) * k
            var j = 0
            while j < n {
                let cols = min(4, n - j)
                let b0 = b + j * k, b1 = b + min(j + 1, n - 1) * k
                let b2 = b + min(j + 2, n - 1) * k, b3 = b + min(j + 3, n - 1) * k
                var s00 = SIMD16<T>(), s01 = SIMD16<T>(), s02 = SIMD16<T>(), s03 = SIMD16<T>()
                var s10 = SIMD16<T>(), s11 = SIMD16<T>(), s12 = SIMD16<T>(), s13 = SIMD16<T>()
                var p = 0
                while p < kv {
                    let x0 = load(a0 + p), x1 = load(a1 + p)
                    let w0 = load(b0 + p), w1 = load(b1 + p), w2 = load(b2 + p), w3 = load(b3 + p)
                    s00.addProduct(x0, w0); s01.addProduct(x0, w1); s02.addProduct(x0, w2); s03.addProduct(x0, w3)
                    s10.addProduct(x1, w0); s11.addProduct(x1, w1); s12.addProduct(x1, w2); s13.addProduct(x1, w3)
                    p += 16
                }
                var r0 = (s00.sum(), s01.sum(), s02.sum(), s03.sum())
                var r1 = (s10.sum(), s11.sum(), s12.sum(), s13.sum())
                while p < k {
                    let x0 = a0[p], x1 = a1[p]
                    r0.0 += x0 * b0[p]; r0.1 += x0 * b1[p]; r0.2 += x0 * b2[p]; r0.3 += x0 * b3[p]
                    r1.0 += x1 * b0[p]; r1.1 += x1 * b1[p]; r1.2 += x1 * b2[p]; r1.3 += x1 * b3[p]
                    p += 1
                }
                let c0 = c + i * n + j
                c0[0] += r0.0
                if cols > 1 { c0[1] += r0.1 }
                if cols > 2 { c0[2] += r0.2 }
                if cols > 3 { c0[3] += r0.3 }
                if rows > 1 {
                    let c1 = c + (i + 1) * n + j
                    c1[0] += r1.0
                    if cols > 1 { c1[1] += r1.1 }
                    if cols > 2 { c1[2] += r1.2 }
                    if cols > 3 { c1[3] += r1.3 }
                }
                j += 4
            }
            i += 2
        }
    }

    /// C[m, :] += Σₙ A[m, n] · B[n, :].  A: M×N, B: N×K, C: M×K. (Backward to the inputs: dX = dG · W.)
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func nn<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        for i in 0..<m {
            axpyRows(count: n, coefficients: a + i * n, coefficientStride: 1, rows: b, rowLength: k, into: c + i * k)
        }
    }

    /// C[n, :] += Σₘ A[m, n] · B[m, :].  A: M×N, B: M×K, C: N×K. (Weight gradient: dW += dGᵀ · X.)
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func tn<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        for j in 0..<n {
            axpyRows(count: m, coefficients: a + j, coefficientStride: n, rows: b, rowLength: k, into: c + j * k)
        }
    }

    /// out[:] += Σᵢ coefficients[i·stride] · rows[i, :], four rows per pass over `out`.
    @inline(__always)
    static func axpyRows<T: CellScalar>(count: Int, coefficients: UnsafePointer<T>, coefficientStride: Int,
                                        rows: UnsafePointer<T>, rowLength k: Int, into out: UnsafeMutablePointer<T>) {
        let kv = k & ~15
        var r = 0
        while r < count {
            let n = min(4, count - r)
            let c0 = coefficients[r * coefficientStride]
            let c1 = n > 1 ? coefficients[(r + 1) * coefficientStride] : 0
            let c2 = n > 2 ? coefficients[(r + 2) * coefficientStride] : 0
            let c3 = n > 3 ? coefficients[(r + 3) * coefficientStride] : 0
            if c0 == 0 && c1 == 0 && c2 == 0 && c3 == 0 { r += 4; continue }
            let r0 = rows + r * k, r1 = rows + (r + min(1, n - 1)) * k
            let r2 = rows + (r + min(2, n - 1)) * k, r3 = rows + (r + min(3, n - 1)) * k
            let v0 = SIMD16<T>(repeating: c0), v1 = SIMD16<T>(repeating: c1)
            let v2 = SIMD16<T>(repeating: c2), v3 = SIMD16<T>(repeating: c3)
            var p = 0
            while p < kv {
                var acc = load(out + p)
                acc.addProduct(v0, load(r0 + p))
                acc.addProduct(v1, load(r1 + p))
                acc.addProduct(v2, load(r2 + p))
                acc.addProduct(v3, load(r3 + p))
                store(acc, out + p)
                p += 16
            }
            while p < k {
                out[p] += c0 * r0[p] + c1 * r1[p] + c2 * r2[p] + c3 * r3[p]
                p += 1
            }
            r += 4
        }
    }
}

extension SIMD16 where Scalar: CellScalar {
    @inline(__always)
    mutating func addProduct(_ a: SIMD16<Scalar>, _ b: SIMD16<Scalar>) { self = self.addingProduct(a, b) }
}
