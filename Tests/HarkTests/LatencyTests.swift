import Foundation
import Testing
import TestSupport

/// hark latency on real-time virtual devices: PulseAudio's pipe source (samples aligned, full
/// breakdown) and a null sink's monitor as a cable for --play-device (total only).
@Suite("latency", .serialized)
struct LatencyTests {
    @Test("pipe source: every phrase detected, percentiles, the breakdown and the algorithmic latency")
    func pipe() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        let r = try CLITests.run(["latency", "--pipe", pulse.pipePath, "--device", "pulse", "--repeats", "2"], env: pulse.environment)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("4 of 4 phrases detected"), "\(r.out)")
        #expect(r.out.contains("algorithmic latency: 55 ms"), "\(r.out)")
        for row in ["latency", "  audio after the word", "  capture (device → thread)", "network per step"] {
            let line = r.out.split(separator: "\n").first { $0.hasPrefix(row) } ?? ""
            #expect(line.contains(" ms") || line.contains(" µs"), "row '\(row)': \(r.out)")
        }
        // p99 within the target of issue 6: algorithmic latency + 10 ms.
        let p99 = r.out.split(separator: "\n").first { $0.hasPrefix("latency") }?.split(separator: " ").filter { Double($0) != nil }
        #expect((p99.flatMap { $0.count >= 3 ? Double($0[2]) : nil } ?? 999) <= 65, "\(r.out)")
    }

    @Test("--play-device through a virtual cable: phrases matched by time, total latency reported")
    func loopback() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        for args in [["load-module", "module-null-sink", "sink_name=cable", "rate=16000", "channels=1"],
                     ["set-default-source", "cable.monitor"], ["set-default-sink", "cable"]] {
            #expect(try VirtualAudio.run("pactl", args, environment: pulse.environment).status == 0)
        }
        let r = try CLITests.run(["latency", "--play-device", "pulse", "--device", "pulse", "--repeats", "2"], env: pulse.environment)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("4 of 4 phrases detected") && r.out.contains("loopback through pulse"), "\(r.out)")
        let bad = try CLITests.run(["latency", "--play-device", "no_such_pcm", "--device", "pulse", "--repeats", "1"], env: pulse.environment)
        #expect(bad.status != 0 && bad.err.contains("no_such_pcm"), "\(bad.err)")
    }
}
