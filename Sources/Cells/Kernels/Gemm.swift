internal import CBLAS

/// Dense products on row-major matrices. Every product *accumulates* into C.
///
/// Shapes follow the training path: activations are [rows × features], weights [out × in]
/// (PyTorch's layout), so the forward product is `A · Bᵀ` (both operands read along K).
/// Products of more than one row go to BLIS's gemm (`CellScalar.gemm`; chosen over OpenBLAS by
/// `hark-bench blas`), except the trainer's per-time-step products with a recurrent weight
/// (`StepMatrix`). The batch-1 matrix-vector product of the streaming step stays on
/// `FloatKernels.matvec`, whose cost the benchmark's step table tracks against a plain C loop; a
/// BLAS call per row was not shown to be faster there (an A/B on this machine was lost in the
/// noise of other load).
enum Gemm {
    /// C[m, n] += Σₖ A[m, k] · B[n, k].  A: M×K, B: N×K, C: M×N. With M = 1 this is the batch-1
    /// matrix-vector product of the streaming step.
    @inline(__always)
    static func nt<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        if m == 1, T.self == Float.self {
            return FloatKernels.matvec(n, k, Recurrent.asFloat(b), Recurrent.asFloat(a), Recurrent.asFloat(c))
        }
        T.gemm(transposeA: false, transposeB: true, m, n, k, a, lda: k, b, ldb: k, c, ldc: n)
    }

    /// C[m, :] += Σₙ A[m, n] · B[n, :].  A: M×N, B: N×K, C: M×K. (Backward to the inputs: dX = dG · W.)
    @inline(__always)
    static func nn<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        T.gemm(transposeA: false, transposeB: false, m, k, n, a, lda: n, b, ldb: k, c, ldc: k)
    }

    /// C[n, :] += Σₘ A[m, n] · B[m, :].  A: M×N, B: M×K, C: N×K. (Weight gradient: dW += dGᵀ · X.)
    @inline(__always)
    static func tn<T: CellScalar>(_ m: Int, _ n: Int, _ k: Int,
                                  _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ c: UnsafeMutablePointer<T>) {
        T.gemm(transposeA: true, transposeB: false, n, k, m, a, lda: n, b, ldb: k, c, ldc: k)
    }

    /// B[cols × rows] = Aᵀ for A[rows × cols], in 16 × 16 tiles that stay in L1.
    static func transposed<T>(_ a: UnsafePointer<T>, rows: Int, cols: Int) -> UnsafeMutablePointer<T> {
        let b = UnsafeMutablePointer<T>.allocate(capacity: max(rows * cols, 1))
        let tile = 16
        for i0 in stride(from: 0, to: rows, by: tile) {
            for j0 in stride(from: 0, to: cols, by: tile) {
                for j in j0..<min(j0 + tile, cols) {
                    for i in i0..<min(i0 + tile, rows) { (b + j * rows + i).initialize(to: a[i * cols + j]) }
                }
            }
        }
        return b
    }

    /// dst[j] += Σᵢ src[i·width + j] for i < rows, each sum in order of i (bias gradients: the
    /// column sums of dG). Written with vectors: the compiler cannot prove dst and src apart and
    /// left the plain loop scalar (half the LSTM backward's own time, `perf`).
    @inline(__always)
    static func addColumnSums<T: CellScalar>(_ src: UnsafePointer<T>, rows: Int, width: Int, into dst: UnsafeMutablePointer<T>) {
        let vectors = width & ~15
        for i in 0..<rows {
            let row = src + i * width
            var j = 0
            while j < vectors {
                let sum = load16(dst + j) + load16(row + j)
                store16(sum, dst + j)
                j += 16
            }
            while j < width { dst[j] += row[j]; j += 1 }
        }
    }

    @inline(__always)
    static func load16<T: CellScalar>(_ p: UnsafePointer<T>) -> SIMD16<T> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<T>.self) }

    @inline(__always)
    static func load16<T: CellScalar>(_ p: UnsafeMutablePointer<T>) -> SIMD16<T> { load16(UnsafePointer(p)) }

    @inline(__always)
    static func store16<T: CellScalar>(_ v: SIMD16<T>, _ p: UnsafeMutablePointer<T>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<T>.self)
    }

    /// BLIS computes each product on the calling thread: the trainer's threads each run their own
    /// products, so BLIS threads would only compete with them (and an `OMP_NUM_THREADS` or
    /// `BLIS_NUM_THREADS` in the environment would change how the work is split). Set once,
    /// before the first product.
    static let singleThreaded: Void = bli_thread_set_num_threads(1)

    /// C ← op(A) · op(B) + C through BLAS (α = β = 1, row-major).
    @inline(__always)
    static func sgemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
                      _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        guard m > 0, n > 0, k > 0 else { return }
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 1, c, Int32(ldc))
    }

    @inline(__always)
    static func dgemm(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ lda: Int,
                      _ b: UnsafePointer<Double>, _ ldb: Int, _ c: UnsafeMutablePointer<Double>, _ ldc: Int) {
        guard m > 0, n > 0, k > 0 else { return }
        _ = singleThreaded
        cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 1, c, Int32(ldc))
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
}
