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
/// number to `dropped`. The consumer therefore always reads a gap-free prefix of what was stored,
/// and the loss is counted and reported (`CaptureLosses.samplesDroppedInRing`).
public final class SampleRing: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutablePointer<Float>
    private let writtenCount = Atomic<Int>(0)
    private let readCount = Atomic<Int>(0)
    private let droppedCount = Atomic<Int>(0)

    /// - Parameter minimumCapacity: rounded up to a power of two (at least 1).
    public init(minimumCapacity: Int) {
        precondition(minimumCapacity > 0, "ring capacity must be positive")
        var c = 1
        while c < minimumCapacity { c <<= 1 }
        capacity = c
        mask = c - 1
        storage = .allocate(capacity: c)
        storage.initialize(repeating: 0, count: c)
    }

    /// Starts the counters at `start` instead of 0 (tests use this to cross every wrap point).
    public convenience init(minimumCapacity: Int, startingAt start: Int) {
        self.init(minimumCapacity: minimumCapacity)
        writtenCount.store(start, ordering: .relaxed)
        readCount.store(start, ordering: .relaxed)
    }

    deinit { storage.deallocate() }

    /// Total samples ever stored; the position one past the newest sample. Either side may ask.
    public var written: Int { writtenCount.load(ordering: .acquiring) }
    /// Total samples ever consumed; the position of the oldest unread sample.
    public var read: Int { readCount.load(ordering: .acquiring) }
    /// Samples dropped because the ring was full (the overrun policy above).
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }
    /// Samples ready for the consumer.
    public var available: Int { written - read }

    // MARK: Producer side

    /// Stores as many of `samples` as fit and drops (and counts) the rest. Producer only.
    /// - Returns: the number stored.
    @discardableResult
    public func write(_ samples: UnsafeBufferPointer<Float>) -> Int {
        let w = writtenCount.load(ordering: .relaxed)          // we are its only writer
        let r = readCount.load(ordering: .acquiring)           // consumer's progress
        let n = min(samples.count, capacity - (w - r))
        if n > 0, let base = samples.baseAddress {
            copyIn(base, count: n, at: w)
            writtenCount.store(w + n, ordering: .releasing)
        }
        if n < samples.count { droppedCount.add(samples.count - n, ordering: .relaxed) }
        return n
    }

    // MARK: Consumer side

    /// Copies up to `buffer.count` of the oldest unread samples out. Consumer only.
    /// - Returns: the number copied (0 when the ring is empty).
    public func read(into buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        let r = readCount.load(ordering: .relaxed)             // we are its only writer
        let w = writtenCount.load(ordering: .acquiring)        // producer's progress
        let n = min(buffer.count, w - r)
        guard n > 0, let base = buffer.baseAddress else { return 0 }
        copyOut(base, count: n, at: r)
        readCount.store(r + n, ordering: .releasing)
        return n
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
