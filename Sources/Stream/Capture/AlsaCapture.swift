internal import CAlsa
import Dispatch
import Glibc
import Synchronization

/// Live capture from an ALSA device: a dedicated capture thread reads periods from the device into
/// a `SampleRing`; the consumer reads from the ring through `AudioSource.read`.
///
/// The capture thread is a plain POSIX thread, never a task on Swift's cooperative pool: it blocks
/// in `snd_pcm_wait` (poll) between periods, so it costs no CPU while waiting for audio. It does
/// not allocate, log or throw. Overruns (-EPIPE) and suspends (-ESTRPIPE) are recovered with
/// `snd_pcm_recover` and counted (`losses`); any other device error ends capture, and the consumer
/// first receives every sample captured before it and then the error. A device that stops
/// delivering without an error (a dead JACK server) is caught by `CaptureWatchdog` after
/// `CaptureConfig.stallTimeout` and ends capture the same way.
public final class AlsaCapture: AudioSource, @unchecked Sendable {
    public let sampleRate: Int
    /// The device name as the user gave it.
    public let name: String
    /// The PCM actually opened: `name`, or `plug:'name'` when ALSA had to convert.
    public let openedName: String
    public let format: CaptureFormat
    public let periodSize: Int
    public let bufferSize: Int
    /// The ring between the capture thread and the consumer.
    public let ring: SampleRing

    private let pcm: AlsaPCM
    private let maxSamples: Int64?
    private let stallTimeout: Double?
    private let ringFull: RingFullPolicy
    private let periodObserver: (@Sendable (Int, Double) -> Void)?
    private let dataReady = DispatchSemaphore(value: 0)
    private let stopRequested = Atomic<Bool>(false)
    private let captureEnded = Atomic<Bool>(false)
    private let overrunCount = Atomic<Int>(0)
    private let samplesLost = Atomic<Int>(0)
    private let failure = Mutex<AudioError?>(nil)
    private var thread: pthread_t?
    private var failureDelivered = false

    /// Absolute position (losses included) one past the last sample `read` returned: the ring's
    /// read counter plus every loss before it.
    public var position: Int64 { ring.readPosition }

    public var losses: CaptureLosses {
        var l = CaptureLosses()
        l.overruns = overrunCount.load(ordering: .relaxed)
        l.samplesLostInDevice = Int64(samplesLost.load(ordering: .relaxed))
        l.samplesDroppedInRing = Int64(ring.dropped)
        return l
    }

    /// Opens the device and starts the capture thread.
    public init(_ config: CaptureConfig) throws(AudioError) {
        let pcm = try AlsaPCM.open(config)
        self.pcm = pcm
        name = config.device
        openedName = pcm.openedName
        format = pcm.format
        periodSize = pcm.periodSize
        bufferSize = pcm.bufferSize
        sampleRate = pcm.sampleRate
        maxSamples = config.maxSamples
        stallTimeout = config.stallTimeout
        ringFull = config.ringFull
        periodObserver = config.periodObserver
        ring = SampleRing(minimumCapacity: max(Int(config.ringSeconds * Double(config.sampleRate)),
                                               4 * pcm.bufferSize))
        try startThread()
    }

    deinit { stop() }

    /// Asks the capture thread to stop within about 100 ms, from any thread (a signal handler's
    /// queue, say). The consumer's `read` then drains the ring and returns 0.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Stops the capture thread and waits for it. Samples already in the ring can still be
    /// read. Idempotent; call it from the consumer's thread.
    public func stop() {
        requestStop()
        if let t = thread {
            // The thread holds a reference while it runs, so the last release (and this deinit)
            // can happen on the capture thread itself, when capture ended on its own after the
            // owner let go: a thread cannot join itself, so it detaches instead.
            if pthread_equal(t, pthread_self()) != 0 { pthread_detach(t) } else { pthread_join(t, nil) }
            thread = nil
        }
    }

    /// CPU time the capture thread has used, in seconds (for the benchmarks).
    public var captureThreadCPUSeconds: Double {
        guard let t = thread else { return 0 }
        var clock = clockid_t()
        guard pthread_getcpuclockid(t, &clock) == 0 else { return 0 }
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        while true {
            let n = ring.read(into: buffer)                    // stops at a loss: one stretch of the clock
            if n > 0 { return n }
            if captureEnded.load(ordering: .acquiring) {
                // The thread's last writes happen before it sets captureEnded: drain them first.
                let last = ring.read(into: buffer)
                if last > 0 { return last }
                if !failureDelivered, let error = failure.withLock({ $0 }) {
                    failureDelivered = true
                    throw error
                }
                return 0
            }
            dataReady.wait()
        }
    }

    // MARK: The capture thread

