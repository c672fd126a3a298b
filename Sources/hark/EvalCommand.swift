import ArgumentParser
import Decoding
import Foundation
import ModelTraining
import Recognizer
import Stream

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model on a manifest: error rates per category, keyword recall and false alarms.",
        discussion: """
        Every utterance is decoded greedily, and where its category has a vocabulary \
        (--words digits=share/vocab/digits.txt, --phrases commands=share/vocab/commands.txt; \
        category '*' for every other category) also by the beam search constrained to it. \
        Each --keyword is spotted in every utterance: a hit in an utterance whose transcript holds \
        the keyword (as whole words) counts toward recall, any other hit is a false alarm, \
        reported per hour of the audio without the keyword.
        """)

    @Argument(help: ArgumentHelp("Manifest (JSONL with audio, text, category).", valueName: "manifest"))
    var manifest: String

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: ArgumentHelp("CATEGORY=FILE: decode that category constrained to a word list.", valueName: "category=file"))
    var words: [String] = []

    @Option(name: .long, help: ArgumentHelp("CATEGORY=FILE: decode that category constrained to a phrase list.", valueName: "category=file"))
    var phrases: [String] = []

    @Option(name: .long, help: ArgumentHelp("ARPA language model for the word-list categories.", valueName: "file"))
    var lm: String?

    @Option(name: .long, help: ArgumentHelp("CATEGORY: decode that category as dictation, in the words of the shipped English vocabulary scored by its language model ('*': every category without a list; repeatable).",
                                            valueName: "category"))
    var dictation: [String] = []
    @Option(name: .long, help: ArgumentHelp("Dictation vocabulary in place of the shipped one.", valueName: "file")) var vocabulary: String?
    @Option(name: .long, help: ArgumentHelp("Dictation language model (ARPA or compact) in place of the shipped one.", valueName: "file"))
    var dictationLm: String?
    @Option(name: .long, help: ArgumentHelp("Add these words to dictation's vocabulary (repeatable).", valueName: "file")) var addWords: [String] = []

    @Option(name: .long, parsing: .unconditional, help: "Beam width (1 to 256; default \(WordSearchConfig().beamWidth) for dictation, \(BeamSearchConfig().beamWidth) for lists).")
    var beam: Int?
    @Option(name: .long, parsing: .unconditional, help: "Language-model weight (0 to 10; default \(WordSearchConfig().lmWeight) for dictation, \(BeamSearchConfig().lmWeight) for word lists).")
    var lmWeight: Float?
    @Option(name: .long, parsing: .unconditional, help: "Score added per word (-20 to 20; default \(WordSearchConfig().wordBonus) for dictation, \(BeamSearchConfig().wordBonus) for word lists).")
    var wordBonus: Float?
    @Option(name: .long, parsing: .unconditional, help: "Subtracted from the blank's log-posterior before the searches read it (0 to 20; default \(WordSearchConfig().blankPenalty) for dictation, \(BeamSearchConfig().blankPenalty) for lists).")
    var blankPenalty: Float?
    @Option(name: .long, parsing: .unconditional, help: "Dictation: drop hypotheses this far (ln) below the best (1 to 1000).")
    var beamThreshold: Float = WordSearchConfig().beamThreshold
    @Option(name: .long, parsing: .unconditional, help: "Dictation: letters below this log-posterior are not tried.")
    var labelFloor: Float = WordSearchConfig().labelFloor
    @Option(name: .long, parsing: .unconditional, help: "Dictation: ln-score of a word boundary without a space (≤ 0).")
    var missingSpace: Float = WordSearchConfig().missingSpace
    @Option(name: .long, parsing: .unconditional, help: "Score added per character of a phrase (phrase lists; -20 to 20).")
    var phraseBonus: Float = BeamSearchConfig().phraseCharacterBonus

    @OptionGroup var keywords: KeywordOptions

    @Option(name: .long, help: "Keyword score: ratio (to the best free path) or posterior (default: the one tuned for the keyword in the model, else ratio).")
    var scoring: KeywordSpotter.Scoring?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Also report each keyword's recall at the lowest threshold with at most this many false alarms per hour.",
                                            valueName: "per-hour"))
    var falseAlarmTarget: Double?
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("""
        Hear each utterance as live use hears the next one after a pause: the front end has heard \
        the same speaker's previous utterance (manifest order; 'speaker', else 'source') and this \
        many seconds of silence, so its level has risen to the voice; the network starts clean, as \
        the endpointer resets it. A speaker's first utterance stays a cold start (0 to 60).
        """, valueName: "seconds"))
    var warm: Double?
    @Option(name: .long, parsing: .unconditional, help: "Worker threads for features (1 to 256).") var threads: Int = 2
    @Flag(name: .long, help: "Print the report as JSON.") var json = false
    @Option(name: .long, help: ArgumentHelp("Also write every utterance's reference and hypotheses as JSONL here.", valueName: "path"))
    var details: String?

    func validate() throws {
        try DecoderOptions.checkSearch(beam: beam, lmWeight: lmWeight, wordBonus: wordBonus, blankPenalty: blankPenalty)
        try OptionRange.check("--beam-threshold", beamThreshold, WordSearchConfig.beamThresholds.lowerBound, WordSearchConfig.beamThresholds.upperBound)
        try OptionRange.check("--label-floor", labelFloor, -1000, 0)
        try OptionRange.check("--missing-space", missingSpace, -1000, 0)
        if dictation.isEmpty, vocabulary != nil || dictationLm != nil || !addWords.isEmpty {
            throw ValidationError("--vocabulary, --dictation-lm and --add-words change dictation; give --dictation CATEGORY too")
        }
        try OptionRange.check("--phrase-bonus", phraseBonus, BeamSearchConfig.bonuses.lowerBound, BeamSearchConfig.bonuses.upperBound)
        try OptionRange.check("--false-alarm-target", falseAlarmTarget, 0, 3600, unit: "per hour")
        for (option, list) in [("--words", words), ("--phrases", phrases)] {
            for spec in list where spec.firstIndex(of: "=").map({ $0 == spec.startIndex }) ?? true {
                throw ValidationError("\(option) takes CATEGORY=FILE, not '\(spec)'")
            }
        }
        try OptionRange.check("--threads", threads, 1, 256)
        try OptionRange.check("--warm", warm, 0, 60, unit: "seconds")
    }

    func run() throws {
        if let details { try checkOutputs(details) }
        let model = try model.load()
        let entries = try Manifest.load(manifest)
        var eval = Evaluation(network: try self.model.batchNetwork(of: model), tokens: model.tokens, features: model.features)
        for (option, list, phrase) in [("--words", words, false), ("--phrases", phrases, true)] {
            for spec in list {
                let eq = spec.firstIndex(of: "=")!                // checked in validate()
                let category = String(spec[..<eq]), file = String(spec[spec.index(after: eq)...])
                let lexicon = try wrap(option) { try Grammar.readList(path: file, tokens: model.tokens) }
                eval.vocabularies[category] = .init(name: URL(fileURLWithPath: file).lastPathComponent,
                                                    grammar: phrase ? .phrases(lexicon) : .words(lexicon))
            }
        }
        if let lm { eval.languageModel = try wrap("--lm") { try ArpaLanguageModel(path: lm) } }
        if !dictation.isEmpty {
            let d = try DecoderOptions.dictation(vocabulary: vocabulary, lm: dictationLm, lmOption: "--dictation-lm", addWords: addWords,
                                                 tokens: model.tokens) ?? Dictation.shipped(tokens: model.tokens)
            for category in dictation where eval.vocabularies[category] == nil {
                eval.vocabularies[category] = .init(name: "dictation \(d.wordCount)", dictation: d.resources)
            }
        }
        DecoderOptions.applySearch(beam: beam, lmWeight: lmWeight, wordBonus: wordBonus, blankPenalty: blankPenalty, to: &eval.beam, &eval.wordSearch)
        eval.wordSearch.beamThreshold = beamThreshold
        eval.wordSearch.labelFloor = labelFloor
        eval.wordSearch.missingSpace = missingSpace
        eval.beam.phraseCharacterBonus = phraseBonus
        eval.threads = threads
        eval.warmGap = warm
        eval.keywords = try keywords.keywords(for: model).map { k in
            var k = k
            if let scoring { k.scoring = scoring }
            return k
        }
        let tty = Terminal.stderrIsTTY
        var (report, decoded) = try eval.run(entries, modelName: model.path, manifestName: manifest) { done, total in
            if tty, done % 50 == 0 || done == total { Terminal.write(stderrLine: "\r\u{1B}[Kfeatures \(done)/\(total)") }
        }
        if tty { Terminal.write(stderrLine: "\r\u{1B}[K") }
        report.weights = self.model.weights.rawValue
        if let details {
            let phonemes = model.tokens.pronunciation != nil
            let lines = decoded.map { d in
                var fields = ["audio": d.entry.audio, "category": d.entry.category, "reference": TokenSet.normalize(d.entry.text),
                              "greedy": d.greedy, "constrained": d.constrained ?? "",
                              "hits": d.hits.map { "\($0.keyword)@\($0.lastStep):\(String(format: "%.3f", $0.score))" }.joined(separator: " "),
                              "peaks": d.peaks.map { String(format: "%.3f", $0) }.joined(separator: " ")]
                // A phoneme model's greedy transcript is in phonemes: the reference it is scored against.
                if phonemes { fields["spelled"] = (try? model.tokens.spelling(of: d.entry.text)) ?? "" }
                return JSONLines.line(fields)
            }
            try OutputFile.check(details).write(Array((lines.joined(separator: "\n") + "\n").utf8))
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            emit(String(decoding: try e.encode(report), as: UTF8.self))
            return
        }
        func pct(_ x: Double?) -> String { x.map { String(format: "%6.2f%%", 100 * $0) } ?? "     – " }
        print("model \(report.model) (\(report.weights ?? "?") step weights), \(report.manifest): \(report.utterances) utterances, "
              + String(format: "%.2f h, real-time factor %.4f (network and decoders)", report.hours, report.realTimeFactor))
        if let gap = report.warmGap, let warm = report.warmUtterances {
            print(String(format: "warm: %d of %d utterances heard after their speaker's previous one and %.1f s of silence (front end carried over, network reset)",
                         warm, report.utterances, gap))
        }
        print("category     utts  greedy CER  greedy WER   vocabulary         CER      WER")
        for c in report.categories {
            print(c.category.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: " %6d", c.utterances)
                  + "     \(pct(c.greedyCER))     \(pct(c.greedyWER))   "
                  + (c.vocabulary ?? "–").padding(toLength: 16, withPad: " ", startingAt: 0) + " \(pct(c.constrainedCER))  \(pct(c.constrainedWER))")
        }
        for c in report.categories where c.referenceWords == 0 {
            print("\(c.category): no words to recognize (rates undefined); greedy decoding inserted \(c.greedyWordErrors) words")
        }
        if let target = falseAlarmTarget, !eval.keywords.isEmpty {
            for (k, keyword) in eval.keywords.enumerated() {
                let r = Evaluation.recall(atFalseAlarms: target, peaks: decoded.map { $0.peaks[k] }, entries: entries,
                                    seconds: decoded.map(\.seconds), keyword: keyword.text)
                print(String(format: "keyword '%@' at ≤ %.2f false alarms per hour: recall %.1f%% (%@threshold %.2f, %d false alarms in %.2f h)",
                             keyword.text, target, 100 * r.recall, keyword.scoring.label, r.threshold, r.falseAlarms, r.hours))
            }
        }
        for k in report.keywords {
            print("keyword '\(k.keyword)' \(k.scoring.label)≥ \(String(format: "%.2f", k.threshold)): recall \(k.detected)/\(k.occurrences) = \(pct(k.recall)), "
                  + "false alarms \(k.falseAlarms) in " + String(format: "%.2f h = %@ per hour", k.otherHours,
                                                                  k.falseAlarmsPerHour.map { String(format: "%.2f", $0) } ?? "–"))
            if let low = k.lowestPeakWithKeyword, let high = k.highestPeakElsewhere {
                print(String(format: "keyword '%@' %@peak scores: lowest where it is said %.3f, highest elsewhere %.3f: %@", k.keyword, k.scoring.label, low, high,
                             low > high ? String(format: "every threshold above %.3f and up to %.3f catches all with no false alarm", high, low)
                                        : "no threshold separates them"))
            }
        }
    }
}

extension KeywordSpotter.Scoring: ExpressibleByArgument {}
