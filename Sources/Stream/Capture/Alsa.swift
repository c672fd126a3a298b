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
            // JACK's plugin answers ENOENT when its server is not running: the device exists.
            case ENOENT where pcmType(device) == "jack":
                return .serverNotRunning(device: device, message: message)
            case ENOENT, ENODEV, ENXIO: return .noSuchDevice(device: device, message: message)
            case ECONNREFUSED, EHOSTDOWN: return .serverNotRunning(device: device, message: message)
            case EBUSY, EAGAIN: return .deviceBusy(device: device, message: message)
            default: return .deviceFailed(device: device, operation: "open", message: message)
            }
        }
    }
}

extension Alsa {
    /// The plugin type ALSA's configuration gives PCM `name` ("jack", "pulse", "hw", ...), if any.
    static func pcmType(_ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        guard hark_alsa_pcm_type(name, &buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A capture-capable ALSA device as `snd_device_name_hint` reports it.
public struct CaptureDevice: Equatable, Sendable {
    /// The name to pass to `--device`.
    public var name: String
    /// The human description ALSA gives, lines joined with " — ".
    public var description: String
    /// The sound card the name picks (its `CARD=` argument), if it names one.
    public var card: String?
    /// An ALSA plugin type rather than a device: its definition wraps another PCM (a `slave`),
    /// as the rate converters, channel mixers and DSP plugins do. They open, if at all, only
    /// by opening whatever they wrap; nobody records "from" them.
    public var isPluginType: Bool

    public init(name: String, description: String, card: String? = nil, isPluginType: Bool = false) {
        self.name = name
        self.description = description
        self.card = card
        self.isPluginType = isPluginType
    }
}

/// What opening a device for capture found: what `hark devices` lists and `--check` reports.
public struct CaptureCheck: Equatable, Sendable {
    public var device: String
    /// The PCM actually opened: the device, or `plug:'device'` when ALSA converts for it.
    public var openedName: String
    public var format: CaptureFormat
    public var sampleRate: Int
    public var periodSize: Int
    public var bufferSize: Int

    /// "opens for capture through plug:'default', S16_LE, 16000 Hz mono, period 160, buffer 640 samples"
    public var summary: String {
        let via = openedName == device ? "" : " through \(openedName)"
        return "opens for capture\(via), \(format.rawValue), \(sampleRate) Hz mono, period \(periodSize), buffer \(bufferSize) samples"
    }
}

extension CaptureDevice {
    /// Lists PCM devices that can capture (`IOID` is absent or "Input"), as `arecord -L` does,
    /// each marked with its card and whether it is a plugin type.
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
            let card = cardArgument(of: name)
            // A card's names (plughw:CARD=…, dsnoop:CARD=…) and the defaults are devices even
            // where ALSA builds them over another PCM.
            let plugin = card == nil && !name.hasPrefix("default") && !name.hasPrefix("sysdefault")
                && hark_alsa_pcm_has_slave(name) == 1
            devices.append(CaptureDevice(name: name, description: desc, card: card, isPluginType: plugin))
        }
        return devices
    }

    /// The `CARD=` argument of a PCM name: "PCH" in "plughw:CARD=PCH,DEV=0".
    static func cardArgument(of name: String) -> String? {
        guard let colon = name.firstIndex(of: ":") else { return nil }
        for arg in name[name.index(after: colon)...].split(separator: ",") where arg.hasPrefix("CARD=") {
            return String(arg.dropFirst(5))
        }
        return nil
    }

    /// Opens `name` for capture as Hark would (16 kHz mono, `plug` conversion when needed) and
    /// closes it again, starting nothing: what works, or the error any command would report.
    public static func check(_ name: String, config: CaptureConfig? = nil) throws(AudioError) -> CaptureCheck {
        var c = config ?? CaptureConfig(device: name)
        c.device = name
        let pcm = try AlsaPCM.open(c)
        return CaptureCheck(device: name, openedName: pcm.openedName, format: pcm.format, sampleRate: pcm.sampleRate,
                            periodSize: pcm.periodSize, bufferSize: pcm.bufferSize)
    }
}
