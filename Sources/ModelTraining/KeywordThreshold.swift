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
/// Where the positives are enrolled takes (`hark adapt`: the keyword alone, clean, in the voice the
/// network was just fitted to) the midpoint is geometric instead, the same ratio to both sides: such
/// takes peak far higher than the user saying the keyword in running speech. With the 3×320 model,
/// takes at 0.75 and other speech at 0.08 put the arithmetic midpoint at 0.41, which caught 78/100 of
/// the same voice's keyword in other recordings (peaks down to 0.275); the geometric one, 0.21,
/// caught 100/100 with no false alarm (MODEL.md, "Adaptation"). On a dev set of running speech the
/// arithmetic midpoint stays, keeping its distance from the false alarms a daemon pays for.
///
/// Scoring: each scoring (`KeywordSpotter.Scoring`) is measured on the same utterances, and the one
/// whose two sides lie furthest apart, log(10th percentile of positives / highest negative), is
/// kept. On dev (MODEL.md) that is ratio for the shipped model, which never heard "okay robot",
/// and posterior for the model trained for it.
public enum KeywordThreshold {
    public static func choose(positive: [Float], negative: [Float], midpoint: Midpoint = .arithmetic) -> Float {
        Measured(scoring: .ratio, positive: positive, negative: negative, midpoint: midpoint).threshold
    }

    /// Where between the two sides the threshold goes (see the type's documentation).
    public enum Midpoint: Sendable {
        /// Halfway: positives from a dev set of running speech (`hark model threshold`).
        case arithmetic
        /// The same ratio to both sides: positives from enrolled takes (`hark adapt`).
        case geometric
    }

    /// A keyword tuned on some utterances: its scoring and threshold, and what every scoring
    /// measured (to show why).
    public struct Tuned: Sendable {
        public var keyword: Keyword
        /// Every scoring's peaks; the keyword's own scoring is among them.
        public var measured: [Measured]
        /// Hours of the utterances that do not say the keyword.
        public var otherHours: Double
        /// The peaks under the keyword's scoring, where it is said and where it is not.
        public var positive: [Float] { measured.first { $0.scoring == keyword.scoring }!.positive }
        public var negative: [Float] { measured.first { $0.scoring == keyword.scoring }!.negative }
        /// How many utterances that say the keyword reach the threshold, and how many others do.
        public var caught: Int { positive.filter { $0 >= keyword.threshold }.count }
        public var alarms: Int { negative.filter { $0 >= keyword.threshold }.count }
    }

    /// What an `Evaluation` must spot for `tune`: every keyword under every scoring, with a
    /// threshold above any score (peaks are what count).
    public static func candidates(_ texts: [String]) -> [Keyword] {
        texts.flatMap { text in KeywordSpotter.Scoring.allCases.map { Keyword(text, threshold: 2, scoring: $0) } }
    }

    /// One keyword's peaks under one scoring, and the two sides the rule compares.
    public struct Measured: Sendable {
        public var scoring: KeywordSpotter.Scoring
        public var positive: [Float]
        public var negative: [Float]
        /// The 10th percentile of the positives (0.5 when there are none) and the highest negative.
        public let low: Float, high: Float
        public var midpoint: Midpoint

        public init(scoring: KeywordSpotter.Scoring, positive: [Float], negative: [Float], midpoint: Midpoint = .arithmetic) {
            self.scoring = scoring
            self.midpoint = midpoint
            self.positive = positive
            self.negative = negative
            let p = positive.sorted()
            low = p.isEmpty ? 0.5 : p[min(p.count - 1, p.count / 10)]
            high = negative.max() ?? 0
        }

        /// The threshold rule (see the type's documentation), before clamping.
        var unclamped: Float {
            guard low > high else { return high + 0.01 }
            switch midpoint {
            case .arithmetic: return (low + high) / 2
            case .geometric: return (low * max(high, 1e-6)).squareRoot()
            }
        }
        public var threshold: Float { min(max(unclamped, 0.15), 0.95) }
        /// log(low / high): how far apart the two sides lie.
        var margin: Float { logf(low) - logf(max(high, 1e-6)) }
    }

    /// The scoring to keep: the widest margin among those whose threshold needs no clamping (the
    /// positives above the negatives, the midpoint within [0.15, 0.95]); ratio when none qualifies.
    public static func pick(_ measured: [Measured]) -> Measured {
        let usable = measured.filter { !$0.positive.isEmpty && $0.low > $0.high && (0.15...0.95).contains($0.unclamped) }
        return usable.max { $0.margin < $1.margin } ?? measured.first { $0.scoring == .ratio } ?? measured[0]
    }

    /// Each of `texts` tuned on an evaluation's output with `candidates(texts)` as its keywords.
    public static func tune(_ texts: [String], report: Evaluation.Report, decoded: [Evaluation.Decoded],
                            midpoint: Midpoint = .arithmetic) -> [Tuned] {
        let scorings = KeywordSpotter.Scoring.allCases
        return texts.enumerated().map { i, text in
            let keyword = Keyword(text).text
            let measured = scorings.enumerated().map { s, scoring in
                let (positive, negative) = peaks(decoded, keyword: keyword, index: i * scorings.count + s)
                return Measured(scoring: scoring, positive: positive, negative: negative, midpoint: midpoint)
            }
            let best = pick(measured)
            return Tuned(keyword: Keyword(text, threshold: best.threshold, scoring: best.scoring), measured: measured,
                         otherHours: report.keywords[i * scorings.count].otherHours)
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
        String(format: "%@ %.3f / %.3f (×%.2f)", m.scoring.rawValue, m.low, m.high, m.low / max(m.high, 1e-6))
    }
}
