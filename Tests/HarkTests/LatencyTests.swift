import Foundation
import Testing
import TestSupport

/// hark latency on real-time virtual devices: PulseAudio's pipe source (samples aligned, full
/// breakdown) and a null sink's monitor as a cable for --play-device (total only).
@Suite("latency", .serialized)
struct LatencyTests {
    @Test("pipe source: every phrase detected, percentiles, the breakdown and the algorithmic latency", .tags(.shippedModelTranscript))
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

    @Test("audio lost on the way (a reader stalled longer than the ring): reported, and phrases after it still matched at their true times", .tags(.shippedModelTranscript))
    func losses() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        // The recognizer stalls 3.5 s two seconds in; the 2 s ring drops about 1.5 s of audio.
        let r = try CLITests.run(["latency", "--pipe", pulse.pipePath, "--device", "pulse", "--repeats", "2", "--json"],
                                 env: pulse.environment.merging(["HARK_TEST_STALL_READER": "2.0:3.5"]) { $1 })
        #expect(r.status == 0, "\(r.err)")
        let report = (try? JSONSerialization.jsonObject(with: Data(r.out.utf8))) as? [String: Any] ?? [:]
        let lost = report["samples_lost"] as? Int ?? 0
        #expect(lost > 16_000 && lost < 40_000, "\(r.out)")
        #expect(report["overruns"] as? Int == 0, "PulseAudio never overruns: the loss is the ring's")
        // The second repeat (5.65 s on) comes after the gap: matched only if its times are true.
        #expect((report["detected"] as? Int ?? 0) >= 2, "\(r.out)")
        let text = try CLITests.run(["latency", "--pipe", pulse.pipePath, "--device", "pulse", "--repeats", "1"], env: pulse.environment)
        #expect(text.out.contains(", 0 overruns, 0 samples lost (0.00 s)"), "\(text.out)")
    }

    @Test("--measure words: every word of the dictation timed, word ends from the forced alignment; --text and --align", .tags(.shippedModelTranscript))
    func words() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        let list = testFolder("hark-latency").appendingPathComponent("words.txt")
        try "okay\nrobot\nplay\nmusic\nstop\n".write(to: list, atomically: true, encoding: .utf8)
        let r = try CLITests.run(["latency", "--pipe", pulse.pipePath, "--device", "pulse", "--repeats", "2",
                                  "--measure", "words", "--words", list.path], env: pulse.environment)
        #expect(r.status == 0, "\(r.err)")
        // 8 words said ("okay robot", "play music", twice); the model may miss one per utterance.
        let recognized = r.out.components(separatedBy: "sound in → word shown, ").dropFirst().first?
            .split(separator: " ").first.flatMap { Int($0) } ?? -1
        #expect(recognized >= 6 && r.out.contains("of 8 words recognized") && r.out.contains("word ends from the model's forced alignment"),
                "\(r.out)")
        // The alignment is checked against the synthesis where both know an end (each phrase's last word).
        let agreement = r.out.split(separator: "\n").first { $0.hasPrefix("forced alignment against the synthesis") } ?? ""
        let largest = agreement.split(separator: " ").compactMap { Double($0) }.last ?? 999
        #expect(largest < 80, "\(agreement)")
        // A word is shown as soon as it is recognized, well before the utterance's final (0.8 s of silence later).
        let p99 = r.out.split(separator: "\n").first { $0.hasPrefix("latency") }?.split(separator: " ").compactMap { Double($0) } ?? []
        #expect(p99.count == 4 && p99[2] < 200, "\(r.out)")

        // Phrases given as text (no times): keyword ends from the alignment.
        let t = try CLITests.run(["latency", "--pipe", pulse.pipePath, "--device", "pulse", "--repeats", "1",
                                  "--text", "okay robot | play music"], env: pulse.environment)
        #expect(t.status == 0 && t.out.contains("2 of 2 phrases detected") && t.out.contains("phrase ends from the model's forced alignment"),
                "\(t.out)\(t.err)")
        let bad = try CLITests.run(["latency", "--pipe", pulse.pipePath, "--text", " | "], env: pulse.environment)
        #expect(bad.status != 0 && bad.err.contains("--text"), "\(bad.err)")
    }

    @Test("--play-device through a virtual cable: phrases matched by time, total latency reported", .tags(.shippedModelTranscript))
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
