import ArgumentParser
import Decoding
import Foundation
import Glibc
import LatencyHarness
import Recognizer
import Stream

struct LatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure sound-in → keyword-out (or word-shown) latency through a real-time capture device.",
        discussion: """
        Plays a recording with known phrases into PulseAudio's module-pipe-source (writing 10 ms \
        blocks at absolute CLOCK_MONOTONIC deadlines) while Hark captures the same audio from ALSA \
        device --device and spots each phrase as a keyword (--measure keywords), or transcribes it \
        and times every word (--measure words: when the word first shows, with its text, in a \
        partial or final transcript; --words/--phrases/--lm constrain the dictation as in listen). \
        For each: latency = time it came out − time its last sample was written into the device, \
        with percentiles from an HDR histogram and a breakdown:
          audio after the word  how much audio past the end the model needed (framing,
                                stacking, and the network's own emission delay)
          capture               device → capture thread (period, PulseAudio transport)
          processing            capture thread → output (ring, features, network,
                                decoder)
        Phrase ends come from the synthesis (the recording's .times file). Word ends, and phrase \
        ends with --align or for a recording given only as --text, come from the model's own \
        forced alignment of the recording; the report says which, and how far the alignment is \
        from the synthesis where both are known. scripts/latency starts the virtual device and \
        runs this command. With --play-device the recording is played on a real output instead \
        (the time a sample sounds is estimated from snd_pcm_delay); played and captured samples \
        are then not aligned, so outputs are matched by time and only the total latency and \
        per-step compute are reported.
        """)

    @Option(name: .long, help: ArgumentHelp("FIFO of PulseAudio's module-pipe-source (default: $HARK_PULSE_PIPE).", valueName: "path"))
    var pipe: String?

    @Option(name: .long, help: "ALSA capture device that delivers what is written to --pipe (or what --play-device plays).")
    var device: String = "pulse"

    @Option(name: .long, help: ArgumentHelp("Play through this ALSA playback device instead of writing to a pipe: a real speaker → microphone or cable loopback into --device.",
                                            valueName: "device"))
    var playDevice: String?

    @Option(name: .long, help: ArgumentHelp("Recording to play (16 kHz).", valueName: "wav"))
    var recording: String?

    @Option(name: .long, help: ArgumentHelp("Phrase times: 'text<TAB>start<TAB>end' lines, seconds (default: the recording with .times).",
                                            valueName: "file"))
    var times: String?

    @Option(name: .long, help: ArgumentHelp("The recording's transcript, phrases separated by '|', for a recording without times (its ends then come from the forced alignment).",
                                            valueName: "text"))
    var text: String?

    @Option(name: .long, help: "What to time: keywords (each phrase spotted as a keyword) or words (each word of the dictation, when it first shows in the partial text).")
    var measure: Measure = .keywords

    @Flag(name: .long, help: "Take phrase ends from the model's forced alignment of the recording instead of the synthesis times (--measure words always aligns: the synthesis gives phrase ends only).")
    var align = false

    @Option(name: .long, parsing: .unconditional, help: "How many times to play the recording (1 to 10000).")
    var repeats: Int = 20

    @Option(name: .long, parsing: .unconditional, help: "Keyword threshold (default: the one tuned for each phrase in the model, else \(KeywordSpotter.defaultThreshold)).")
    var threshold: Float?

    @OptionGroup var model: ModelOptions

    /// The dictation's decoder (--measure words): word or phrase list, language model, beam.
    @OptionGroup var decoder: DecoderOptions

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        try OptionRange.check("--repeats", repeats, 1, 10_000)
        if let threshold, !(threshold > 0 && threshold <= 1) { throw ValidationError("--threshold must be in (0, 1]") }
        if measure == .keywords, decoder.words != nil || decoder.phrases != nil || decoder.lm != nil || decoder.openSpelling
            || decoder.vocabulary != nil || !decoder.addWords.isEmpty {
            throw ValidationError("--words, --phrases, --lm, --vocabulary, --add-words and --open-spelling shape the dictation of --measure words; keywords are spotted without them")
        }
    }

    typealias Measure = LatencyHarness.Measure

    /// One phrase of the recording; its end (seconds) is known when the synthesis gave it.
    struct Phrase { var text: String; var end: Double? }

    static func readTimes(_ path: String) throws -> [Phrase] {
        let lines = try wrap("--times") { try TextFile.lines(path: path, tabs: true) }
        var out: [Phrase] = []
        for line in lines where !line.text.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = line.text.split(separator: "\t")
            guard f.count == 3, let s = Double(f[1]), let e = Double(f[2]), s.isFinite, e.isFinite, e > s else {
                throw InputError("--times \(path):\(line.number): expected 'text<TAB>start<TAB>end'")
            }
            out.append(Phrase(text: String(f[0]), end: e))        // the start only checks the line
        }
        guard !out.isEmpty else { throw InputError("--times \(path): no phrases") }
        return out
    }

    func run() throws {
        let model = try model.load()
        let recordingPath = try recording ?? Self.defaultRecording()
        let timesPath = times ?? (recordingPath as NSString).deletingPathExtension + ".times"
        let phrases: [Phrase]
        if let text {
            phrases = text.split(separator: "|").map { Phrase(text: String($0), end: nil) }.filter { !TokenSet.normalize($0.text).isEmpty }
            guard !phrases.isEmpty else { throw ValidationError("--text '\(text)' has no words") }
        } else {
            phrases = try Self.readTimes(timesPath)
        }
        let pipePath = pipe ?? ProcessInfo.processInfo.environment["HARK_PULSE_PIPE"]
        guard pipePath != nil || playDevice != nil else {
            throw ValidationError("--pipe: give the FIFO of PulseAudio's module-pipe-source (or run scripts/latency, which sets one up), or --play-device")
        }
        let clip = try AudioFileSource(path: recordingPath).readAll()
        // What is timed, and where in the recording each item ends: a phrase's end from the
        // synthesis, or a word's or phrase's end from the model's forced alignment.
        let aligned = align || measure == .words || phrases.contains { $0.end == nil }
        var ends: [(text: String, end: Double)] = phrases.map { (TokenSet.normalize($0.text), $0.end ?? 0) }
        var agreement: (mean: Double, largest: Double)?
        if aligned {
            let words: [WordAlignment.WordEnd]
            do { words = try WordAlignment.wordEnds(samples: clip, phrases: phrases.map(\.text), model: model, weights: self.model.weights) }
            catch {
                // The transcript is at fault when the model cannot spell it; the pairing otherwise.
                let source = text != nil ? "--text" : "--times \(timesPath)"
                throw InputError("\(error is TokenError ? source : "--recording \(recordingPath)"): \(error)")
            }
            let phraseEnds = words.filter(\.endsPhrase)
            let known = zip(phraseEnds, phrases).compactMap { a, p in p.end.map { a.end - $0 } }
            if !known.isEmpty {
                agreement = (known.reduce(0, +) / Double(known.count), known.map(abs).max()!)
            }
            ends = measure == .words ? words.map { ($0.text, $0.end) }
                                     : phraseEnds.map { (TokenSet.normalize(phrases[$0.phrase].text), $0.end) }
        }

        var config = self.model.recognizerConfig()
        if measure == .keywords {
            config.transcribe = false
            config.keywords = Set(ends.map(\.text)).sorted().map { model.keyword($0, threshold: threshold) }
        } else {
            try decoder.apply(to: &config, tokens: model.tokens)
        }
        var harness = LatencyHarness(device: device, player: playDevice.map { .playback($0) } ?? .pipe(pipePath ?? ""),
                                     clip: clip, items: ends, repeats: repeats, measure: measure, recognizer: config)
        var signals: StopSignals?
        harness.capturing = { signals = StopSignals(stopping: $0) }
        let stall = InputOptions.injectedReaderStall()
        harness.beforeBlock = { stall?.tick(MonotonicClock.now()) }
        harness.started = { Terminal.note("playing \(recordingPath) " + $0) }
        var report: LatencyReport
        do { report = try harness.run(model: model) } catch let failure as LatencyHarness.Failure {
            switch failure {
            case let .capture(device, error): throw InputError("--device \(device): \(error)")
            case let .playback(device, error): throw InputError("--play-device \(device): \(error)")
            case let .pipe(path, reason): throw InputError("--pipe \(path): \(reason)")
            case let .read(error): throw error
            }
        }
        _ = signals
        report.aligned = aligned
        report.agreement = agreement
        report.loopback = playDevice
        emit(json ? try report.json() : report.text)
    }

    static func defaultRecording() throws -> String {
        let model = try RecognitionModel.defaultPath()
        return URL(fileURLWithPath: model).deletingLastPathComponent().appendingPathComponent("latency/keywords.wav").path
    }
}

extension LatencyHarness.Measure: ExpressibleByArgument {}
