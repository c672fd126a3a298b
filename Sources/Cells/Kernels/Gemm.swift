/// Dense products on row-major matrices. Every kernel *accumulates* into C.
///
/// Shapes follow the training path: activations are [rows × features], weights [out × in]
/// (PyTorch's layout), so the forward product is `A · Bᵀ` (both operands read along K).
/// The work is done by the scalar type's kernels (`CellScalar.gemmNT`, `.axpyRows`): SIMD for
/// `Float`, a plain loop for `Double`.
enum Gemm {
    /// C[m, n] += Σₖ A[m, k] · B[n, k].  A: M×K, B: N×K, C: M×N. With M = 1 this is the batch-1
    /// matrix-vector product of the streaming step.
    @inline(__always)
    static func nt<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        T.gemmNT(m, n, k, a, b, c)
    }

    /// Rows of the streamed operand per panel: 64 rows of a few hundred floats stay in L1/L2
    /// while every output row passes over them once.
    static let panel = 64

    /// C[m, :] += Σₙ A[m, n] · B[n, :].  A: M×N, B: N×K, C: M×K. (Backward to the inputs: dX = dG · W.)
    /// Panels of B's rows, so W is read from cache once per panel rather than once per row of C.
    @inline(__always)
    static func nn<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        var p = 0
        while p < n {
            let rows = min(panel, n - p)
            for i in 0..<m {
                T.axpyRows(count: rows, coefficients: a + i * n + p, coefficientStride: 1, rows: b + p * k,
                           rowLength: k, into: c + i * k)
            }
            p += rows
        }
    }

    /// C[n, :] += Σₘ A[m, n] · B[m, :].  A: M×N, B: M×K, C: N×K. (Weight gradient: dW += dGᵀ · X.)
    /// Panels of B's rows (time steps), so the activations are read once per panel rather than
    /// once per weight row.
    @inline(__always)
    static func tn<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        var p = 0
        while p < m {
            let rows = min(panel, m - p)
            for j in 0..<n {
                T.axpyRows(count: rows, coefficients: a + p * n + j, coefficientStride: n, rows: b + p * k,
                           rowLength: k, into: c + j * k)
            }
            p += rows
        }
    }
}

/// The Float kernels, on concrete `SIMD16<Float>` (one AVX-512 register), so every operation is
/// a vector instruction. Products are written `acc += a * b`, not `addingProduct`: the standard
/// library implements `addingProduct` lane by lane, which without FMA in the target becomes a
/// libm call per lane (measured 23× slower).
enum FloatKernels {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// Blocks of 2 rows of A × 4 rows of B share every load (8 independent accumulators).
    static func nt(_ m: Int, _ n: Int, _ k: Int,
                   _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        if m == 1 { return matvec(n, k, b, a, c) }
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
                var s00 = V(), s01 = V(), s02 = V(), s03 = V()
                var s10 = V(), s11 = V(), s12 = V(), s13 = V()
                var p = 0
                while p < kv {
                    let x0 = load(a0 + p), x1 = load(a1 + p)
                    let w0 = load(b0 + p), w1 = load(b1 + p), w2 = load(b2 + p), w3 = load(b3 + p)
                    s00 += x0 * w0; s01 += x0 * w1; s02 += x0 * w2; s03 += x0 * w3
                    s10 += x1 * w0; s11 += x1 * w1; s12 += x1 * w2; s13 += x1 * w3
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

    /// y[n] += Σₖ W[n, k] · x[k]: the streaming step's product. Eight weight rows per pass, each
    /// with its own accumulator, so eight independent FMA chains hide the latency while the
    /// weights stream from cache.
    static func matvec(_ n: Int, _ k: Int, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                       _ y: UnsafeMutablePointer<Float>) {
        let kv = k & ~15
        var j = 0
        while j + 8 <= n {
            let w0 = w + j * k
            var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V()
            var p = 0
            while p < kv {
                let xv = load(x + p)
                s0 += xv * load(w0 + p); s1 += xv * load(w0 + k + p)
                s2 += xv * load(w0 + 2 * k + p); s3 += xv * load(w0 + 3 * k + p)
                s4 += xv * load(w0 + 4 * k + p); s5 += xv * load(w0 + 5 * k + p)
                s6 += xv * load(w0 + 6 * k + p); s7 += xv * load(w0 + 7 * k + p)
                p += 16
            }
            var r = [s0.sum(), s1.sum(), s2.sum(), s3.sum(), s4.sum(), s5.sum(), s6.sum(), s7.sum()] as (SIMD8<Float>)
            while p < k {
                for l in 0..<8 { r[l] += x[p] * w0[l * k + p] }
                p += 1
            }
            for l in 0..<8 { y[j + l] += r[l] }
            j += 8
        }
        while j < n {
            let row = w + j * k
            var s0 = V()
            var p = 0
            while p < kv { s0 += load(x + p) * load(row + p); p += 16 }
            var r = s0.sum()
            while p < k { r += x[p] * row[p]; p += 1 }
            y[j] += r
            j += 1
        }
    }

    /// Four rows per pass over `out`; groups whose coefficients are all zero (padding, masked
    /// steps) are skipped.
    static func axpyRows(count: Int, coefficients: UnsafePointer<Float>, coefficientStride: Int,
                         rows: UnsafePointer<Float>, rowLength k: Int, into out: UnsafeMutablePointer<Float>) {
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
            let v0 = V(repeating: c0), v1 = V(repeating: c1), v2 = V(repeating: c2), v3 = V(repeating: c3)
            var p = 0
            while p < kv {
                var acc = load(out + p)
                acc += v0 * load(r0 + p)
                acc += v1 * load(r1 + p)
                acc += v2 * load(r2 + p)
                acc += v3 * load(r3 + p)
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
