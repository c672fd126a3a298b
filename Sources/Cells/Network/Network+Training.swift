/// One batched forward pass over variable-length sequences, kept for the backward pass.
///
/// Layout is time-major: row `s·batch + b` is step `s` of sequence `b`. Shorter sequences are
/// padded with zero inputs at the end; a unidirectional network never lets padding reach earlier
/// steps, and losses give padded steps zero gradient, so no masks are needed inside the cells.
public final class ForwardPass<T: CellScalar> {
    public let batch: Int
    /// Steps of the longest sequence.
    public let steps: Int
    /// Frames and steps of each sequence.
    public let frameCounts: [Int]
    public let stepCounts: [Int]
    public let width: Int
    let input: UnsafeMutablePointer<T>
    let caches: [LayerCache<T>]
    /// Log-probabilities (or last hidden states), [steps·batch × width].
    let output: UnsafeMutablePointer<T>

    init(config: NetworkConfig, frameCounts: [Int]) {
        batch = frameCounts.count
        self.frameCounts = frameCounts
        stepCounts = frameCounts.map { config.steps(frames: $0) }
        steps = stepCounts.max() ?? 0
        width = config.outputWidth
        let rows = max(steps * batch, 1)
        input = .allocate(capacity: rows * config.stackedSize)
        input.initialize(repeating: 0, count: rows * config.stackedSize)
        var caches: [LayerCache<T>] = []
        var below = UnsafePointer(input)
        for s in config.layers {
            let c = LayerCache<T>(spec: s, steps: steps, batch: batch, input: below)
            caches.append(c)
            below = UnsafePointer(c.output)
        }
        self.caches = caches
        output = .allocate(capacity: rows * width)
        output.initialize(repeating: 0, count: rows * width)
    }

    deinit {
        input.deallocate()
        output.deallocate()
    }

    /// Output of step `s` of sequence `b` (`width` values). Step rows of one sequence are
    /// `batch · width` apart.
    public func output(step s: Int, sequence b: Int) -> UnsafeMutablePointer<T> { output + (s * batch + b) * width }
    public var rowStride: Int { batch * width }
}

extension Network {
    /// Batched forward pass for training. `sequences[b]` holds frames × `inputSize` values.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forwardPass(_ sequences: [UnsafeBufferPointer<T>]) -> ForwardPass<T> {
        let f = config.inputSize, d = config.stackedSize
        let pass = ForwardPass<T>(config: config, frameCounts: sequences.map { $0.count / f })
        let batch = pass.batch
        // Normalize and stack, time-major.
        for (b, seq) in sequences.enumerated() {
            for s in 0..<pass.stepCounts[b] {
                let row = pass.input + (s * batch + b) * d
                for k in 0..<config.stack {
                    let frame = seq.baseAddress! + (s * config.stride + k) * f
                    for i in 0..<f { row[k * f + i] = (frame[i] - mean[i]) * invStd[i] }
                }
            }
        }
        let work = UnsafeMutablePointer<T>.allocate(capacity: config.layers.map { Recurrent.work($0, batch: batch) }.max()!)
        defer { work.deallocate() }
        for (l, s) in config.layers.enumerated() {
            Recurrent.forward(s, layerWeights[l], cache: pass.caches[l], work: work)
        }
        let rows = pass.steps * batch
        let last = pass.caches.last!.output
        if let w = outputWeight, let bias = outputBias {
            let v = config.outputSize
            for r in 0..<rows { (pass.output + r * v).update(from: bias, count: v) }
            Gemm.nt(rows, v, config.lastSize, last, w, pass.output)
            for r in 0..<rows { LogSoftmax.inPlace(pass.output + r * v, count: v) }
        } else {
            pass.output.update(from: last, count: rows * config.lastSize)
        }
        return pass
    }

    /// Backward pass: `dOutput` is dL/d(output) in the pass's layout (zero for padded steps; it is
    /// overwritten). Adds parameter gradients into `gradients`. With `dFrames`, also adds dL/d(frame)
    /// for each sequence's raw input frames (before normalization and stacking).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ pass: ForwardPass<T>, dOutput: UnsafeMutablePointer<T>,
                         gradients: ParameterStore<T>, dFrames: [UnsafeMutableBufferPointer<T>]? = nil) {
        let batch = pass.batch, rows = pass.steps * batch, last = config.lastSize
        guard rows > 0 else { return }
        var dh = UnsafeMutablePointer<T>.allocate(capacity: rows * last)
        dh.initialize(repeating: 0, count: rows * last)
        if let w = outputWeight, let gw = Optional(gradients.pointer("output.weight")) {
            let v = config.outputSize
            let gb = gradients.pointer("output.bias")
            for r in 0..<rows {
                let g = dOutput + r * v
                LogSoftmax.backward(g, logProbs: pass.output + r * v, count: v)
                for i in 0..<v { gb[i] += g[i] }
            }
            Gemm.tn(rows, v, last, dOutput, pass.caches.last!.output, gw)
            Gemm.nn(rows, v, last, dOutput, w, dh)
        } else {
            dh.update(from: dOutput, count: rows * last)
        }
        let maxGates = config.layers.map(\.gateRows).max()!
        let dGates = UnsafeMutablePointer<T>.allocate(capacity: rows * maxGates)
        let work = UnsafeMutablePointer<T>.allocate(capacity: config.layers.map { Recurrent.work($0, batch: batch) }.max()!)
        defer { dGates.deallocate(); work.deallocate() }
        for l in stride(from: config.layers.count - 1, through: 0, by: -1) {
            let s = config.layers[l]
            let cache = pass.caches[l]
            let needInput = l > 0 || dFrames != nil
            let dIn: UnsafeMutablePointer<T>? = needInput ? .allocate(capacity: rows * s.inputSize) : nil
            dIn?.initialize(repeating: 0, count: rows * s.inputSize)
            cache.dInput = dIn
            let g = LayerWeights(gradients, layer: l, spec: s, prefix: "rnn")
            Recurrent.backward(s, layerWeights[l], g, cache: cache, dOutput: dh, dGates: dGates, work: work)
            cache.dInput = nil
            dh.deallocate()
            guard let dIn else { return }
            dh = dIn
        }
        defer { dh.deallocate() }
        // dh is now dL/d(stacked, normalized input): undo stacking and normalization.
        guard let dFrames else { return }
        let f = config.inputSize, d = config.stackedSize
        for b in 0..<batch {
            for s in 0..<pass.stepCounts[b] {
                let row = dh + (s * batch + b) * d
                for k in 0..<config.stack {
                    let frame = dFrames[b].baseAddress! + (s * config.stride + k) * f
                    for i in 0..<f { frame[i] += row[k * f + i] * invStd[i] }
                }
            }
        }
    }
}
