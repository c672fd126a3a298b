import Foundation
import Testing
@testable import Cells

@Suite("Kernels")
struct KernelTests {
    @Test("vectorized σ and tanh agree with Double within 3e-7 (absolute) over ±90")
    func activations() {
        let xs = (0..<40_000).map { Float(-90 + 180 * Double($0) / 39_999) } + [0, -0, 1e-5, -1e-5, 0.003, -0.005]
        var s = xs, t = xs
        s.withUnsafeMutableBufferPointer { Float.sigmoid($0.baseAddress!, count: $0.count) }
        t.withUnsafeMutableBufferPointer { Float.tanh($0.baseAddress!, count: $0.count) }
        var worstS = 0.0, worstT = 0.0
        for (i, x) in xs.enumerated() {
            worstS = max(worstS, abs(Double(s[i]) - 1 / (1 + Foundation.exp(-Double(x)))))
            worstT = max(worstT, abs(Double(t[i]) - Foundation.tanh(Double(x))))
        }
        #expect(worstS < 3e-7, "σ: \(worstS)")
        #expect(worstT < 3e-7, "tanh: \(worstT)")
        #expect(s.allSatisfy { $0 >= 0 && $0 <= 1 } && t.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    @Test("the three products (BLIS, and the batch-1 matrix-vector kernel) equal the plain loops for every small shape, in Float and Double")
    func gemmShapes() {
        check(Float.self, tolerance: 1e-5)
        check(Double.self, tolerance: 1e-12)
    }

    @Test("the per-step product (StepMatrix: packed AVX-512 panels in Float, BLAS in Double) equals the plain loop, B as is and transposed, across row and panel edges")
    func stepMatrixShapes() {
        stepCheck(Float.self, tolerance: 1e-5)
        stepCheck(Double.self, tolerance: 1e-12)
    }

    func stepCheck<T: CellScalar>(_: T.Type, tolerance: T) {
        var rng = SeededGenerator(seed: 2)
        func random(_ count: Int) -> [T] { (0..<count).map { _ in T(rng.uniform(-1, 1)) } }
        // Rows: under, at and over one 8-row tile; columns: inside a 16-lane vector, at and past a
        // 48-column panel, several panels with a ragged end.
        for m in [1, 3, 8, 9, 17] {
            for n in [1, 5, 16, 17, 33, 48, 49, 100] {
                for k in [1, 7, 64] {
                    for transposed in [false, true] {
                        let w = random(k * n)                    // [k × n], or [n × k] when transposed
                        let a = random(m * k)
                        var fast = random(m * n), slow = fast
                        let b = w.withUnsafeBufferPointer { StepMatrix($0.baseAddress!, k: k, n: n, transposed: transposed) }
                        a.withUnsafeBufferPointer { a in
                            fast.withUnsafeMutableBufferPointer { b.multiplyAdd(rows: m, a.baseAddress!, into: $0.baseAddress!) }
                        }
                        for i in 0..<m {
                            for j in 0..<n {
                                var sum = T(0)
                                for p in 0..<k { sum += a[i * k + p] * (transposed ? w[j * k + p] : w[p * n + j]) }
                                slow[i * n + j] += sum
                            }
                        }
                        #expect(zip(fast, slow).allSatisfy { abs($0 - $1) < tolerance },
                                "StepMatrix \(T.self) \(m)×\(n)×\(k) transposed \(transposed)")
                    }
                }
            }
        }
    }

    /// C starts at non-zero values: every product accumulates into C.
    func check<T: CellScalar>(_: T.Type, tolerance: T) {
        var rng = SeededGenerator(seed: 1)
        func random(_ count: Int) -> [T] { (0..<count).map { _ in T(rng.uniform(-1, 1)) } }
        func close(_ x: [T], _ y: [T]) -> Bool { zip(x, y).allSatisfy { abs($0 - $1) < tolerance } }
        for m in [1, 2, 3, 5] {
            for n in [1, 3, 4, 7, 8, 9, 17] {
                for k in [1, 15, 16, 17, 33] {
                    // nt: C[m×n] += A[m×k] · B[n×k]ᵀ
                    let a = random(m * k), b = random(n * k)
                    var fast = random(m * n), slow = fast
                    Gemm.nt(m, n, k, a, b, &fast)
                    for i in 0..<m { for j in 0..<n { for p in 0..<k { slow[i * n + j] += a[i * k + p] * b[j * k + p] } } }
                    #expect(close(fast, slow), "nt \(T.self) \(m)×\(n)×\(k)")
                    // nn: C[m×k] += A[m×n] · B[n×k]
                    let c = random(m * n)
                    var fastNN = random(m * k), slowNN = fastNN
                    Gemm.nn(m, n, k, c, b, &fastNN)
                    for i in 0..<m { for j in 0..<n { for p in 0..<k { slowNN[i * k + p] += c[i * n + j] * b[j * k + p] } } }
                    #expect(close(fastNN, slowNN), "nn \(T.self) \(m)×\(n)×\(k)")
                    // tn: C[n×k] += A[m×n]ᵀ · B[m×k]
                    let x = random(m * k)
                    var fastTN = random(n * k), slowTN = fastTN
                    Gemm.tn(m, n, k, c, x, &fastTN)
                    for i in 0..<m { for j in 0..<n { for p in 0..<k { slowTN[j * k + p] += c[i * n + j] * x[i * k + p] } } }
                    #expect(close(fastTN, slowTN), "tn \(T.self) \(m)×\(n)×\(k)")
                }
            }
        }
    }
}
