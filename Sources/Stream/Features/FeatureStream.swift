/// One stream's incremental log-mel state, in Kaldi's online-feature shape:
/// `accept(samples:)` any number of samples at a time, `framesReady` grows as soon as a frame's last
/// sample has arrived, `frame(_:into:)` copies one out, `finish()` ends the input.
///
/// Frames are numbered absolutely from the start of the stream. They are kept until
/// `discardFrames(before:)`; the queue only grows (by doubling) when the consumer keeps more than it
/// has room for, so a consumer that discards what it used runs with no allocation at all.
///
/// With a level normalizer that looks ahead (`LevelRange.lookahead`), a new stream's first frames
/// are computed but not ready until the lookahead is full (or `finish()`/`releaseHeld()`): they are
/// normalized together, then released at once; every frame after them is ready as it is made.
public final class FeatureStream {
    public let extractor: LogMelSpectrogram
    public let geometry: FrameGeometry
    /// Frames ready for the consumer; frame `framesReady - 1` is the newest.
    public private(set) var framesReady = 0
    /// Frames computed, including those the level normalizer's lookahead still holds back.
    private var framesComputed = 0
    /// Whether the lookahead has been measured and released (true at once without one).
    private var primed: Bool
    /// The oldest frame still held.
    public private(set) var firstHeldFrame = 0
    /// Samples accepted so far (the absolute position of the next sample).
    public private(set) var samplesAccepted: Int64 = 0
    public private(set) var isFinished = false

    private let scratch: FeatureScratch
    private let pending: UnsafeMutablePointer<Float>   // the window being filled
    private var pendingCount = 0
    private var queue: UnsafeMutablePointer<Float>
    private var queueCapacity: Int                      // frames; a power of two
    private let bands: Int
    private var level: LevelNormalizer?
    private var mean: MeanNormalizer?

    init(_ extractor: LogMelSpectrogram) {
        self.extractor = extractor
        geometry = extractor.config.geometry
        bands = extractor.bands
        scratch = FeatureScratch(extractor.config)
        level = LevelNormalizer(extractor.config)
        mean = MeanNormalizer(extractor.config)
        primed = (level?.lookahead ?? 0) == 0
        pending = .allocate(capacity: geometry.windowLength)
        pending.initialize(repeating: 0, count: geometry.windowLength)
        queueCapacity = 64
        queue = .allocate(capacity: queueCapacity * bands)
    }

    deinit {
        pending.deallocate()
        queue.deallocate()
    }

    /// Frames held and not yet discarded.
    public var framesHeld: Int { framesReady - firstHeldFrame }
    /// Frames in the queue: those held, and those the lookahead has not released yet.
    private var framesQueued: Int { framesComputed - firstHeldFrame }

    /// Adds samples (any count, including 0) and computes every frame they complete.
    public func accept(samples: UnsafeBufferPointer<Float>) {
        precondition(!isFinished, "accept(samples:) after finish()")
        guard var src = samples.baseAddress else { return }
        var remaining = samples.count
        let window = geometry.windowLength, hop = geometry.hopLength
        while remaining > 0 {
            let take = min(window - pendingCount, remaining)
            (pending + pendingCount).update(from: src, count: take)
            pendingCount += take
            src += take
            remaining -= take
            samplesAccepted += Int64(take)
            if pendingCount == window {
                let slot = reserveSlot()
                extractor.computeFrame(window: pending, firstSample: geometry.firstSample(ofFrame: framesComputed),
                                       scratch: scratch, into: slot)
                framesComputed += 1
                if primed {
                    level?.apply(slot, bands: bands)
                    mean?.apply(slot)
                    framesReady = framesComputed
                } else if framesComputed == level!.lookahead {
                    releaseHeld()
                }
                // Keep the overlap with the next frame.
                pending.update(from: pending + hop, count: window - hop)
                pendingCount = window - hop
            }
        }
    }

    public func accept(samples: [Float]) {
        samples.withUnsafeBufferPointer { accept(samples: $0) }
    }

    /// Ends the input. Samples after the last complete frame are not enough for another frame and
    /// are dropped, as in the batch path; frames the lookahead held are released; `framesReady` is
    /// final from here on.
    public func finish() {
        releaseHeld()
        isFinished = true
    }

    /// Normalizes and releases the frames the level normalizer's lookahead holds, before it is
    /// full: a stream that ends (or must show what it has) sooner. Nothing to do once released.
    public func releaseHeld() {
        guard !primed else { return }
        primed = true
        let count = framesComputed
        guard count > 0 else { return }
        // Nothing is ready before this, so the held frames are frames 0..<count, in slots 0..<count
        // (the queue grows to hold them all): normalized in place, as one block.
        level?.prime(slot(0), count: count, bands: bands)
        for f in 0..<count { mean?.apply(slot(f)) }
        framesReady = framesComputed
    }

    /// Copies frame `i` (`firstHeldFrame <= i < framesReady`) into `out` (`bands` values).
    public func frame(_ i: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(i >= firstHeldFrame && i < framesReady, "frame \(i) is not held (held: \(firstHeldFrame)..<\(framesReady))")
        precondition(out.count >= bands, "output needs \(bands) values")
        out.baseAddress!.update(from: queue + (i & (queueCapacity - 1)) * bands, count: bands)
    }

    /// Releases frames before `i`.
    public func discardFrames(before i: Int) {
        firstHeldFrame = max(firstHeldFrame, min(i, framesReady))
    }

    /// Resets to a fresh stream at position 0 (keeps the memory).
    public func reset() {
        framesReady = 0; framesComputed = 0; firstHeldFrame = 0; samplesAccepted = 0; pendingCount = 0; isFinished = false
        primed = (level?.lookahead ?? 0) == 0
        level?.reset()
        mean?.reset()
    }

    /// The gain level normalization gave the newest frame (log-energy units; 0 when it is off).
    public var levelGain: Float { level?.gain ?? 0 }

    /// Frame `i`'s slot in the ring.
    private func slot(_ i: Int) -> UnsafeMutablePointer<Float> { queue + (i & (queueCapacity - 1)) * bands }

    /// The slot for frame `framesComputed`, growing the queue if every slot is taken.
    private func reserveSlot() -> UnsafeMutablePointer<Float> {
        if framesQueued == queueCapacity {
            let bigger = queueCapacity * 2
            let newQueue = UnsafeMutablePointer<Float>.allocate(capacity: bigger * bands)
            for f in firstHeldFrame..<framesComputed {
                (newQueue + (f & (bigger - 1)) * bands)
                    .update(from: queue + (f & (queueCapacity - 1)) * bands, count: bands)
            }
            queue.deallocate()
            queue = newQueue
            queueCapacity = bigger
        }
        return slot(framesComputed)
    }
}
