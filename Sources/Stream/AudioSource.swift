import Synchronization

/// Where audio comes from: an ALSA device, a file, raw PCM on stdin, or a synthetic signal.
///
/// Every source delivers mono `Float` samples in [-1, 1] at `sampleRate` (16 kHz for all of Hark's
/// sources: files are resampled and downmixed on the way in). Sources are single-consumer objects:
/// one thread calls `read`.
///
/// **The stream's clock.** Sample `p` of a stream is the `p`-th sample the source produced or lost:
/// samples a live source lost (overruns, a full ring, a device that went away) keep their numbers.
/// A `read` never returns samples from both sides of a loss, so each block it returns is one
/// stretch of that clock, and `position` after the read is the number of its end. Consumers take
/// blocks from `forEachBlock`, which hands each one over as an `AudioBlock` saying where it starts
/// and at what rate; times are derived from that alone.
public protocol AudioSource: AnyObject {
    /// Samples per second of what `read` returns.
    var sampleRate: Int { get }
    /// A name for messages: the device name, the file path, "stdin".
    var name: String { get }
    /// Absolute index (losses included) one past the last sample `read` returned: after a read
    /// of `n` samples, that block started at `position - n`.
    var position: Int64 { get }
    /// Audio the source knows it lost (overruns); zero for sources that cannot lose audio.
    var losses: CaptureLosses { get }

    /// Fills the front of `buffer` and returns how many samples it wrote; they are contiguous on
    /// the stream's clock (a read stops at a loss). Live sources block until at least one sample
    /// is available. Returns 0 only at the end of the stream; afterwards every call returns 0.
    /// Throws when the source fails; samples read before the failure stay valid.
    func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int

    /// Asks the source to end its stream soon; safe from any thread. After it, `read` returns
    /// what is already buffered and then 0, within a fraction of a second even when the source is
    /// waiting for input (an idle pipe) or never runs dry (`--file - < /dev/zero`). Every source
    /// implements it (there is no default: a source that ignored it could not be stopped).
    func requestStop()
}

/// The rate Hark's audio runs at unless told otherwise: what every source delivers by default
/// (files are resampled to it), what the capture asks the device for, and what the front end of a
/// model file without settings assumes. A model's own rate is `LogMelConfig.sampleRate`.
public enum AudioDefaults {
    public static let sampleRate = 16_000
}

/// A stop request, set from any thread (a signal handler's queue) and read by the one that reads
/// the source.
public final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func set() { flag.store(true, ordering: .releasing) }
    public var isSet: Bool { flag.load(ordering: .acquiring) }
}

/// Audio a live source lost, counted rather than hidden.
public struct CaptureLosses: Equatable, Sendable {
    /// Device overruns (ALSA -EPIPE) and suspends (-ESTRPIPE) recovered with `snd_pcm_recover`.
    public var overruns: Int = 0
    /// Samples the device dropped during those overruns, estimated from `CLOCK_MONOTONIC`
    /// (the time between the last good read and the restart, times the rate).
    public var samplesLostInDevice: Int64 = 0
    /// Samples the capture thread could not store because the consumer fell behind by more than
    /// the ring's capacity (see `SampleRing`).
    public var samplesDroppedInRing: Int64 = 0

    public init() {}
    public var totalSamplesLost: Int64 { samplesLostInDevice + samplesDroppedInRing }

    /// Adds another source's losses (a device that was replaced, say).
    public mutating func add(_ other: CaptureLosses) {
        overruns += other.overruns
        samplesLostInDevice += other.samplesLostInDevice
        samplesDroppedInRing += other.samplesDroppedInRing
    }
}

/// Samples read from a source, with their place on the stream's clock: where they start (losses
/// before them included) and at what rate. Valid only inside the `forEachBlock` call that made it.
public struct AudioBlock {
    public let samples: UnsafeBufferPointer<Float>
    /// Absolute index of the first sample: every sample before it, delivered or lost.
    public let start: Int64
    public let sampleRate: Int

    public init(samples: UnsafeBufferPointer<Float>, start: Int64, sampleRate: Int) {
        precondition(start >= 0 && sampleRate > 0, "a block starts at a sample index, at a positive rate")
        self.samples = samples
        self.start = start
        self.sampleRate = sampleRate
    }

    /// Absolute index one past the last sample.
    public var end: Int64 { start + Int64(samples.count) }
    /// Stream time of the first sample, in seconds.
    public var startSeconds: Double { Double(start) / Double(sampleRate) }
}

extension AudioSource {
    /// Reads the stream in blocks of at most `size` samples and hands each to `body` with its place
    /// on the stream's clock, until the stream ends or `stop` says so (checked before every read).
    /// A read error ends the loop and is returned rather than thrown, so the caller can finish what
    /// it has (a file, the last line) before reporting it; an error thrown by `body` propagates at once.
    public func forEachBlock(size: Int, until stop: () -> Bool = { false },
                             _ body: (AudioBlock) throws -> Void) rethrows -> Error? {
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: size)
        defer { block.deallocate() }
        while !stop() {
            let n: Int
            do { n = try read(into: block) } catch { return error }
            if n == 0 { return nil }
            try body(AudioBlock(samples: UnsafeBufferPointer(rebasing: block[0..<n]), start: position - Int64(n),
                                sampleRate: sampleRate))
        }
        return nil
    }

    /// Reads the whole remaining stream, gaps closed up. For tests and short files; live code
    /// reads in blocks.
    public func readAll(chunk: Int = 4096) throws -> [Float] {
        var out: [Float] = []
        if let error = forEachBlock(size: chunk, { out.append(contentsOf: $0.samples) }) { throw error }
        return out
    }
}
