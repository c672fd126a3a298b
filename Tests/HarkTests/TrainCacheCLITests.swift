import Foundation
import Testing
import TestSupport
import Stream

/// `hark train`'s feature cache and stopping as a user meets them: --prepare-only, reuse, a
/// signal that checkpoints and stops, and --resume saying where it continues.
@Suite("hark train: feature cache and resume", .serialized)
struct TrainCacheCLITests {
    static let work = testFolder("hark-train-cli")

    /// Twenty utterances of a 400 Hz tone, "a" per tone.
    static func manifest() throws -> String {
        var lines: [String] = []
        for i in 0..<20 {
            var samples = [Float](repeating: 0, count: 1_600)
            for _ in 0...(i % 3) { samples += (0..<1_920).map { Float(0.3 * sin(2 * .pi * 400 * Double($0) / 16_000)) } + [Float](repeating: 0, count: 960) }
            let file = work.appendingPathComponent("t\(i).wav").path
            let w = try WAVWriter(path: file)
            try samples.withUnsafeBufferPointer { try w.write($0) }
            try w.finish()
            lines.append(#"{"audio": "t\#(i).wav", "text": "\#(String(repeating: "a", count: i % 3 + 1))"}"#)
        }
        let path = work.appendingPathComponent("train.jsonl").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("several --train manifests train on their union, each resolving its own relative audio paths")
    func severalManifests() throws {
        let train = try Self.manifest()
        let sub = Self.work.appendingPathComponent("more")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let more = sub.appendingPathComponent("more.jsonl").path
        try (0..<5).map { #"{"audio": "../t\#($0).wav", "text": "a"}"# }.joined(separator: "\n").write(toFile: more, atomically: true, encoding: .utf8)
        let out = Self.work.appendingPathComponent("union.safetensors").path
        let r = try CLITests.run(["train", "--train", train, "--train", more, "--out", out, "--hidden", "16", "--layers", "1", "--prepare-only"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("feature cache \(out).features: 25 utterances"), "\(r.err)")
        let none = try CLITests.run(["train", "--out", out])
        #expect(none.status == 64 && none.err.contains("--train"), "\(none.err)")
    }

    @Test("--prepare-only builds the cache and trains nothing; training reuses it; SIGINT checkpoints and stops; --resume says where it continues")
    func prepareStopResume() throws {
        let train = try Self.manifest()
        let out = Self.work.appendingPathComponent("m.safetensors").path
        let common = ["train", "--train", train, "--out", out, "--hidden", "16", "--layers", "1", "--batch-size", "4",
                      "--config", try { () -> String in
                          let p = Self.work.appendingPathComponent("c.json").path
                          try #"{"bands": 24, "frequencyMaskWidth": 4}"#.write(toFile: p, atomically: true, encoding: .utf8)
                          return p
                      }()]
        let prepared = try CLITests.run(common + ["--prepare-only"])
        #expect(prepared.status == 0, "\(prepared.err)")
        #expect(prepared.err.contains("feature cache \(out).features: 20 utterances") && prepared.err.contains("built in"), "\(prepared.err)")
        #expect(FileManager.default.fileExists(atPath: out + ".features/meta.json"))
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".checkpoint"))

        // Many epochs; once the first checkpoint exists, SIGINT.
        let running = try CLITests.start(common + ["--epochs", "10000"])
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: out + ".checkpoint") && Date() < deadline && running.process.isRunning { usleep(20_000) }
        kill(running.process.processIdentifier, SIGINT)
        let stopped = running.finish()
        #expect(stopped.status == 0, "\(stopped.err)")
        #expect(stopped.err.contains("reused"), "\(stopped.err)")
        #expect(stopped.err.contains("stopped at epoch") || stopped.err.contains("stopped after epoch"), "\(stopped.err)")
        #expect(stopped.out.contains("hark train --resume"), "\(stopped.out)")

        let resumed = try CLITests.run(common + ["--epochs", "1", "--resume"])
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.err.contains("resuming at epoch ") && resumed.err.contains("h of audio seen"), "\(resumed.err)")

        #expect(try CLITests.run(common + ["--checkpoint-minutes", "0"]).err.contains("--checkpoint-minutes"))
    }

