import Cells
import Decoding
import Foundation
import Recognizer

/// `hark adapt`'s recipe: fine-tune a model on a speaker's enrolled takes, mixed with synthetic
/// speech so that nothing else is forgotten, with a small learning rate for a few epochs; then
/// re-tune each keyword's scoring and threshold on the adapted model, from keyword takes it did not
/// train on (which must be caught) and the other utterances (which must not), by the rule of
/// `KeywordThreshold` for takes (its geometric midpoint), and store them in the new model.
public struct Adaptation: Sendable {
    public var epochs = 6
    public var learningRate = 3e-4
    /// Times each take is repeated per epoch.
    public var repeats = 4
    /// Synthetic utterances mixed in.
    public var mixCount = 300
    /// Seed of the mix sample and the batch order.
    public var seed: UInt64 = 1
    /// Every `holdOutEvery`-th take of a keyword (its 4th, 8th, …) is kept out of training to choose
    /// the threshold, when the keyword has at least that many takes, so that the positives are not
    /// takes the network was fitted to. Measured with the 3×320 model (MODEL.md, "Adaptation"):
    /// holding out alone moved the same voice's other "okay robot" from 67/100 to 78/100; the
    /// geometric midpoint (`KeywordThreshold.Midpoint`) took it to 100/100.
    public var holdOutEvery = 4

    public init() {}

    /// `mixCount` entries of `all`, drawn with `seed`.
    public func mixSample(_ all: [ManifestEntry]) -> [ManifestEntry] {
        var shuffled = all
        var rng = SeededGenerator(seed: seed)
        shuffled.shuffle(using: &rng)
        return Array(shuffled.prefix(mixCount))
    }

    /// The training settings: batches of 8, every epoch run (no early stop, no halving), the base
    /// model's own alphabet (or its phonemes).
    public func trainConfig(tokens: TokenSet) -> TrainConfig {
        var settings = TrainConfig()
        settings.epochs = epochs
        settings.learningRate = learningRate
        settings.batchSize = 8
        settings.patience = epochs
        settings.halveOnPlateau = false
        settings.seed = seed
        if tokens == .englishPhonemes {
            settings.spelling = .phonemes                      // takes' transcripts pronounced, as the base's were
        } else if tokens != .english {
            settings.tokens = Array(tokens.tokens.dropFirst())
        }
        return settings
    }

    /// What an epoch trains on: each take `repeats` times, then the mix.
    public func trainingSet(takes: [ManifestEntry], mix: [ManifestEntry]) -> [ManifestEntry] {
        Array(repeating: takes, count: repeats).flatMap { $0 } + mix
    }

    /// The takes split into those trained on and the keyword takes held out for the threshold
    /// (`holdOutEvery`); a keyword with fewer takes than that is all trained on, and its threshold
    /// is chosen on them as before.
    public func split(_ takes: [ManifestEntry]) -> (train: [ManifestEntry], heldOut: [ManifestEntry]) {
        var seen: [String: Int] = [:]
        let counts = Dictionary(grouping: takes.filter { $0.category == "keyword" }, by: { TokenSet.normalize($0.text) }).mapValues(\.count)
        var train: [ManifestEntry] = [], heldOut: [ManifestEntry] = []
        for take in takes {
            guard take.category == "keyword" else { train.append(take); continue }
            let keyword = TokenSet.normalize(take.text)
            seen[keyword, default: 0] += 1
            if counts[keyword, default: 0] >= holdOutEvery && seen[keyword]! % holdOutEvery == 0 {
                heldOut.append(take)
            } else {
                train.append(take)
            }
        }
        return (train, heldOut)
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
        let (trained, heldOut) = split(takes)
        _ = try run.run(train: trainingSet(takes: trained, mix: mix), dev: nil, resume: false)

        let adapted = try RecognitionModel(path: out)
        let keywords = Self.keywords(in: takes)
        guard !keywords.isEmpty else { return [] }
        var eval = Evaluation(network: try measuredWith(adapted), tokens: adapted.tokens, features: adapted.features)
        eval.keywords = KeywordThreshold.candidates(keywords)
        // A keyword's positives are its held-out takes when it has them; every other utterance is
        // a negative for it.
        let heldOutKeywords = Set(Self.keywords(in: heldOut))
        let measured = heldOut + trained.filter { $0.category != "keyword" || !heldOutKeywords.contains(TokenSet.normalize($0.text)) }
        let (report, decoded) = try eval.run(measured + mix, modelName: out, manifestName: takesName)
        let tuned = KeywordThreshold.tune(keywords, report: report, decoded: decoded, midpoint: .geometric)
        try adapted.savingTunedKeywords(tuned.map(\.keyword), to: out)
        return tuned
    }
}
