import Decoding
import Dispatch
import Foundation
import Glibc
import Stream

/// A training corpus's features on disk, computed once by Hark's front end (the code
/// `FeatureSet.compute` runs), memory-mapped and handed out one utterance at a time, so a corpus
/// far larger than memory trains in a few hundred megabytes.
///
/// A cache is a directory of three files, all little-endian:
/// - `meta.json`: the format, what the cache was made from (`Source`: digests of the entries, of
///   the audio files' sizes and modification times, and of the front end and token set), the bands,
///   the utterance and frame counts, `data.bin`'s size, and the per-band mean and standard
///   deviation of every frame (computed while writing, from the values training will read).
/// - `index.bin`: 16 bytes per utterance: Int64 offset of its block in `data.bin`, Int32 frames,
///   Int32 labels.
/// - `data.bin`: one block per utterance, 8-byte aligned: its labels (Int32 each), then per band
///   `low` (Float32 × bands) and `step` (Float32 × bands), then frames × bands UInt16 values `q`,
///   row-major; a value is `low[b] + step[b] · q`.
///
/// `step` is the utterance's band range over 65 535, so a value is off by at most half of it:
/// about 1e-4 nats for a 15-nat range. Measured on speech and tones (`FeatureCacheTests`), the
/// largest error is 4e-5 of the band's standard deviation (what the network sees after
/// normalization), against 2e-3 for Float16 values and 1e-2 for 8 bits scaled the same way; at
/// 2 bytes a value, 58 MB per hour of audio at 80 bands.
///
/// A cache is built in `<dir>.partial` and renamed into place when complete, so an interrupted
/// build leaves nothing that opens; the next build of the same source continues after the last
/// whole utterance (one of another source starts again).
public final class FeatureCache: TrainingCorpus, @unchecked Sendable {
    public static let format = 1
    public static let encoding = "uint16 per utterance and band: low + step·q"

    public struct Meta: Codable, Equatable, Sendable {
        public var format: Int
        public var encoding: String
        public var source: Source
        public var bands: Int
        public var utterances: Int
        public var frames: Int
        public var framesPerSecond: Double
        public var dataBytes: Int
        public var mean: [Float]
        public var std: [Float]
    }

    /// What a cache was made from: equal sources mean the cache holds these entries' features.
    public struct Source: Codable, Equatable, Sendable {
        /// The entries' audio paths and transcripts, in order.
        public var entries: String
        /// The audio files' sizes and modification times.
        public var audio: String
        /// The front end's settings and the token set the labels are in.
        public var features: String
        public var count: Int

        /// The source of `entries` as they are now on disk. A file that cannot be examined is an
        /// error naming its manifest line.
        public static func of(_ entries: [ManifestEntry], features: LogMelConfig, tokens: TokenSet) throws -> Source {
            var names = Digest(), audio = Digest(), settings = Digest()
            for e in entries {
                names.add(e.audio); names.add(e.text)
                var s = stat()
                guard stat(e.audio, &s) == 0 else {
                    throw ManifestError.badLine(origin: e.origin, reason: "cannot read '\(e.audio)': \(String(cString: strerror(errno)))")
                }
                audio.add(Int64(s.st_size)); audio.add(Int64(s.st_mtim.tv_sec)); audio.add(Int64(s.st_mtim.tv_nsec))
            }
            settings.add(try ModelMetadata.json(features))
            settings.add(tokens.tokens.joined(separator: "\u{1F}"))
            if let p = tokens.pronunciation { settings.add(try ModelMetadata.json(p)) }     // the labels' spelling
            return Source(entries: names.hex, audio: audio.hex, features: settings.hex, count: entries.count)
        }

        /// What differs from `other`, in words, or nil when nothing does.
        public func difference(from other: Source) -> String? {
            var parts: [String] = []
            if count != other.count || entries != other.entries { parts.append("the manifest's entries") }
            if audio != other.audio { parts.append("audio files' sizes or times") }
            if features != other.features { parts.append("the front end's settings or the token set") }
            return parts.isEmpty ? nil : parts.joined(separator: ", ")
        }
    }

    public let directory: String
    public let meta: Meta
    public var bands: Int { meta.bands }
    public var count: Int { meta.utterances }
    public var totalFrames: Int { meta.frames }
    public var hours: Double { Double(meta.frames) / meta.framesPerSecond / 3600 }

