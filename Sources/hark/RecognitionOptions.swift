import ArgumentParser
import Cells
import Decoding
import Foundation
import ModelTraining
import Recognizer

/// `--model`, shared by every command that recognizes.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model file (default: the shipped model, share/model.safetensors, or $HARK_MODEL).",
                                            valueName: "path"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Network step weights: int8 (8-bit copies, a quarter of the memory traffic) or float (the model's own).",
                                            valueName: "int8|float"))
    var weights: StepWeights = RecognizerConfig().weights

    func load() throws -> RecognitionModel {
        if let model { return try RecognitionModel(path: model) }
        let path = try RecognitionModel.defaultPath()
        guard let env = ProcessInfo.processInfo.environment["HARK_MODEL"], !env.isEmpty else { return try RecognitionModel(path: path) }
        do { return try RecognitionModel(path: path) } catch { throw InputError("$HARK_MODEL (\(env)): \(error)") }
    }

    /// The recognizer settings these options decide (the step weights); commands add the rest.
    func recognizerConfig() -> RecognizerConfig {
        var config = RecognizerConfig()
        config.weights = weights
        return config
    }

    /// The network for batched passes (evaluation, threshold tuning), as the live step computes
    /// it: with 8-bit step weights, the network rounded to them.
    func batchNetwork(of model: RecognitionModel) throws -> Network<Float> {
        weights == .int8 ? try model.network.roundedToInt8(model.int8Weights) : model.network
    }
}

/// What the decoder may produce and when utterances end.
struct DecoderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Restrict recognition to these words, one per line (any sequence of them).",
                                            valueName: "file"))
    var words: String?

    @Option(name: .long, help: ArgumentHelp("Restrict each utterance to exactly one of these phrases, one per line (commands).",
                                            valueName: "file"))
    var phrases: String?

    @Option(name: .long, help: ArgumentHelp("Word n-gram language model in ARPA format (with --words).", valueName: "file"))
    var lm: String?

    @Option(name: .long, parsing: .unconditional, help: "Beam width of the search (1 to 256; the time per step grows with it).")
    var beam: Int = BeamSearchConfig().beamWidth

    @Option(name: .long, parsing: .unconditional, help: "Weight of the language model's log-probability (0 to 10).")
    var lmWeight: Float = BeamSearchConfig().lmWeight

    @Option(name: .long, parsing: .unconditional, help: "Score added per word (positive: more words; negative: fewer; -20 to 20).")
    var wordBonus: Float = BeamSearchConfig().wordBonus

    @Option(name: .long, parsing: .unconditional, help: "Seconds of silence that end an utterance (at most 60).")
    var trailingSilence: Double = EndpointConfig().trailingSilence

    @Option(name: .long, parsing: .unconditional, help: "Longest utterance in seconds before it is cut (1 to 600).")
    var maxUtterance: Double = EndpointConfig().maxUtterance

    func validate() throws {
        if words != nil && phrases != nil { throw ValidationError("--words and --phrases exclude each other; give one") }
        if lm != nil && words == nil { throw ValidationError("--lm needs --words (the vocabulary the model scores)") }
        try DecoderOptions.checkSearch(beam: beam, lmWeight: lmWeight, wordBonus: wordBonus)
        try OptionRange.check("--trailing-silence", trailingSilence, 0, EndpointConfig.trailingSilences.upperBound, exclusiveLow: true, unit: "seconds")
        try OptionRange.check("--max-utterance", maxUtterance, EndpointConfig.maxUtterances.lowerBound, EndpointConfig.maxUtterances.upperBound,
                              unit: "seconds")
    }

    /// The search options' ranges (`BeamSearchConfig`'s), shared with `hark eval`.
    static func checkSearch(beam: Int, lmWeight: Float, wordBonus: Float) throws {
        try OptionRange.check("--beam", beam, BeamSearchConfig.beamWidths.lowerBound, BeamSearchConfig.beamWidths.upperBound)
        try OptionRange.check("--lm-weight", lmWeight, BeamSearchConfig.lmWeights.lowerBound, BeamSearchConfig.lmWeights.upperBound)
        try OptionRange.check("--word-bonus", wordBonus, BeamSearchConfig.bonuses.lowerBound, BeamSearchConfig.bonuses.upperBound)
    }

    func apply(to config: inout RecognizerConfig, tokens: TokenSet) throws {
        if let words {
            config.grammar = .words(try wrap("--words") { try Grammar.readList(path: words, tokens: tokens) })
        }
        if let phrases {
            config.grammar = .phrases(try wrap("--phrases") { try Grammar.readList(path: phrases, tokens: tokens) })
        }
        if let lm { config.languageModel = try wrap("--lm") { try ArpaLanguageModel(path: lm) } }
        config.beam.beamWidth = beam
        config.beam.lmWeight = lmWeight
        config.beam.wordBonus = wordBonus
        config.endpoint.trailingSilence = trailingSilence
        config.endpoint.maxUtterance = maxUtterance
    }
}

