import Decoding
import Foundation

/// The rule that turns peak scores into a keyword's scoring and threshold, shared by `hark adapt`
/// (enrolled takes) and `hark model threshold` (a dev set).
///
/// Threshold: given the keyword's peak score in utterances that say it (`positive`) and in
/// utterances that do not (`negative`), halfway between the highest negative and the 10th
/// percentile of the positives when those are above it, so that both sides keep the same margin;
/// otherwise just above the highest negative (a daemon's false alarm costs more than a repeated
/// keyword). Clamped to [0.15, 0.95].
///
/// Scoring: each scoring (`KeywordSpotter.Scoring`) is measured on the same utterances, and the one
/// whose two sides lie furthest apart, log(10th percentile of positives / highest negative), is
/// kept. On dev (MODEL.md) that is ratio for the shipped model, which never heard "okay robot",
/// and posterior for the model trained for it.
public enum KeywordThreshold {
    public static func choose(positive: [Float], negative: [Float]) -> Float {
        let low = lowPositive(positive), high = negative.max() ?? 0
        let t = low > high ? (low + high) / 2 : high + 0.01
        return min(max(t, 0.15), 0.95)
    }

    /// A keyword tuned on some utterances: its scoring and threshold, its peaks under that scoring,
    /// and what every scoring measured (to show why).
    public struct Tuned: Sendable {
        public var keyword: Keyword
        public var positive: [Float]
        public var negative: [Float]
        public var measured: [Measured]
    }

    /// What an `Evaluation` must spot for `tune`: every keyword under every scoring, with a
    /// threshold above any score (peaks are what count).
    public static func candidates(_ texts: [String]) -> [Keyword] {
        texts.flatMap { text in KeywordSpotter.Scoring.allCases.map { Keyword(text, threshold: 2, scoring: $0) } }
    }

    /// One keyword's peaks under one scoring.
    public struct Measured: Sendable {
        public var scoring: KeywordSpotter.Scoring
        public var positive: [Float]
        public var negative: [Float]
        public init(scoring: KeywordSpotter.Scoring, positive: [Float], negative: [Float]) {
            self.scoring = scoring
            self.positive = positive
            self.negative = negative
        }
    }

    /// The scoring to keep: the widest margin among those whose threshold needs no clamping (the
    /// positives above the negatives, the midpoint within [0.15, 0.95]); ratio when none qualifies.
    public static func pick(_ measured: [Measured]) -> Measured {
        let usable = measured.filter { m in
            let low = lowPositive(m.positive), high = m.negative.max() ?? 0
            return !m.positive.isEmpty && low > high && (low + high) / 2 >= 0.15 && (low + high) / 2 <= 0.95
        }
        return usable.max { margin($0.positive, $0.negative) < margin($1.positive, $1.negative) }
            ?? measured.first { $0.scoring == .ratio } ?? measured[0]
    }

    /// Each of `texts` tuned on `decoded`, an evaluation with `candidates(texts)` as its keywords.
    public static func tune(_ texts: [String], decoded: [Evaluation.Decoded]) -> [Tuned] {
        let scorings = KeywordSpotter.Scoring.allCases
        return texts.enumerated().map { i, text in
            let measured = scorings.enumerated().map { s, scoring in
                let (positive, negative) = peaks(decoded, keyword: Keyword(text).text, index: i * scorings.count + s)
                return Measured(scoring: scoring, positive: positive, negative: negative)
            }
            let best = pick(measured)
            return Tuned(keyword: Keyword(text, threshold: choose(positive: best.positive, negative: best.negative), scoring: best.scoring),
                         positive: best.positive, negative: best.negative, measured: measured)
        }
    }

    /// Each keyword's peaks in `decoded`, split by whether the utterance's transcript says it.
    public static func peaks(_ decoded: [Evaluation.Decoded], keyword: String, index k: Int) -> (positive: [Float], negative: [Float]) {
        var positive: [Float] = [], negative: [Float] = []
        for d in decoded {
            if Evaluation.contains(d.entry.text, keyword: keyword) > 0 { positive.append(d.peaks[k]) } else { negative.append(d.peaks[k]) }
        }
        return (positive, negative)
    }

    /// "ratio 0.637 / 0.282 (×2.26)": a scoring's 10th-percentile keyword peak over its highest
    /// other peak, as `pick` compares them.
    public static func describe(_ m: Measured) -> String {
        let low = lowPositive(m.positive), high = m.negative.max() ?? 0
        return String(format: "%@ %.3f / %.3f (×%.2f)", m.scoring.rawValue, low, high, low / max(high, 1e-6))
    }

    static func lowPositive(_ positive: [Float]) -> Float {
        let p = positive.sorted()
        return p.isEmpty ? 0.5 : p[min(p.count - 1, p.count / 10)]
    }

    static func margin(_ positive: [Float], _ negative: [Float]) -> Float {
        logf(lowPositive(positive)) - logf(max(negative.max() ?? 0, 1e-6))
    }
}