    private let data: MappedFile
    private let offsets: [Int64]
    private let frameCounts: [Int32]
    private let labelCounts: [Int32]

    /// Opens a complete cache. Its data are mapped, not read; only the index (16 bytes an
    /// utterance) is loaded.
    public init(directory: String) throws(FeatureCacheError) {
        self.directory = directory
        let meta: Meta
        do {
            meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/meta.json")))
        } catch {
            throw .unreadable(path: directory, reason: "meta.json: \((error as NSError).localizedDescription)")
        }
        guard meta.format == Self.format, meta.encoding == Self.encoding else {
            throw .unreadable(path: directory, reason: "format \(meta.format) (\(meta.encoding)), this Hark reads \(Self.format)")
        }
        let index: Data
        do { index = try Data(contentsOf: URL(fileURLWithPath: directory + "/index.bin")) } catch {
            throw .unreadable(path: directory, reason: "index.bin: \((error as NSError).localizedDescription)")
        }
        guard index.count == 16 * meta.utterances else {
            throw .unreadable(path: directory, reason: "index.bin has \(index.count) bytes, not 16 × \(meta.utterances)")
        }
        var offsets = [Int64](repeating: 0, count: meta.utterances)
        var frames = [Int32](repeating: 0, count: meta.utterances), labels = frames
        index.withUnsafeBytes { raw in
            for i in 0..<meta.utterances {
                offsets[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i, as: Int64.self))
                frames[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: Int32.self))
                labels[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i + 12, as: Int32.self))
            }
        }
        data = try MappedFile(path: directory + "/data.bin")
        guard data.count == meta.dataBytes else {
            throw .unreadable(path: directory, reason: "data.bin has \(data.count) bytes, not \(meta.dataBytes)")
        }
        for i in 0..<meta.utterances {
            let end = Int(offsets[i]) + Self.blockBytes(frames: Int(frames[i]), labels: Int(labels[i]), bands: meta.bands)
            guard offsets[i] >= 0, offsets[i] % 8 == 0, end <= data.count else {
                throw .unreadable(path: directory, reason: "utterance \(i)'s block lies outside data.bin")
            }
        }
        self.meta = meta
        self.offsets = offsets
        frameCounts = frames
        labelCounts = labels
    }

    public func frameCount(_ i: Int) -> Int { Int(frameCounts[i]) }

    public func labels(_ i: Int) -> [Int] {
        let base = data.base + Int(offsets[i])
        defer { release(i) }
        return (0..<Int(labelCounts[i])).map { Int(Int32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
    }

    /// Utterance `i`'s frames (frames × bands, row-major), decoded into a new array; the mapped
    /// pages it read are then released from this process (the kernel's page cache keeps them), so
    /// resident memory does not grow with the part of the corpus seen.
    public func frames(_ i: Int) -> [Float] {
        defer { release(i) }
        return Self.decode(data.base + Int(offsets[i]), frames: Int(frameCounts[i]), labels: Int(labelCounts[i]), bands: meta.bands)
    }

    /// The frames of the block at `block`.
    static func decode(_ block: UnsafeRawPointer, frames n: Int, labels: Int, bands: Int) -> [Float] {
        let scales = block + 4 * labels
        let values = scales + 8 * bands
        var out = [Float](repeating: 0, count: n * bands)
        out.withUnsafeMutableBufferPointer { out in
            var low = [Float](repeating: 0, count: bands), step = low
            for b in 0..<bands {
                low[b] = Float(bitPattern: UInt32(littleEndian: scales.loadUnaligned(fromByteOffset: 4 * b, as: UInt32.self)))
                step[b] = Float(bitPattern: UInt32(littleEndian: scales.loadUnaligned(fromByteOffset: 4 * (bands + b), as: UInt32.self)))
            }
            for f in 0..<n {
                for b in 0..<bands {
                    let q = UInt16(littleEndian: values.loadUnaligned(fromByteOffset: 2 * (f * bands + b), as: UInt16.self))
                    out[f * bands + b] = value(low[b], step[b], q)
                }
            }
        }
        return out
    }

    /// A stored value: the one expression the reader and the writer's statistics both use.
    @inline(__always)
    static func value(_ low: Float, _ step: Float, _ q: UInt16) -> Float { low + step * Float(q) }

    /// Unmaps utterance `i`'s block from this process, with the pages around it the kernel's
    /// fault-around mapped while it was read.
    private func release(_ i: Int) {
        data.release(from: Int(offsets[i]), count: Self.blockBytes(frames: Int(frameCounts[i]), labels: Int(labelCounts[i]), bands: meta.bands))
    }

    public func normalization() -> (mean: [Float], std: [Float]) { (meta.mean, meta.std) }

    static func blockBytes(frames: Int, labels: Int, bands: Int) -> Int {
        4 * labels + 8 * bands + 2 * frames * bands
    }

    /// A block's bytes with its padding to 8.
    static func paddedBlockBytes(frames: Int, labels: Int, bands: Int) -> Int {
        (blockBytes(frames: frames, labels: labels, bands: bands) + 7) / 8 * 8
    }

    // MARK: The encoding

    /// One utterance's values as `low + step · q`: per band, `low` its minimum and `step` its
    /// range over 65 535 (0 for a constant band).
    public static func quantize(_ x: UnsafeBufferPointer<Float>, bands: Int) -> (low: [Float], step: [Float], q: [UInt16]) {
        let n = bands > 0 ? x.count / bands : 0
        var low = [Float](repeating: .infinity, count: bands), high = [Float](repeating: -.infinity, count: bands)
        for f in 0..<n { for b in 0..<bands { low[b] = min(low[b], x[f * bands + b]); high[b] = max(high[b], x[f * bands + b]) } }
        if n == 0 { low = [Float](repeating: 0, count: bands); high = low }
        let step = zip(low, high).map { ($1 - $0) / 65_535 }
        var q = [UInt16](repeating: 0, count: x.count)
        for f in 0..<n {
            for b in 0..<bands where step[b] > 0 {
                q[f * bands + b] = UInt16(min(max(((x[f * bands + b] - low[b]) / step[b]).rounded(), 0), 65_535))
            }
        }
        return (low, step, q)
    }
}


public enum FeatureCacheError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case unwritable(path: String, reason: String)
    case notACache(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "feature cache '\(path)' cannot be read: \(reason)"
        case let .unwritable(path, reason): "cannot write feature cache '\(path)': \(reason)"
        case let .notACache(path): "'\(path)' exists and is not a feature cache; name another directory with --cache"
        }
    }
}

