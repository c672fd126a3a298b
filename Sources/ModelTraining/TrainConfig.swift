import Cells
import Decoding

/// Everything `hark train` is told, with documented defaults. Read from a JSON file (`--config`)
/// whose keys are these names; command-line options override it.
public struct TrainConfig: Codable, Equatable, Sendable {
    /// Recurrent cell type.
    public var kind: CellKind = .lstm
    public var layers: Int = 2
    public var hidden: Int = 256
    /// LSTM projection size (0: none).
    public var projection: Int = 0
    /// Frames stacked into one network step, and the step's stride (3 and 3: one step per 30 ms).
    public var stack: Int = 3
    public var stride: Int = 3
    /// Mel bands of the front end.
    public var bands: Int = 80
    public var epochs: Int = 15
    /// Utterances per minibatch (grouped by length, so padding is small).
    public var batchSize: Int = 16
    public var learningRate: Double = 1e-3
    public var clipNorm: Double = 5
    /// Epochs without a better dev CER before stopping early.
    public var patience: Int = 3
    /// Halve the learning rate after an epoch whose dev CER did not improve (ReduceLROnPlateau).
    public var halveOnPlateau: Bool = true
    /// SpecAugment (Park et al. 2019) on training features: this many frequency masks of up to
    /// `frequencyMaskWidth` bands and time masks of up to `timeMaskFraction` of the utterance each,
    /// masked values set to the band's mean (0 after normalization). 0 masks turns it off.
    public var frequencyMasks: Int = 2
    public var frequencyMaskWidth: Int = 10
    public var timeMasks: Int = 2
    public var timeMaskFraction: Double = 0.05
    /// Random equalization on training features, in the log-mel domain's natural-log units: per
    /// utterance and epoch a tilt across the bands from −t to +t (t uniform in ±`randomEQ`) plus
    /// a cosine ripple of 1–3 half-cycles with amplitude up to `randomEQ`/2. A microphone, a room
    /// or a vocoder colours the spectrum like this; the synthetic training voices do not vary it
    /// (MODEL.md). 0 turns it off.
    public var randomEQ: Double = 0
    /// Level augmentation: this share of training utterances (drawn per utterance and epoch) is
    /// played quieter, by a uniform 0…`quietDB` dB, and then, when the front end has a level range,
    /// passes through a fresh `LevelNormalizer` as a live stream from a quiet microphone would: the
    /// network hears the first words before the gain has risen, and speech raised from far below
    /// its training level (MODEL.md). 0 turns it off; a front end with `meanWindow` ignores it
    /// (the mean normalization cancels a gain).
    public var quietShare: Double = 0
    public var quietDB: Double = 35
    /// Onset augmentation: this share of training utterances (drawn per utterance and epoch) loses its
    /// leading silence, cut to 0–3 frames before the first frame within 20 dB of the utterance's
    /// loudest, as a clip that starts speaking at once (a trimmed file, a push-to-talk button) reaches
    /// the network. 0 turns it off.
    public var onsetShare: Double = 0
    /// Streaming mean normalization in the front end (Kaldi's online CMN, `MeanNormalizer`) over
    /// this many frames, for a network trained from scratch (one fine-tuned keeps its base's front
    /// end). 0: off, the fixed normalization of the network's input only.
    public var meanWindow: Int = 0
    public var seed: UInt64 = 1
    public var threads: Int = 2
    /// The model's output tokens after the blank, one character each; nil means Hark's English
    /// characters (space, apostrophe, a–z). Any single characters work, so a phoneme model is a
    /// token set of one character per phoneme and transcripts written in them.
    public var tokens: [String]? = nil
    /// What the tokens spell: "characters" (letters, or `tokens` as given, with transcripts written
    /// in them) or "phonemes" (Hark's English phonemes, `TokenSet.englishPhonemes`: every transcript
    /// pronounced by espeak-ng en-us, and the model file carrying that pronunciation, so lists,
    /// keywords and vocabularies are typed as words at run time).
    public var spelling: Spelling = .characters

    public enum Spelling: String, Codable, Sendable, CaseIterable {
        case characters, phonemes
    }

    public init() {}

    /// The token set this configuration trains.
    public func tokenSet() throws(TokenError) -> TokenSet {
        if spelling == .phonemes { return .englishPhonemes }
        guard let tokens else { return .english }
        return try TokenSet(tokens: [TokenSet.blankSymbol] + tokens)
    }

