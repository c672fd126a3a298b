import Foundation
import Stream
import Testing
import TestSupport

/// hark enroll and hark adapt without a microphone: takes come from a recording through
/// --file and through the ALSA file device; bad takes are refused and asked for again.
@Suite("enroll and adapt", .serialized)
struct EnrollAdaptTests {
    static let work = testFolder("hark-enroll")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A "session" of 2.5 s takes: the keyword fixture's first phrase (awb saying "okay robot"),
    /// a take of silence, a clipped take, then good takes again.
    static func session() throws -> (wav: String, raw: String, seconds: Double) {
        let speech = try AudioFileSource(path: repo.appendingPathComponent("Tests/HarkTests/Fixtures/keyword.wav").path).readAll()
        let take = 40_000
        let good = Array(speech.prefix(take))                        // 0.5 s silence, "okay robot", silence
        let silent = [Float](repeating: 0, count: take)
        let clipped = good.map { min(max($0 * 40, -1), 1) }
        let takes = [good, silent, good, clipped, good, good]
        let all = takes.flatMap { $0 }
        let wav = work.appendingPathComponent("session.wav").path
        let w = try WAVWriter(path: wav)
        try all.withUnsafeBufferPointer { try w.write($0) }
        try w.finish()
        var data = Data()
        for s in all { withUnsafeBytes(of: Int16((s * 32_767).rounded()).littleEndian) { data.append(contentsOf: $0) } }
        let raw = work.appendingPathComponent("session.raw").path
        try data.write(to: URL(fileURLWithPath: raw))
        return (wav, raw, Double(all.count) / 16_000)
    }