/// A read-only mapping of a whole file; unmapped when released.
final class MappedFile: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    init(path: String) throws(FeatureCacheError) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var s = stat()
        guard fstat(fd, &s) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        count = Int(s.st_size)
        guard count > 0 else { base = UnsafeRawPointer(bitPattern: Self.pageSize)!; return }
        let p = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0)
        guard let p, p != UnsafeMutableRawPointer(bitPattern: -1) else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        base = UnsafeRawPointer(p)
    }

    /// Drops the pages holding `[offset, offset + length)` from this process's resident set, and
    /// the rest of the 2 MB-aligned windows they lie in: a fault maps the page cache's pages around
    /// the one it needs too (fault-around, up to a page table's 2 MB), and those would otherwise
    /// stay: released page by page, a third (read in order) to nine tenths (in training order) of a
    /// corpus read once stayed resident. A later read faults any of them back from the page cache.
    func release(from offset: Int, count length: Int) {
        guard count > 0, length > 0 else { return }
        let window = 2 << 20
        let first = offset / window * window, end = min((offset + length + window - 1) / window * window, count)
        _ = madvise(UnsafeMutableRawPointer(mutating: base + first), end - first, MADV_DONTNEED)
    }

    deinit { if count > 0 { munmap(UnsafeMutableRawPointer(mutating: base), count) } }
}

/// FNV-1a, 64 bits: tells one cache's source from another's (not a defence against forgery).
struct Digest {
    private var h: UInt64 = 0xCBF2_9CE4_8422_2325
    mutating func add<S: Sequence>(bytes: S) where S.Element == UInt8 {
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    }
    mutating func add(_ s: String) { add(bytes: s.utf8); add(bytes: [0]) }
    mutating func add(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { add(bytes: $0) } }
    var hex: String { String(h, radix: 16) }
}
