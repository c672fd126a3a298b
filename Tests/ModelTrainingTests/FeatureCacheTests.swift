import Foundation
import Testing
import TestSupport
import Cells
import Stream
import Decoding
@testable import ModelTraining

/// The on-disk feature cache `hark train` reads.
@Suite("Feature cache", .serialized)
struct FeatureCacheTests {
    static let dir = testFolder("hark-cache")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func features(bands: Int = 40) -> LogMelConfig {
        var f = LogMelConfig()
        f.melBands = bands
        return f
    }


    /// Error of three encodings against the float features, in units of each band's standard
    /// deviation (what the network sees after normalization): 16 bits per utterance and band (the
    /// cache's), 8 bits the same way, and Float16 with no scales.
    @Test("the cache holds the front end's features within half a step; 16-bit scaled values measured against 8-bit and Float16")
    func encoding() throws {
        let manifest = try TrainingRunTests.corpus("enc", count: 12, seed: 5)
        let speech = Self.repo.appendingPathComponent("share/default-input.wav").path
        let entries = try Manifest.load(manifest)
            + [ManifestEntry(audio: speech, text: "speech", category: "speech", origin: "default-input.wav")]
        let config = Self.features(bands: 80)
        let float = try FeatureSet.compute(entries, tokens: .english, features: LogMelSpectrogram(config), threads: 2) { _, _ in }
        let cache = try FeatureCache.prepare(entries, tokens: .english, features: config,
                                             at: Self.dir.appendingPathComponent("enc.features").path, threads: 2)
        #expect(cache.count == entries.count && cache.totalFrames == float.totalFrames && cache.bands == 80)
        let std = float.normalization().std
        var worst: [String: Float] = [:], sumSquares: [String: Double] = [:]
        func note(_ name: String, _ e: Float, band b: Int) {
            worst[name] = max(worst[name] ?? 0, abs(e) / std[b])
            sumSquares[name, default: 0] += Double(e / std[b]) * Double(e / std[b])
        }
        for i in 0..<cache.count {
            let x = float.utterances[i].frames, y = cache.frames(i)
            #expect(cache.frameCount(i) == float.utterances[i].frameCount && cache.labels(i) == float.utterances[i].labels)
            let (low, step, _) = x.withUnsafeBufferPointer { FeatureCache.quantize($0, bands: 80) }
            let (low8, high8) = (low, zip(low, step).map { $0 + 65_535 * $1 })
            for j in x.indices {
                let b = j % 80
                // Half a step, and the float rounding of low + step·q.
                #expect(abs(y[j] - x[j]) <= step[b] / 2 * 1.01 + abs(x[j]) * 1e-6, "utterance \(i) value \(j)")
                note("uint16", y[j] - x[j], band: b)
                let step8 = (high8[b] - low8[b]) / 255
                let q8 = step8 > 0 ? ((x[j] - low8[b]) / step8).rounded() : 0
                note("uint8", low8[b] + step8 * q8 - x[j], band: b)
                note("float16", Float(Float16(x[j])) - x[j], band: b)
            }
        }
        let values = Double(float.totalFrames * 80)
        for name in ["uint16", "uint8", "float16"] {
            print(String(format: "feature cache encoding %@: max error %.2e, RMS %.2e band standard deviations", name,
                         worst[name]!, (sumSquares[name]! / values).squareRoot()))
        }
        #expect(worst["uint16"]! < 1e-3 && worst["uint16"]! < worst["float16"]! && worst["uint16"]! < worst["uint8"]!)
        // The statistics stored while writing are those of the values training reads.
        let stored = cache.normalization(), fromFloat = float.normalization()
        for b in 0..<80 {
            #expect(abs(stored.mean[b] - fromFloat.mean[b]) < 1e-3 * fromFloat.std[b])
            #expect(abs(stored.std[b] - fromFloat.std[b]) < 1e-3 * fromFloat.std[b])
        }
    }

    @Test("reused while nothing changed; rebuilt when an audio file or the front end changes; a stray partial build is cleared; a directory that is not a cache is refused")
    func reuseAndInvalidation() throws {
        let entries = try Manifest.load(TrainingRunTests.corpus("inv", count: 6, seed: 6))
        let at = Self.dir.appendingPathComponent("inv.features").path
        let lines = Lines()
        func prepare(_ config: LogMelConfig = Self.features()) throws -> FeatureCache {
            try FeatureCache.prepare(entries, tokens: .english, features: config, at: at, threads: 2, log: lines.add)
        }
        _ = try prepare()
        #expect(lines.last.contains("built in"))
        _ = try prepare()
        #expect(lines.last.hasSuffix("reused"), "\(lines.last)")

        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3_600)], ofItemAtPath: entries[2].audio)
        let rebuilt = try prepare()
        #expect(lines.all.contains { $0.contains("audio files' sizes or times changed") }, "\(lines.all)")
        #expect(rebuilt.count == 6)
        _ = try prepare(Self.features(bands: 32))
        #expect(lines.all.contains { $0.contains("the front end's settings or the token set changed") })
        #expect(try prepare(Self.features(bands: 32)).bands == 32 && lines.last.hasSuffix("reused"))

        // An interrupted build: its partial directory never opens, and the next build clears it.
        let writer = try FeatureCache.Writer(directory: Self.dir.appendingPathComponent("cut.features").path, bands: 40)
        try writer.append(frames: [Float](repeating: 1, count: 400), labels: [1, 2])
        #expect(throws: FeatureCacheError.self) { try FeatureCache(directory: Self.dir.appendingPathComponent("cut.features").path) }
        #expect(FileManager.default.fileExists(atPath: Self.dir.appendingPathComponent("cut.features.partial").path))
        _ = try FeatureCache.prepare(entries, tokens: .english, features: Self.features(),
                                     at: Self.dir.appendingPathComponent("cut.features").path, threads: 2, log: lines.add)
        #expect(lines.all.contains { $0.hasPrefix("removing") && $0.contains("cut.features.partial") })
        #expect(!FileManager.default.fileExists(atPath: Self.dir.appendingPathComponent("cut.features.partial").path))

        // A damaged cache is rebuilt, not read.
        let data = at + "/data.bin"
        let handle = try #require(FileHandle(forWritingAtPath: data))
        try handle.truncate(atOffset: 100)
        try handle.close()
        #expect { try FeatureCache(directory: at) } throws: { "\($0)".contains("data.bin has 100 bytes") }
        _ = try prepare(Self.features(bands: 32))
        #expect(lines.all.contains { $0.contains("cannot be used") })

        // Someone's directory of other things is never replaced.
        let other = Self.dir.appendingPathComponent("mine").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try "keep".write(toFile: other + "/notes.txt", atomically: true, encoding: .utf8)
        #expect(throws: FeatureCacheError.notACache(path: other)) {
            try FeatureCache.prepare(entries, tokens: .english, features: Self.features(), at: other, threads: 2)
        }
        #expect(FileManager.default.fileExists(atPath: other + "/notes.txt"))
    }

}

/// Lines a run or a cache logs, collected from any thread.
final class Lines: @unchecked Sendable {
    private var lines: [String] = []
    private let lock = NSLock()
    var add: @Sendable (String) -> Void { { [self] line in lock.lock(); lines.append(line); lock.unlock() } }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    var last: String { all.last ?? "" }
}
