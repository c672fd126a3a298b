import Cells

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
    public var seed: UInt64 = 1
    public var threads: Int = 2

    public init() {}

    public func validate() throws(TrainConfigError) {
        func bad(_ key: String, _ why: String) -> TrainConfigError { TrainConfigError(key: key, reason: why) }
        guard layers >= 1 else { throw bad("layers", "must be at least 1") }
        guard hidden >= 1 else { throw bad("hidden", "must be at least 1") }
        guard projection >= 0, projection < hidden, projection == 0 || kind == .lstm else {
            throw bad("projection", "needs an LSTM and 0 ≤ projection < hidden")
        }
        guard stack >= 1, stride >= 1, stride <= stack else { throw bad("stride", "needs 1 ≤ stride ≤ stack") }
        guard bands >= 1 && bands < 257 else { throw bad("bands", "must be in 1...256") }
        guard epochs >= 1 else { throw bad("epochs", "must be at least 1") }
        guard batchSize >= 1 else { throw bad("batchSize", "must be at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learningRate", "must be positive") }
        guard clipNorm > 0 else { throw bad("clipNorm", "must be positive") }
        guard patience >= 1 else { throw bad("patience", "must be at least 1") }
        guard threads >= 1 else { throw bad("threads", "must be at least 1") }
        guard frequencyMasks >= 0, frequencyMaskWidth >= 0, frequencyMaskWidth < bands else {
            throw bad("frequencyMaskWidth", "needs 0 ≤ width < bands")
        }
        guard timeMasks >= 0, timeMaskFraction >= 0, timeMaskFraction < 0.5 else {
            throw bad("timeMaskFraction", "needs 0 ≤ fraction < 0.5")
        }
    }
}

public struct TrainConfigError: Error, CustomStringConvertible, Equatable {
    public var key: String
    public var reason: String
    public var description: String { "training setting '\(key)' \(reason)" }
}
