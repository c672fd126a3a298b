import Foundation
import HarkSupport
import Testing

/// HarkSupport's one CTC forward pass, which the training loss (Double) and the alignment (Float)
/// share: against every path enumerated, in both types, including repeated labels (no skip).
@Suite("CTC lattice")
struct CTCLatticeTests {
    /// ln Σ over every path of `steps` classes that collapses to `labels`.
    static func bruteForce(_ lp: [Double], steps: Int, classes: Int, labels: [Int]) -> Double {
        var total = 0.0
        for code in 0..<Int(pow(Double(classes), Double(steps))) {
            var path: [Int] = [], c = code
            for _ in 0..<steps { path.append(c % classes); c /= classes }
            var collapsed: [Int] = [], last = -1
            for k in path { if k != last && k != 0 { collapsed.append(k) }; last = k }
            if collapsed == labels { total += exp((0..<steps).map { lp[$0 * classes + path[$0]] }.reduce(0, +)) }
        }
        return log(total)
    }

    @Test("the forward pass sums every alignment, in Double and in Float", arguments: [
        (5, 3, [1, 2]), (5, 3, [1, 1]), (4, 3, [2]), (3, 3, []), (6, 4, [3, 1, 3]), (5, 3, [2, 2, 1]),
    ])
    func forward(steps: Int, classes: Int, labels: [Int]) {
        var rng = SplitMix64(seed: UInt64(steps * 100 + labels.count))
        var lp: [Double] = []
        for _ in 0..<steps {
            let raw = (0..<classes).map { _ in rng.uniform(0.05, 1) }
            lp += raw.map { log($0 / raw.reduce(0, +)) }
        }
        let brute = Self.bruteForce(lp, steps: steps, classes: classes, labels: labels)
        let lattice = CTCLattice(labels: labels, blank: 0)
        var alpha = [Double](repeating: 0, count: steps * lattice.count)
        let d = alpha.withUnsafeMutableBufferPointer { lattice.forward(steps: steps, alpha: $0) { lp[$0 * classes + $1] } }
        #expect(abs(d - brute) < 1e-12 * max(1, abs(brute)), "\(labels): \(d) vs \(brute)")
        var alphaF = [Float](repeating: 0, count: steps * lattice.count)
        let f = alphaF.withUnsafeMutableBufferPointer { lattice.forward(steps: steps, alpha: $0) { Float(lp[$0 * classes + $1]) } }
        #expect(abs(Double(f) - brute) < 1e-5 * max(1, abs(brute)), "\(labels): \(f) vs \(brute)")
    }

    @Test("a repeated label needs its blank; too few steps give −∞")
    func skipRule() {
        let l = CTCLattice(labels: [1, 1, 2], blank: 0)
        #expect(l.extended == [0, 1, 0, 1, 0, 2, 0])
        #expect((0..<l.count).filter { l.canSkip(to: $0) } == [5])   // blank → l₃ only; l₁ → l₂ is a repeat
        var alpha = [Float](repeating: 0, count: 3 * l.count)
        let p = alpha.withUnsafeMutableBufferPointer { l.forward(steps: 3, alpha: $0) { _, _ in logf(1 / 3) } }
        #expect(p == -.infinity)                                      // "1 1 2" needs 4 steps
    }
}
