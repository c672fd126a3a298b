import Foundation
import Testing
import TestSupport
import Cells
import Stream
import Decoding
@testable import ModelTraining

/// `hark train` end to end on a corpus it can learn in seconds: a "tone alphabet" where a, b, c
/// are 120 ms tones at 400, 1200 and 2800 Hz with 60 ms gaps, and a space is a 200 ms gap.
@Suite("Training run", .serialized)
struct TrainingRunTests {
    static let dir = testFolder("hark-train")

    static func corpus(_ name: String, count: Int, seed: UInt64) throws -> String {
        var rng = SplitMix64(seed: seed)
        let hz: [Character: Double] = ["a": 400, "b": 1_200, "c": 2_800]
        var lines: [String] = []
        for i in 0..<count {
            let words = (0..<(1 + Int(rng.next() % 2))).map { _ in
                String((0..<(1 + Int(rng.next() % 3))).map { _ in "abc".randomElement(using: &rng)! })
            }
            let text = words.joined(separator: " ")
            var samples = [Float](repeating: 0, count: 1_600)
            for ch in text {
                if ch == " " { samples += [Float](repeating: 0, count: 3_200); continue }
                let w = 2 * Double.pi * hz[ch]! / 16_000
                samples += (0..<1_920).map { Float(0.3 * sin(w * Double($0))) } + [Float](repeating: 0, count: 960)
            }
            samples += [Float](repeating: 0, count: 1_600)
            let file = dir.appendingPathComponent("\(name)-\(i).wav").path
            let w = try WAVWriter(path: file)
            try samples.withUnsafeBufferPointer { try w.write($0) }
            try w.finish()
            lines.append(#"{"audio": "\#(name)-\#(i).wav", "text": "\#(text)", "category": "tones"}"#)
        }
        let manifest = dir.appendingPathComponent("\(name).jsonl").path
        try lines.joined(separator: "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        return manifest
    }

    static func settings(epochs: Int) -> TrainConfig {
        var c = TrainConfig()
        c.layers = 1
        c.hidden = 48
        c.bands = 40
        c.epochs = epochs
        c.batchSize = 8
        c.learningRate = 0.01
        c.patience = 100
        return c
    }

    @Test("learns the tone alphabet: dev CER falls below 10%; the best model loads and decodes")
    func learns() throws {
        let train = try Manifest.load(Self.corpus("train", count: 160, seed: 1))
        let dev = try Manifest.load(Self.corpus("dev", count: 30, seed: 2))
        let out = Self.dir.appendingPathComponent("tones.safetensors").path
        let run = try TrainingRun(config: Self.settings(epochs: 12), output: out)
        let summary = try run.run(train: train, dev: dev, resume: false)
        let cer = try #require(summary.bestDevCER)
        print("tone alphabet: best dev CER \(cer) after \(summary.epochsRun) epochs")
        #expect(cer < 0.10, "best dev CER \(cer)")
        let model = try ModelFile.load(path: out)
        #expect(model.tokens.count == 29 && model.features?.contains("\"melBands\":40") == true)
    }

    @Test("an interrupted run resumed from its checkpoint ends where an uninterrupted one does")
    func resumeIsExact() throws {
        let train = try Manifest.load(Self.corpus("rtrain", count: 40, seed: 3))
        let a = Self.dir.appendingPathComponent("straight.safetensors").path
        let b = Self.dir.appendingPathComponent("resumed.safetensors").path
        _ = try TrainingRun(config: Self.settings(epochs: 3), output: a).run(train: train, dev: nil, resume: false)
        _ = try TrainingRun(config: Self.settings(epochs: 1), output: b).run(train: train, dev: nil, resume: false)
        let second = try TrainingRun(config: Self.settings(epochs: 3), output: b).run(train: train, dev: nil, resume: true)
        #expect(second.epochsRun == 2)
        let pa = try ModelFile.load(path: a + ".checkpoint"), pb = try ModelFile.load(path: b + ".checkpoint")
        let va = Array(UnsafeBufferPointer(start: pa.network.parameters.values, count: pa.network.parameters.count))
        let vb = Array(UnsafeBufferPointer(start: pb.network.parameters.values, count: pb.network.parameters.count))
        #expect(va == vb)
        #expect(pa.auxiliary == pb.auxiliary)
        // Other architecture settings refuse to resume.
        var other = Self.settings(epochs: 4)
        other.hidden = 32
        #expect { _ = try TrainingRun(config: other, output: b).run(train: train, dev: nil, resume: true) } throws: {
            "\($0)".contains("other settings")
        }
    }

    @Test("SpecAugment masks whole bands and frames with the band mean, the same way every time")
    func specAugment() throws {
        var c = Self.settings(epochs: 1)
        c.frequencyMasks = 1; c.frequencyMaskWidth = 8; c.timeMasks = 1; c.timeMaskFraction = 0.2
        let run = try TrainingRun(config: c, output: "/tmp/unused")
        let frames = 200, bands = c.bands
        let x = (0..<(frames * bands)).map { Float($0 % 97) + 1000 }      // never equal to a mean below
        let mean = (0..<bands).map { Float($0) }
        var masked = 0
        for index in 0..<20 {
            let y = run.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index)
            #expect(y == run.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index))
            for i in y.indices where y[i] != x[i] {
                #expect(y[i] == mean[i % bands])
                masked += 1
            }
        }
        #expect(masked > 0)
        #expect(run.specAugment(x, frames: frames, mean: mean, epoch: 4, index: 0)
                != run.specAugment(x, frames: frames, mean: mean, epoch: 3, index: 0))
    }

    @Test("random equalization: one smooth gain curve per utterance, within its bounds; the masks stay as they were")
    func randomEQ() throws {
        var c = Self.settings(epochs: 1)
        c.frequencyMasks = 1; c.frequencyMaskWidth = 8; c.timeMasks = 1; c.timeMaskFraction = 0.2
        let plain = try TrainingRun(config: c, output: "/tmp/unused")
        c.randomEQ = 2
        let run = try TrainingRun(config: c, output: "/tmp/unused")
        let frames = 50, bands = c.bands
        let x = (0..<(frames * bands)).map { Float($0 % 97) + 1000 }
        let mean = (0..<bands).map { Float($0) }
        var curves: [[Float]] = []
        for index in 0..<20 {
            let masked = plain.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index)
            let y = run.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index)
            #expect(y == run.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index))
            // The same masks as without the equalizer, then one gain per band for every frame.
            let gain = (0..<bands).map { y[$0] - masked[$0] }
            for f in 0..<frames {
                for b in 0..<bands { #expect(abs(y[f * bands + b] - masked[f * bands + b] - gain[b]) < 1e-3) }
            }
            #expect(gain.allSatisfy { abs($0) <= 3.0 + 1e-3 }, "tilt ≤ 2 plus ripple ≤ 1: \(gain)")
            // Smooth: neighbouring bands differ by at most the tilt's 2·2/(bands−1) plus the
            // ripple's steepest slope, 1·3π/(bands−1).
            let steepest = Float(4 + 3 * Double.pi) / Float(bands - 1)
            #expect(zip(gain, gain.dropFirst()).allSatisfy { abs($0 - $1) <= steepest + 1e-4 })
            curves.append(gain)
        }
        #expect(Set(curves.map { $0.map { Int($0 * 1000) } }).count == 20, "every utterance its own curve")
        #expect(curves.contains { $0.max()! - $0.min()! > 1 }, "some curves colour the spectrum by more than a nat")
        var bad = c
        bad.randomEQ = -1
        #expect { _ = try TrainingRun(config: bad, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "randomEQ" }
    }

    @Test("level augmentation: its share of utterances quieter by up to quietDB, then raised by the front end's normalizer as a live stream would be; the masks and equalizer stay as they were")
    func quietUtterances() throws {
        var c = Self.settings(epochs: 1)
        c.frequencyMasks = 1; c.frequencyMaskWidth = 8; c.timeMasks = 1; c.timeMaskFraction = 0.2; c.randomEQ = 1
        let plain = try TrainingRun(config: c, output: "/tmp/unused")
        c.quietShare = 0.5; c.quietDB = 30
        let quiet = try TrainingRun(config: c, output: "/tmp/unused")
        var onlyQuiet = Self.settings(epochs: 1)                  // no masks or equalizer: level alone
        onlyQuiet.frequencyMasks = 0; onlyQuiet.timeMasks = 0; onlyQuiet.quietShare = 0.5; onlyQuiet.quietDB = 30
        let unleveled = try TrainingRun(config: onlyQuiet, output: "/tmp/unused")
        let leveled = try TrainingRun(config: onlyQuiet, output: "/tmp/unused")
        leveled.levelRange = LevelRange(low: 4.5, high: 8)
        // Speech-like frames: 0.3 s of a floor far below, then 2 s whose summed energy sits at the
        // range's middle (log energy ≈ 6.2 in every frame).
        let frames = 230, bands = c.bands
        let x = (0..<(frames * bands)).map { i -> Float in i / bands < 30 ? -8 : 6.2 - logf(Float(bands)) }
        let mean = [Float](repeating: 0, count: bands)
        var shifted = 0, raised = 0
        for index in 0..<40 {
            let before = plain.specAugment(x, frames: frames, mean: mean, epoch: 2, index: index)
            let y = quiet.specAugment(x, frames: frames, mean: mean, epoch: 2, index: index)
            #expect(y == quiet.specAugment(x, frames: frames, mean: mean, epoch: 2, index: index))
            // One shift for every value, between −30 dB and 0 (in natural-log energy units).
            let masksShift = y[0] - before[0]
            #expect(zip(y, before).allSatisfy { abs($0 - $1 - masksShift) < 1e-3 })
            #expect(masksShift <= 0 && masksShift >= -30 * logf(10) / 10 - 1e-3)
            let u = unleveled.specAugment(x, frames: frames, mean: mean, epoch: 2, index: index)
            let shift = u[0] - x[0]
            #expect(zip(u, x).allSatisfy { abs($0 - $1 - shift) < 1e-3 })
            guard shift < -10 * logf(10) / 10 else { continue }     // clearly quieter than the range
            shifted += 1
            // With a level range the normalizer brings the end of the quiet utterance back into range,
            // but not its first frames of speech (it waits for 0.4 s of quiet speech before it rises).
            // After 2 s the gain has all but reached what brings the speech (log energy 6.2 + shift)
            // up to the range's low end.
            let z = leveled.specAugment(x, frames: frames, mean: mean, epoch: 2, index: index)
            let firstSpeech = 30 * bands + 5, last = (frames - 1) * bands + 5
            #expect(abs(z[firstSpeech] - u[firstSpeech]) < 1e-3)
            let wanted = min(4.5 - (6.2 + shift), LevelNormalizer.maxBoost)
            #expect(abs(z[last] - u[last] - wanted) < 0.05 * wanted, "raised by \(z[last] - u[last]), not \(wanted)")
            if z[last] > u[last] { raised += 1 }
        }
        #expect(shifted >= 5 && shifted <= 25, "about half of the 40 utterances, some of them by more than 10 dB: \(shifted)")
        #expect(raised == shifted)
        var bad = c
        bad.quietShare = 1.5
        #expect { _ = try TrainingRun(config: bad, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "quietShare" }
        bad = c; bad.quietDB = -3
        #expect { _ = try TrainingRun(config: bad, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "quietDB" }
    }

    @Test("onset augmentation: its share of utterances loses the leading silence but 0–3 frames, and nothing else; the earlier draws stay as they were")
    func onsetCut() throws {
        var c = Self.settings(epochs: 1)
        c.frequencyMasks = 1; c.frequencyMaskWidth = 8; c.timeMasks = 0
        let plain = try TrainingRun(config: c, output: "/tmp/unused")
        c.onsetShare = 0.5
        let onset = try TrainingRun(config: c, output: "/tmp/unused")
        // 40 frames far below, then 100 frames of "speech" whose energy sits 40 dB above them.
        let bands = c.bands, silence = 40, frames = 140
        let x = (0..<(frames * bands)).map { i -> Float in i / bands < silence ? -8 : 1.2 + Float(i % 7) * 0.1 }
        let mean = [Float](repeating: 0, count: bands)
        var cut = 0
        for index in 0..<40 {
            let before = plain.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index)
            let y = onset.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index)
            #expect(y == onset.specAugment(x, frames: frames, mean: mean, epoch: 3, index: index))
            #expect(y.count % bands == 0)
            let kept = y.count / bands
            if kept == frames { #expect(y == before); continue }
            cut += 1
            // Between 0 and 3 frames of silence remain, and the rest is the utterance as it was.
            #expect(kept >= frames - silence && kept <= frames - silence + 3, "\(kept) frames kept")
            #expect(Array(y) == Array(before[((frames - kept) * bands)...]))
        }
        #expect(cut >= 10 && cut <= 30, "about half of the 40 utterances: \(cut)")
        var bad = c
        bad.onsetShare = -0.1
        #expect { _ = try TrainingRun(config: bad, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "onsetShare" }
    }

    @Test("meanWindow puts online CMN in the front end training uses; level augmentation then has nothing to do; bad windows are named")
    func meanWindowFrontEnd() throws {
        var c = Self.settings(epochs: 1)
        #expect(try TrainingRun(config: c, output: "/tmp/unused").featureConfig.meanWindow == nil)
        c.meanWindow = 600
        c.frequencyMasks = 0; c.timeMasks = 0; c.quietShare = 1; c.quietDB = 30
        let run = try TrainingRun(config: c, output: "/tmp/unused")
        #expect(run.featureConfig.meanWindow == 600)
        // A gain cancels in the mean normalization, so the (already normalized) features pass unchanged.
        let x = (0..<(50 * c.bands)).map { Float($0 % 13) - 6 }
        #expect(run.specAugment(x, frames: 50, mean: [Float](repeating: 0, count: c.bands), epoch: 1, index: 3) == x)
        for window in [-1, 100_001] {
            var bad = c
            bad.meanWindow = window
            #expect { _ = try TrainingRun(config: bad, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "meanWindow" }
        }
        let decoded = try JSONDecoder().decode(TrainConfig.self, from: Data(#"{"meanWindow": 300}"#.utf8))
        #expect(decoded.meanWindow == 300)
    }

    @Test("early stopping, bad manifests and bad settings")
    func stopsAndRejects() throws {
        let train = try Manifest.load(Self.corpus("strain", count: 16, seed: 4))
        var c = Self.settings(epochs: 6)
        c.learningRate = 1e-9          // nothing improves after the first epoch
        c.patience = 2
        let s = try TrainingRun(config: c, output: Self.dir.appendingPathComponent("stop.safetensors").path)
            .run(train: train, dev: train, resume: false)
        #expect(s.epochsRun == 3)

        let bad = Self.dir.appendingPathComponent("bad.jsonl").path
        try "{\"audio\": \"x.wav\", \"text\": \"a\"}\n{\"text\": \"b\"}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect { _ = try Manifest.load(bad) } throws: { "\($0)" == "bad.jsonl:2: missing \"audio\"" }
        let missing = Self.dir.appendingPathComponent("missing.jsonl").path
        try "{\"audio\": \"nope.wav\", \"text\": \"a\"}\n".write(toFile: missing, atomically: true, encoding: .utf8)
        #expect { _ = try TrainingRun(config: c, output: "/tmp/x").run(train: Manifest.load(missing), dev: nil, resume: false) } throws: {
            "\($0)".hasPrefix("missing.jsonl:1:") && "\($0)".contains("nope.wav")
        }
        let spell = Self.dir.appendingPathComponent("spell.jsonl").path
        try "{\"audio\": \"strain-0.wav\", \"text\": \"naïve\"}\n".write(toFile: spell, atomically: true, encoding: .utf8)
        #expect { _ = try TrainingRun(config: c, output: "/tmp/x").run(train: Manifest.load(spell), dev: nil, resume: false) } throws: {
            "\($0)".contains("spell.jsonl:1") && "\($0)".contains("'ï'")
        }
        var wrong = c
        wrong.stride = 5
        #expect { _ = try TrainingRun(config: wrong, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "stride" }
    }

    @Test("a config file gives any subset of the settings, names an unknown key, and may set the token set")
    func configFile() throws {
        func decode(_ json: String) throws -> TrainConfig { try JSONDecoder().decode(TrainConfig.self, from: Data(json.utf8)) }
        let partial = try decode(#"{"epochs": 3, "hidden": 64}"#)
        var expected = TrainConfig()
        expected.epochs = 3
        expected.hidden = 64
        #expect(partial == expected)
        #expect(try decode("{}") == TrainConfig())
        #expect { _ = try decode(#"{"epoch": 3}"#) } throws: { ($0 as? TrainConfigError)?.key == "epoch" }
        // What `hark train` writes into a model's metadata reads back as the same settings.
        var full = TrainConfig()
        full.tokens = [" ", "θ", "ð", "a"]
        #expect(try decode(String(decoding: JSONEncoder().encode(full), as: UTF8.self)) == full)
        #expect(try full.tokenSet().tokens == ["<blank>", " ", "θ", "ð", "a"])
        #expect(try TrainConfig().tokenSet() == .english)

        var twoLetters = Self.settings(epochs: 1)
        twoLetters.tokens = [" ", "a", "b"]
        let train = try Manifest.load(Self.corpus("abc", count: 20, seed: 3))
        #expect { _ = try TrainingRun(config: twoLetters, output: "/tmp/x").run(train: train, dev: nil, resume: false) } throws: {
            "\($0)".contains("'c'")
        }
        // Fine-tuning keeps the starting model's outputs: a token set of another size is refused.
        let english = try Network<Float>(config: NetworkConfig(kind: .lstm, inputSize: 40, stack: 3, stride: 3, hiddenSize: 8, layers: 1,
                                                               projectionSize: 0, outputSize: 29))
        var toneLetters = Self.settings(epochs: 1)
        toneLetters.tokens = [" ", "a", "b", "c"]
        let adapt = try TrainingRun(config: toneLetters, output: "/tmp/x")
        adapt.initialNetwork = english
        #expect { _ = try adapt.run(train: train, dev: nil, resume: false) } throws: {
            ($0 as? TrainConfigError)?.key == "tokens" && "\($0)".contains("28 tokens after the blank, not 4")
        }
        twoLetters.tokens = ["ab"]
        #expect { _ = try TrainingRun(config: twoLetters, output: "/tmp/x") } throws: { ($0 as? TrainConfigError)?.key == "tokens" }
        // Phonemes: Hark's English phoneme set, and no token list of one's own beside it.
        #expect(try decode(#"{"spelling": "phonemes"}"#).tokenSet() == .englishPhonemes)
        #expect { _ = try decode(#"{"spelling": "phonemes", "tokens": [" ", "a"]}"#).validate() } throws: {
            ($0 as? TrainConfigError)?.key == "tokens"
        }
        #expect(throws: (any Error).self) { _ = try decode(#"{"spelling": "letters"}"#) }
    }

    @Test("a phoneme model learns from pronounced transcripts and its file carries the pronunciation")
    func phonemeModel() throws {
        let train = try Manifest.load(Self.corpus("ph", count: 16, seed: 5))
        let out = Self.dir.appendingPathComponent("phonemes.safetensors").path
        var config = Self.settings(epochs: 1)
        config.spelling = .phonemes
        let summary = try TrainingRun(config: config, output: out).run(train: train, dev: Array(train.prefix(4)), resume: false)
        #expect(summary.bestDevCER != nil)
        let model = try ModelFile.load(path: out)
        #expect(model.tokens == TokenSet.englishPhonemes.tokens)
        let stored = try JSONDecoder().decode(Pronunciation.self, from: Data(try #require(model.extra["pronunciation"]).utf8))
        #expect(stored == .english)
        // The transcripts were pronounced: "c" is "si:", so its labels are those two phonemes.
        #expect(TokenSet.englishPhonemes.readable(try TokenSet.englishPhonemes.spelling(of: "c")) == "si:")
    }
}
