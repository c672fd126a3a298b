import ArgumentParser
import Cells
import Decoding
import Foundation
import ModelTraining
import Recognizer

struct AdaptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt",
        abstract: "Fine-tune a model on your own enrolled takes (see `hark enroll`).",
        discussion: """
        Trains the model further on the takes in --samples (each repeated --repeat times), mixed \
        with --mix-count utterances of a synthetic manifest so that nothing else is forgotten, \
        with a small learning rate for a few epochs. Each keyword's scoring and threshold are then \
        re-tuned from the takes (which must be caught) and the mix utterances without the keyword \
        (which must not), by the rule of `hark model threshold`, and stored in the new model, where \
        `hark spot` finds them.
        """)

    @Option(name: .long, help: ArgumentHelp("Folder written by `hark enroll` (takes.jsonl and WAVs).", valueName: "dir"))
    var samples: String

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Where the adapted model goes.", valueName: "path"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Synthetic manifest to mix in (scripts/synth.py writes one).", valueName: "manifest"))
    var mix: String?

    @Option(name: .long, parsing: .unconditional, help: "Synthetic utterances mixed in (0 to 1000000).") var mixCount: Int = 300
    @Option(name: .long, parsing: .unconditional, help: "Times each take is repeated per epoch (1 to 1000).") var `repeat`: Int = 4
    @Option(name: .long, parsing: .unconditional, help: "Epochs (1 to 1000).") var epochs: Int = 6
    @Option(name: .long, parsing: .unconditional, help: "Adam learning rate (more than 0, at most 1).") var learningRate: Double = 3e-4
    @Option(name: .long, help: "Seed for the mix sample and batch order (any number from 0 to 2^64−1).") var seed: UInt64 = 1

    func validate() throws {
        try OptionRange.check("--mix-count", mixCount, 0, 1_000_000)
        try OptionRange.check("--repeat", `repeat`, 1, 1_000)
        try OptionRange.check("--epochs", epochs, 1, 1_000)
        try OptionRange.check("--learning-rate", learningRate, 0, 1, exclusiveLow: true)
    }

    func run() throws {
        let started = Date()
        try checkOutputs(out, out + ".checkpoint")
        let base = try model.load()
        let takesPath = URL(fileURLWithPath: samples).appendingPathComponent("takes.jsonl").path
        guard FileManager.default.fileExists(atPath: takesPath) else {
            throw InputError("--samples \(samples): no takes.jsonl (record takes with `hark enroll --out \(samples)`)")
        }
        let takes = try Manifest.load(takesPath)
        var mixed: [ManifestEntry] = []
        if let mix {
            var all = try Manifest.load(mix)
            var rng = SeededGenerator(seed: seed)
            all.shuffle(using: &rng)
            mixed = Array(all.prefix(mixCount))
        } else {
            Terminal.note("hark adapt: no --mix manifest; fine-tuning on the takes alone may make other speech worse")
        }
        var settings = TrainConfig()
        settings.epochs = epochs
        settings.learningRate = learningRate
        settings.batchSize = 8
        settings.patience = epochs
        settings.halveOnPlateau = false
        settings.seed = seed
        settings.tokens = base.tokens == .english ? nil : Array(base.tokens.tokens.dropFirst())   // the model's own alphabet
        let run = try TrainingRun(config: settings, output: out)
        run.initialNetwork = base.network
        run.metadata = ["adapted_from": base.path, "adapted_with": samples]
        showProgress(of: run)
        let train = Array(repeating: takes, count: `repeat`).flatMap { $0 } + mixed
        Terminal.note("adapting \(base.path) on \(takes.count) takes × \(`repeat`) + \(mixed.count) synthetic utterances")
        _ = try run.run(train: train, dev: nil, resume: false)

        // Thresholds: every keyword among the takes, tuned on the adapted model.
        let adapted = try RecognitionModel(path: out)
        let keywords = Array(Set(takes.filter { $0.category == "keyword" }.map { TokenSet.normalize($0.text) })).sorted()
        if !keywords.isEmpty {
            var eval = Evaluation(network: try model.batchNetwork(of: adapted), tokens: adapted.tokens, features: adapted.features)
            eval.keywords = KeywordThreshold.candidates(keywords)
            let (report, decoded) = try eval.run(takes + mixed, modelName: out, manifestName: takesPath)
            let tuned = KeywordThreshold.tune(keywords, report: report, decoded: decoded)
            for t in tuned {
                Terminal.note(String(format: "keyword '%@': %@ threshold %.2f catches %d/%d takes, fires on %d/%d other utterances",
                                     t.keyword.text, t.keyword.scoring.rawValue, t.keyword.threshold, t.caught, t.positive.count, t.alarms, t.negative.count))
            }
            try adapted.savingTunedKeywords(tuned.map(\.keyword), to: out)
        }
        print(String(format: "adapted model: %@ (%.0f s)", out, Date().timeIntervalSince(started)))
    }
}
