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

    @Test("Float GEMM kernels equal the plain loops for every small shape")
    func gemmShapes() {
        var rng = SeededGenerator(seed: 1)
        for m in [1, 2, 3, 5] {
            for n in [1, 3, 4, 7, 8, 9, 17] {
                for k in [1, 15, 16, 17, 33] {
                    let a: [Float] = randomValues(m * k, rng: &rng), b: [Float] = randomValues(n * k, rng: &rng)
                    var fast = [Float](repeating: 0.5, count: m * n), slow = fast
                    FloatKernels.nt(m, n, k, a, b, &fast)
                    for i in 0..<m { for j in 0..<n { for p in 0..<k { slow[i * n + j] += a[i * k + p] * b[j * k + p] } } }
                    #expect(zip(fast, slow).allSatisfy { abs($0 - $1) < 1e-5 }, "nt \(m)×\(n)×\(k)")
                    let c: [Float] = randomValues(m * n, rng: &rng)
                    var fastNN = [Float](repeating: 0, count: m * k), slowNN = fastNN
                    c.withUnsafeBufferPointer { cp in b.withUnsafeBufferPointer { bp in fastNN.withUnsafeMutableBufferPointer {
                        Gemm.nn(m, n, k, cp.baseAddress!, bp.baseAddress!, $0.baseAddress!) } } }
                    for i in 0..<m { for j in 0..<n { for p in 0..<k { slowNN[i * k + p] += c[i * n + j] * b[j * k + p] } } }
                    #expect(zip(fastNN, slowNN).allSatisfy { abs($0 - $1) < 1e-5 }, "nn \(m)×\(n)×\(k)")
                }
            }
        }
    }
}
