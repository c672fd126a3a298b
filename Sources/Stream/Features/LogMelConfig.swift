/// Settings of the log-mel front end. They are stored in every model file, because a network only
/// works on the features it was trained on.
public struct LogMelConfig: Equatable, Codable, Sendable {
    /// Samples per second of the input.
    public var sampleRate: Int = AudioDefaults.sampleRate
    /// Window length in samples (400 = 25 ms at 16 kHz).
    public var windowLength: Int = 400
    /// Hop between frame starts in samples (160 = 10 ms).
    public var hopLength: Int = 160
    /// Real FFT size; the window is zero-padded to it. Must be ≥ `windowLength`.
    public var fftSize: Int = 512
    /// Number of triangular mel bands.
    public var melBands: Int = 80
    /// Lower edge of the lowest band, Hz.
    public var lowHz: Double = 20
    /// Upper edge of the highest band, Hz (at most half the sample rate).
    public var highHz: Double = 8_000
    /// Mel energies are clamped to at least this before the natural log, so silence gives
    /// `log(logFloor)` rather than -infinity.
    public var logFloor: Float = 1e-10
    /// Peak amplitude of the uniform dither added to every sample (0 disables it). Dither keeps
    /// digital silence (exact zeros, which synthesized training audio never contains) from
    /// producing features far outside anything the network saw. It is a hash of the sample's
    /// absolute position, so any chunking of the same audio gives bit-identical features.
    public var dither: Float = 1.0 / 32_768
    /// Level normalization (`LevelNormalizer`): when set, a stream whose speech level falls outside
    /// this range is brought to its edge; nil (models from before it existed): off.
    public var levelRange: LevelRange? = nil
    /// Streaming mean normalization (`MeanNormalizer`, Kaldi's online CMN): when set, every band
    /// minus its mean over this many frames (the frame included); nil: off.
    public var meanWindow: Int? = nil
    /// The mean normalization's prior (Kaldi's global CMN statistics): a stream's first
    /// `frames` frames are normalized by a mean that counts this training-speech mean as the frames
    /// still missing, so that the first word is not measured against itself; nil: no prior.
    public var meanPrior: MeanPrior? = nil

    public init() {}

    public var geometry: FrameGeometry { FrameGeometry(windowLength: windowLength, hopLength: hopLength) }
    public var fftBins: Int { fftSize / 2 + 1 }
    /// Frames per second of audio (100 at 16 kHz with a 10 ms hop).
    public var framesPerSecond: Double { Double(sampleRate) / Double(hopLength) }

    /// Checks the settings; the message names the field at fault.
    public func validate() throws(FeatureConfigError) {
        func bad(_ field: String, _ why: String) -> FeatureConfigError { FeatureConfigError(field: field, reason: why) }
        guard sampleRate > 0 else { throw bad("sampleRate", "must be positive") }
        guard windowLength > 0 else { throw bad("windowLength", "must be positive") }
        guard hopLength > 0, hopLength <= windowLength else { throw bad("hopLength", "must be in 1...windowLength") }
        guard fftSize >= windowLength, fftSize % 2 == 0 else { throw bad("fftSize", "must be even and ≥ windowLength") }
        guard melBands > 0, melBands < fftBins else { throw bad("melBands", "must be in 1..<\(fftBins)") }
        guard lowHz >= 0, highHz > lowHz, highHz <= Double(sampleRate) / 2 else {
            throw bad("lowHz/highHz", "need 0 ≤ lowHz < highHz ≤ sampleRate/2")
        }
        guard logFloor > 0, logFloor.isFinite else { throw bad("logFloor", "must be positive") }
        guard dither >= 0, dither.isFinite else { throw bad("dither", "must be ≥ 0") }
        if let levelRange {
            guard levelRange.low.isFinite, levelRange.high.isFinite, levelRange.low <= levelRange.high else {
                throw bad("levelRange", "must be finite log energies with low ≤ high")
            }
            if let lookahead = levelRange.lookahead, !(0...LevelNormalizer.maxLookahead).contains(lookahead) {
                throw bad("levelRange", "lookahead must be 0...\(LevelNormalizer.maxLookahead) frames, not \(lookahead)")
            }
        }
        if let meanWindow, !(1...100_000).contains(meanWindow) {
            throw bad("meanWindow", "must be 1...100000 frames, not \(meanWindow)")
        }
        if let meanPrior {
            guard let meanWindow, (1...meanWindow).contains(meanPrior.frames) else {
                throw bad("meanPrior", "needs meanWindow and 1 ≤ frames ≤ meanWindow")
            }
            guard meanPrior.mean.count == melBands, meanPrior.mean.allSatisfy(\.isFinite) else {
                throw bad("meanPrior", "must hold one finite mean per mel band (\(melBands))")
            }
        }
    }
}

/// A mean normalization's prior: the per-band mean of a training corpus's frames, and how many
/// frames it stands for at a stream's start.
public struct MeanPrior: Equatable, Codable, Sendable {
    public var frames: Int
    public var mean: [Float]
    public init(frames: Int, mean: [Float]) { self.frames = frames; self.mean = mean }
}

public struct FeatureConfigError: Error, CustomStringConvertible, Sendable {
    public var field: String
    public var reason: String
    public var description: String { "feature setting '\(field)' \(reason)" }
}
