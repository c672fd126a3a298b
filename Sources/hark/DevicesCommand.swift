import ArgumentParser
import Stream

struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List ALSA capture devices, or check that one opens.")

    @Option(name: .long, help: ArgumentHelp("Open this device for capture and report the result instead of listing.",
                                            valueName: "device"))
    var check: String?

    func run() throws {
        if let name = check {
            let capture = try AlsaCapture(CaptureConfig(device: name))
            capture.stop()
            let via = capture.openedName == name ? "" : " through \(capture.openedName)"
            print("\(name): opens for capture\(via), \(capture.format.rawValue), period \(capture.periodSize), buffer \(capture.bufferSize) samples")
            return
        }
        let devices = CaptureDevice.all()
        if devices.isEmpty {
            Terminal.note("no capture devices found (is libasound2-plugins or a sound card present?)")
            throw ExitCode(1)
        }
        let width = devices.map(\.name.count).max() ?? 0
        for d in devices {
            print(d.name.padding(to: width) + "  " + d.description)
        }
    }
}

extension String {
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
