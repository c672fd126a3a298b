internal import CKernels

/// The weight side B of a per-time-step product C[m × n] += A[m × k] · B[k × n] in the trainer's
/// batched passes (h · W_hhᵀ forward, dG · W_hh backward, and W_hr's two with a projection),
/// prepared once per pass because the weights stay the same for all of its steps.
///
/// With `Float` on an AVX-512 build, B is packed into the panels of `hark_sgemm_small_m`, which
/// reads it as one sequential stream per 48 columns. A per-step product has as many rows as the
/// thread has sequences (8 in `hark-bench training`), and BLIS packs all of B on every call, which
/// at 8 rows costs about as much as the product: 8 × 2048 × 512 ran at 111 GFLOP/s packed against
/// BLIS's 29 (B as is) and 68 (B transposed), 8 × 512 × 2048 at 109 against 52 and 44 (one thread,
/// BENCHMARKS.md). Otherwise (`Double` for the gradient checks, or a portable build) B is kept
/// row-major and the product goes to BLAS.
final class StepMatrix<T: CellScalar> {
    let k: Int, n: Int
    private let values: UnsafeMutablePointer<T>
    private let packed: Bool

    /// B = `weight` [k × n] as stored, or its transpose when `transposed` (`weight` is [n × k]).
    init(_ weight: UnsafePointer<T>, k: Int, n: Int, transposed: Bool) {
        self.k = k
        self.n = n
        if T.self == Float.self, hark_small_m_available() != 0 {
            packed = true
            values = .allocate(capacity: max(hark_panels_size(Int32(k), Int32(n)), 1))
            hark_pack_panels(Int32(k), Int32(n), Recurrent.asFloat(weight), transposed ? 1 : n,
                             transposed ? k : 1, Recurrent.asFloat(values))
        } else {
            packed = false
            if transposed {
                values = Gemm.transposed(weight, rows: n, cols: k)
            } else {
                values = .allocate(capacity: max(k * n, 1))
                values.initialize(from: weight, count: k * n)
            }
        }
    }

    deinit { values.deallocate() }

    /// C[m × n] += A[m × k] · B, A and C row-major and dense.
    @inline(__always)
    func multiplyAdd(rows m: Int, _ a: UnsafePointer<T>, into c: UnsafeMutablePointer<T>) {
        guard m > 0 else { return }
        if packed {
            hark_sgemm_small_m(Int32(m), Int32(n), Int32(k), Recurrent.asFloat(a), Int32(k),
                               Recurrent.asFloat(UnsafePointer(values)), Recurrent.asFloat(c), Int32(n))
        } else {
            Gemm.nn(m, k, n, a, values, c)
        }
    }
}
