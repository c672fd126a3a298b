import Foundation
import ArgumentParser
import Stream

/// Where audio comes from, shared by every command that reads audio.
struct InputOptions: ParsableArguments {
    @Option(name: .long, help: "ALSA capture device (see `hark devices`).")
    var device: String = "default"

    @Option(name: .long, help: ArgumentHelp("Read this audio file instead of a device ('-' reads raw 16 kHz S16_LE mono from stdin).",
                                            valueName: "path"))
    var file: String?

    @Option(name: .long, parsing: .unconditional, help: "Stop after this many seconds of audio (at most a year).")
    var seconds: Double?

    @Option(name: .long, parsing: .unconditional, help: "ALSA period in samples (160 = 10 ms at 16 kHz; 16 to 16000).")
    var period: Int = 160

    @Option(name: .long, parsing: .unconditional, help: "ALSA buffer size in periods (2 to 64).")
    var periods: Int = 4

    @Flag(name: .long, help: "Never drop audio when the reader falls behind: for file-fed ALSA devices that deliver as fast as they are read.")
    var waitForReader = false

    @Flag(name: .long, help: "When the capture device fails or disappears, keep retrying (with back-off) and resume when it returns.")
    var reconnect = false

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Treat a capture device that delivers no audio for this long as lost, as if it had failed (0 to 3600; 0 waits for ever, for sources that pause, such as a PulseAudio pipe source).",
                               valueName: "seconds"))
    var deviceTimeout: Double = CaptureConfig().stallTimeout ?? 0

    mutating func validate() throws {
        try OptionRange.check("--seconds", seconds, 0, OptionRange.longestRun, exclusiveLow: true, unit: "seconds")
        try OptionRange.check("--period", period, 16, 16_000, unit: "samples")
        try OptionRange.check("--periods", periods, 2, 64)
        try OptionRange.check("--device-timeout", deviceTimeout, 0, 3600, unit: "seconds")
        if reconnect && file != nil { throw ValidationError("--reconnect is for capture devices, not --file") }
    }

    /// A file or stdin that held no audio is bad input, in every command as in `transcribe`. A
    /// device that delivered nothing before a signal stopped it is not.
    func requireAudio(samples: Int64, stopped: Bool) throws {
        guard samples == 0, !stopped, let file else { return }
        throw InputError("\(file == "-" ? "stdin" : file): contains no audio")
    }

    var maxSamples: Int64? { seconds.map { Int64(($0 * Double(AudioDefaults.sampleRate)).rounded()) } }

    private func limited(_ source: AudioSource) -> AudioSource {
        maxSamples.map { LimitedSource(source, samples: $0) } ?? source
    }

    /// Opens the source: a file, stdin, or the ALSA device. `--seconds` limits each of them.
    func open() throws -> AudioSource {
        switch file {
        case "-"?: return limited(RawPCMSource())
        case let path?: return limited(try AudioFileSource(path: path))
        case nil:
            var config = CaptureConfig(device: device)
            config.periodSize = period
            config.periods = periods
            config.ringFull = waitForReader ? .waitForReader : .dropNewest
            config.stallTimeout = deviceTimeout > 0 ? deviceTimeout : nil
            config.periodObserver = Self.injectedStall()
            guard reconnect else {
                config.maxSamples = maxSamples
                return try AlsaCapture(config)
            }
            let reconnecting = try ReconnectingSource(name: device, open: { try AlsaCapture(config) },
                                                      report: { Terminal.note("hark: " + $0) })
            return limited(reconnecting)
        }
    }

    /// Fault injection for the reliability tests: HARK_TEST_STALL_CAPTURE="AFTER:SECONDS" stalls the
    /// capture thread once, AFTER seconds into the capture, for SECONDS — a capture thread
    /// descheduled by an overloaded machine, which is what makes a real device overrun.
    static func injectedStall() -> (@Sendable (Int, Double) -> Void)? {
        guard let state = StallState(variable: "HARK_TEST_STALL_CAPTURE") else { return nil }
        return { _, time in state.tick(time) }
    }

    /// The same for the thread that reads the source (HARK_TEST_STALL_READER): a recognizer that
    /// falls more than the ring behind, which makes the ring drop audio.
    static func injectedReaderStall() -> StallState? { StallState(variable: "HARK_TEST_STALL_READER") }
}

/// Touched only by the capture thread.
final class StallState: @unchecked Sendable {
    let after: Double, seconds: Double
    var start: Double?
    var done = false
    init(after: Double, seconds: Double) { self.after = after; self.seconds = seconds }
    /// From "AFTER:SECONDS" in the environment variable, if set.
    convenience init?(variable: String) {
        guard let spec = ProcessInfo.processInfo.environment[variable] else { return nil }
        let parts = spec.split(separator: ":").compactMap { Double($0) }
        guard parts.count == 2 else { return nil }
        self.init(after: parts[0], seconds: parts[1])
    }
    func tick(_ time: Double) {
        guard !done else { return }
        if start == nil { start = time }
        if time - start! >= after {
            done = true
            usleep(useconds_t(seconds * 1_000_000))
        }
    }
}
