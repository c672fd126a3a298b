import Glibc

/// The log-mel front end: immutable and shareable across threads (window, mel filters and FFTW
/// plan are made once). Per-stream state lives in `FeatureStream`; `frames(of:)` is the batch path.
///
/// One frame, for the `windowLength` samples starting at absolute position `p`:
/// 1. add dither `dither · u(p + n)` (a position hash, see `LogMelConfig.dither`);
/// 2. multiply by the symmetric Hann window `0.5 − 0.5·cos(2πn / (N − 1))`;
/// 3. zero-pad to `fftSize` and take the real FFT (FFTW r2c);
/// 4. power `re² + im²` per bin, then the mel filterbank (`MelFilterbank`);
/// 5. natural log of `max(energy, logFloor)`;
/// 6. with `levelRange` set, one gain for all bands per frame (`LevelNormalizer`, per stream; with
///    its lookahead, a stream's first frames are held and measured together);
/// 7. with `meanWindow` set, each band minus its recent mean (`MeanNormalizer`, per stream).
public final class LogMelSpectrogram: Sendable {
    public let config: LogMelConfig
    public let filterbank: MelFilterbank
    public var bands: Int { config.melBands }
    let plan: RealFFTPlan
    let window: [Float]
    // The filterbank flattened for the hot loop.
    let melFirst: [Int], melCount: [Int], melOffset: [Int], melWeights: [Float]

    public init(_ config: LogMelConfig = LogMelConfig()) throws(FeatureConfigError) {
        try config.validate()
        self.config = config
        filterbank = MelFilterbank(config)
        plan = RealFFTPlan(size: config.fftSize)
        let n = config.windowLength
        window = (0..<n).map { i in
            n == 1 ? 1 : Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(n - 1)))
        }
        melFirst = filterbank.firstBin
        melCount = filterbank.weights.map(\.count)
        var offsets: [Int] = [], flat: [Float] = []
        for w in filterbank.weights { offsets.append(flat.count); flat += w }
        melOffset = offsets
        melWeights = flat
    }

    /// A new stream with its own state (sample remainder, FFT scratch, frame queue).
    public func makeStream() -> FeatureStream { FeatureStream(self) }

    /// Batch path: all frames of `samples` (taken to start at absolute position 0). Uses the same
    /// frame arithmetic and per-frame kernel as `FeatureStream`, so both agree bit for bit.
    public func frames(of samples: UnsafeBufferPointer<Float>) -> FeatureMatrix {
        let geometry = config.geometry
        let count = geometry.frameCount(samples: Int64(samples.count))
        var out = FeatureMatrix(rows: count, cols: bands)
        let scratch = FeatureScratch(config)
        var level = LevelNormalizer(config)
        var mean = MeanNormalizer(config)
        guard count > 0, let base = samples.baseAddress else { return out }
        out.values.withUnsafeMutableBufferPointer { values in
            let v = values.baseAddress!
            for i in 0..<count {
                let first = geometry.firstSample(ofFrame: i)
                computeFrame(window: base + Int(first), firstSample: first, scratch: scratch, into: v + i * bands)
            }
            // Each normalizer reads only the frames up to the one it changes (the level's lookahead
            // is its first frames, as a stream holds them), so a pass each gives the stream's frames.
            level?.normalize(v, count: count, bands: bands)
            for i in 0..<count { mean?.apply(v + i * bands) }
        }
        return out
    }

    public func frames(of samples: [Float]) -> FeatureMatrix {
        samples.withUnsafeBufferPointer { frames(of: $0) }
    }

    /// The per-frame kernel. Allocates nothing: everything it writes is in `scratch` or `out`.
    @inline(__always)
    func computeFrame(window samples: UnsafePointer<Float>, firstSample: Int64,
                      scratch: FeatureScratch, into out: UnsafeMutablePointer<Float>) {
        let n = config.windowLength
        let input = scratch.input.pointer
        let dither = config.dither
        window.withUnsafeBufferPointer { w in
            if dither > 0 {
                for i in 0..<n {
                    let u = Float(Int32(truncatingIfNeeded: SplitMix64.mix(UInt64(bitPattern: firstSample + Int64(i))) >> 32))
                    input[i] = (samples[i] + dither * u * (1 / 2_147_483_648)) * w[i]
                }
            } else {
                for i in 0..<n { input[i] = samples[i] * w[i] }
            }
        }
        // input[n..<fftSize] stays zero: the scratch was zeroed once and only [0, n) is written.
        plan.execute(input: scratch.input, output: scratch.spectrum)
        let spectrum = scratch.spectrum.pointer
        let power = scratch.power
        for k in 0..<config.fftBins {
            let re = spectrum[2 * k], im = spectrum[2 * k + 1]
            power[k] = re * re + im * im
        }
        let floor = config.logFloor
        melWeights.withUnsafeBufferPointer { weights in
            for b in 0..<bands {
                let first = melFirst[b], offset = melOffset[b]
                var e: Float = 0
                for j in 0..<melCount[b] { e += weights[offset + j] * power[first + j] }
                out[b] = logf(max(e, floor))
            }
        }
    }
}

/// Scratch memory for one stream's frame computations, allocated once.
final class FeatureScratch {
    let input: FFTBuffer
    let spectrum: FFTBuffer
    let power: UnsafeMutablePointer<Float>
    private let bins: Int

    init(_ config: LogMelConfig) {
        input = FFTBuffer(count: config.fftSize)
        spectrum = FFTBuffer(count: 2 * config.fftBins)
        bins = config.fftBins
        power = .allocate(capacity: bins)
        power.initialize(repeating: 0, count: bins)
    }

    deinit { power.deallocate() }
}

/// Frames × bands, row-major.
public struct FeatureMatrix: Equatable, Sendable {
    public var rows: Int
    public var cols: Int
    public var values: [Float]

    public init(rows: Int, cols: Int, values: [Float]? = nil) {
        self.rows = rows
        self.cols = cols
        self.values = values ?? [Float](repeating: 0, count: rows * cols)
        precondition(self.values.count == rows * cols, "values must hold rows × cols numbers")
    }

    public subscript(row: Int) -> ArraySlice<Float> { values[row * cols ..< (row + 1) * cols] }
}