    @Test("enroll keeps good takes trimmed, refuses silent and clipped ones and asks again; the folder extends")
    func enroll() throws {
        let s = try Self.session()
        let out = Self.work.appendingPathComponent("takes").path
        let r = try CLITests.run(["enroll", "--keyword", "Okay Robot", "--file", s.wav, "--out", out, "--takes", "4"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("not kept: no speech heard"), "\(r.err)")
        #expect(r.err.contains("not kept: it clipped"), "\(r.err)")
        #expect(r.err.contains("take 2/4 (again)"), "\(r.err)")
        let lines = try String(contentsOfFile: out + "/takes.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        for (i, line) in lines.enumerated() {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            #expect(o["text"] as? String == "okay robot" && o["category"] as? String == "keyword")
            #expect(o["audio"] as? String == String(format: "take-%03d.wav", i + 1))
            let seconds = o["seconds"] as? Double ?? 0
            #expect(seconds > 0.8 && seconds < 1.6, "trimmed to the speech: \(seconds) s")
            let audio = try AudioFileSource(path: out + "/" + (o["audio"] as? String ?? "")).readAll()
            #expect(abs(Double(audio.count) / 16_000 - seconds) < 0.01)
        }
        // Through the ALSA file device, into the same folder: numbering goes on.
        let more = try CLITests.run(["enroll", "--keyword", "okay robot", "--device", "vmicfile:IN=\(s.raw)", "--wait-for-reader",
                                     "--seconds", String(s.seconds), "--out", out, "--takes", "1"], env: CLITests.alsaEnv)
        #expect(more.status == 0, "\(more.err)")
        let all = try String(contentsOfFile: out + "/takes.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(all.count == 5 && all[4].contains("take-005.wav"))
    }

    @Test("adapt fine-tunes on the takes, writes a model every command accepts, with a tuned threshold")
    func adapt() throws {
        let s = try Self.session()
        let takes = Self.work.appendingPathComponent("adapt-takes").path
        _ = try CLITests.run(["enroll", "--keyword", "okay robot", "--file", s.wav, "--out", takes, "--takes", "4"])
        // A tiny synthetic mix: the digits fixture, as a manifest.
        let mix = Self.work.appendingPathComponent("mix.jsonl").path
        let digits = Self.repo.appendingPathComponent("Tests/HarkTests/Fixtures/digits.wav").path
        try "{\"audio\": \"\(digits)\", \"text\": \"four two seven one nine zero three\", \"category\": \"digits\"}\n"
            .write(toFile: mix, atomically: true, encoding: .utf8)
        let out = Self.work.appendingPathComponent("mine.safetensors").path
        let r = try CLITests.run(["adapt", "--samples", takes, "--mix", mix, "--out", out, "--epochs", "1", "--repeat", "1"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("keyword 'okay robot': ratio threshold") || r.err.contains("keyword 'okay robot': posterior threshold"), "\(r.err)")
        let info = try CLITests.run(["model", "info", out])
        #expect(info.out.contains("keyword_thresholds: {\"okay robot\":") && info.out.contains("keyword_scoring: {\"okay robot\":"), "\(info.out)")
        #expect(info.out.contains("adapted_from:"))
        #expect(info.out.contains("\"levelRange\":"), "the adapted model keeps the shipped front end's level range: \(info.out)")
        let spot = try CLITests.run(["spot", "--model", out, "--file", s.wav, "--keyword", "okay robot"])
        #expect(spot.status == 0 && (spot.err.contains("'okay robot' (≥ 0.") || spot.err.contains("'okay robot' (posterior ≥ 0.")), "\(spot.err)")
        // Mistakes: no takes folder, and a folder without takes.jsonl.
        let missing = try CLITests.run(["adapt", "--samples", "/nonexistent/takes", "--out", out])
        #expect(missing.status != 0 && missing.err.contains("/nonexistent/takes"))
    }

    @Test("model threshold chooses a keyword's threshold between the dev peaks and stores it; a dev set without the keyword is refused")
    func threshold() throws {
        let fixtures = Self.repo.appendingPathComponent("Tests/HarkTests/Fixtures").path
        let dev = Self.work.appendingPathComponent("kw-dev.jsonl").path
        try ("{\"audio\": \"\(fixtures)/keyword.wav\", \"text\": \"okay robot play music\", \"category\": \"keyword\"}\n"
             + "{\"audio\": \"\(fixtures)/digits.wav\", \"text\": \"four two seven one nine zero three\", \"category\": \"digits\"}\n")
            .write(toFile: dev, atomically: true, encoding: .utf8)
        let out = Self.work.appendingPathComponent("tuned.safetensors").path
        let r = try CLITests.run(["model", "threshold", "--keyword", "Okay Robot", "--dev", dev, "--out", out])
        #expect(r.status == 0, "\(r.err)")
        // "SCORING peaks where said ≥ P, elsewhere ≤ N → threshold T": with one utterance each, T = (P + N) / 2.
        let numbers = r.out.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        let scoring = r.out.contains("posterior peaks") ? "posterior " : ""
        #expect(r.out.contains("posterior peaks") || r.out.contains("ratio peaks"), "\(r.out)")
        #expect(numbers.count >= 3, "\(r.out)")
        if numbers.count >= 3 {
            let (said, elsewhere, t) = (numbers[0], numbers[1], numbers[2])
            #expect(said > elsewhere, "the awb keyword outscores the digits: \(r.out)")
            #expect(abs(t - (said + elsewhere) / 2) <= 0.006, "\(r.out)")
            let info = try CLITests.run(["model", "info", out])
            #expect(info.out.contains("keyword_thresholds: {\"okay robot\":"), "\(info.out)")
            let spot = try CLITests.run(["spot", "--model", out, "--file", fixtures + "/keyword.wav", "--keyword", "okay robot"])
            // spot prints the stored threshold as the shortest decimal ("0.4", not "0.40"): compare values.
            let shown = spot.err.components(separatedBy: "'okay robot' (\(scoring)≥ ").dropFirst().first
                .flatMap { Double($0.prefix { "0123456789.".contains($0) }) }
            #expect(spot.status == 0 && shown.map { abs($0 - t) <= 0.006 } == true, "\(spot.err)")
        }
        // A dev set in which nobody says the keyword cannot place a threshold.
        let none = Self.work.appendingPathComponent("no-keyword.jsonl").path
        try "{\"audio\": \"\(fixtures)/digits.wav\", \"text\": \"four two seven one nine zero three\", \"category\": \"digits\"}\n"
            .write(toFile: none, atomically: true, encoding: .utf8)
        let bad = try CLITests.run(["model", "threshold", "--keyword", "okay robot", "--dev", none, "--out", out])
        #expect(bad.status != 0 && bad.err.contains("--dev \(none): no utterance says 'okay robot'"), "\(bad.err)")
    }
}