    @Test("online CMN end to end: a network trained with meanWindow, its prior measured by model mean-prior, a fine-tuned network keeps both; mistakes are named")
    func meanNormalizationCLI() throws {
        let train = try Self.manifest()
        let config = Self.work.appendingPathComponent("cmn.json").path
        try #"{"bands": 24, "frequencyMaskWidth": 4, "meanWindow": 100}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let base = Self.work.appendingPathComponent("cmn.safetensors").path
        let common = ["--train", train, "--hidden", "16", "--layers", "1", "--batch-size", "4", "--epochs", "1", "--config", config]
        let trained = try CLITests.run(["train", "--out", base] + common)
        #expect(trained.status == 0, "\(trained.err)")
        #expect(try CLITests.run(["model", "info", base]).out.contains("\"meanWindow\":100"))

        let primed = Self.work.appendingPathComponent("cmn-prior.safetensors").path
        let prior = try CLITests.run(["model", "mean-prior", "--model", base, "--train", train, "--frames", "20", "--out", primed])
        #expect(prior.status == 0 && prior.out.contains("wrote \(primed) with a mean prior of 20 frames"), "\(prior.err)")
        #expect(try CLITests.run(["model", "info", primed]).out.contains("\"meanPrior\":{\"frames\":20"))

        // Fine-tuning keeps the base's front end, prior included.
        let tuned = Self.work.appendingPathComponent("cmn-tuned.safetensors").path
        let fine = try CLITests.run(["train", "--out", tuned, "--initial", primed] + common)
        #expect(fine.status == 0, "\(fine.err)")
        let info = try CLITests.run(["model", "info", tuned]).out
        #expect(info.contains("\"meanWindow\":100") && info.contains("\"meanPrior\":{\"frames\":20"), "\(info)")

        let other = Self.work.appendingPathComponent("cmn-other.json").path
        try #"{"bands": 24, "meanWindow": 300}"#.write(toFile: other, atomically: true, encoding: .utf8)
        let mismatch = try CLITests.run(["train", "--out", tuned + "2", "--initial", primed, "--train", train, "--hidden", "16",
                                         "--layers", "1", "--epochs", "1", "--config", other])
        #expect(mismatch.status == 1 && mismatch.err.contains("mean window (100)") && mismatch.err.contains("'meanWindow' 300"), "\(mismatch.err)")
        let shipped = try CLITests.run(["model", "mean-prior", "--train", train, "--out", primed + "2"])
        #expect(shipped.status == 1 && shipped.err.contains("no mean normalization ('meanWindow')"), "\(shipped.err)")
        let long = try CLITests.run(["model", "mean-prior", "--model", base, "--train", train, "--frames", "101", "--out", primed + "3"])
        #expect(long.status == 64 && long.err.contains("--frames 101"), "\(long.err)")
    }

    @Test("a phoneme model end to end: --spelling phonemes trains one, its fine-tuning keeps the spelling, model spell and info show it")
    func phonemeModelCLI() throws {
        let train = try Self.manifest()
        let config = Self.work.appendingPathComponent("ph.json").path
        try #"{"bands": 24, "frequencyMaskWidth": 4}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let common = ["--train", train, "--hidden", "16", "--layers", "1", "--batch-size", "4", "--epochs", "1", "--config", config]
        let base = Self.work.appendingPathComponent("ph.safetensors").path
        let trained = try CLITests.run(["train", "--out", base, "--spelling", "phonemes"] + common)
        #expect(trained.status == 0, "\(trained.err)")
        let info = try CLITests.run(["model", "info", base]).out
        #expect(info.contains("output:       61 classes") && info.contains("spelling:     phonemes, words pronounced by espeak-ng en-us: a=n b=t"), "\(info)")
        // "a", the transcripts' word, is the phoneme eI: what the model was trained to write.
        #expect(try CLITests.run(["model", "spell", "--model", base, "a", "okay robot"]).out == "eI\noUkeI roUb0t\n")
        // Fine-tuned without --spelling: still a phoneme model (one with letters' 29 outputs would not fit).
        let tuned = Self.work.appendingPathComponent("ph-tuned.safetensors").path
        let fine = try CLITests.run(["train", "--out", tuned, "--initial", base] + common)
        #expect(fine.status == 0, "\(fine.err)")
        #expect(try CLITests.run(["model", "info", tuned]).out.contains("spelling:     phonemes"))
        // With no shape given, the fine-tuned file records its base's shape (1×16), not the defaults (2×256).
        let unshaped = try CLITests.run(["train", "--out", tuned + "3", "--initial", base, "--train", train, "--batch-size", "4",
                                         "--epochs", "1", "--config", config])
        #expect(unshaped.status == 0, "\(unshaped.err)")
        let recorded = try CLITests.run(["model", "info", tuned + "3"]).out
        #expect(recorded.contains("\"hidden\":16") && recorded.contains("\"layers\":1,"), "\(recorded)")
        let letters = try CLITests.run(["train", "--out", tuned + "2", "--initial", base, "--spelling", "characters"] + common)
        #expect(letters.status == 1 && letters.err.contains("its tokens are not the config's"), "\(letters.err)")
        let both = try CLITests.run(["model", "spell", "--model", base, "--phonemes", "a"])
        #expect(both.status == 64 && both.err.contains("--model or --phonemes"), "\(both.err)")
    }
}
