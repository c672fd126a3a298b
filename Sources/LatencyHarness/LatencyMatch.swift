import Histogram

/// Outputs matched to the items they report, and the latency of each: from the time the item's
/// last sample entered the device to the time its output came out, with the breakdown of where
/// the time went. Pure: it works on the logs a run wrote.
public struct LatencyMatch {
    /// An item of the played signal: its text and the stream position where it ends.
    public struct Item: Equatable, Sendable {
        public var text: String
        public var endSample: Int64
        public init(text: String, endSample: Int64) { self.text = text; self.endSample = endSample }
    }

    /// An output of the recognizer: its text, the stream time (seconds) of the audio it had heard,
    /// and when it came out (`CLOCK_MONOTONIC`).
    public struct Output: Equatable, Sendable {
        public var text: String
        public var end: Double
        public var emitted: Double
        public init(text: String, end: Double, emitted: Double) { self.text = text; self.end = end; self.emitted = emitted }
    }

    /// Latency and its parts, µs + 1 s (HDR histograms hold non-negative integers; an output that
    /// comes before its item ended keeps its negative value). `capture` and `processing` are µs.
    public private(set) var total = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    public private(set) var afterItem = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    public private(set) var capture = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    public private(set) var processing = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    public private(set) var detected = 0
    public private(set) var missed = 0
    /// Outputs that matched no item.
    public private(set) var otherOutputs = 0
    /// Matched outputs that came before their item's last sample (negative latency).
    public private(set) var early = 0

    /// Matches each item with the first unused output of its text within `window` seconds of it
    /// (by stream time; by wall time on a `loopback`, where played and captured samples are not
    /// aligned), and records the latencies.
    public init(truth: [Item], outputs: [Output], playLog: TimeLog, captureLog: TimeLog, window: Double, loopback: Bool, rate: Int) {
        var used = Set<Int>()
        for t in truth {
            let end = Double(t.endSample) / Double(rate)
            let matched: Int?
            if loopback {
                let itemTime = playLog.time(atOrAfter: t.endSample) ?? .infinity
                matched = outputs.indices.first { !used.contains($0) && outputs[$0].text == t.text
                    && outputs[$0].emitted > itemTime - window && outputs[$0].emitted < itemTime + 1.5 * window }
            } else {
                matched = outputs.indices.first { !used.contains($0) && outputs[$0].text == t.text && abs(outputs[$0].end - end) < window }
            }
            guard let i = matched else {
                missed += 1
                continue
            }
            used.insert(i)
            if loopback, let itemIn = playLog.time(atOrAfter: t.endSample) {
                let latency = outputs[i].emitted - itemIn
                if latency < 0 { early += 1 }
                total.record(UInt64(max(0, (latency + 1) * 1e6)))
                continue
            }
            let stepEnd = Int64((outputs[i].end * Double(rate)).rounded())
            guard let itemIn = playLog.time(atOrAfter: t.endSample), let stepIn = playLog.time(atOrAfter: stepEnd),
                  let stepCaptured = captureLog.time(atOrAfter: stepEnd) else { missed += 1; continue }
            let latency = outputs[i].emitted - itemIn
            if latency < 0 { early += 1 }
            total.record(UInt64(max(0, (latency + 1) * 1e6)))
            afterItem.record(UInt64(max(0, (stepIn - itemIn + 1) * 1e6)))
            capture.record(UInt64(max(0, (stepCaptured - stepIn) * 1e6)))
            processing.record(UInt64(max(0, (outputs[i].emitted - stepCaptured) * 1e6)))
        }
        detected = used.count
        otherOutputs = outputs.count - used.count
    }
}
