import Decoding
import Foundation
import Glibc
import Stream

/// Making a feature cache: reusing the one there when it fits, else building it from the audio
/// (continuing a build that was killed), one chunk of utterances at a time.
extension FeatureCache {
    /// The cache for `entries` at `directory`: the one there when it was made from these entries,
    /// audio files and settings, else a new one (`log` says why). Refuses to replace a directory
    /// that is not a feature cache.
    public static func prepare(_ entries: [ManifestEntry], tokens: TokenSet, features: LogMelConfig, at directory: String,
                               threads: Int, progress: @escaping @Sendable (String) -> Void = { _ in },
                               log: (String) -> Void = { _ in }) throws -> FeatureCache {
        let source = try Source.of(entries, features: features, tokens: tokens)
        if FileManager.default.fileExists(atPath: directory) {
            do {
                let cache = try FeatureCache(directory: directory)
                if let changed = cache.meta.source.difference(from: source) {
                    log("feature cache \(directory) was made from other data (\(changed) changed); rebuilding it")
                } else {
                    log(String(format: "feature cache %@: %d utterances, %.2f h, reused", directory, cache.count, cache.hours))
                    return cache
                }
            } catch {
                guard isCache(directory) else {
                    throw FeatureCacheError.notACache(path: directory)
                }
                log("feature cache \(directory) cannot be used (\(error)); rebuilding it")
            }
        }
        return try build(entries, source: source, tokens: tokens, features: features, at: directory, threads: threads,
                         progress: progress, log: log)
    }

    /// True for a directory a cache build made (or an empty one): only such a directory is replaced.
    static func isCache(_ directory: String) -> Bool {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? ["?"]
        return names.isEmpty || names.contains("meta.json")
    }

    /// Computes every entry's features on `threads` cores, a chunk at a time, and writes them in
    /// order, so memory holds one chunk, not the corpus.
    static func build(_ entries: [ManifestEntry], source: Source, tokens: TokenSet, features: LogMelConfig, at directory: String,
                      threads: Int, progress: @escaping @Sendable (String) -> Void, log: (String) -> Void) throws -> FeatureCache {
        let extractor = try LogMelSpectrogram(features)
        let writer = try Writer(directory: directory, bands: features.melBands,
                                framesPerSecond: Double(features.sampleRate) / Double(features.hopLength), source: source, log: log)
        let start = Date()
        let chunk = 64 * max(threads, 1)
        var lastReport = Date.distantPast
        let resumed = writer.count, resumedHours = writer.hours
        for first in stride(from: resumed, to: entries.count, by: chunk) {
            let part = Array(entries[first..<min(first + chunk, entries.count)])
            let set = try FeatureSet.compute(part, tokens: tokens, features: extractor, threads: threads) { _, _ in }
            for u in set.utterances { try writer.append(frames: u.frames, labels: u.labels) }
            if Date().timeIntervalSince(lastReport) > 2 || first + part.count == entries.count {
                let done = first + part.count, elapsed = Date().timeIntervalSince(start)
                let hours = writer.hours, rate = (hours - resumedHours) * 3600 / max(elapsed, 1e-9)
                let eta = Double(entries.count - done) * elapsed / Double(done - resumed)
                progress(String(format: "features: %d/%d utterances, %.2f h of audio, %.0f s of audio/s, ETA %@",
                                done, entries.count, hours, rate, formatDuration(eta)))
                lastReport = Date()
            }
        }
        let cache = try writer.finish(source: source)
        log(String(format: "feature cache %@: %d utterances, %.2f h, %.0f MB, built in %@", directory, cache.count, cache.hours,
                   Double(cache.meta.dataBytes) / 1e6, formatDuration(Date().timeIntervalSince(start))))
        return cache
    }

    /// Appends utterances to `<directory>.partial` (each block, then its index entry); `finish`
    /// writes the metadata and renames it to `directory`. Given the `source` it is building, a
    /// writer continues a partial build of that same source after its last whole utterance (a
    /// build that was killed), and starts afresh otherwise.
    public final class Writer {
        public let directory: String
        let partial: String
        let bands: Int
        let framesPerSecond: Double
        private let data: FileHandle, index: FileHandle
        private var offset = 0, utterances = 0, frames = 0
        private var sum: [Double], squares: [Double]
        public var hours: Double { Double(frames) / framesPerSecond / 3600 }
        /// Utterances written so far (more than 0 at the start of a resumed build).
        public var count: Int { utterances }

        public init(directory: String, bands: Int, framesPerSecond: Double = 100, source: Source? = nil,
                    log: (String) -> Void = { _ in }) throws {
            self.directory = directory
            self.bands = bands
            self.framesPerSecond = framesPerSecond
            let partial = directory + ".partial"
            self.partial = partial
            sum = [Double](repeating: 0, count: bands)
            squares = sum
            let fm = FileManager.default
            let sourceFile = URL(fileURLWithPath: partial + "/source.json")
            let resumable = source != nil && (try? JSONDecoder().decode(Source.self, from: Data(contentsOf: sourceFile))) == source
            do {
                if fm.fileExists(atPath: partial) && !resumable {
                    log("removing \(partial), left by a build that did not finish")
                    try fm.removeItem(atPath: partial)
                }
                if !fm.fileExists(atPath: partial) {
                    try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
                    for name in ["data.bin", "index.bin"] where !fm.createFile(atPath: partial + "/" + name, contents: nil) {
                        throw FeatureCacheError.unwritable(path: partial + "/" + name, reason: String(cString: strerror(errno)))
                    }
                    if let source { try JSONEncoder().encode(source).write(to: sourceFile) }
                }
                guard let data = FileHandle(forUpdatingAtPath: partial + "/data.bin"),
                      let index = FileHandle(forUpdatingAtPath: partial + "/index.bin") else {
                    throw FeatureCacheError.unwritable(path: partial, reason: String(cString: strerror(errno)))
                }
                self.data = data
                self.index = index
                if resumable {
                    try resume()
                    log("continuing the build in \(partial) after its \(utterances) whole utterances")
                }
            } catch let error as FeatureCacheError {
                throw error
            } catch {
                throw FeatureCacheError.unwritable(path: partial, reason: (error as NSError).localizedDescription)
            }
        }

