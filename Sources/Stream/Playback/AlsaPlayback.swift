internal import CAlsa
import Glibc

/// Plays 16 kHz mono S16 audio on an ALSA device, for `hark latency --play-device`: a real
/// speaker → microphone (or cable) loopback. Blocking writes pace the caller at the device's
/// rate; `delaySeconds` says how long the samples written so far still wait before they sound.
public final class AlsaPlayback {
    public let device: String
    public let sampleRate: Int
    private let handle: OpaquePointer

    /// Opens `device` for playback through ALSA's simple API (`snd_pcm_set_params`, with
    /// resampling allowed), aiming at `latency` seconds of device buffer.
    public init(device: String, sampleRate: Int = AudioDefaults.sampleRate, latency: Double = 0.04) throws(AudioError) {
        _ = Alsa.quiet
        self.device = device
        self.sampleRate = sampleRate
        var pcm: OpaquePointer?
        try Alsa.check({ snd_pcm_open(&pcm, device, SND_PCM_STREAM_PLAYBACK, 0) }, or: Alsa.openError(device: device))
        guard let pcm else { throw .deviceFailed(device: device, operation: "open", message: "no handle returned") }
        do {
            try Alsa.check({ snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1,
                                                UInt32(sampleRate), 1, UInt32(latency * 1_000_000)) },
                           or: { _, message in .unsupportedParameters(device: device, detail: "16 kHz mono S16_LE playback",
                                                                      message: message) })
        } catch {
            snd_pcm_close(pcm)
            throw error
        }
        handle = pcm
    }

    deinit {
        snd_pcm_drain(handle)
        snd_pcm_close(handle)
    }

    /// Writes all of `samples`, blocking while the device buffer is full; recovers from underruns.
    public func write(_ samples: UnsafeBufferPointer<Int16>) throws(AudioError) {
        var offset = 0
        while offset < samples.count {
            let n = snd_pcm_writei(handle, samples.baseAddress! + offset, snd_pcm_uframes_t(samples.count - offset))
            if n >= 0 { offset += Int(n); continue }
            let code = Int32(n)
            if code == hark_alsa_eintr() || code == hark_alsa_eagain() { continue }
            if snd_pcm_recover(handle, code, 1) < 0 {
                throw .deviceFailed(device: device, operation: "playback", message: Alsa.message(code))
            }
        }
    }

    /// Seconds until the last sample written so far is played (`snd_pcm_delay`), 0 if unknown.
    public var delaySeconds: Double {
        var frames: snd_pcm_sframes_t = 0
        return snd_pcm_delay(handle, &frames) == 0 ? Double(max(frames, 0)) / Double(sampleRate) : 0
    }
}
