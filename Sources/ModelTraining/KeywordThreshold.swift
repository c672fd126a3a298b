import Decoding

/// The rule that turns peak scores into a keyword's threshold, shared by `hark adapt` (enrolled
/// takes) and `hark model threshold` (a dev set): given the keyword's peak score in utterances
/// that say it (`positive`) and in utterances that do not (`negative`), the threshold is halfway
/// between the highest negative and the 10th percentile of the positives when those are above
/// it, so that both sides keep the same margin; otherwise just above the highest negative (a
/// daemon's false alarm costs more than a repeated keyword). Clamped to [0.15, 0.95].
public enum KeywordThreshold {
    public static func choose(positive: [Float], negative: [Float]) -> Float {
        let p = positive.sorted()
        let low = p.isEmpty ? 0.5 : p[min(p.count - 1, p.count / 10)]
        let high = negative.max() ?? 0
        let t = low > high ? (low + high) / 2 : high + 0.01
        return min(max(t, 0.15), 0.95)
    }

    /// Each keyword's peaks in `decoded`, split by whether the utterance's transcript says it.
    public static func peaks(_ decoded: [Evaluation.Decoded], keyword: String, index k: Int) -> (positive: [Float], negative: [Float]) {
        var positive: [Float] = [], negative: [Float] = []
        for d in decoded {
            if Evaluation.contains(d.entry.text, keyword: keyword) > 0 { positive.append(d.peaks[k]) } else { negative.append(d.peaks[k]) }
        }
        return (positive, negative)
    }
}
