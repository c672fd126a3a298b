import Foundation
import Histogram

/// What `hark latency` reports: detections, latency percentiles with their breakdown, per-step
/// compute, the algorithmic latency, and the audio lost on the way; as text or JSON.
public struct LatencyReport {
    /// The frame arithmetic behind the algorithmic latency: a period of capture, one analysis
    /// window, and the hops a step's stride waits for.
    public struct Algorithm: Sendable {
        public var period, window, hop, stride, stack, rate: Int
        public init(period: Int, window: Int, hop: Int, stride: Int, stack: Int, rate: Int) {
            (self.period, self.window, self.hop, self.stride, self.stack, self.rate) = (period, window, hop, stride, stack, rate)
        }
        public var milliseconds: Double { Double(period + window + hop * (stride - 1)) / Double(rate) * 1000 }
    }

    public var measure: LatencyHarness.Measure
    public var device: String
    public var items: Int
    public var detected: Int
    public var missed: Int
    public var otherOutputs: Int
    public var early: Int
    /// Stage name → percentile (p50, p90, p99, max) → value, in the unit its name ends with.
    public var stages: [String: [String: Double]]
    public var algorithm: Algorithm
    public var overruns: Int
    public var samplesLost: Int64
    /// Set by the caller: item ends from the model's forced alignment (else from the synthesis),
    /// how far the alignment is from the synthesis where both are known, and the playback device
    /// of a loopback run.
    public var aligned = false
    public var agreement: (mean: Double, largest: Double)?
    public var loopback: String?

    public init(measure: LatencyHarness.Measure, device: String, items: Int, matched: LatencyMatch,
                stages: [String: [String: Double]], algorithm: Algorithm, overruns: Int, samplesLost: Int64) {
        self.measure = measure
        self.device = device
        self.items = items
        detected = matched.detected
        missed = matched.missed
        otherOutputs = matched.otherOutputs
        early = matched.early
        var all = stages
        all["latency_ms"] = Self.row(matched.total, scale: 1000, offset: 1000)
        all["audio_after_word_ms"] = Self.row(matched.afterItem, scale: 1000, offset: 1000)
        all["capture_ms"] = Self.row(matched.capture, scale: 1000)
        all["processing_ms"] = Self.row(matched.processing, scale: 1000)
        self.stages = all
        self.algorithm = algorithm
        self.overruns = overruns
        self.samplesLost = samplesLost
    }

    /// Percentiles of a histogram, `value / scale − offset`; empty when it holds nothing.
    public static func row(_ h: Histogram<UInt64>, scale: Double, offset: Double = 0) -> [String: Double] {
        guard h.totalCount > 0 else { return [:] }
        func v(_ x: UInt64) -> Double { Double(x) / scale - offset }
        return ["p50": v(h.valueAtPercentile(50)), "p90": v(h.valueAtPercentile(90)),
                "p99": v(h.valueAtPercentile(99)), "max": v(h.max)]
    }

    /// The report as lines of text.
    public var text: String {
        let rate = Double(algorithm.rate)
        let what = measure == .keywords
            ? "keyword out, \(detected) of \(items) phrases detected (\(missed) missed, \(otherOutputs) other hits)"
            : "word shown, \(detected) of \(items) words recognized (\(missed) missed, \(otherOutputs) other words shown)"
        var lines = ["sound in → \(what), device \(device), \(overruns) overruns, "
            + "\(samplesLost) samples lost (\(String(format: "%.2f", Double(samplesLost) / rate)) s); "
            + (aligned ? "\(measure == .words ? "word" : "phrase") ends from the model's forced alignment" : "phrase ends from the synthesis (.times)")
            + (loopback.map { "; loopback through \($0): sound-in times estimated from snd_pcm_delay" } ?? "")]
        if let agreement {
            lines.append(String(format: "forced alignment against the synthesis, phrase ends: %+.1f ms on average, %.1f ms at most",
                                agreement.mean * 1000, agreement.largest * 1000))
        }
        let a = algorithm
        lines.append("algorithmic latency: \(String(format: "%.0f", a.milliseconds)) ms = period \(a.period * 1000 / a.rate) ms + window "
                     + "\(a.window * 1000 / a.rate) ms + \(a.stride - 1) hops of \(a.hop * 1000 / a.rate) ms (stacking \(a.stack), stride \(a.stride))")
        lines.append("stage                            p50        p90        p99        max")
        for (name, key, unit) in [("latency", "latency_ms", "ms"), ("  audio after the word", "audio_after_word_ms", "ms"),
                                  ("  capture (device → thread)", "capture_ms", "ms"), ("  processing (thread → event)", "processing_ms", "ms"),
                                  ("features per block", "features_per_block_us", "µs"), ("network per step", "network_per_step_us", "µs"),
                                  ("decoder per step", "decoder_per_step_us", "µs")] {
            let r = stages[key] ?? [:]
            let cells = ["p50", "p90", "p99", "max"].map { r[$0].map { String(format: "%7.2f %@", $0, unit) } ?? "      –   " }
            lines.append(name.padding(toLength: 30, withPad: " ", startingAt: 0) + cells.joined(separator: " "))
        }
        if early > 0 {
            let why = measure == .words ? "words were shown before their last sample, the word being certain before it ended"
                                        : "events came before the phrase's last sample, the keyword being certain before it ended"
            lines.append("(\(early) of \(detected) \(why): negative latencies)")
        }
        return lines.joined(separator: "\n")
    }

    /// The report as one pretty-printed JSON object with sorted keys.
    public func json() throws -> String {
        var top: [String: AnyEncodable] = ["stages": AnyEncodable(stages)]
        top["measure"] = AnyEncodable(measure.rawValue)
        top["items"] = AnyEncodable(items)
        top["detected"] = AnyEncodable(detected)
        top["other_outputs"] = AnyEncodable(otherOutputs)
        top["algorithmic_ms"] = AnyEncodable(algorithm.milliseconds)
        top["overruns"] = AnyEncodable(overruns)
        top["samples_lost"] = AnyEncodable(samplesLost)
        top["truth"] = AnyEncodable(aligned ? "alignment" : "synthesis")
        if let agreement {
            top["alignment_minus_synthesis_ms"] = AnyEncodable(["mean": agreement.mean * 1000, "largest": agreement.largest * 1000])
        }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: try e.encode(top), as: UTF8.self)
    }
}

struct AnyEncodable: Encodable {
    let encode: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encode = value.encode }
    func encode(to encoder: Encoder) throws { try encode(encoder) }
}
