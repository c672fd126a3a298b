internal import CAlsa
import Glibc

/// The sample formats Hark captures in: whichever of these the device offers, S16_LE first.
public enum CaptureFormat: String, Sendable {
    case s16 = "S16_LE"
    case float32 = "FLOAT_LE"

    var bytesPerSample: Int { self == .s16 ? 2 : 4 }
    var alsa: snd_pcm_format_t { self == .s16 ? SND_PCM_FORMAT_S16_LE : SND_PCM_FORMAT_FLOAT_LE }
}

/// What to ask the device for. Defaults give low latency: 10 ms periods, 4 periods of buffer.
public struct CaptureConfig: Sendable {
    /// ALSA PCM name: "default", "pulse", "plughw:1", "vmicfile:IN=/path/in.raw", ...
    public var device: String = "default"
    public var sampleRate: Int = AudioDefaults.sampleRate
    /// Samples per period: how often the device wakes the capture thread (160 = 10 ms).
    public var periodSize: Int = 160
    /// Periods in the device buffer; the buffer time bounds how long a stall may last
    /// before the device overruns.
    public var periods: Int = 4
    /// When the device cannot give `sampleRate` mono in S16/FLOAT, reopen it through ALSA's
    /// `plug` layer, which converts rate, channels and format. On by default.
    public var allowPlugConversion: Bool = true
    /// Capacity of the ring between the capture thread and the consumer, in seconds of audio.
    public var ringSeconds: Double = 2
    /// What the capture thread does when the ring is full (the consumer is more than
    /// `ringSeconds` behind). `.dropNewest` (default) is right for a real device: the device keeps
    /// its own pace and the loss is counted. `.waitForReader` is for devices that deliver as fast
    /// as they are read (the ALSA `file` plugin): the capture thread waits for room, so nothing
    /// is dropped. With a paced device it turns a slow consumer into device overruns instead.
    public var ringFull: RingFullPolicy = .dropNewest
    /// Stop after this many samples (the ALSA `file` device never reports end of file).
    public var maxSamples: Int64? = nil
    /// Seconds a running device may deliver nothing before capture treats it as lost and fails
    /// with `AudioError.deviceFailed` (see `CaptureWatchdog`): a JACK server that dies leaves its
    /// ALSA device RUNNING and silent for ever. nil waits for ever, for sources that legitimately
    /// pause, such as PulseAudio's pipe source with no writer.
    public var stallTimeout: Double? = CaptureWatchdog.defaultTimeout
    /// Called on the capture thread after each block is read from the device, with the stream
    /// position one past its last sample (every sample captured or lost so far, the stream's
    /// clock of `AudioSource`) and the `CLOCK_MONOTONIC` time the read returned. It runs in the
    /// real-time path: it must not allocate, lock or block — except to inject faults in tests,
    /// where sleeping here is exactly a capture thread descheduled by an overloaded system.
    public var periodObserver: (@Sendable (_ position: Int, _ time: Double) -> Void)? = nil

    public init(device: String = "default") { self.device = device }
}

public enum RingFullPolicy: String, Sendable {
    case dropNewest
    case waitForReader
}

/// One open ALSA capture PCM, configured for mono capture. Owns the handle: `deinit` closes it.
final class AlsaPCM {
    let handle: OpaquePointer
    /// The name actually opened: the requested one, or "plug:'…'" when conversion was needed.
    let openedName: String
    let format: CaptureFormat
    let periodSize: Int
    let bufferSize: Int
    let sampleRate: Int
    /// The PCM's poll descriptors, fetched once; see `wait`.
    private let pollFDs: UnsafeMutablePointer<pollfd>
    private let pollCount: Int

