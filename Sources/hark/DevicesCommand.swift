import ArgumentParser
import Foundation
import Stream

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the ALSA capture devices that open here, or check one.",
        discussion: """
        Each device is opened for capture as every command opens it (16 kHz mono, converted by \
        ALSA's plug layer when needed) and closed again. First the devices that open, with their \
        card and what opening found; then those that do not, with the reason. ALSA's plugin types \
        (rate converters, channel mixers, DSP), which only wrap another device, are listed with \
        --all. Exits 1 when no device opens.
        """)

    @Option(name: .long, help: ArgumentHelp("Open this device for capture and report the result instead of listing.",
                                            valueName: "device"))
    var check: String?

    @Flag(name: .long, help: "Also list ALSA's plugin types (rate converters, channel mixers, DSP).")
    var all = false

    func run() throws {
        if let name = check {
            let result = try Self.quietly { try CaptureDevice.check(name) }
            Terminal.emit("\(name): \(result.summary)")
            return
        }
        let devices = CaptureDevice.all()
        let plugins = devices.filter(\.isPluginType)
        var opening: [(CaptureDevice, CaptureCheck)] = [], failing: [(CaptureDevice, AudioError)] = []
        for d in devices where !d.isPluginType {
            do { opening.append((d, try Self.quietly { try CaptureDevice.check(d.name) })) } catch let e as AudioError {
                failing.append((d, e))
            }
        }
        let width = devices.map(\.name.count).max() ?? 0
        func label(_ d: CaptureDevice) -> String {
            "  " + d.name.padding(to: width) + "  " + d.description + (d.card.map { " [card \($0)]" } ?? "")
        }
        if !opening.isEmpty {
            Terminal.emit("Capture devices that open here (--device NAME):")
            for (d, c) in opening { Terminal.emit(label(d)); Terminal.emit("  " + "".padding(to: width) + "  → " + c.summary) }
        }
        if !failing.isEmpty {
            Terminal.emit("Capture devices that do not open here:")
            for (d, e) in failing { Terminal.emit(label(d)); Terminal.emit("  " + "".padding(to: width) + "  → " + Self.reason(e)) }
        }
        if all && !plugins.isEmpty {
            Terminal.emit("ALSA plugin types (each wraps another device, as in TYPE:SLAVE=NAME):")
            for d in plugins { Terminal.emit(label(d)) }
        } else if !plugins.isEmpty {
            Terminal.emit("(\(plugins.count) ALSA plugin types, such as \(plugins.prefix(3).map(\.name).joined(separator: ", ")), wrap other devices: --all lists them)")
        }
        if opening.isEmpty {
            Terminal.note(devices.isEmpty ? "hark devices: ALSA lists no capture devices (is libasound2-plugins or a sound card present?)"
                                          : "hark devices: no capture device opens here")
            throw ExitCode(1)
        }
    }

    /// The error without the pointer back to this very command.
    static func reason(_ error: AudioError) -> String {
        let text = error.description
        return text.hasSuffix(AudioError.seeDevices) ? String(text.dropLast(AudioError.seeDevices.count)) : text
    }

    /// Opens devices with their sound servers' client libraries kept quiet: libjack prints its
    /// connection attempts to stderr (and would start a JACK server of its own unless told not
    /// to); Hark reports each device's outcome itself.
    static func quietly<T>(_ body: () throws -> T) throws -> T {
        setenv("JACK_NO_START_SERVER", "1", 1)
        let saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY)
        if saved >= 0 && null >= 0 { dup2(null, STDERR_FILENO) }
        defer {
            if saved >= 0 { dup2(saved, STDERR_FILENO); close(saved) }
            if null >= 0 { close(null) }
        }
        return try body()
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
