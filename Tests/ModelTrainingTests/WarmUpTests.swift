import Foundation
import Testing
import TestSupport
import Decoding
import Stream
@testable import ModelTraining

/// `hark eval --warm`: an utterance heard as the next one after a pause, its front end carrying
/// the level it reached on the same speaker's previous utterance.
@Suite("Warm evaluation")
struct WarmUpTests {
    static let dir = testFolder("hark-warm")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("each utterance follows the one before it with the same speaker; without a speaker, the one before it")
    func predecessors() {
        func e(_ speaker: String?) -> ManifestEntry { ManifestEntry(audio: "a.wav", text: "a", category: "c", origin: "m:1", speaker: speaker) }
        #expect(FeatureSet.WarmUp.previousSameSpeaker([e("x"), e("y"), e("x"), e("y"), e("x")]) == [nil, nil, 0, 1, 2])
        #expect(FeatureSet.WarmUp.previousSameSpeaker([e(nil), e(nil), e("x")]) == [nil, 0, nil])
    }

    @Test("the manifest's speaker, else its source, names the stream")
    func manifestSpeaker() throws {
        let path = Self.dir.appendingPathComponent("speakers.jsonl").path
        try """
        {"audio": "a.wav", "text": "a", "speaker": "s1", "source": "game"}
        {"audio": "b.wav", "text": "b", "source": "game"}
        {"audio": "c.wav", "text": "c"}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Manifest.load(path).map(\.speaker) == ["s1", "game", nil])
    }

    @Test("a quiet utterance after its speaker's previous one is raised within its first second; its frames are the stream's own, and a first utterance stays cold")
    func quietSpeechIsRaised() throws {
        // Two seconds of the bundled speech, 30 dB below the level range the front end raises to.
        let speech = try Array(AudioFileSource(path: Self.repo.appendingPathComponent("share/default-input.wav").path).readAll().prefix(32_000))
        let plain = try LogMelSpectrogram().frames(of: speech)
        var config = LogMelConfig()
        let level = LevelNormalizer.speechLevel(of: plain)
        config.levelRange = LevelRange(low: level - 1, high: level + 1)
        var lines: [String] = []
        for (name, speaker) in [("first", "x"), ("other", "y"), ("second", "x")] {
            let w = try WAVWriter(path: Self.dir.appendingPathComponent("\(name).wav").path)
            try speech.map { $0 * Float(pow(10, -30.0 / 20)) }.withUnsafeBufferPointer { try w.write($0) }
            try w.finish()
            lines.append(#"{"audio": "\#(name).wav", "text": "speech", "speaker": "\#(speaker)"}"#)
        }
        let manifest = Self.dir.appendingPathComponent("warm.jsonl").path
        try lines.joined(separator: "\n").write(toFile: manifest, atomically: true, encoding: .utf8)
        let entries = try Manifest.load(manifest)
        let extractor = try LogMelSpectrogram(config)
        let gap = 8_000 + 37                               // not a whole number of hops: rounded up
        let warmUp = FeatureSet.WarmUp(previous: FeatureSet.WarmUp.previousSameSpeaker(entries), gapSamples: gap)
        let cold = try FeatureSet.compute(entries, tokens: .english, features: extractor, threads: 2) { _, _ in }
        let warm = try FeatureSet.compute(entries, tokens: .english, features: extractor, threads: 2, warmUp: warmUp) { _, _ in }

        #expect(warm.utterances[0].frames == cold.utterances[0].frames && warm.utterances[1].frames == cold.utterances[1].frames,
                "a speaker's first utterance is a cold start")
        #expect(warm.utterances[2].frameCount == cold.utterances[2].frameCount)
        // The utterance's frames are the last frames of one stream: the previous utterance, the
        // gap rounded up to whole hops, then the utterance.
        let hop = config.geometry.hopLength
        let quiet = try AudioFileSource(path: entries[2].audio).readAll()        // as written: 16-bit
        let stream = extractor.frames(of: quiet + [Float](repeating: 0, count: (gap + hop - 1) / hop * hop) + quiet)
        let sameFrames = Array(stream.values.suffix(warm.utterances[2].frames.count)) == warm.utterances[2].frames
        #expect(sameFrames, "the warm utterance's frames are the stream's last frames")
        // The speech level of the utterance's first second: cold, still 30 dB (6.9 in ln energy)
        // down, as the normalizer holds before it rises; warm, raised to the plain speech's.
        func startLevel(_ frames: [Float]) -> Float {
            LevelNormalizer.speechLevel(of: FeatureMatrix(rows: 100, cols: config.melBands, values: Array(frames.prefix(100 * config.melBands))))
        }
        let plainStart = startLevel(plain.values), coldStart = startLevel(cold.utterances[2].frames), warmStart = startLevel(warm.utterances[2].frames)
        #expect(plainStart - coldStart > 3, "cold: \(coldStart) against plain \(plainStart)")
        #expect(abs(plainStart - warmStart) < 1.5, "warm: \(warmStart) against plain \(plainStart)")
    }
}
