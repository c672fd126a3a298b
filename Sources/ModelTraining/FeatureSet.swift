import HarkSupport
import Cells
import Decoding
import Dispatch
import Foundation
import Stream

/// Utterances with their labels and log-mel frames, computed by Hark's own front end (the same
/// code that runs live), on every core.
public struct FeatureSet: Sendable {
    public struct Utterance: Sendable {
        public var entry: ManifestEntry
        public var labels: [Int]
        /// frames × bands, row-major.
        public var frames: [Float]
        public var frameCount: Int
    }

    /// Hearing each utterance as the live recognizer hears the next utterance after a pause,
    /// rather than as the start of a stream: the front end has heard `previous[i]` (an entry index,
    /// or nil for a cold start) and then `gapSamples` of silence (rounded up to whole hops), so its
    /// level normalizer has risen to the voice; the network starts clean, as the endpointer resets
    /// it after a pause. The utterance's frames are the same frames of its own samples, computed
    /// with the front end's state carried over.
    public struct WarmUp: Sendable {
        public var previous: [Int?]
        public var gapSamples: Int
        public init(previous: [Int?], gapSamples: Int) {
            self.previous = previous
            self.gapSamples = max(gapSamples, 0)
        }

        /// Each entry's predecessor: the entry before it in manifest order with the same speaker
        /// (`ManifestEntry.speaker`); entries with none follow the previous entry that has none.
        public static func previousSameSpeaker(_ entries: [ManifestEntry]) -> [Int?] {
            var last: [String: Int] = [:], previous: [Int?] = []
            for (i, e) in entries.enumerated() {
                let key = e.speaker ?? ""
                previous.append(last[key])
                last[key] = i
            }
            return previous
        }
    }

    public var utterances: [Utterance]
    public var bands: Int
    public var totalFrames: Int { utterances.reduce(0) { $0 + $1.frameCount } }
    public var hours: Double { Double(totalFrames) / 100 / 3600 }

    /// Reads every entry's audio and computes its features. Errors name the manifest line.
    /// `tailPadding` zero samples are appended to every utterance (evaluation pads as live use does);
    /// with `warmUp`, the front end has heard other audio before each utterance.
    public static func compute(_ entries: [ManifestEntry], tokens: TokenSet, features: LogMelSpectrogram, threads: Int,
                               tailPadding: Int = 0, warmUp: WarmUp? = nil,
                               progress: @escaping @Sendable (Int, Int) -> Void) throws -> FeatureSet {
        var labels: [[Int]] = []
        for e in entries {
            do { labels.append(try tokens.encode(e.text)) } catch {
                throw ManifestError.badLine(origin: e.origin, reason: "\(error)")
            }
        }
        if let warmUp, warmUp.previous.count != entries.count {
            preconditionFailure("WarmUp.previous has \(warmUp.previous.count) entries for \(entries.count) utterances")
        }
        let results = Results(count: entries.count)
        let done = Counter()
        let shared = UncheckedSendable((entries, features))
        DispatchQueue.concurrentPerform(iterations: max(threads, 1)) { part in
            let (entries, features) = shared.value
            var i = part
            while i < entries.count {
                do {
                    var samples = try AudioFileSource(path: entries[i].audio).readAll() + [Float](repeating: 0, count: tailPadding)
                    var warmFrames = 0
                    if let warmUp, let p = warmUp.previous[i] {
                        var before: [Float]
                        do { before = try AudioFileSource(path: entries[p].audio).readAll() } catch {
                            throw ManifestError.badLine(origin: entries[p].origin, reason: "\(error)")
                        }
                        let hop = features.config.geometry.hopLength
                        warmFrames = (before.count + warmUp.gapSamples + hop - 1) / hop
                        before += [Float](repeating: 0, count: warmFrames * hop - before.count)
                        samples = before + samples
                    }
                    var m = features.frames(of: samples)
                    if warmFrames > 0 {
                        m.values.removeFirst(min(warmFrames, m.rows) * m.cols)
                        m.rows = max(m.rows - warmFrames, 0)
                    }
                    results.set(i, .success(m))
                } catch let error as ManifestError {
                    results.set(i, .failure(error))
                } catch {
                    results.set(i, .failure(ManifestError.badLine(origin: entries[i].origin, reason: "\(error)")))
                }
                progress(done.increment(), entries.count)
                i += max(threads, 1)
            }
        }
        var utterances: [Utterance] = []
        for (i, e) in entries.enumerated() {
            let m = try results.get(i)
            utterances.append(Utterance(entry: e, labels: labels[i], frames: m.values, frameCount: m.rows))
        }
        return FeatureSet(utterances: utterances, bands: features.bands)
    }

    /// Runs `network` over every utterance in batched forward passes of 32 (the same numbers as the
    /// streaming step within 1e-5, see CellsTests) and hands each utterance, in order, with its
    /// step count and its steps' log-posterior rows.
    public func forEachOutput(of network: Network<Float>,
                              _ body: (Utterance, _ steps: Int, _ row: (Int) -> UnsafeBufferPointer<Float>) throws -> Void) rethrows {
        for chunk in stride(from: 0, to: utterances.count, by: 32) {
            let part = Array(utterances[chunk..<min(chunk + 32, utterances.count)])
            let pass = part.map(\.frames).withUnsafeBufferPointers { network.forwardPass($0) }
            for (b, u) in part.enumerated() {
                try body(u, pass.stepCounts[b]) { UnsafeBufferPointer(start: pass.output(step: $0, sequence: b), count: pass.width) }
            }
        }
    }

    /// Per-band mean and standard deviation over every frame.
    public func normalization() -> (mean: [Float], std: [Float]) {
        var sum = [Double](repeating: 0, count: bands), sq = sum
        for u in utterances {
            for f in 0..<u.frameCount {
                for b in 0..<bands {
                    let v = Double(u.frames[f * bands + b])
                    sum[b] += v
                    sq[b] += v * v
                }
            }
        }
        let n = Double(max(totalFrames, 1))
        return (sum.map { Float($0 / n) }, zip(sum, sq).map { Float(max(($1 / n) - ($0 / n) * ($0 / n), 1e-6).squareRoot()) })
    }
}

/// Thread-safe slots for the workers' results.
private final class Results: @unchecked Sendable {
    private var slots: [Result<FeatureMatrix, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<FeatureMatrix, Error>) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) throws -> FeatureMatrix { try slots[i]!.get() }
}

private final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

