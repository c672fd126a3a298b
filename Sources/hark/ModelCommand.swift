import ArgumentParser
import Cells
import Decoding
import Foundation
import ModelTraining
import Recognizer
import Stream

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect model files and tune their keyword thresholds and front end.",
        subcommands: [Info.self, Spell.self, Threshold.self, Level.self, Prior.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a model file and describe it: architecture, size, tokens, front end.")

        @Argument(help: ArgumentHelp("A Hark model (.safetensors); default: the one recognition uses ($HARK_MODEL, else the shipped model).",
                                     valueName: "model"))
        var path: String?

        func run() throws {
            let path = try self.path ?? RecognitionModel.defaultPath()
            let model = try ModelFile.load(path: path)
            let recognition = try RecognitionModel(file: model, path: path)      // what recognition would refuse, info refuses
            let c = model.network.config
            print("model:        \(path)")
            print("format:       hark safetensors, version \(ModelFile.version)")
            print("input:        \(c.inputSize) features per frame, \(c.stack) frames stacked every \(c.stride)")
            for (i, l) in c.layers.enumerated() {
                let proj = l.projectionSize > 0 ? ", projection \(l.projectionSize)" : ""
                print("layer \(i):      \(l.kind.rawValue.uppercased()) \(l.inputSize) → \(l.hiddenSize)\(proj)")
            }
            if c.outputSize > 0 {
                print("output:       \(c.outputSize) classes, log-softmax")
                print("tokens:       " + model.tokens.map { $0 == " " ? "␠" : $0 }.joined(separator: " "))
                if let p = recognition.tokens.pronunciation {
                    // Each token character with the espeak-ng phoneme it writes.
                    let names = model.tokens.dropFirst().filter { $0 != " " }.map { "\($0)=\(recognition.tokens.readable($0))" }
                    print("spelling:     phonemes, words pronounced by \(p.engine) \(p.voice): " + names.joined(separator: " "))
                } else {
                    print("spelling:     characters")
                }
            }
            print("parameters:   \(c.parameterCount) (\(c.parameterCount * 4 / 1024) KiB as F32)")
            print("features:     \(model.features ?? "(not recorded)")")
            for (k, v) in model.extra.sorted(by: { $0.key < $1.key }) where k != "pronunciation" { print("\(k): \(v)") }
        }
    }

    struct Spell: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show how a model spells text: its letters, or for a phoneme model the phonemes it listens for.",
            discussion: """
            Each TEXT (or each line of standard input, when none is given) is written as the model \
            hears it: the words a letter model spells, or for a phoneme model each word's espeak-ng \
            pronunciation, by phoneme name ("okay robot" → "oUkeI roUb0t"). A word list, phrase or \
            keyword is matched this way, so a keyword that sounds like another word shows it here. \
            --characters writes the model's token characters instead (as in training transcripts).
            """)

        @Option(help: ArgumentHelp("Model file (default: the shipped model, or $HARK_MODEL).", valueName: "path"))
        var model: String?
        @Flag(help: "Hark's English phonemes (what `hark train --spelling phonemes` trains), without a model.")
        var phonemes = false
        @Flag(help: "The model's token characters rather than phoneme names.")
        var characters = false
        @Argument(help: "Text to spell.") var text: [String] = []

        func validate() throws {
            if phonemes && model != nil { throw ValidationError("give --model or --phonemes, not both") }
        }

        func run() throws {
            let tokens = phonemes ? TokenSet.englishPhonemes : try (model.map { try RecognitionModel(path: $0) } ?? RecognitionModel.shipped()).tokens
            var lines = text
            if lines.isEmpty { while let line = readLine() { lines.append(line) } }
            for line in lines {
                do {
                    let spelled = try tokens.spelling(of: line)
                    print(characters ? spelled : tokens.readable(spelled))
                } catch {
                    throw InputError("\"\(line)\": \(error)")
                }
            }
        }
    }

    struct Threshold: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Choose keyword thresholds on a dev set and store them in a copy of the model.",
            discussion: """
            Runs the keyword spotter over every utterance of --dev (a manifest as scripts/synth.py \
            writes it: utterances that say the keyword and utterances that do not) and takes each \
            keyword's peak score per utterance, under each scoring (ratio and posterior). It keeps \
            the scoring whose peaks where the keyword is said lie furthest above the others (10th \
            percentile over highest, in log). The threshold is halfway between the highest peak \
            where the keyword is not said and the 10th percentile of the peaks where it is (`hark \
            adapt`, whose positives are clean enrolled takes, uses their geometric midpoint), rounded \
            to 0.01. Both are stored in --out, where `hark spot`, `hark \
            eval` and `hark latency` find them. What the model already holds for other keywords is kept.
            """)

        @OptionGroup var model: ModelOptions

        @Option(name: .long, help: ArgumentHelp("A keyword to tune (repeatable).", valueName: "text"))
        var keyword: [String] = []

        @Option(name: .long, help: ArgumentHelp("Manifest of utterances with and without the keywords.", valueName: "manifest"))
        var dev: String

        @Option(name: .long, help: ArgumentHelp("Where the model with the thresholds goes.", valueName: "path"))
        var out: String

        func validate() throws {
            guard !keyword.isEmpty else { throw ValidationError("give at least one --keyword to tune") }
        }

        func run() throws {
            try checkOutputs(out)
            let loaded = try model.load()
            let texts = try keyword.map { try KeywordOptions.text(of: $0, for: loaded) }
            let entries = try Manifest.load(dev)
            var eval = Evaluation(network: try model.batchNetwork(of: loaded), tokens: loaded.tokens, features: loaded.features)
            eval.keywords = KeywordThreshold.candidates(texts)
            let (report, decoded) = try eval.run(entries, modelName: loaded.path, manifestName: dev)
            var tuned: [Keyword] = []
            for var t in KeywordThreshold.tune(texts, report: report, decoded: decoded) {
                let text = t.keyword.text
                guard !t.positive.isEmpty else { throw InputError("--dev \(dev): no utterance says '\(text)'; a threshold needs some that do") }
                guard !t.negative.isEmpty else { throw InputError("--dev \(dev): every utterance says '\(text)'; a threshold needs some that do not") }
                t.keyword.threshold = (t.keyword.threshold * 100).rounded() / 100
                tuned.append(t.keyword)
                let other = t.otherHours >= 0.1 ? String(format: "%.2f h", t.otherHours) : String(format: "%.0f s", t.otherHours * 3600)
                print(String(format: "keyword '%@': %@ peaks where said ≥ %.3f, elsewhere ≤ %.3f → threshold %.2f: catches %d/%d, %d false alarms in %@ of other audio (%@ weights)",
                             text, t.keyword.scoring.rawValue, t.positive.min()!, t.negative.max()!, t.keyword.threshold, t.caught, t.positive.count,
                             t.alarms, other, model.weights.rawValue))
                print("  10th percentile where said / highest elsewhere: "
                      + t.measured.map(KeywordThreshold.describe).joined(separator: ", ") + "; kept \(t.keyword.scoring.rawValue)")
            }
            try loaded.savingTunedKeywords(tuned, to: out)
            print("wrote \(out)")
        }
    }
    struct Level: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the speech levels a model was trained on and store them as its front end's level range.",
            discussion: """
            Computes every --train utterance's speech level with the model's own front end (the \
            highest log energy of its frames smoothed over about 30 ms, as the level normalizer \
            tracks it) and stores the 10th and 90th percentile in a copy of the model as its \
            level range: recognition then raises a stream whose speech stays below the range for \
            0.4 s and lowers one above it, and leaves a stream inside it untouched (README: \
            "Quiet and loud recordings"). --quick-start raises a stream's first quiet speech at \
            once instead (for a network trained with it). --lookahead holds a stream's first \
            frames back and gives them all the gain their level calls for, so a recording that \
            starts on its first word is heard at its level from the start (alone, without \
            --train, it keeps the model's range). --off removes the range.
            """)

        @OptionGroup var model: ModelOptions

        @OptionGroup var speech: TrainingSpeechSample

        @Flag(name: .long, help: "Remove the level range (no level normalization).")
        var off = false

        @Flag(name: .long, help: "Raise a stream's first quiet speech at once rather than after 0.4 s (train the network with it).")
        var quickStart = false

        @Option(name: .long, help: ArgumentHelp("Seconds of a stream's start measured together before its first frame is released (0 to 1; 0: none).",
                                                valueName: "seconds"))
        var lookahead: Double?

        @Option(name: .long, help: ArgumentHelp("Where the model with the level range goes.", valueName: "path"))
        var out: String

        func validate() throws {
            try OptionRange.check("--lookahead", lookahead, 0, 1, unit: "seconds")
            guard speech.train == nil || !off else { throw ValidationError("give --train MANIFEST to measure the range, or --off to remove it, not both") }
            guard speech.train != nil || off || lookahead != nil else {
                throw ValidationError("give --train MANIFEST to measure the range, --lookahead to set it on the model's range, or --off to remove it")
            }
            guard !(off && (quickStart || lookahead != nil)) else { throw ValidationError("--quick-start and --lookahead need a level range: not --off") }
        }

        /// --lookahead in frames of the model's front end (nil when not given or 0).
        func lookaheadFrames(_ features: LogMelConfig) -> Int? {
            guard let lookahead, lookahead > 0 else { return nil }
            return max(1, Int((lookahead * features.framesPerSecond).rounded()))
        }

        func run() throws {
            try checkOutputs(out)
            let loaded = try model.load()
            if off {
                try loaded.savingLevelRange(nil, to: out)
                print("wrote \(out) without a level range")
                return
            }
            guard let train = speech.train else {
                guard var range = loaded.features.levelRange else {
                    throw InputError("\(model.model ?? "the shipped model"): it has no level range to look ahead with; measure one with --train MANIFEST")
                }
                range.lookahead = lookaheadFrames(loaded.features)
                if quickStart { range.quickStart = true }
                try loaded.savingLevelRange(range, to: out)
                print("wrote \(out) with level range \(range.low)…\(range.high)\(describe(range))")
                return
            }
            var plain = loaded.features
            plain.levelRange = nil
            var levels: [Float] = []
            try speech.forEach(of: train, features: plain) { levels.append(LevelNormalizer.speechLevel(of: $0)) }
            levels.sort()
            func percentile(_ p: Double) -> Float { levels[min(levels.count - 1, Int(p * Double(levels.count - 1)))] }
            let range = LevelRange(low: (percentile(0.1) * 100).rounded() / 100, high: (percentile(0.9) * 100).rounded() / 100,
                                   quickStart: quickStart ? true : nil, lookahead: lookaheadFrames(loaded.features))
            let dB: (Float) -> String = { String(format: "%.1f dB", $0 * 10 / logf(10)) }
            print("\(levels.count) utterances of \(train): speech level 10th percentile \(range.low), median \(percentile(0.5)), 90th \(range.high) "
                  + "(log energy; the range spans \(dB(range.high - range.low)))")
            try loaded.savingLevelRange(range, to: out)
            print("wrote \(out) with level range \(range.low)…\(range.high)\(describe(range))")
        }

        func describe(_ range: LevelRange) -> String {
            (range.quickStart == true ? ", quick start" : "") + (range.lookahead.map { ", lookahead \($0) frames" } ?? "")
        }
    }

    struct Prior: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mean-prior",
            abstract: "Measure the training speech's mean log-mel frame and store it as the mean normalization's prior.",
            discussion: """
            For a model whose front end has mean normalization (online CMN, 'meanWindow' in \
            `hark model info`). Without a prior a stream's first frames are normalized by their own \
            mean, so its first word is measured against itself; with one, the first --frames frames \
            count the training speech's mean (of every frame of --train, computed with the model's \
            front end before mean normalization) as the frames still missing, like Kaldi's global \
            CMN statistics. Train the network with it (hark train --initial). --off removes it.
            """)

        @OptionGroup var model: ModelOptions

        @OptionGroup var speech: TrainingSpeechSample

        @Option(name: .long, parsing: .unconditional, help: "Frames the prior stands for at a stream's start (1 to the mean window).")
        var frames: Int = 100

        @Flag(name: .long, help: "Remove the prior.")
        var off = false

        @Option(name: .long, help: ArgumentHelp("Where the model with the prior goes.", valueName: "path"))
        var out: String

        func validate() throws {
            guard (speech.train != nil) != off else { throw ValidationError("give --train MANIFEST to measure the prior, or --off to remove it") }
            try OptionRange.check("--frames", frames, 1, 100_000)
        }

        func run() throws {
            try checkOutputs(out)
            let loaded = try model.load()
            guard let window = loaded.features.meanWindow else {
                throw InputError("\(loaded.path): the model's front end has no mean normalization ('meanWindow'), so a prior has nothing to do")
            }
            guard frames <= window else { throw ValidationError("--frames \(frames) is longer than the model's mean window (\(window) frames)") }
            guard let train = speech.train else {
                try loaded.savingMeanPrior(nil, to: out)
                print("wrote \(out) without a mean prior")
                return
            }
            var plain = loaded.features
            plain.meanWindow = nil
            plain.meanPrior = nil
            var sums = [Double](repeating: 0, count: plain.melBands), count = 0
            let utterances = try speech.forEach(of: train, features: plain) { m in
                for r in 0..<m.rows { for b in 0..<m.cols { sums[b] += Double(m.values[r * m.cols + b]) } }
                count += m.rows
            }
            guard count > 0 else { throw InputError("--train \(train): its utterances are too short for a single frame") }
            let mean = sums.map { Float($0 / Double(count)) }
            try loaded.savingMeanPrior(MeanPrior(frames: frames, mean: mean), to: out)
            print("\(utterances) utterances of \(train), \(count) frames: mean log-mel \(String(format: "%.2f", mean.reduce(0, +) / Float(mean.count))) (over bands)")
            print("wrote \(out) with a mean prior of \(frames) frames")
        }
    }
}

/// The training speech a front-end statistic is measured on (`model level`, `model mean-prior`): a
/// manifest, and how many of its utterances, spread evenly over it.
struct TrainingSpeechSample: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Manifest of the model's training speech.", valueName: "manifest"))
    var train: String?

    @Option(name: .long, parsing: .unconditional, help: "Use at most this many utterances, spread over the manifest (1 to 1000000).")
    var limit: Int = 2_000

    func validate() throws {
        try OptionRange.check("--limit", limit, 1, 1_000_000)
    }

    /// The features of up to `limit` utterances of the manifest `train`, computed with `features`
    /// and handed to `body` one at a time; returns how many there were.
    @discardableResult
    func forEach(of train: String, features: LogMelConfig, _ body: (FeatureMatrix) -> Void) throws -> Int {
        let all = try Manifest.load(train)
        let step = max(1, all.count / limit)
        let entries = stride(from: 0, to: all.count, by: step).prefix(limit).map { all[$0] }
        let extractor = try LogMelSpectrogram(features)
        for e in entries {
            let samples = try wrap("--train") { try AudioFileSource(path: e.audio).readAll() }
            body(extractor.frames(of: samples))
        }
        return entries.count
    }
}
