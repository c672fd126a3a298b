internal import CAlsa
import Glibc

/// The one error funnel for ALSA calls: a negative return becomes an `AudioError` that names the
/// device and carries `snd_strerror`'s text; -EINTR is retried.
enum Alsa {
    /// Installs the silent library error handler once, before the first ALSA call that could print.
    static let quiet: Void = hark_alsa_silence_library_errors()

    static func message(_ code: Int32) -> String { String(cString: snd_strerror(code)) }

    /// Runs `call` until it does not return -EINTR; throws `makeError(code, message)` for any
    /// other negative return and returns non-negative results unchanged.
    @discardableResult
    static func check(
        _ call: () -> Int32,
        or makeError: (Int32, String) -> AudioError
    ) throws(AudioError) -> Int32 {
        while true {
            let rc = call()
            if rc == hark_alsa_eintr() { continue }
            if rc < 0 { throw makeError(rc, message(rc)) }
            return rc
        }
    }

    /// Maps the errors an *open* can produce to the typed cases users need to act on.
    static func openError(device: String) -> (Int32, String) -> AudioError {
        { code, message in
            switch -code {
            case ENOENT, ENODEV, ENXIO: return .noSuchDevice(device: device, message: message)
            case ECONNREFUSED, EHOSTDOWN: return .serverNotRunning(device: device, message: message)
            case EBUSY, EAGAIN: return .deviceBusy(device: device, message: message)
            default: return .deviceFailed(device: device, operation: "open", message: message)
            }
        }
    }
}

/// A capture-capable ALSA device as `snd_device_name_hint` reports it.
public struct CaptureDevice: Equatable, Sendable {
    /// The name to pass to `--device`.
    public var name: String
    /// The human description ALSA gives, lines joined with " — ".
    public var description: String
}

extension CaptureDevice {
    /// Lists PCM devices that can capture (`IOID` is absent or "Input"), as `arecord -L` does.
    public static func all() -> [CaptureDevice] {
        _ = Alsa.quiet
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) == 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        var devices: [CaptureDevice] = []
        var i: Int32 = 0
        while let hint = hark_alsa_hint_at(hints, i) {
            i += 1
            func field(_ key: String) -> String? {
                guard let p = snd_device_name_get_hint(hint, key) else { return nil }
                defer { free(p) }
                return String(cString: p)
            }
            guard let name = field("NAME"), name != "null" else { continue }
            let ioid = field("IOID")
            if let ioid, ioid != "Input" { continue }
            let desc = (field("DESC") ?? "").split(separator: "\n").joined(separator: " — ")
            devices.append(CaptureDevice(name: name, description: desc))
        }
        return devices
    }
}
