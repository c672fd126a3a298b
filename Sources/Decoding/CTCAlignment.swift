import Glibc
import HarkSupport

/// Scores and aligns one label sequence against a whole utterance of CTC posteriors: the exact
/// answer a phrase grammar needs at the end of an utterance, where a beam may have pruned the
/// right phrase early. O(steps × labels).
public enum CTCAlignment {
    /// ln P(labels | posteriors), summed over all CTC alignments (forward algorithm), and the step
    /// at which each label is emitted on the single best alignment (Viterbi).
    public static func align(_ logProbs: UnsafeBufferPointer<Float>, classes v: Int, labels: [Int], blank: Int = 0)
        -> (logLikelihood: Float, steps: [Int])?
    {
        let t = logProbs.count / v
        let s = 2 * labels.count + 1                      // blank, l1, blank, l2, …, blank
        guard t > 0, labels.count <= t else { return nil }
        func label(_ j: Int) -> Int { j % 2 == 0 ? blank : labels[j / 2] }
        var alpha = [Float](repeating: -.infinity, count: s), best = alpha
        var back = [Int32](repeating: -1, count: t * s)
        alpha[0] = logProbs[label(0)]; best[0] = alpha[0]
        if s > 1 { alpha[1] = logProbs[label(1)]; best[1] = alpha[1] }
        for step in 1..<t {
            let row = step * v
            var nextAlpha = [Float](repeating: -.infinity, count: s), nextBest = nextAlpha
            for j in 0..<s {
                var a = alpha[j], b = best[j], from = j
                if j >= 1 {
                    a = logAdd(a, alpha[j - 1])
                    if best[j - 1] > b { b = best[j - 1]; from = j - 1 }
                }
                if j >= 2, j % 2 == 1, label(j) != label(j - 2) {
                    a = logAdd(a, alpha[j - 2])
                    if best[j - 2] > b { b = best[j - 2]; from = j - 2 }
                }
                let p = logProbs[row + label(j)]
                nextAlpha[j] = a + p
                nextBest[j] = b + p
                back[step * s + j] = Int32(from)
            }
            alpha = nextAlpha; best = nextBest
        }
        let total = s > 1 ? logAdd(alpha[s - 1], alpha[s - 2]) : alpha[0]
        guard total > -.infinity else { return nil }
        var j = s > 1 && best[s - 2] > best[s - 1] ? s - 2 : s - 1
        var steps = [Int](repeating: 0, count: labels.count)
        for step in stride(from: t - 1, through: 0, by: -1) {
            if j % 2 == 1 { steps[j / 2] = step }         // ends at the run's first step
            if step > 0 { j = Int(back[step * s + j]) }
        }
        return (total, steps)
    }
}
