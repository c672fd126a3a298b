import Cells
import Decoding
import Foundation
import Recognizer

/// `hark adapt`'s recipe: fine-tune a model on a speaker's enrolled takes, mixed with synthetic
/// speech so that nothing else is forgotten, with a small learning rate for a few epochs; then
/// re-tune each keyword's scoring and threshold on the adapted model, from the takes (which must
/// be caught) and the mix utterances without the keyword (which must not), by the rule of
/// `KeywordThreshold`, and store them in the new model.
public struct Adaptation: Sendable {
    public var epochs = 6
    public var learningRate = 3e-4
    /// Times each take is repeated per epoch.
    public var repeats = 4
    /// Synthetic utterances mixed in.
    public var mixCount = 300
    /// Seed of the mix sample and the batch order.
    public var seed: UInt64 = 1

    public init() {}

    /// `mixCount` entries of `all`, drawn with `seed`.
    public func mixSample(_ all: [ManifestEntry]) -> [ManifestEntry] {
        var shuffled = all
        var rng = SeededGenerator(seed: seed)
        shuffled.shuffle(using: &rng)
        return Array(shuffled.prefix(mixCount))
    }

    /// The training settings: batches of 8, every epoch run (no early stop, no halving), the base
    /// model's own alphabet.
    public func trainConfig(tokens: TokenSet) -> TrainConfig {
        var settings = TrainConfig()
        settings.epochs = epochs
        settings.learningRate = learningRate
        settings.batchSize = 8
        settings.patience = epochs
        settings.halveOnPlateau = false
        settings.seed = seed
        settings.tokens = tokens == .english ? nil : Array(tokens.tokens.dropFirst())
        return settings
    }

    /// What an epoch trains on: each take `repeats` times, then the mix.
    public func trainingSet(takes: [ManifestEntry], mix: [ManifestEntry]) -> [ManifestEntry] {
        Array(repeating: takes, count: repeats).flatMap { $0 } + mix
    }

    /// The keywords among the takes (category "keyword"), normalized, sorted.
    public static func keywords(in takes: [ManifestEntry]) -> [String] {
        Array(Set(takes.filter { $0.category == "keyword" }.map { TokenSet.normalize($0.text) })).sorted()
    }

    /// Runs the recipe: trains `base` into `out` (a `TrainingRun`, which `prepare` may give a
    /// progress display), then tunes every keyword among the takes and stores the thresholds in
    /// `out`. `measuredWith` gives the network the thresholds are measured with (the adapted
    /// model's weights as they will run). Returns the tuned keywords.
    public func run(base: RecognitionModel, takes: [ManifestEntry], takesName: String, mix: [ManifestEntry], out: String,
                    measuredWith: (RecognitionModel) throws -> Network<Float>,
                    prepare: (TrainingRun) -> Void = { _ in }) throws -> [KeywordThreshold.Tuned] {
        let run = try TrainingRun(config: trainConfig(tokens: base.tokens), output: out)
        run.initialNetwork = base.network
        run.keepFrontEnd(of: base.features)                // the front end the base was used with
        run.metadata = ["adapted_from": base.path, "adapted_with": takesName]
        prepare(run)
        _ = try run.run(train: trainingSet(takes: takes, mix: mix), dev: nil, resume: false)

        let adapted = try RecognitionModel(path: out)
        let keywords = Self.keywords(in: takes)
        guard !keywords.isEmpty else { return [] }
        var eval = Evaluation(network: try measuredWith(adapted), tokens: adapted.tokens, features: adapted.features)
        eval.keywords = KeywordThreshold.candidates(keywords)
        let (report, decoded) = try eval.run(takes + mix, modelName: out, manifestName: takesName)
        let tuned = KeywordThreshold.tune(keywords, report: report, decoded: decoded)
        try adapted.savingTunedKeywords(tuned.map(\.keyword), to: out)
        return tuned
    }
}
