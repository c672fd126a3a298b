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
    public var sampleRate: Int = 16_000
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
    /// Stop after this many samples (the ALSA `file` device never reports end of file).
    public var maxSamples: Int64? = nil
    /// Called on the capture thread after each block is stored, with the ring's write position
    /// (samples captured so far) and the `CLOCK_MONOTONIC` time the read returned. It runs in the
    /// real-time path: it must not allocate, lock or block — except to inject faults in tests,
    /// where sleeping here is exactly a capture thread descheduled by an overloaded system.
    public var periodObserver: (@Sendable (_ written: Int, _ time: Double) -> Void)? = nil

    public init(device: String = "default") { self.device = device }
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
            try Alsa.check({ snd_pcm_prepare(pcm) },
                           or: { .deviceFailed(device: device, operation: "prepare", message: $1) })
        } catch let error as AudioError {
            snd_pcm_close(pcm)
            throw error
        } catch {
            snd_pcm_close(pcm)
            throw .deviceFailed(device: device, operation: "configuration", message: "\(error)")
        }
    }

    deinit { snd_pcm_close(handle) }

    /// Waits up to `milliseconds` for audio. Returns a negative ALSA error (e.g. -EPIPE after an
    /// overrun), 0 on timeout, or 1 when samples are ready.
    func wait(milliseconds: Int32) -> Int32 { snd_pcm_wait(handle, milliseconds) }

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

    static func isRecoverable(_ code: Int32) -> Bool {
        code == hark_alsa_epipe() || code == hark_alsa_estrpipe()
    }
    static func isAgain(_ code: Int32) -> Bool { code == hark_alsa_eagain() || code == hark_alsa_eintr() }
}
