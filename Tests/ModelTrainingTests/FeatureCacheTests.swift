import Foundation
import Testing
import TestSupport
import Cells
import Stream
import Decoding
@testable import ModelTraining

/// The on-disk feature cache `hark train` reads, and training from it: the same model every
/// time, and a run stopped anywhere resumed bit for bit.
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

    @Test("a build that was killed continues after its last whole utterance and ends with the bytes of one that never stopped")
    func buildResumes() throws {
        let entries = try Manifest.load(TrainingRunTests.corpus("res", count: 9, seed: 8))
        let whole = Self.dir.appendingPathComponent("whole.features").path, cut = Self.dir.appendingPathComponent("killed.features").path
        _ = try FeatureCache.prepare(entries, tokens: .english, features: Self.features(), at: whole, threads: 2)
        // What a kill leaves: four utterances, then half of a fifth's block and of its index entry.
        let source = try FeatureCache.Source.of(entries, features: Self.features(), tokens: .english)
        let writer = try FeatureCache.Writer(directory: cut, bands: 40, source: source)
        let first = try FeatureSet.compute(Array(entries.prefix(4)), tokens: .english, features: LogMelSpectrogram(Self.features()),
                                           threads: 2) { _, _ in }
        for u in first.utterances { try writer.append(frames: u.frames, labels: u.labels) }
        for (name, bytes) in [("data.bin", 3_000), ("index.bin", 7)] {
            let h = try #require(FileHandle(forWritingAtPath: cut + ".partial/" + name))
            try h.seekToEnd()
            try h.write(contentsOf: Data(repeating: 0x5A, count: bytes))
            try h.close()
        }
        let lines = Lines()
        let resumed = try FeatureCache.prepare(entries, tokens: .english, features: Self.features(), at: cut, threads: 2, log: lines.add)
        #expect(lines.all.contains { $0.contains("continuing the build") && $0.contains("after its 4 whole utterances") }, "\(lines.all)")
        #expect(resumed.count == 9)
        for name in ["data.bin", "index.bin", "meta.json"] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: cut + "/" + name)) == Data(contentsOf: URL(fileURLWithPath: whole + "/" + name)),
                    "\(name)")
        }
        #expect(!FileManager.default.fileExists(atPath: cut + ".partial"))
    }

    @Test("reading a whole cache once leaves almost none of it resident")
    func pagesAreReleased() throws {
        let at = Self.dir.appendingPathComponent("pages.features").path
        let writer = try FeatureCache.Writer(directory: at, bands: 80)
        var rng = SeededGenerator(seed: 12)
        let frame = (0..<(800 * 80)).map { _ in Float(rng.uniform(-12, 4)) }
        for i in 0..<300 {
            let n = 300 + (i * 37) % 500
            try writer.append(frames: Array(frame[(i % 7)..<(i % 7 + n * 80)]), labels: [1, 2, 3])
        }
        let cache = try writer.finish(source: FeatureCache.Source(entries: "", audio: "", features: "", count: 0))
        #expect(cache.meta.dataBytes > 20_000_000)
        var sum: Float = 0
        for i in 0..<cache.count { sum += cache.frames(i)[0] + Float(cache.labels(i).count) }
        let resident = withExtendedLifetime(cache) { Self.residentBytes(of: at + "/data.bin") }
        print("reading a \(cache.meta.dataBytes / 1_000_000) MB cache once leaves \(resident / 1_000) kB of it resident (\(sum))")
        #expect(resident >= 0 && resident < cache.meta.dataBytes / 20)
    }

    /// The resident size of this process's mapping of `path` (/proc/self/smaps), -1 if none.
    static func residentBytes(of path: String) -> Int {
        // Read to the end: /proc files say they are empty, and a one-shot read stops at a page.
        let text = String(decoding: FileHandle(forReadingAtPath: "/proc/self/smaps")?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        var inside = false, total = -1
        for line in text.split(separator: "\n") {
            if line.first?.isHexDigit == true && line.contains("-") && line.split(separator: " ").count >= 5 {
                inside = line.hasSuffix(path)
                if inside && total < 0 { total = 0 }
            } else if inside, line.hasPrefix("Rss:") {
                total += 1_024 * (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0)
            }
        }
        return total
    }

    @Test("batch order: every utterance once an epoch, companions of similar length, a function of seed and epoch")
    func batchOrder() {
        var rng = SeededGenerator(seed: 9)
        let lengths = (0..<1_000).map { _ in Int(rng.next() % 900) + 100 }
        let a = BatchOrder.batches(lengths: lengths, batchSize: 8, seed: 3, epoch: 2)
        #expect(a == BatchOrder.batches(lengths: lengths, batchSize: 8, seed: 3, epoch: 2))
        #expect(a.flatMap { $0 }.sorted() == Array(0..<1_000))
        #expect(a.dropLast().allSatisfy { $0.count == 8 } || a.filter { $0.count < 8 }.count == 1)
        let b = BatchOrder.batches(lengths: lengths, batchSize: 8, seed: 3, epoch: 3)
        #expect(a != b && Set(a.map { Set($0) }) != Set(b.map { Set($0) }), "new companions each epoch")
        // Within a bucket of 256 length-sorted utterances, so a batch's lengths are close.
        let sorted = lengths.sorted()
        let bucketSpan = stride(from: 0, to: 1_000, by: 256).map { sorted[min($0 + 255, 999)] - sorted[$0] }.max()!
        #expect(a.allSatisfy { batch in batch.map { lengths[$0] }.max()! - batch.map { lengths[$0] }.min()! <= bucketSpan })
    }

    @Test("from the cache: the same model every time, and a run stopped mid-epoch, or killed between checkpoints, resumes to the same bits")
    func resumeMidEpochIsExact() throws {
        let entries = try Manifest.load(TrainingRunTests.corpus("mid", count: 40, seed: 7))
        var config = TrainingRunTests.settings(epochs: 3)       // 5 batches an epoch
        config.randomEQ = 1                                      // every augmentation drawn, so every draw is tested
        let cache = try FeatureCache.prepare(entries, tokens: .english, features: Self.features(),
                                             at: Self.dir.appendingPathComponent("mid.features").path, threads: 2)
        func path(_ name: String) -> String { Self.dir.appendingPathComponent(name + ".safetensors").path }
        func parameters(_ path: String) throws -> (values: [Float], optimizer: [String: [Float]], steps: String?) {
            let m = try ModelFile.load(path: path)
            return (Array(UnsafeBufferPointer(start: m.network.parameters.values, count: m.network.parameters.count)), m.auxiliary,
                    m.extra["optimizer_steps"])
        }

        let straight = try TrainingRun(config: config, output: path("straight"))
        let s = try straight.run(corpus: cache, dev: nil, resume: false)
        #expect(!s.stopped && s.epochsRun == 3 && abs(s.hoursSeen - 3 * cache.hours) < 1e-9)
        let again = try TrainingRun(config: config, output: path("again"))
        _ = try again.run(corpus: try FeatureCache(directory: cache.directory), dev: nil, resume: false)
        let reference = try parameters(path("straight") + ".checkpoint")
        #expect(try parameters(path("again") + ".checkpoint") == reference)

        // Stopped (SIGINT's path) in the second epoch after its second batch, then resumed.
        let stopped = try TrainingRun(config: config, output: path("stopped"))
        stopped.afterBatch = { [stop = stopped.stop] p in if p.epoch == 1 && p.batch == 2 { stop.request() } }
        let first = try stopped.run(corpus: cache, dev: nil, resume: false)
        #expect(first.stopped && first.epochsRun == 1)
        let lines = Lines()
        let resumed = try TrainingRun(config: config, output: path("stopped"))
        resumed.log = lines.add
        let second = try resumed.run(corpus: cache, dev: nil, resume: true)
        #expect(lines.all.contains { $0.hasPrefix("resuming at epoch 2, batch 2 (") }, "\(lines.all)")
        #expect(!second.stopped && second.epochsRun == 2 && abs(second.hoursSeen - s.hoursSeen) < 1e-9)
        #expect(try parameters(path("stopped") + ".checkpoint") == reference)
        #expect(try parameters(path("stopped")).values == parameters(path("straight")).values)

        // Killed with no warning: checkpoints after every batch; the one on disk in the first
        // epoch after batch 3 is copied away as a kill would leave it, and resumed.
        let frequent = try TrainingRun(config: config, output: path("frequent"))
        frequent.checkpointInterval = 0
        let killed = path("killed") + ".checkpoint"
        frequent.afterBatch = { p in
            if p.epoch == 0 && p.batch == 4 { try? FileManager.default.copyItem(atPath: path("frequent") + ".checkpoint", toPath: killed) }
        }
        _ = try frequent.run(corpus: cache, dev: nil, resume: false)
        #expect(try parameters(path("frequent") + ".checkpoint") == reference, "checkpointing does not perturb training")
        #expect(try ModelFile.load(path: killed).extra["progress"]?.contains("\"batch\":3") == true)
        _ = try TrainingRun(config: config, output: path("killed")).run(corpus: cache, dev: nil, resume: true)
        #expect(try parameters(killed) == reference)

        // A mid-epoch checkpoint does not resume on another training set.
        let fewer = try FeatureCache.prepare(Array(entries.prefix(30)), tokens: .english, features: Self.features(),
                                             at: Self.dir.appendingPathComponent("fewer.features").path, threads: 2)
        let cut = try TrainingRun(config: config, output: path("cut"))
        cut.afterBatch = { [stop = cut.stop] p in if p.batch == 1 { stop.request() } }
        _ = try cut.run(corpus: cache, dev: nil, resume: false)
        #expect { _ = try TrainingRun(config: config, output: path("cut")).run(corpus: fewer, dev: nil, resume: true) } throws: {
            "\($0)".contains("another training set")
        }
    }

    /// Resident memory while training from a large synthetic cache. Off by default (it writes
    /// about 58 MB per hour): HARK_CACHE_RSS_HOURS=20 swift test --filter residentMemory.
    @Test("resident memory while training from a cache of many hours", .enabled(if: ProcessInfo.processInfo.environment["HARK_CACHE_RSS_HOURS"] != nil))
    func residentMemory() throws {
        let hours = Double(ProcessInfo.processInfo.environment["HARK_CACHE_RSS_HOURS"] ?? "20") ?? 20
        let seconds = Double(ProcessInfo.processInfo.environment["HARK_CACHE_RSS_SECONDS"] ?? "120") ?? 120
        let at = ProcessInfo.processInfo.environment["HARK_CACHE_RSS_DIR"] ?? Self.dir.appendingPathComponent("big.features").path
        let bands = 80
        let cache: FeatureCache
        if let existing = try? FeatureCache(directory: at), abs(existing.hours - hours) < 0.5 {
            cache = existing
        } else {
            // Utterances of 2–8 s of smooth random "spectra" with label strings a tenth as long.
            let writer = try FeatureCache.Writer(directory: at, bands: bands)
            var rng = SeededGenerator(seed: 11)
            var frame = [Float](repeating: 0, count: 1_000 * bands)
            while writer.hours < hours {
                let n = 200 + Int(rng.next() % 600)
                for j in 0..<(n * bands) { frame[j] = Float(rng.uniform(-12, 4)) }
                try writer.append(frames: Array(frame[0..<(n * bands)]), labels: (0..<(n / 10)).map { _ in 1 + Int(rng.next() % 28) })
            }
            cache = try writer.finish(source: FeatureCache.Source(entries: "synthetic", audio: "", features: "", count: 0))
        }
        print(String(format: "rss: cache of %.1f h, %d utterances, %.2f GB; after writing: %@", cache.hours, cache.count,
                     Double(cache.meta.dataBytes) / 1e9, memory()))
        var checksum: Float = 0
        for i in 0..<cache.count { checksum += cache.frames(i)[0] }
        print("rss: after reading every utterance once (\(checksum)): \(memory())")
        var config = TrainConfig()
        config.bands = bands
        config.epochs = 1
        config.patience = 5
        let run = try TrainingRun(config: config, output: Self.dir.appendingPathComponent("big.safetensors").path)
        let start = Date()
        var position: TrainingRun.Position?
        run.afterBatch = { [stop = run.stop] p in
            position = p
            if Date().timeIntervalSince(start) > seconds { stop.request() }
        }
        _ = try run.run(corpus: cache, dev: nil, resume: false)
        print(String(format: "rss: after training the default LSTM 2×256 for %.0f s (%d batches, %.2f h seen): %@",
                     Date().timeIntervalSince(start), position?.batch ?? 0, position?.hoursSeen ?? 0, memory()))
    }

    func memory() -> String {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").filter { ["VmHWM", "VmRSS", "RssAnon", "RssFile"].contains(where: $0.hasPrefix) }
            .map { $0.replacingOccurrences(of: "\t", with: "").replacingOccurrences(of: "  ", with: "") }.joined(separator: ", ")
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