        /// Keeps the partial build's utterances up to the first whose index entry or block is
        /// incomplete, truncates both files there, and recomputes the statistics from what is kept
        /// in the order a build that never stopped adds them.
        private func resume() throws {
            let entries = try Data(contentsOf: URL(fileURLWithPath: partial + "/index.bin"))
            let mapped = try MappedFile(path: partial + "/data.bin")
            var kept = 0, end = 0
            entries.withUnsafeBytes { raw in
                while 16 * (kept + 1) <= raw.count {
                    let at = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * kept, as: Int64.self)))
                    let n = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * kept + 8, as: Int32.self)))
                    let labels = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * kept + 12, as: Int32.self)))
                    let size = FeatureCache.paddedBlockBytes(frames: n, labels: labels, bands: bands)
                    guard at == end, n >= 0, labels >= 0, end + size <= mapped.count else { break }
                    accumulate(FeatureCache.decode(mapped.base + at, frames: n, labels: labels, bands: bands))
                    mapped.release(from: at, count: size)
                    end += size
                    kept += 1
                    frames += n
                }
            }
            try data.truncate(atOffset: UInt64(end))
            try index.truncate(atOffset: UInt64(16 * kept))
            try data.seekToEnd()
            try index.seekToEnd()
            offset = end
            utterances = kept
        }

        private func accumulate(_ values: [Float]) {
            for (j, v) in values.enumerated() {
                sum[j % bands] += Double(v)
                squares[j % bands] += Double(v) * Double(v)
            }
        }

        /// Adds one utterance: frames × bands values, row-major, and its labels.
        public func append(frames x: [Float], labels: [Int]) throws {
            let n = x.count / bands
            let (low, step, q) = x.withUnsafeBufferPointer { FeatureCache.quantize($0, bands: bands) }
            var block = Data(capacity: FeatureCache.blockBytes(frames: n, labels: labels.count, bands: bands) + 8)
            for l in labels { withUnsafeBytes(of: Int32(l).littleEndian) { block.append(contentsOf: $0) } }
            for v in low + step { withUnsafeBytes(of: v.bitPattern.littleEndian) { block.append(contentsOf: $0) } }
            q.withUnsafeBytes { block.append(contentsOf: $0) }          // little-endian on every Linux Hark runs on
            // The statistics are of what training will read: the decoded values.
            for f in 0..<n {
                for b in 0..<bands {
                    let v = Double(FeatureCache.value(low[b], step[b], q[f * bands + b]))
                    sum[b] += v
                    squares[b] += v * v
                }
            }
            block.append(contentsOf: [UInt8](repeating: 0, count: (8 - block.count % 8) % 8))
            var entry = Data()
            withUnsafeBytes(of: Int64(offset).littleEndian) { entry.append(contentsOf: $0) }
            for v in [Int32(n).littleEndian, Int32(labels.count).littleEndian] { withUnsafeBytes(of: v) { entry.append(contentsOf: $0) } }
            try write(block, to: data, "data.bin")
            try write(entry, to: index, "index.bin")
            offset += block.count
            utterances += 1
            frames += n
        }

        private func write(_ bytes: Data, to handle: FileHandle, _ name: String) throws {
            do { try handle.write(contentsOf: bytes) } catch {
                throw FeatureCacheError.unwritable(path: partial + "/" + name, reason: (error as NSError).localizedDescription)
            }
        }

        /// Completes the cache: index, statistics, metadata, all flushed to disk, then renamed
        /// into place, replacing an older cache there (never a directory that is not a cache).
        public func finish(source: Source) throws -> FeatureCache {
            let n = Double(max(frames, 1))
            let mean = sum.map { $0 / n }
            let std = zip(mean, squares).map { max($1 / n - $0 * $0, 1e-6).squareRoot() }
            let meta = Meta(format: FeatureCache.format, encoding: FeatureCache.encoding, source: source, bands: bands,
                            utterances: utterances, frames: frames, framesPerSecond: framesPerSecond, dataBytes: offset,
                            mean: mean.map(Float.init), std: std.map(Float.init))
            do {
                for handle in [data, index] {
                    try handle.synchronize()
                    try handle.close()
                }
                try? FileManager.default.removeItem(atPath: partial + "/source.json")
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                try encoder.encode(meta).write(to: URL(fileURLWithPath: partial + "/meta.json"))
                let fd = open(partial + "/meta.json", O_RDONLY)
                if fd >= 0 { fsync(fd); close(fd) }
                if FileManager.default.fileExists(atPath: directory) {
                    guard FeatureCache.isCache(directory) else { throw FeatureCacheError.notACache(path: directory) }
                    try FileManager.default.removeItem(atPath: directory)
                }
                guard rename(partial, directory) == 0 else {
                    throw FeatureCacheError.unwritable(path: directory, reason: String(cString: strerror(errno)))
                }
            } catch let error as FeatureCacheError {
                throw error
            } catch {
                throw FeatureCacheError.unwritable(path: partial, reason: (error as NSError).localizedDescription)
            }
            return try FeatureCache(directory: directory)
        }
    }
}
