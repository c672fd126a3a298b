import Glibc
import HarkSupport

/// Scores and aligns one label sequence against a whole utterance of CTC posteriors: the exact
/// answer a phrase grammar needs at the end of an utterance, where a beam may have pruned the
/// right phrase early. O(steps × labels).
public enum CTCAlignment {
    /// ln P(labels | posteriors), summed over all CTC alignments (the forward pass of
    /// `CTCLattice`), and the step at which each label is emitted on the single best alignment
    /// (Viterbi: the same lattice, with the best predecessor instead of the sum).
    public static func align(_ logProbs: UnsafeBufferPointer<Float>, classes v: Int, labels: [Int], blank: Int = 0)
        -> (logLikelihood: Float, steps: [Int])?
    {
        let t = logProbs.count / v
        let lattice = CTCLattice(labels: labels, blank: blank)
        let s = lattice.count                             // blank, l1, blank, l2, …, blank
        guard t > 0, labels.count <= t else { return nil }
        var alpha = [Float](repeating: -.infinity, count: t * s)
        let total = alpha.withUnsafeMutableBufferPointer {
            lattice.forward(steps: t, alpha: $0) { step, k in logProbs[step * v + k] }
        }
        guard total > -.infinity else { return nil }

        let label = lattice.extended
        var best = [Float](repeating: -.infinity, count: s)
        var back = [Int32](repeating: -1, count: t * s)
        best[0] = logProbs[label[0]]
        if s > 1 { best[1] = logProbs[label[1]] }
        for step in 1..<t {
            let row = step * v
            var nextBest = [Float](repeating: -.infinity, count: s)
            for j in 0..<s {
                var b = best[j], from = j
                if j >= 1, best[j - 1] > b { b = best[j - 1]; from = j - 1 }
                if lattice.canSkip(to: j), best[j - 2] > b { b = best[j - 2]; from = j - 2 }
                nextBest[j] = b + logProbs[row + label[j]]
                back[step * s + j] = Int32(from)
            }
            best = nextBest
        }
        var j = s > 1 && best[s - 2] > best[s - 1] ? s - 2 : s - 1
        var steps = [Int](repeating: 0, count: labels.count)
        for step in stride(from: t - 1, through: 0, by: -1) {
            if j % 2 == 1 { steps[j / 2] = step }         // ends at the run's first step
            if step > 0 { j = Int(back[step * s + j]) }
        }
        return (total, steps)
    }
}
