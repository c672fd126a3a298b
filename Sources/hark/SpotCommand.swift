import HarkSupport
import ArgumentParser
import Decoding
import Foundation
import Recognizer
import Stream

struct SpotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spot",
        abstract: "Keyword-spotting daemon: one JSON line per keyword heard.",
        discussion: """
        Keywords are plain text, spelled with the model's characters; nothing is retrained. \
        Each hit prints {"type": "keyword", "keyword", "score", "start", "end", "time", "device"} \
        (start/end: seconds of audio since capture began; time: wall clock, ISO 8601). With \
        --exec, the command runs through /bin/sh for every hit, with HARK_KEYWORD, HARK_SCORE, \
        HARK_START, HARK_END, HARK_TIME and HARK_DEVICE in its environment. SIGINT and SIGTERM \
        stop the daemon cleanly (exit 0). See share/hark-spot.service for a systemd unit.
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var model: ModelOptions

    @OptionGroup var keywords: KeywordOptions

    @Option(name: .long, parsing: .unconditional, help: "Seconds after a hit during which the same keyword cannot fire again (0 to 3600).")
    var refractory: Double = 1.0

    @Option(name: .long, help: ArgumentHelp("Shell command to run for every hit.", valueName: "command"))
    var exec: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Print a status line to stderr every this many seconds (at most a day).", valueName: "seconds"))
    var stats: Double?

    func validate() throws {
        guard !keywords.keyword.isEmpty else { throw ValidationError("give at least one --keyword") }
        try OptionRange.check("--refractory", refractory, 0, 3600, unit: "seconds")
        try OptionRange.check("--stats", stats, 0, 86_400, exclusiveLow: true, unit: "seconds")
    }

    struct Hit: Encodable {
        var type = "keyword"
        var keyword: String
        var score: Double
        var start: Double
        var end: Double
        var time: String
        var device: String
    }

    struct Status: Encodable {
        var type = "stats"
        var audioSeconds: Double
        var realTimeFactor: Double
        var cpuPercent: Double
        var overruns: Int
        var samplesLost: Int64
        var hits: Int
        var resets: Int
    }

    func run() throws {
        let model = try model.load()
        var config = self.model.recognizerConfig()
        config.transcribe = false
        config.spotter.refractorySteps = Int((refractory / model.stepSeconds).rounded())
        config.keywords = try keywords.keywords(for: model)
        let source = try input.open()
        let recognizer = try Recognizer(model: model, config: config)
        recognizer.statsInterval = stats
        let signals = StopSignals(onStop: { [recognizer] in recognizer.stop() })
        defer { _ = signals }
        let device = source.name, exec = self.exec
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let formatter = UncheckedSendable(iso)
        Terminal.note("spotting " + config.keywords.map { "'\($0.text)' (\($0.scoring.label)≥ \($0.threshold))" }.joined(separator: ", ")
                      + " in \(device) with \(model.path)")
        let losses = LossReport(command: "spot")
        try recognizer.start(source: source, handler: { event in
            switch event {
            case let .audioLost(loss): losses.note(loss)
            case let .keyword(k):
                let time = formatter.value.string(from: Date(timeIntervalSince1970: k.wallClock))
                emit(JSONLines.line(Hit(keyword: k.keyword, score: roundTo(k.score), start: roundTo(k.start), end: roundTo(k.end),
                                        time: time, device: device)))
                if let exec { Self.runHook(exec, k, time: time, device: device) }
            case let .stats(s):
                Terminal.note(JSONLines.line(Status(audioSeconds: roundTo(s.audioSeconds, 10), realTimeFactor: roundTo(s.realTimeFactor, 1e5),
                                                    cpuPercent: roundTo(100 * s.realTimeFactor, 1e3), overruns: s.overruns,
                                                    samplesLost: s.samplesLost, hits: s.keywordHits, resets: s.resets)))
            default: break
            }
        })
        defer { losses.summarize(recognizer.finalStats) }
        try recognizer.wait()
        try input.requireAudio(samples: Int64((recognizer.finalStats.audioSeconds * Double(model.features.sampleRate)).rounded()), stopped: signals.received)
    }

    /// Runs the hook without waiting for it (a slow hook must not stall recognition); its exit is
    /// reaped by Foundation. A hook that cannot start is reported and the daemon goes on.
    static func runHook(_ command: String, _ k: KeywordEvent, time: String, device: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        var env = ProcessInfo.processInfo.environment
        env["HARK_KEYWORD"] = k.keyword
        env["HARK_SCORE"] = String(format: "%.3f", k.score)
        env["HARK_START"] = String(format: "%.3f", k.start)
        env["HARK_END"] = String(format: "%.3f", k.end)
        env["HARK_TIME"] = time
        env["HARK_DEVICE"] = device
        p.environment = env
        do { try p.run() } catch { Terminal.note("hark spot: --exec could not start /bin/sh: \(error)") }
    }
}
