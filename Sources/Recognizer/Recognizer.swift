import HarkSupport
import Foundation
import Stream

/// Runs recognition on its own thread: reads an `AudioSource` (an ALSA capture, a file, stdin),
/// feeds a `StreamingRecognizer`, and delivers events through a callback or an `AsyncSequence`.
///
/// ```swift
/// let model = try RecognitionModel.shipped()
/// let recognizer = try Recognizer(model: model)
/// let mic = try AlsaCapture(CaptureConfig(device: "default"))
/// for try await event in recognizer.events(from: mic) {
///     if case let .final(t) = event { print(t.text) }
/// }
/// ```
public final class Recognizer: @unchecked Sendable {
    public let model: RecognitionModel
    public let config: RecognizerConfig
    /// Seconds of wall-clock time between `.stats` events; nil for none. They keep coming while
    /// the source delivers nothing (a device that is gone, a reconnect in progress), from a timer
    /// thread; the handler is never called from two threads at once.
    public var statsInterval: Double?

    private let lock = NSLock()
    private var source: AudioSource?
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?
    private var lastStats = RecognizerStats()
    /// A stop asked for before `start` (a signal during setup) stops the source as it starts.
    private var stopRequested = false

    public init(model: RecognitionModel, config: RecognizerConfig = RecognizerConfig()) throws {
        self.model = model
        self.config = config
        _ = try model.makeStream(config)              // surface config errors (keywords, ranges) now
    }

    /// Starts reading `source` on a new thread; `handler` gets every event on that thread (the
    /// `.stats` events excepted, see `statsInterval`). When the source ends, fails, or `stop()` is
    /// called, the pending utterance is finalized, then `completion` gets nil or the source's error.
    public func start(source: AudioSource, handler: @escaping @Sendable (RecognitionEvent) -> Void,
                      completion: @escaping @Sendable (Error?) -> Void = { _ in }) throws {
        guard source.sampleRate == model.features.sampleRate else {
            throw StreamError.sampleRate(source: source.sampleRate, model: model.features.sampleRate)
        }
        let core = try model.makeStream(config)
        lock.lock()
        precondition(thread == nil, "a Recognizer runs one source at a time")
        self.source = source
        if stopRequested { source.requestStop() }
        let owned = UncheckedSendable((core: core, source: source))   // handed to the thread, used only there
        let t = Thread { [self] in
            let error = run(owned.value.core, owned.value.source, handler)
            var stats = owned.value.core.stats
            stats.overruns = owned.value.source.losses.overruns
            lock.lock(); failure = error; lastStats = stats; lock.unlock()
            completion(error)
            done.signal()
        }
        t.name = "hark-recognizer"
        t.stackSize = 1 << 20
        thread = t
        lock.unlock()
        t.start()
    }

    private func run(_ core: StreamingRecognizer, _ source: AudioSource,
                     _ handler: @escaping @Sendable (RecognitionEvent) -> Void) -> Error? {
        var cpuStart = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpuStart)
        // The stats come from their own clock, not from the reads: a read that blocks because the
        // device is gone must not silence them.
        let ticker = statsInterval.map { StatsTicker(interval: $0, first: stats(core, source, cpuStart), handler: handler) }
        let emit: (RecognitionEvent) -> Void = ticker.map { t in { t.deliver($0) } } ?? handler
        let error: Error?
        do {
            error = try source.forEachBlock(size: 1600) { block in
                try core.accept(block, emit: emit)
                ticker?.publish(stats(core, source, cpuStart))
            }
        } catch let refused {
            error = refused                         // the rate was checked at start; the clock went backwards
        }
        core.finish(endingAt: source.position, emit: emit)
        ticker?.stop()
        if statsInterval != nil { handler(.stats(stats(core, source, cpuStart))) }
        return error
    }

    private func stats(_ core: StreamingRecognizer, _ source: AudioSource, _ cpuStart: timespec) -> RecognizerStats {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        var s = core.stats
        s.overruns = source.losses.overruns
        s.cpuSeconds = Double(now.tv_sec - cpuStart.tv_sec) + Double(now.tv_nsec - cpuStart.tv_nsec) / 1e9
        return s
    }

    /// Asks the source to end; the thread recognizes what the source still holds (a device's
    /// captured audio: the last words before Ctrl-C), finalizes the pending utterance and
    /// finishes. Every source ends promptly on `requestStop`, also stdin that never runs dry.
    /// Safe from any thread, including a signal-handling one, and before `start`.
    public func stop() {
        lock.lock(); stopRequested = true; let s = source; lock.unlock()
        s?.requestStop()
    }

    /// Blocks until the thread has finished; rethrows the source's error, if any.
    public func wait() throws {
        done.wait()
        done.signal()
        lock.lock(); let e = failure; lock.unlock()
        if let e { throw e }
    }

    /// Counters of the finished run (after `wait()`).
    public var finalStats: RecognizerStats { lock.lock(); defer { lock.unlock() }; return lastStats }

    /// The events of `source` as an async sequence; ends when the source ends and throws its
    /// error. Cancelling the consuming task stops the source.
    public func events(from source: AudioSource) -> AsyncThrowingStream<RecognitionEvent, Error> {
        AsyncThrowingStream { continuation in
            do {
                try start(source: source, handler: { continuation.yield($0) },
                          completion: { error in continuation.finish(throwing: error) })
            } catch {
                continuation.finish(throwing: error)
            }
            continuation.onTermination = { [weak self] _ in self?.stop() }
        }
    }
}

/// Emits `.stats` every `interval` seconds on a thread of its own, from the counters the
/// recognition thread last published (after every block it read), so that status lines keep
/// coming while a read blocks. All events go through `deliver`, so the handler never runs on two
/// threads at once.
private final class StatsTicker: @unchecked Sendable {
    private let handler: @Sendable (RecognitionEvent) -> Void
    private let lock = NSLock()             // guards `latest`
    private let handlerLock = NSLock()      // one handler call at a time
    private var latest: RecognizerStats
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(interval: Double, first: RecognizerStats, handler: @escaping @Sendable (RecognitionEvent) -> Void) {
        self.handler = handler
        latest = first
        let t = Thread { [self] in
            while stopped.wait(timeout: .now() + interval) == .timedOut {
                lock.lock(); let s = latest; lock.unlock()
                deliver(.stats(s))
            }
            finished.signal()
        }
        t.name = "hark-stats"
        t.start()
    }

    /// The recognition thread's newest counters.
    func publish(_ stats: RecognizerStats) {
        lock.lock(); latest = stats; lock.unlock()
    }

    func deliver(_ event: RecognitionEvent) {
        handlerLock.lock(); defer { handlerLock.unlock() }
        handler(event)
    }

    /// Stops the timer and waits for its thread, so no `.stats` follows the last one.
    func stop() {
        stopped.signal()
        finished.wait()
    }
}

