/// Streaming mean normalization of log-mel frames, Kaldi's online CMN (`OnlineCmvn` with no global
/// or speaker statistics): every band of a frame minus that band's mean over the last `window`
/// frames, the frame itself included (fewer at the start of a stream: the frames so far, or with a
/// `MeanPrior`, those and the prior's mean counted as the frames still missing). In the
/// log domain a gain or a fixed channel colouring is a constant per band, so it cancels: a quiet
/// microphone, a distant one and a telephone band reach the network alike, from the stream's first
/// second on. Causal, one state per stream, nothing allocated after `init`.
///
/// The sums are kept in Double and updated by adding the new frame and subtracting the one that
/// leaves the window, so a stream that runs for weeks costs 2 × bands additions a frame and drifts by
/// no more than Double's rounding.
public struct MeanNormalizer: Sendable {
    public let window: Int
    public let bands: Int
    /// The last `window` frames as they arrived, a ring; `next` is the oldest once it is full.
    private var history: [Float]
    private let prior: [Double]
    private let priorFrames: Int
    private var sums: [Double]
    private var count = 0
    private var next = 0

    public init(window: Int, bands: Int, prior: MeanPrior? = nil) {
        precondition(window > 0 && bands > 0 && (prior.map { $0.mean.count == bands && $0.frames <= window } ?? true))
        self.window = window
        self.bands = bands
        self.prior = prior?.mean.map(Double.init) ?? []
        priorFrames = prior?.frames ?? 0
        history = [Float](repeating: 0, count: window * bands)
        sums = [Double](repeating: 0, count: bands)
    }

    /// The normalizer a front end's settings ask for, or nil when they set no mean window.
    public init?(_ config: LogMelConfig) {
        guard let window = config.meanWindow else { return nil }
        self.init(window: window, bands: config.melBands, prior: config.meanPrior)
    }

    /// Replaces one frame of `bands` log-mel values by its difference from the running mean.
    @inline(__always)
    public mutating func apply(_ frame: UnsafeMutablePointer<Float>) {
        let bands = self.bands, full = count == window, slot = next * bands
        if !full { count += 1 }
        let missing = Double(max(0, priorFrames - count)), n = Double(max(count, priorFrames))
        history.withUnsafeMutableBufferPointer { h in
            sums.withUnsafeMutableBufferPointer { s in
                for b in 0..<bands {
                    let x = frame[b]
                    s[b] += Double(x) - (full ? Double(h[slot + b]) : 0)
                    h[slot + b] = x
                    let sum = missing > 0 ? s[b] + missing * prior[b] : s[b]
                    frame[b] = x - Float(sum / n)
                }
            }
        }
        next = next + 1 == window ? 0 : next + 1
    }

    /// Back to the state of a new stream.
    public mutating func reset() {
        for i in sums.indices { sums[i] = 0 }
        count = 0
        next = 0
    }
}