/// `--keyword` and `--threshold`, shared by the commands that spot keywords.
struct KeywordOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A keyword or phrase to spot (repeat for several).", valueName: "text"))
    var keyword: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue, help: ArgumentHelp("Score threshold 0–1: one for all keywords, or one per --keyword in order (default: the model's tuned one, else 0.22, chosen on dev).",
                                            valueName: "score"))
    var threshold: [Float] = []

    func validate() throws {
        guard threshold.isEmpty || threshold.count == 1 || threshold.count == keyword.count else {
            throw ValidationError("give one --threshold for all keywords or one per --keyword (\(keyword.count)), not \(threshold.count)")
        }
        for t in threshold where !(t > 0 && t <= 1) {
            throw ValidationError("--threshold must be in (0, 1], not \(t)")
        }
        // The same keyword twice would fire twice for every hit (and two thresholds for it are a contradiction).
        var seen: [String: String] = [:]
        for k in keyword {
            let text = Keyword(k).text
            if let first = seen[text] { throw ValidationError("--keyword '\(k)' is given twice (as '\(first)'); give each keyword once") }
            seen[text] = k
        }
    }

    /// The keywords, each with its threshold: the one given, else the one `hark adapt` or `hark
    /// model threshold` stored in the model, else the default; and with the scoring stored with
    /// it. A keyword that is empty or that the model cannot spell is an error naming it.
    func keywords(for model: RecognitionModel) throws -> [Keyword] {
        try keyword.enumerated().map { i, k in
            model.keyword(try Self.text(of: k, for: model), threshold: threshold.isEmpty ? nil : threshold[threshold.count == 1 ? 0 : i])
        }
    }

    /// A `--keyword` as the spotter will see it (normalized); empty, or a letter the model cannot
    /// spell, is an error naming it.
    static func text(of k: String, for model: RecognitionModel) throws -> String {
        let text = Keyword(k).text
        guard !text.isEmpty else { throw ValidationError("--keyword '\(k)' is empty") }
        do { _ = try model.tokens.encode(text) } catch { throw ValidationError("--keyword '\(k)': \(error)") }
        return text
    }
}

extension KeywordSpotter.Scoring {
    /// How output names a keyword's scoring before its threshold: nothing for ratio, the default
    /// (so those lines read as they always have), else "posterior ".
    var label: String { self == .ratio ? "" : rawValue + " " }
}

/// Progress of a training run on stderr: on a terminal one line rewritten in place, in a log one
/// line every 30 s; finished lines (epochs, notes) always.
func showProgress(of run: TrainingRun) {
    let tty = Terminal.stderrIsTTY
    let throttle = Throttle(seconds: 30)
    run.progress = { line in
        if tty { Terminal.write(stderrLine: "\r\u{1B}[K" + line) } else if throttle.ready() { Terminal.write(stderrLine: line + "\n") }
    }
    run.log = { line in Terminal.write(stderrLine: (tty ? "\r\u{1B}[K" : "") + line + "\n") }
}

/// Errors in files named by options name the option; they are bad input (exit 1), not a
/// mistake in the command line.
func wrap<T>(_ option: String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw InputError("\(option) \(error)") }
}

/// A Foundation error in words: the POSIX reason where there is one, never "NSCocoaErrorDomain
/// error 256" or "The data isn't in the correct format".
func describe(_ error: Error) -> String {
    let ns = error as NSError
    if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(posix.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if let decoding = error as? DecodingError { return TrainCommand.describe(decoding) }
    return ns.domain == NSCocoaErrorDomain ? (ns.localizedFailureReason ?? "\(error)") : "\(error)"
}

/// JSON lines on stdout, keys sorted so that output is stable.
enum JSONLines {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func line<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

func emit(_ line: String) { Terminal.emit(line) }

func roundTo(_ x: Double, _ digits: Double = 1000) -> Double { (x * digits).rounded() / digits }

extension Word {
    /// Millisecond times and three-digit confidence, for output.
    var rounded: Word {
        var w = self
        w.start = roundTo(start); w.end = roundTo(end); w.confidence = roundTo(confidence)
        return w
    }
}

extension StepWeights: ExpressibleByArgument {}
