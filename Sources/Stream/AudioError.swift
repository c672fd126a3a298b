/// Every way audio input or output can fail, each naming the device or file at fault and carrying
/// the underlying library's own message (ALSA's `snd_strerror`, libsndfile's `sf_strerror`).
public enum AudioError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The device name does not exist (ALSA -ENOENT at open).
    case noSuchDevice(device: String, message: String)
    /// The sound server behind the device (PulseAudio, JACK) is not running (-ECONNREFUSED).
    case serverNotRunning(device: String, message: String)
    /// Another program holds the device (-EBUSY, or -EAGAIN from a non-blocking open).
    case deviceBusy(device: String, message: String)
    /// The device exists but cannot capture with the parameters asked for.
    case unsupportedParameters(device: String, detail: String, message: String)
    /// The device failed while open: unplugged, server stopped, I/O error.
    case deviceFailed(device: String, operation: String, message: String)
    /// A file that cannot be opened or decoded.
    case unreadableFile(path: String, message: String)
    /// A file that decodes but is not audio Hark can use (zero channels, zero rate, ...).
    case unsupportedFile(path: String, detail: String)
    /// A file that cannot be written (permissions, full disk).
    case unwritableFile(path: String, message: String)
    /// Samples that are not finite numbers (NaN or infinity) in an input.
    case invalidSamples(source: String, detail: String)

    /// Where every error in opening a device sends the user: the list of devices that do open.
    public static let seeDevices = "; `hark devices` lists the capture devices that open here"

    public var description: String {
        switch self {
        case let .noSuchDevice(device, message):
            return "audio device '\(device)' does not exist (\(message))" + Self.seeDevices
        case let .serverNotRunning(device, message):
            return "audio device '\(device)': its sound server is not running (\(message))" + Self.seeDevices
        case let .deviceBusy(device, message):
            return "audio device '\(device)' is busy: another program is using it (\(message))" + Self.seeDevices
        case let .unsupportedParameters(device, detail, message):
            return "audio device '\(device)' cannot capture \(detail) (\(message))" + Self.seeDevices
        case let .deviceFailed(device, operation, message):
            // A device that failed while in use was the right one: no list to send the user to.
            let inUse = operation == "capture" || operation == "playback"
            return "audio device '\(device)' failed during \(operation) (\(message))" + (inUse ? "" : Self.seeDevices)
        case let .unreadableFile(path, message):
            return "cannot read audio file '\(path)': \(message)"
        case let .unsupportedFile(path, detail):
            return "audio file '\(path)' is not usable: \(detail)"
        case let .unwritableFile(path, message):
            return "cannot write '\(path)': \(message)"
        case let .invalidSamples(source, detail):
            return "invalid samples in '\(source)': \(detail)"
        }
    }
}
