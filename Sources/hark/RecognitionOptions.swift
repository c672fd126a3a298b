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

/// What the decoder may produce and when utterances end. With no word or phrase list, transcripts
/// are dictation in the words of Hark's English vocabulary, scored by its language model.
struct DecoderOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Restrict recognition to these words, one per line (any sequence of them).",
                                            valueName: "file"))
    var words: String?

    @Option(name: .long, help: ArgumentHelp("Restrict each utterance to exactly one of these phrases, one per line (commands).",
                                            valueName: "file"))
    var phrases: String?

    @Option(name: .long, help: ArgumentHelp("Word n-gram language model: ARPA for --words; ARPA or Hark's compact form (hark lm compile) in place of dictation's shipped one.",
                                            valueName: "file"))
    var lm: String?

    @Option(name: .long, help: ArgumentHelp("Add the words of this list (one per line: names, jargon, commands) to dictation's vocabulary (repeatable).",
                                            valueName: "file"))
    var addWords: [String] = []

    @Option(name: .long, help: ArgumentHelp("Dictation vocabulary in place of the shipped English one (one word per line, most frequent first).",
                                            valueName: "file"))
    var vocabulary: String?

    @Flag(name: .long, help: "Write what the model hears, phoneme by phoneme (or letter by letter for a letter model), instead of words of the vocabulary.")
    var openSpelling = false

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Beam width of the search (1 to 256; the time per step grows with it) (default: \(WordSearchConfig().beamWidth) for dictation, \(BeamSearchConfig().beamWidth) otherwise).",
                                                                     valueName: "n"))
    var beam: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Weight of the language model's log-probability (0 to 10) (default: \(WordSearchConfig().lmWeight) for dictation, \(BeamSearchConfig().lmWeight) with --words).",
                                                                     valueName: "weight"))
    var lmWeight: Float?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Score added per word (positive: more words; negative: fewer; -20 to 20) (default: \(WordSearchConfig().wordBonus) for dictation, \(BeamSearchConfig().wordBonus) with --words).",
                                                                     valueName: "score"))
    var wordBonus: Float?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Subtracted from the blank's log-posterior before the search reads it (0 to 20; larger: fewer deleted words, more inserted) (default: \(WordSearchConfig().blankPenalty) for dictation, \(BeamSearchConfig().blankPenalty) with --words or --phrases).",
                                                                     valueName: "ln"))
    var blankPenalty: Float?

    @Option(name: .long, parsing: .unconditional, help: "Seconds of silence that end an utterance (at most 60).")
    var trailingSilence: Double = EndpointConfig().trailingSilence

    @Option(name: .long, parsing: .unconditional, help: "Longest utterance in seconds before it is cut (1 to 600).")
    var maxUtterance: Double = EndpointConfig().maxUtterance

    /// Whether transcripts are dictation in words (no list, no --open-spelling).
    var dictation: Bool { words == nil && phrases == nil && !openSpelling }

    func validate() throws {
        if words != nil && phrases != nil { throw ValidationError("--words and --phrases exclude each other; give one") }
        if lm != nil && phrases != nil { throw ValidationError("--lm scores words: it goes with --words or dictation, not --phrases") }
        if lm != nil && openSpelling { throw ValidationError("--lm scores words; --open-spelling spells characters without one") }
        if !dictation, !addWords.isEmpty || vocabulary != nil {
            let option = addWords.isEmpty ? "--vocabulary" : "--add-words"
            let other = words != nil ? "--words" : phrases != nil ? "--phrases" : "--open-spelling"
            throw ValidationError("\(option) extends dictation's vocabulary; with \(other) there is none (add the words to that list instead)")
        }
        try DecoderOptions.checkSearch(beam: beam, lmWeight: lmWeight, wordBonus: wordBonus, blankPenalty: blankPenalty)
        try OptionRange.check("--trailing-silence", trailingSilence, 0, EndpointConfig.trailingSilences.upperBound, exclusiveLow: true, unit: "seconds")
        try OptionRange.check("--max-utterance", maxUtterance, EndpointConfig.maxUtterances.lowerBound, EndpointConfig.maxUtterances.upperBound,
                              unit: "seconds")
    }

    /// The search options' ranges (`BeamSearchConfig`'s), shared with `hark eval`; nil: not given.
    static func checkSearch(beam: Int?, lmWeight: Float?, wordBonus: Float?, blankPenalty: Float?) throws {
        try OptionRange.check("--beam", beam, BeamSearchConfig.beamWidths.lowerBound, BeamSearchConfig.beamWidths.upperBound)
        try OptionRange.check("--lm-weight", lmWeight, BeamSearchConfig.lmWeights.lowerBound, BeamSearchConfig.lmWeights.upperBound)
        try OptionRange.check("--word-bonus", wordBonus, BeamSearchConfig.bonuses.lowerBound, BeamSearchConfig.bonuses.upperBound)
        try OptionRange.check("--blank-penalty", blankPenalty, BeamSearchConfig.blankPenalties.lowerBound, BeamSearchConfig.blankPenalties.upperBound)
    }

    func apply(to config: inout RecognizerConfig, tokens: TokenSet) throws {
        if let words {
            config.grammar = .words(try wrap("--words") { try Grammar.readList(path: words, tokens: tokens) })
            if let lm { config.languageModel = try wrap("--lm") { try ArpaLanguageModel(path: lm) } }
        }
        if let phrases {
            config.grammar = .phrases(try wrap("--phrases") { try Grammar.readList(path: phrases, tokens: tokens) })
        }
        if openSpelling { config.dictation = .spelling }
        if dictation, let d = try dictationChoice(tokens: tokens) { config.dictation = .custom(d) }
        Self.applySearch(beam: beam, lmWeight: lmWeight, wordBonus: wordBonus, blankPenalty: blankPenalty, to: &config.beam, &config.wordSearch)
        config.endpoint.trailingSilence = trailingSilence
        config.endpoint.maxUtterance = maxUtterance
    }

    /// The search options given (nil: each search keeps its own default) into both searches' settings,
    /// shared with `hark eval`.
    static func applySearch(beam: Int?, lmWeight: Float?, wordBonus: Float?, blankPenalty: Float?,
                            to characters: inout BeamSearchConfig, _ words: inout WordSearchConfig) {
        if let beam { characters.beamWidth = beam; words.beamWidth = beam }
        if let lmWeight { characters.lmWeight = lmWeight; words.lmWeight = lmWeight }
        if let wordBonus { characters.wordBonus = wordBonus; words.wordBonus = wordBonus }
        if let blankPenalty { characters.blankPenalty = blankPenalty; words.blankPenalty = blankPenalty }
    }

    /// Dictation's vocabulary and language model when the options change the shipped ones; nil
    /// for the shipped pair as it is (loaded once, by the recognizer).
    func dictationChoice(tokens: TokenSet) throws -> Dictation? {
        try Self.dictation(vocabulary: vocabulary, lm: lm, lmOption: "--lm", addWords: addWords, tokens: tokens)
    }

    /// The shipped vocabulary and language model with these in place of them or added; nil when
    /// nothing changes them. Errors name the option and the file.
    static func dictation(vocabulary: String?, lm: String?, lmOption: String, addWords: [String], tokens: TokenSet) throws -> Dictation? {
        guard lm != nil || vocabulary != nil || !addWords.isEmpty else { return nil }
        let shipped = (vocabulary == nil || lm == nil) ? try Dictation.defaultPaths() : nil
        let vocabularyPath = vocabulary ?? shipped!.vocabulary, lmPath = lm ?? shipped!.languageModel
        var words = try wrap("--vocabulary") { try Vocabulary(path: vocabularyPath, tokens: tokens) }
        let listed = words.count
        for file in addWords { try wrap("--add-words") { try words.add(path: file, tokens: tokens) } }
        let model = try wrap(lmOption) { try LanguageModelFile.load(path: lmPath) }
        return try Dictation(words: words, added: words.count - listed, languageModel: model, tokens: tokens,
                             vocabularyPath: vocabularyPath, languageModelPath: lmPath)
    }
}

/// `--keyword` and `--threshold`, shared by the commands that spot keywords.
struct KeywordOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A keyword or phrase to spot (repeat for several).", valueName: "text"))
    var keyword: [String] = []

    @Option(name: .long, parsing: .unconditionalSingleValue, help: ArgumentHelp("Score threshold 0–1: one for all keywords, or one per --keyword in order (default: the model's tuned one, else \(KeywordSpotter.defaultThreshold), chosen on the human dev half).",
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
