/// How the capture thread tells a quiet wait from a dead device.
///
/// A capture device driven by a clock (a sound card, PulseAudio, JACK) delivers a period every
/// few milliseconds for as long as it runs. When its sound server dies, some plugins report it:
/// PulseAudio's closes the connection and the next read fails. JACK's does not: the PCM stays
/// RUNNING and its descriptor simply never becomes readable again (measured with jackd 1.9.21 and
/// alsa-plugins 1.2.8, SIGTERM and SIGKILL alike), so a thread that only polls waits for ever.
/// Whenever a poll comes back with nothing to read, the capture thread asks `action` what to
/// do, given the state ALSA reports and how long it has been since the device last delivered.
enum CaptureWatchdog {
    /// `snd_pcm_state`, reduced to what the decision needs.
    enum DeviceState: Equatable, Sendable {
        case running
        /// Set up and prepared but not started (a start that did not take, or a re-prepare).
        case prepared
        /// Overrun: the device stopped because the buffer was full.
        case xrun
        /// Power management suspended the device.
        case suspended
        /// The driver says the device is gone (unplugged USB microphone).
        case disconnected
        /// Any other state (open, setup, draining, paused), by ALSA's name.
        case other(String)
    }

    enum Action: Equatable, Sendable {
        /// Keep waiting: the device is running and the quiet is not yet suspicious.
        case wait
        /// Call `snd_pcm_start`: the device is prepared but not running.
        case start
        /// Recover as if the read had returned this error (-EPIPE for an overrun, -ESTRPIPE for a
        /// suspend): some plugins change state without waking the poll.
        case recover(overrun: Bool)
        /// The device is lost; the message says why, for `AudioError.deviceFailed`.
        case lost(String)
    }

    /// The default for `CaptureConfig.stallTimeout`: long enough that a loaded machine or a
    /// sound server restarting a stream does not trip it, short enough that a supervisor hears
    /// about a dead server within seconds.
    static let defaultTimeout: Double = 5

    /// What to do after a wait that brought no audio.
    /// - Parameters:
    ///   - state: the device's state now.
    ///   - idleSeconds: time since the device last delivered audio (or since capture started).
    ///   - timeout: the longest quiet a live device may have; nil waits for ever.
    static func action(state: DeviceState, idleSeconds: Double, timeout: Double?) -> Action {
        switch state {
        case .disconnected:
            return .lost("the device was disconnected")
        case .xrun:
            return .recover(overrun: true)
        case .suspended:
            return .recover(overrun: false)
        default:
            break
        }
        if let timeout, idleSeconds >= timeout {
            return .lost("no audio for \(seconds(idleSeconds)) s while the device reports \(name(of: state)); "
                         + "its sound server or driver has stopped delivering")
        }
        return state == .prepared ? .start : .wait
    }

    static func name(of state: DeviceState) -> String {
        switch state {
        case .running: "RUNNING"
        case .prepared: "PREPARED"
        case .xrun: "XRUN"
        case .suspended: "SUSPENDED"
        case .disconnected: "DISCONNECTED"
        case let .other(name): name
        }
    }

    /// One decimal: 5.0, 12.3.
    private static func seconds(_ s: Double) -> String {
        let tenths = Int((s * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
