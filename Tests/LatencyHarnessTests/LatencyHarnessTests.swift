import Foundation
import Testing
@testable import LatencyHarness

/// The parts of `hark latency` that need no device: the played signal and where its items end,
/// the matching of outputs to items with the latency breakdown, and the report.
@Suite("Latency harness")
struct LatencyHarnessTests {
    @Test("the schedule: lead silence, the clip per repeat with gaps, a flush; item ends in played samples")
    func schedule() {
        let clip = [Float](repeating: 0.5, count: 16_000)                  // one second
        let (played, truth) = LatencyHarness.schedule(clip: clip, items: [("a", 0.25), ("b", 0.75)], repeats: 2)
        #expect(played.count == 8_000 + 2 * (16_000 + 8_000) + 16_000)
        #expect(played[7_999] == 0 && played[8_000] == 16_384 && played[24_000] == 0)   // 0.5 × 32 767, rounded
        #expect(truth == [.init(text: "a", endSample: 12_000), .init(text: "b", endSample: 20_000),
                          .init(text: "a", endSample: 36_000), .init(text: "b", endSample: 44_000)])
    }

    /// Logs of a run where sample n entered the device at n/16 000 s + 1 000 s and reached the
    /// capture thread 5 ms later, in 10 ms blocks.
    static func logs() -> (play: TimeLog, capture: TimeLog) {
        let play = TimeLog(capacity: 1_000), capture = TimeLog(capacity: 1_000)
        for k in 1...600 {
            let n = Int64(160 * k), t = 1_000 + Double(n) / 16_000
            play.append(n, t)
            capture.append(n, t + 0.005)
        }
        return (play, capture)
    }

    @Test("matching: each item's first output of its text within the window; latency and its parts; misses and other outputs counted")
    func matching() {
        let (play, capture) = Self.logs()
        let truth: [LatencyMatch.Item] = [.init(text: "okay robot", endSample: 16_000), .init(text: "play music", endSample: 48_000),
                                          .init(text: "okay robot", endSample: 80_000)]
        let outputs: [LatencyMatch.Output] = [
            .init(text: "okay robot", end: 1.06, emitted: 1_001.08),        // 60 ms of audio after, out 80 ms after the end
            .init(text: "stop", end: 2.0, emitted: 1_002.1),                // matches nothing
            .init(text: "play music", end: 2.98, emitted: 1_002.99),        // certain 20 ms before the end: early
        ]
        let m = LatencyMatch(truth: truth, outputs: outputs, playLog: play, captureLog: capture, window: 1, loopback: false, rate: 16_000)
        #expect(m.detected == 2 && m.missed == 1 && m.otherOutputs == 1 && m.early == 1)
        let report = LatencyReport(measure: .keywords, device: "pulse", items: truth.count, matched: m, stages: [:],
                                   algorithm: .init(period: 160, window: 400, hop: 160, stride: 3, stack: 3, rate: 16_000),
                                   overruns: 0, samplesLost: 0)
        let latency = report.stages["latency_ms"] ?? [:]
        #expect(abs((latency["max"] ?? 0) - 80) < 0.5 && abs((latency["p50"] ?? 0) + 10) < 0.5, "\(latency)")
        let capturing = report.stages["capture_ms"] ?? [:]
        #expect(abs((capturing["max"] ?? 0) - 5) < 0.1, "\(capturing)")
        #expect(report.algorithm.milliseconds == 55)
    }

    @Test("the report says what was lost, in text and JSON")
    func losses() throws {
        let (play, capture) = Self.logs()
        let m = LatencyMatch(truth: [], outputs: [], playLog: play, captureLog: capture, window: 1, loopback: false, rate: 16_000)
        var report = LatencyReport(measure: .words, device: "pulse", items: 0, matched: m, stages: [:],
                                   algorithm: .init(period: 160, window: 400, hop: 160, stride: 3, stack: 3, rate: 16_000),
                                   overruns: 2, samplesLost: 24_000)
        report.aligned = true
        #expect(report.text.contains("device pulse, 2 overruns, 24000 samples lost (1.50 s); word ends from the model's forced alignment"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(json["overruns"] as? Int == 2 && json["samples_lost"] as? Int == 24_000 && json["truth"] as? String == "alignment")
    }
}
