import Synchronization

/// Single-producer, single-consumer lock-free ring of audio samples between the capture thread
/// and the recognizer.
///
/// Two free-running 64-bit counters, `written` and `read`, count samples since the ring was made;
/// they are never wrapped, only masked when indexing the power-of-two storage. They double as
/// absolute sample positions: the sample at position `p` is the `p`-th sample the device
/// delivered, which gives every later frame and token an exact timestamp. At 16 kHz a 64-bit
/// counter overflows after 18 million years.
///
/// The producer publishes `written` with release ordering after copying samples in; the consumer
/// loads it with acquire ordering before copying them out, and the reverse for `read`. Each
/// counter has exactly one writer.
///
/// **Overrun policy.** The producer never blocks and never overwrites audio the consumer has not
/// read. When the ring is full it stores what fits and *drops the newest samples*, adding their
/// number to `dropped`; the loss is counted and reported (`CaptureLosses.samplesDroppedInRing`).
///
/// **Where the losses were.** Stored positions skip what was lost, so the ring also keeps a log of
/// gaps: "before stored sample `p`, `n` samples were lost" (ring drops, and device losses the
/// producer reports with `recordLoss`). A gap is published before the samples that follow it, and
/// `readSpan` never returns samples from both sides of one, so each span it returns has one
/// absolute start: its stored position plus every loss before it. The log is a second SPSC queue of
/// fixed size; in the (theoretical) case that it is full, the producer drops the samples that would
/// follow the unpublished gap too, which keeps every stored sample's time exact.
public final class SampleRing: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutablePointer<Float>
    private let writtenCount = Atomic<Int>(0)
    private let readCount = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)
    private let gaps: UnsafeMutablePointer<Gap>
    private let gapMask: Int
    private let gapsWritten = Atomic<Int>(0)
    private let gapsRead = Atomic<Int>(0)
    /// Producer only: samples lost since the last stored sample, not yet in the gap log.
    private var pendingLoss = 0
    /// Samples lost before the consumer's read position (written by the consumer only).
    private let lostBeforeRead = Atomic<Int>(0)

    /// "Before stored position `position`, `count` samples were lost."
    private struct Gap { var position: Int; var count: Int }
    /// Gaps the log holds at most (more than a consumer can fall behind by in practice: each needs
    /// stored samples between it and the next).
    static let gapLogCapacity = 1_024

    /// - Parameter minimumCapacity: rounded up to a power of two (at least 1).
    public init(minimumCapacity: Int) {
        precondition(minimumCapacity > 0, "ring capacity must be positive")
        var c = 1
        while c < minimumCapacity { c <<= 1 }
        capacity = c
        mask = c - 1
        storage = .allocate(capacity: c)
        storage.initialize(repeating: 0, count: c)
        gaps = .allocate(capacity: Self.gapLogCapacity)
        gaps.initialize(repeating: Gap(position: 0, count: 0), count: Self.gapLogCapacity)
        gapMask = Self.gapLogCapacity - 1
    }

    /// Starts the counters at `start` instead of 0 (tests use this to cross every wrap point).
    public convenience init(minimumCapacity: Int, startingAt start: Int) {
        self.init(minimumCapacity: minimumCapacity)
        writtenCount.store(start, ordering: .relaxed)
        readCount.store(start, ordering: .relaxed)
    }

    deinit {
        storage.deallocate()
        gaps.deallocate()
    }

    /// Total samples ever stored; the position one past the newest sample. Either side may ask.
    public var written: Int { writtenCount.load(ordering: .acquiring) }
    /// Total samples ever consumed; the position of the oldest unread sample.
    public var read: Int { readCount.load(ordering: .acquiring) }
    /// Samples dropped because the ring was full (the overrun policy above).
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Samples ready for the consumer.
    public var available: Int { written - read }
    /// Absolute position (losses included) of the oldest unread sample: `read` plus every loss the
    /// consumer has passed.
    public var readPosition: Int64 { Int64(read + lostBeforeRead.load(ordering: .relaxed)) }

    // MARK: Producer side

    /// Stores as many of `samples` as fit and drops (and counts) the rest. Producer only.
    /// - Returns: the number stored.
    @discardableResult
    public func write(_ samples: UnsafeBufferPointer<Float>) -> Int {
        let w = writtenCount.load(ordering: .relaxed)          // we are its only writer
        let r = readCount.load(ordering: .acquiring)           // consumer's progress
        var n = min(samples.count, capacity - (w - r))
        if n > 0 && pendingLoss > 0 && !publishGap(at: w) { n = 0 }
        if n > 0, let base = samples.baseAddress {
            copyIn(base, count: n, at: w)
            writtenCount.store(w + n, ordering: .releasing)
        }
        if n < samples.count {
            droppedCount.add(samples.count - n, ordering: .relaxed)
            pendingLoss += samples.count - n
        }
        return n
    }

    /// Notes that `count` samples were lost before the next sample `write` stores (a device
    /// overrun). Producer only.
    public func recordLoss(_ count: Int) {
        precondition(count >= 0, "a loss is a number of samples")
        pendingLoss += count
    }

    /// Publishes a loss that no stored sample follows yet (capture ended after it), so that the
    /// consumer's `readPosition` counts it once it has read everything. Producer only.
    public func flushLoss() {
        if pendingLoss > 0 { _ = publishGap(at: writtenCount.load(ordering: .relaxed)) }
    }

    /// Appends the pending loss to the gap log at stored position `w`; false when the log is full.
    private func publishGap(at w: Int) -> Bool {
        let gw = gapsWritten.load(ordering: .relaxed)
        guard gw - gapsRead.load(ordering: .acquiring) < Self.gapLogCapacity else { return false }
        gaps[gw & gapMask] = Gap(position: w, count: pendingLoss)
        gapsWritten.store(gw + 1, ordering: .releasing)
        pendingLoss = 0
        return true
    }

    // MARK: Consumer side

    /// Copies up to `buffer.count` of the oldest unread samples out, stopping at a gap. Consumer only.
    /// - Returns: the number copied (0 when the ring is empty).
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        readSpan(into: buffer).count
    }

    /// Copies up to `buffer.count` of the oldest unread samples out, never across a gap, and says
    /// where they sit in the stream. Consumer only.
    /// - Returns: the absolute position (losses included) of the first sample copied, and how many
    ///   were copied (0 when the ring is empty).
    public func readSpan(into buffer: UnsafeMutableBufferPointer<Float>) -> (start: Int64, count: Int) {
        let r = readCount.load(ordering: .relaxed)             // we are its only writer
        let w = writtenCount.load(ordering: .acquiring)        // producer's progress; gaps before it are published
        var limit = w - r
        var gr = gapsRead.load(ordering: .relaxed)
        let gw = gapsWritten.load(ordering: .acquiring)
        while gr < gw {
            let gap = gaps[gr & gapMask]
            if gap.position > r {                              // stop in front of it
                limit = min(limit, gap.position - r)
                break
            }
            lostBeforeRead.add(gap.count, ordering: .relaxed)  // passed: it is behind the read position now
            gr += 1
            gapsRead.store(gr, ordering: .releasing)
        }
        let start = Int64(r + lostBeforeRead.load(ordering: .relaxed))
        let n = min(buffer.count, limit)
        guard n > 0, let base = buffer.baseAddress else { return (start, 0) }
        copyOut(base, count: n, at: r)
        readCount.store(r + n, ordering: .releasing)
        return (start, n)
    }

    // MARK: Storage

    private func copyIn(_ source: UnsafePointer<Float>, count n: Int, at position: Int) {
        let start = position & mask
        let first = min(n, capacity - start)
        (storage + start).update(from: source, count: first)
        if first < n { storage.update(from: source + first, count: n - first) }
    }

    private func copyOut(_ target: UnsafeMutablePointer<Float>, count n: Int, at position: Int) {
        let start = position & mask
        let first = min(n, capacity - start)
        target.update(from: storage + start, count: first)
        if first < n { (target + first).update(from: storage, count: n - first) }
    }
}