    /// Opens `config.device`, falling back to the `plug` layer when the device cannot deliver
    /// the requested rate or mono itself and `allowPlugConversion` is set.
    static func open(_ config: CaptureConfig) throws(AudioError) -> AlsaPCM {
        do {
            return try AlsaPCM(name: config.device, reportAs: config.device, config: config)
        } catch let error {
            guard case .unsupportedParameters = error, config.allowPlugConversion,
                  !config.device.hasPrefix("plug") else { throw error }
            let quoted = config.device.flatMap { $0 == "'" ? ["\\", "'"] : [$0] }
            let plugged = "plug:'" + String(quoted) + "'"
            return try AlsaPCM(name: plugged, reportAs: config.device, config: config)
        }
    }

    private init(name: String, reportAs device: String, config: CaptureConfig) throws(AudioError) {
        _ = Alsa.quiet
        var pcm: OpaquePointer?
        // Non-blocking open so a busy device fails at once instead of hanging.
        try Alsa.check({ snd_pcm_open(&pcm, name, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK) },
                       or: Alsa.openError(device: device))
        guard let pcm else {
            throw .deviceFailed(device: device, operation: "open", message: "no handle returned")
        }
        handle = pcm
        openedName = name
        var hw: OpaquePointer?
        snd_pcm_hw_params_malloc(&hw)
        defer { snd_pcm_hw_params_free(hw) }
        func unsupported(_ detail: String) -> (Int32, String) -> AudioError {
            { _, message in .unsupportedParameters(device: device, detail: detail, message: message) }
        }
        do {
            try Alsa.check({ snd_pcm_hw_params_any(pcm, hw) }, or: unsupported("any configuration"))
            try Alsa.check({ snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) },
                           or: unsupported("interleaved read access"))
            let format: CaptureFormat
            if snd_pcm_hw_params_test_format(pcm, hw, SND_PCM_FORMAT_S16_LE) == 0 {
                format = .s16
            } else if snd_pcm_hw_params_test_format(pcm, hw, SND_PCM_FORMAT_FLOAT_LE) == 0 {
                format = .float32
            } else {
                throw AudioError.unsupportedParameters(device: device, detail: "S16_LE or FLOAT_LE samples",
                                                       message: "neither format offered")
            }
            try Alsa.check({ snd_pcm_hw_params_set_format(pcm, hw, format.alsa) },
                           or: unsupported("\(format.rawValue) samples"))
            try Alsa.check({ snd_pcm_hw_params_set_channels(pcm, hw, 1) }, or: unsupported("mono"))
            // The plug layer may resample; a bare device must give the rate itself.
            try Alsa.check({ snd_pcm_hw_params_set_rate_resample(pcm, hw, name.hasPrefix("plug") ? 1 : 0) },
                           or: unsupported("resampling settings"))
            try Alsa.check({ snd_pcm_hw_params_set_rate(pcm, hw, UInt32(config.sampleRate), 0) },
                           or: unsupported("at \(config.sampleRate) Hz"))
            var period = snd_pcm_uframes_t(config.periodSize)
            var dir: Int32 = 0
            try Alsa.check({ snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, &dir) },
                           or: unsupported("a period of \(config.periodSize) samples"))
            var buffer = snd_pcm_uframes_t(max(config.periods, 2)) * period
            try Alsa.check({ snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer) },
                           or: unsupported("a buffer of \(buffer) samples"))
            try Alsa.check({ snd_pcm_hw_params(pcm, hw) }, or: { code, message in
                code == -EIO || code == -ENOENT
                    ? .deviceFailed(device: device, operation: "configuration", message: message)
                    : .unsupportedParameters(device: device, detail: "the chosen configuration", message: message)
            })
            var p: snd_pcm_uframes_t = 0, b: snd_pcm_uframes_t = 0
            snd_pcm_hw_params_get_period_size(hw, &p, &dir)
            snd_pcm_hw_params_get_buffer_size(hw, &b)
            self.format = format
            periodSize = Int(p)
            bufferSize = Int(b)
            sampleRate = config.sampleRate
            // snd_pcm_hw_params leaves the PCM prepared. Do not prepare it again: with the
            // PulseAudio plugin a second prepare leaves its poll descriptor readable for good,
            // and a capture thread polling it would spin at 100% CPU (measured).
            let count = Int(max(snd_pcm_poll_descriptors_count(pcm), 0))
            pollFDs = .allocate(capacity: max(count, 1))
            pollCount = Int(snd_pcm_poll_descriptors(pcm, pollFDs, UInt32(count)))
        } catch let error as AudioError {
            snd_pcm_close(pcm)
            throw error
        } catch {
            snd_pcm_close(pcm)
            throw .deviceFailed(device: device, operation: "configuration", message: "\(error)")
        }
    }

    deinit {
        snd_pcm_close(handle)
        pollFDs.deallocate()
    }

    enum WaitResult: Equatable {
        /// Readable, or an error state (e.g. overrun) that `read` will report.
        case ready
        /// Nothing happened within the timeout.
        case timeout
        /// The descriptor woke us but ALSA says nothing is ready.
        case spurious
        case failed(Int32)
    }

    /// Waits up to `milliseconds` for audio, with `poll` on the PCM's descriptors and
    /// `snd_pcm_poll_descriptors_revents` rather than `snd_pcm_wait`: with the PulseAudio plugin,
    /// `snd_pcm_wait` can loop inside ALSA without returning while no audio arrives, at 100% CPU
    /// (measured), so the thread could neither sleep nor see a stop request.
    func wait(milliseconds: Int32) -> WaitResult {
        guard pollCount > 0 else { return .ready }     // nothing to wait on: read decides
        let p = poll(pollFDs, nfds_t(pollCount), milliseconds)
        if p < 0 { return errno == EINTR ? .timeout : .failed(-errno) }
        if p == 0 { return .timeout }
        var revents: UInt16 = 0
        let rc = snd_pcm_poll_descriptors_revents(handle, pollFDs, UInt32(pollCount), &revents)
        if rc < 0 { return .failed(rc) }
        return revents & UInt16(POLLIN | POLLERR | POLLHUP) != 0 ? .ready : .spurious
    }

    /// Reads up to `frames` samples without blocking; returns the count or a negative ALSA error
    /// (-EAGAIN when nothing is ready).
    func read(_ buffer: UnsafeMutableRawPointer, frames: Int) -> Int {
        Int(snd_pcm_readi(handle, buffer, snd_pcm_uframes_t(frames)))
    }

    /// `snd_pcm_recover` for -EPIPE (overrun) and -ESTRPIPE (suspend); then restarts capture.
    /// Returns 0 when capture can go on.
    func recover(_ code: Int32) -> Int32 {
        let rc = snd_pcm_recover(handle, code, 1)
        if rc == 0 { _ = snd_pcm_start(handle) }
        return rc
    }

    func start() -> Int32 { snd_pcm_start(handle) }

    /// `snd_pcm_state`, for the capture thread's watchdog. String literals only: the capture
    /// thread does not allocate.
    func state() -> CaptureWatchdog.DeviceState {
        switch snd_pcm_state(handle) {
        case SND_PCM_STATE_RUNNING: return .running
        case SND_PCM_STATE_PREPARED: return .prepared
        case SND_PCM_STATE_XRUN: return .xrun
        case SND_PCM_STATE_SUSPENDED: return .suspended
        case SND_PCM_STATE_DISCONNECTED: return .disconnected
        case SND_PCM_STATE_OPEN: return .other("OPEN")
        case SND_PCM_STATE_SETUP: return .other("SETUP")
        case SND_PCM_STATE_DRAINING: return .other("DRAINING")
        case SND_PCM_STATE_PAUSED: return .other("PAUSED")
        default: return .other("UNKNOWN")
        }
    }

    static func isRecoverable(_ code: Int32) -> Bool {
        code == hark_alsa_epipe() || code == hark_alsa_estrpipe()
    }
    static func isAgain(_ code: Int32) -> Bool { code == hark_alsa_eagain() || code == hark_alsa_eintr() }
}