    private func startThread() throws(AudioError) {
        var t = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&t, nil, { raw in
            let capture = Unmanaged<AlsaCapture>.fromOpaque(raw!).takeRetainedValue()
            capture.captureLoop()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<AlsaCapture>.fromOpaque(context).release()
            throw .deviceFailed(device: name, operation: "starting the capture thread",
                                message: String(cString: strerror(rc)))
        }
        thread = t
    }

    private func captureLoop() {
        // All buffers are made here, once; the loop below does not allocate.
        let chunk = bufferSize                      // never read more than the buffer in one call
        let raw = UnsafeMutableRawPointer.allocate(byteCount: chunk * format.bytesPerSample, alignment: 16)
        let samples = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer {
            raw.deallocate()
            samples.deallocate()
            ring.flushLoss()
            captureEnded.store(true, ordering: .releasing)
            dataReady.signal()
        }
        var delivered: Int64 = 0
        var lastGoodRead = MonotonicClock.now()     // for the loss estimate of an overrun
        var lastAudio = lastGoodRead                // for the watchdog: reset only by audio
        var spurious = 0
        _ = pcm.start()

        while !stopRequested.load(ordering: .relaxed) {
            if let maxSamples, delivered >= maxSamples { return }
            if ringFull == .waitForReader && ring.capacity - ring.available < chunk {
                usleep(1_000)           // only file-fed devices get here; see RingFullPolicy
                lastAudio = MonotonicClock.now()    // the reader is slow, not the device
                continue
            }
            var code: Int32
            switch pcm.wait(milliseconds: 100) {
            case .timeout:
                spurious = 0
                switch CaptureWatchdog.action(state: pcm.state(), idleSeconds: MonotonicClock.now() - lastAudio,
                                              timeout: stallTimeout) {
                case .wait: continue
                case .start: _ = pcm.start(); continue
                case .recover(let overrun): code = overrun ? hark_alsa_epipe() : hark_alsa_estrpipe()
                case .lost(let why): return fail(why)
                }
            case .spurious:
                code = hark_alsa_eagain()
            case .failed(let rc):
                code = rc
            case .ready:
                var want = chunk
                if let maxSamples { want = Int(min(Int64(want), maxSamples - delivered)) }
                let n = pcm.read(raw, frames: want)
                if n > 0 {
                    convert(raw, into: samples, count: n)
                    ring.write(UnsafeBufferPointer(start: samples, count: n))
                    dataReady.signal()
                    delivered += Int64(n)
                    lastGoodRead = MonotonicClock.now()
                    lastAudio = lastGoodRead
                    periodObserver?(Int(delivered) + samplesLost.load(ordering: .relaxed), lastGoodRead)   // the stream position
                    spurious = 0
                    continue
                }
                code = Int32(n)
            }
            if AlsaPCM.isAgain(code) {
                // Woken with nothing to read. Now and then is normal; repeatedly means a plugin
                // whose descriptor stays readable. Back off half a period so that cannot spin.
                spurious += 1
                if spurious > 2 { usleep(useconds_t(500_000 * periodSize / sampleRate)) }
                // Woken for ever with nothing to read is as dead as never woken.
                if case let .lost(why) = CaptureWatchdog.action(state: pcm.state(), idleSeconds: MonotonicClock.now() - lastAudio,
                                                                timeout: stallTimeout) {
                    return fail(why)
                }
                continue
            }
            if AlsaPCM.isRecoverable(code) {
                let gap = MonotonicClock.now() - lastGoodRead
                if pcm.recover(code) == 0 {
                    let lost = Int((gap * Double(sampleRate)).rounded())
                    overrunCount.add(1, ordering: .relaxed)
                    samplesLost.add(lost, ordering: .relaxed)   // only this thread adds to it
                    ring.recordLoss(lost)               // the next stored sample comes after the gap
                    lastGoodRead = MonotonicClock.now()
                    continue
                }
            }
            return fail(Alsa.message(code))
        }
    }

    /// Records why capture ended; the consumer gets it after the samples captured before.
    private func fail(_ message: String) {
        failure.withLock { $0 = .deviceFailed(device: name, operation: "capture", message: message) }
    }

    private func convert(_ raw: UnsafeMutableRawPointer, into out: UnsafeMutablePointer<Float>, count n: Int) {
        switch format {
        case .s16:
            let s = raw.assumingMemoryBound(to: Int16.self)
            for i in 0..<n { out[i] = Float(s[i]) * (1 / 32768) }
        case .float32:
            out.update(from: raw.assumingMemoryBound(to: Float.self), count: n)
        }
    }
}

/// Seconds on `CLOCK_MONOTONIC`, the clock every Hark timestamp is taken on.
public enum MonotonicClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
