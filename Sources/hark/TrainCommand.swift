import ArgumentParser
import Cells
import Foundation
import ModelTraining
import Recognizer
import Stream

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a character model with CTC on manifests of audio and transcripts.",
        discussion: """
        Manifests are JSONL files as scripts/synth.py writes them: one {"audio", "text", "category"} \
        object per line. Features come from Hark's own front end. After every epoch the dev set is \
        decoded (greedy) and scored; the best model so far is written to --out, and a checkpoint \
        with the optimizer's state and position to <out>.checkpoint, both atomically, after every \
        epoch and every --checkpoint-minutes within one. --resume continues from the checkpoint, \
        mid-epoch too, exactly as if never interrupted; SIGINT or SIGTERM checkpoints and stops \
        after the batch in progress.

        The training set's features are computed once into a feature cache (--cache, 16-bit \
        values, about 58 MB per hour of audio at 80 bands), memory-mapped and read an utterance \
        at a time, so a corpus larger than memory trains. It is reused while the manifest's \
        entries, the audio files' sizes and times and the front end are unchanged, and rebuilt \
        otherwise; --prepare-only builds it and stops.
        """)

    @Option(help: ArgumentHelp("Training manifest (JSONL); give it again to train on several (their entries together; relative audio paths are each manifest's own).",
                               valueName: "path")) var train: [String] = []
    @Option(help: ArgumentHelp("Dev manifest for evaluation and early stopping.", valueName: "path")) var dev: String?
    @Option(help: ArgumentHelp("Where the best model goes.", valueName: "path")) var out: String = "model.safetensors"
    @Option(help: ArgumentHelp("JSON file of training settings (keys as in TrainConfig); options below override it.",
                               valueName: "path")) var config: String?
    @Option(help: "Cell type: lstm, gru or rnn.") var kind: CellKind?
    @Option(help: ArgumentHelp("What the model writes: characters (letters) or phonemes (espeak-ng's en-us pronunciation of every transcript; the model keeps it, so word lists and keywords stay plain words). Default: the --initial model's, else characters.",
                               valueName: "characters|phonemes")) var spelling: TrainConfig.Spelling?
    @Option(parsing: .unconditional, help: "Recurrent layers.") var layers: Int?
    @Option(parsing: .unconditional, help: "Hidden units per layer.") var hidden: Int?
    @Option(parsing: .unconditional, help: "Epochs.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Utterances per minibatch.") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Adam learning rate.") var learningRate: Double?
    @Option(help: "Seed for initialization and batch order.") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Epochs without dev improvement before stopping.") var patience: Int?
    @Option(parsing: .unconditional, help: "Worker threads.") var threads: Int?
    @Flag(help: "Continue from <out>.checkpoint.") var resume = false
    @Option(parsing: .unconditional, help: "Minutes between checkpoints within an epoch (more than 0, at most a week).")
    var checkpointMinutes: Double = 10
    @Option(help: ArgumentHelp("The training set's feature cache (default: <out>.features).", valueName: "dir")) var cache: String?
    @Flag(help: "Build (or check) the feature cache and stop, without training.") var prepareOnly = false
    @Option(help: ArgumentHelp("Start from this model's weights, normalization and shape (fine-tuning) instead of a fresh network; its token set must be the config's.",
                               valueName: "path")) var initial: String?

    func validate() throws {
        guard !train.isEmpty else { throw ValidationError("give a training manifest: --train PATH (several --train for their union)") }
        try OptionRange.check("--checkpoint-minutes", checkpointMinutes, 0, 7 * 24 * 60, exclusiveLow: true, unit: "minutes")
    }

    func run() throws {
        var settings = TrainConfig()
        if let config {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: config)) } catch {
                throw InputError("--config \(config): cannot be read (\(hark.describe(error)))")
            }
            do { settings = try JSONDecoder().decode(TrainConfig.self, from: data) } catch let error as DecodingError {
                throw InputError("--config \(config): \(Self.describe(error))")
            } catch {
                throw InputError("--config \(config): \(error)")
            }
        }
        if let kind { settings.kind = kind }
        if let spelling { settings.spelling = spelling; if spelling == .phonemes { settings.tokens = nil } }
        if let layers { settings.layers = layers }
        if let hidden { settings.hidden = hidden }
        if let epochs { settings.epochs = epochs }
        if let batchSize { settings.batchSize = batchSize }
        if let learningRate { settings.learningRate = learningRate }
        if let seed { settings.seed = seed }
        if let patience { settings.patience = patience }
        if let threads { settings.threads = threads }
        do { try settings.validate() } catch {
            // A setting given as an option is named as the option (--batch-size), else as the config's key.
            let given: [String: Bool] = ["layers": layers != nil, "hidden": hidden != nil, "epochs": epochs != nil,
                                         "batchSize": batchSize != nil, "learningRate": learningRate != nil,
                                         "patience": patience != nil, "threads": threads != nil]
            if given[error.key] == true {
                let option = "--" + error.key.replacingOccurrences(of: "([A-Z])", with: "-$1", options: .regularExpression).lowercased()
                throw ValidationError("\(option) \(error.reason)")
            }
            throw InputError(config.map { "--config \($0): \(error)" } ?? "\(error)")
        }
        try checkOutputs(out, out + ".checkpoint")

        let trainEntries = try train.flatMap { try Manifest.load($0) }
        let devEntries = try dev.map { try Manifest.load($0) }
        let base = try initial.map { try RecognitionModel(path: $0) }
        // A phoneme model's spelling carries over to its fine-tuning unless one is given.
        if let base, base.tokens.pronunciation == .english, spelling == nil, settings.tokens == nil { settings.spelling = .phonemes }
        // A fine-tuned network has its base's shape, whatever the settings say: the model file's
        // train_config records that shape, not TrainConfig's defaults (a 3×320 base is not 2×256).
        if let base, let first = base.network.config.layers.first {
            let c = base.network.config
            settings.kind = first.kind
            settings.layers = c.layers.count
            settings.hidden = first.hiddenSize
            settings.projection = first.projectionSize
            settings.stack = c.stack
            settings.stride = c.stride
        }
        let run = try TrainingRun(config: settings, output: out)
        if let initial, let base {
            // Training keeps the base's level range and mean normalization; the rest must be the defaults.
            run.keepFrontEnd(of: base.features)
            guard base.features == run.featureConfig else {
                throw InputError("--initial \(initial): its front end (\(base.features.melBands) mel bands) is not the one training uses (\(settings.bands) bands, defaults otherwise)")
            }
            // The same token characters: the same outputs. A base whose file has no pronunciation but
            // the phoneme tokens (one trained on scripts/phonemize.py's manifests) gains it here.
            let wanted = try settings.tokenSet()
            guard base.tokens.tokens == wanted.tokens, base.tokens.pronunciation == nil || base.tokens.pronunciation == wanted.pronunciation else {
                throw InputError("--initial \(initial): its tokens are not the config's ('tokens' must be the model's own, or --spelling its spelling)")
            }
            run.initialNetwork = base.network
            guard settings.meanWindow == 0 || settings.meanWindow == base.features.meanWindow else {
                throw InputError("--initial \(initial): its front end's mean window (\(base.features.meanWindow.map(String.init) ?? "none")) is not the config's 'meanWindow' \(settings.meanWindow) (a fine-tuned network keeps its base's front end)")
            }
            run.metadata = ["fine_tuned_from": initial]
        }
        showProgress(of: run)
        run.checkpointInterval = checkpointMinutes * 60
        let features = try FeatureCache.prepare(trainEntries, tokens: try settings.tokenSet(), features: run.featureConfig,
                                                at: cache ?? out + ".features", threads: settings.threads,
                                                progress: run.progress, log: run.log)
        if prepareOnly { return }
        // SIGINT or SIGTERM: checkpoint and stop after the batch in progress; a second one quits
        // at once (the last checkpoint is whole, it is written atomically).
        let stop = run.stop
        let signals = StopSignals {
            if stop.request() > 1 { Glibc.exit(130) }
            Terminal.note("\nstopping after this batch (again to quit at once)")
        }
        let summary = try run.run(corpus: features, dev: devEntries, resume: resume)
        withExtendedLifetime(signals) {}
        if summary.stopped {
            print(String(format: "stopped after %.2f h of audio seen; hark train --resume with the same options continues", summary.hoursSeen))
            return
        }
        if let dev = summary.lastDev {
            print("dev after the last epoch (the saved model is the best epoch's):")
            print("category     CER      WER")
            for (category, counts) in dev.byCategory.sorted(by: { $0.key < $1.key }) {
                print(category.padding(to: 10) + String(format: " %6.2f%%  %6.2f%%", 100 * counts.characters.rate, 100 * counts.words.rate))
            }
            print("all       " + String(format: " %6.2f%%  %6.2f%%", 100 * dev.characters.rate, 100 * dev.words.rate))
        }
        print(String(format: "trained %d epochs on %.2f h in %.0f s; best model: %@", summary.epochsRun, summary.trainHours,
                     summary.seconds, out))
    }

    /// A JSON decoding failure in the words of the config file: which key, what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ c: DecodingError.Context) -> String {
            c.codingPath.isEmpty ? "" : " at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        }
        switch error {
        case let .typeMismatch(type, c), let .valueNotFound(type, c): return "expected \(type)\(path(c))"
        case let .keyNotFound(key, c): return "missing '\(key.stringValue)'\(path(c))"
        case let .dataCorrupted(c):
            return c.codingPath.isEmpty ? "is not valid JSON" : "bad value\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

extension CellKind: ExpressibleByArgument {}

/// True at most once per interval, from any thread.
final class Throttle: @unchecked Sendable {
    private let interval: Double
    private var last = Date.distantPast
    private let lock = NSLock()
    init(seconds: Double) { interval = seconds }
    func ready() -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(last) >= interval else { return false }
        last = Date()
        return true
    }
}
extension TrainConfig.Spelling: ExpressibleByArgument {}