    public func validate() throws(TrainConfigError) {
        func bad(_ key: String, _ why: String) -> TrainConfigError { TrainConfigError(key: key, reason: why) }
        guard (1...16).contains(layers) else { throw bad("layers", "must be in 1...16, not \(layers)") }
        guard (1...4096).contains(hidden) else { throw bad("hidden", "must be in 1...4096, not \(hidden)") }
        guard projection >= 0, projection < hidden, projection == 0 || kind == .lstm else {
            throw bad("projection", "needs an LSTM and 0 ≤ projection < hidden")
        }
        guard stack >= 1, stride >= 1, stride <= stack else { throw bad("stride", "needs 1 ≤ stride ≤ stack") }
        guard bands >= 1 && bands < 257 else { throw bad("bands", "must be in 1...256") }
        guard (1...10_000).contains(epochs) else { throw bad("epochs", "must be in 1...10000, not \(epochs)") }
        guard (1...4096).contains(batchSize) else { throw bad("batchSize", "must be in 1...4096, not \(batchSize)") }
        guard learningRate > 0, learningRate <= 1 else { throw bad("learningRate", "must be more than 0 and at most 1, not \(learningRate)") }
        guard clipNorm > 0 else { throw bad("clipNorm", "must be positive") }
        guard (1...10_000).contains(patience) else { throw bad("patience", "must be in 1...10000, not \(patience)") }
        guard (1...256).contains(threads) else { throw bad("threads", "must be in 1...256, not \(threads)") }
        guard frequencyMasks >= 0, frequencyMaskWidth >= 0, frequencyMaskWidth < bands else {
            throw bad("frequencyMaskWidth", "needs 0 ≤ width < bands")
        }
        guard timeMasks >= 0, timeMaskFraction >= 0, timeMaskFraction < 0.5 else {
            throw bad("timeMaskFraction", "needs 0 ≤ fraction < 0.5")
        }
        guard randomEQ >= 0, randomEQ.isFinite else { throw bad("randomEQ", "must be 0 (off) or positive") }
        guard quietShare >= 0, quietShare <= 1 else { throw bad("quietShare", "must be between 0 and 1, not \(quietShare)") }
        guard quietDB >= 0, quietDB <= 60 else { throw bad("quietDB", "must be between 0 and 60 dB, not \(quietDB)") }
        guard onsetShare >= 0, onsetShare <= 1 else { throw bad("onsetShare", "must be between 0 and 1, not \(onsetShare)") }
        guard (0...100_000).contains(meanWindow) else { throw bad("meanWindow", "must be 0 (off) or 1...100000 frames, not \(meanWindow)") }
        do { _ = try tokenSet() } catch { throw bad("tokens", "are not a token set: \(error)") }
        guard spelling == .characters || tokens == nil else {
            throw bad("tokens", "cannot be given with spelling \"phonemes\", which has its own")
        }
    }
}

extension TrainConfig {
    private enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, layers, hidden, projection, stack, stride, bands, epochs, batchSize, learningRate, clipNorm, patience,
             halveOnPlateau, frequencyMasks, frequencyMaskWidth, timeMasks, timeMaskFraction, randomEQ, quietShare, quietDB, onsetShare, meanWindow, seed, threads, tokens, spelling
    }

    /// A config file may give any subset of the keys (the rest keep their defaults); a key that is
    /// not a setting is an error that names it, so a misspelt "epoch" is not silently ignored.
    public init(from decoder: any Decoder) throws {
        self.init()
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let all = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = all.allKeys.map(\.stringValue).first(where: { !known.contains($0) }) {
            throw TrainConfigError(key: unknown, reason: "is unknown (known: \(known.sorted().joined(separator: ", ")))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.kind, &kind); try read(.layers, &layers); try read(.hidden, &hidden); try read(.projection, &projection)
        try read(.stack, &stack); try read(.stride, &stride); try read(.bands, &bands); try read(.epochs, &epochs)
        try read(.batchSize, &batchSize); try read(.learningRate, &learningRate); try read(.clipNorm, &clipNorm)
        try read(.patience, &patience); try read(.halveOnPlateau, &halveOnPlateau); try read(.frequencyMasks, &frequencyMasks)
        try read(.frequencyMaskWidth, &frequencyMaskWidth); try read(.timeMasks, &timeMasks)
        try read(.timeMaskFraction, &timeMaskFraction); try read(.randomEQ, &randomEQ)
        try read(.quietShare, &quietShare); try read(.quietDB, &quietDB); try read(.onsetShare, &onsetShare); try read(.meanWindow, &meanWindow); try read(.seed, &seed); try read(.threads, &threads)
        tokens = try c.decodeIfPresent([String].self, forKey: .tokens)
        spelling = try c.decodeIfPresent(Spelling.self, forKey: .spelling) ?? spelling
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

public struct TrainConfigError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var reason: String
    public var description: String { "training setting '\(key)' \(reason)" }
}
