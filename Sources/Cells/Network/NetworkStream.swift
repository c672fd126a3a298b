/// The per-stream state of a network: the recurrent state of every layer and the frames waiting
/// to be stacked. A plain value: copy it to save, assign it to restore.
public struct NetworkState<T: CellScalar>: Equatable, Sendable, Codable {
    /// Every layer's h, concatenated.
    public var hidden: [T]
    /// Every LSTM layer's c, concatenated.
    public var cell: [T]
    /// The last `stack` normalized frames, a ring indexed by frame number.
    public var history: [T]
    /// Frames accepted since the last reset.
    public var framesSeen: Int
}

/// The weights a streaming step reads: the network's own, or 8-bit copies of its recurrent
/// matrices (a quarter of the bytes; the live step is bound by memory bandwidth, see
/// BENCHMARKS.md). Biases, normalization and the output layer stay as they are.
public enum StepWeights: String, Sendable, Codable, CaseIterable {
    case float
    case int8
}

/// Streams frames through a `Network` one at a time with zero lookahead: each step runs as soon
/// as its last frame arrives and carries every layer's (h, c) on to the next. Allocates nothing
/// per frame.
public final class NetworkStream<T: CellScalar> {
    public let network: Network<T>
    private let int8: Int8NetworkWeights?
    public var weights: StepWeights { int8 == nil ? .float : .int8 }
    private let config: NetworkConfig
    private let hiddenOffsets: [Int], cellOffsets: [Int]
    private let hiddenCount: Int, cellCount: Int, historyCount: Int
    // The live state, in buffers owned here so that a step allocates nothing.
    private let hidden: UnsafeMutablePointer<T>
    private let cell: UnsafeMutablePointer<T>
    private let history: UnsafeMutablePointer<T>
    private var framesSeen = 0
    private let stacked: UnsafeMutablePointer<T>
    private let scratch: UnsafeMutablePointer<T>

    /// A stream that makes its own 8-bit copies when asked for `.int8` (which needs a `Float`
    /// network); a model shared by many streams passes its copies to `init(_:int8:)` instead.
    public convenience init(_ network: Network<T>, weights: StepWeights = .float) {
        guard weights == .int8 else { self.init(network, int8: nil); return }
        guard let float = network as? Network<Float> else { preconditionFailure("8-bit step weights need a Float network") }
        self.init(network, int8: Int8NetworkWeights(float))
    }

    /// A stream stepping with `int8` copies of `network`'s recurrent matrices, or with its own
    /// weights when nil.
    public init(_ network: Network<T>, int8: Int8NetworkWeights?) {
        precondition(int8 == nil || T.self == Float.self, "8-bit step weights need a Float network")
        precondition(int8.map { $0.layers.count == network.config.layers.count } ?? true, "8-bit copies of another network")
        self.network = network
        self.int8 = int8
        config = network.config
        var h = 0, c = 0
        var ho: [Int] = [], co: [Int] = []
        for s in config.layers {
            ho.append(h); co.append(c)
            h += s.outputSize; c += s.cellStateSize
        }
        hiddenOffsets = ho
        cellOffsets = co
        hiddenCount = h
        cellCount = c
        historyCount = config.stack * config.inputSize
        hidden = .allocate(capacity: max(h, 1))
        cell = .allocate(capacity: max(c, 1))
        history = .allocate(capacity: historyCount)
        stacked = .allocate(capacity: config.stackedSize)
        let scratchSize = (config.layers.map { Recurrent.stepScratch($0) }.max() ?? 0) + config.outputWidth
        scratch = .allocate(capacity: scratchSize)
        scratch.initialize(repeating: 0, count: scratchSize)
        history.initialize(repeating: 0, count: historyCount)
        reset()
    }

    deinit {
        hidden.deallocate(); cell.deallocate(); history.deallocate()
        stacked.deallocate(); scratch.deallocate()
    }

    /// The whole recurrent state as a value: read it to save, assign it to restore.
    public var state: NetworkState<T> {
        get {
            NetworkState(hidden: Array(UnsafeBufferPointer(start: hidden, count: hiddenCount)),
                         cell: Array(UnsafeBufferPointer(start: cell, count: cellCount)),
                         history: Array(UnsafeBufferPointer(start: history, count: historyCount)),
                         framesSeen: framesSeen)
        }
        set {
            precondition(newValue.hidden.count == hiddenCount && newValue.cell.count == cellCount
                         && newValue.history.count == historyCount, "state from another network")
            newValue.hidden.withUnsafeBufferPointer { hidden.update(from: $0.baseAddress!, count: hiddenCount) }
            newValue.cell.withUnsafeBufferPointer { if cellCount > 0 { cell.update(from: $0.baseAddress!, count: cellCount) } }
            newValue.history.withUnsafeBufferPointer { history.update(from: $0.baseAddress!, count: historyCount) }
            framesSeen = newValue.framesSeen
        }
    }

    /// Back to the start: zero state, no frames seen.
    public func reset() {
        hidden.update(repeating: 0, count: max(hiddenCount, 1))
        cell.update(repeating: 0, count: max(cellCount, 1))
        framesSeen = 0
    }

    /// Frames accepted since the last reset.
    public var framesAccepted: Int { framesSeen }

    /// Adds one frame (`inputSize` values). When it completes a step, writes the step's output
    /// (`outputWidth` values: log-probabilities, or the last hidden state) and returns true.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func accept(frame: UnsafeBufferPointer<T>, into out: UnsafeMutableBufferPointer<T>) -> Bool {
        let f = config.inputSize, k = config.stack
        precondition(frame.count >= f, "a frame has \(f) values")
        let slot = framesSeen % k
        network.mean.withUnsafeBufferPointer { mean in
            network.invStd.withUnsafeBufferPointer { invStd in
                for i in 0..<f { history[slot * f + i] = (frame[i] - mean[i]) * invStd[i] }
            }
        }
        framesSeen += 1
        let n = framesSeen
        guard n >= k, (n - k) % config.stride == 0 else { return false }
        precondition(out.count >= config.outputWidth, "output needs \(config.outputWidth) values")
        for j in 0..<k {                                   // oldest frame first
            (stacked + j * f).update(from: history + ((n - k + j) % k) * f, count: f)
        }
        runStep(into: out.baseAddress!)
        return true
    }

    private func runStep(into out: UnsafeMutablePointer<T>) {
        var x = UnsafePointer(stacked)
        for (l, s) in config.layers.enumerated() {
            let h = hidden + hiddenOffsets[l]
            Recurrent.step(s, network.layerWeights[l], x: x, h: h, c: cell + cellOffsets[l], scratch: scratch, int8: int8?.layers[l])
            x = UnsafePointer(h)
        }
        if let w = network.outputWeight, let b = network.outputBias {
            let v = config.outputSize
            out.update(from: b, count: v)
            Gemm.nt(1, v, config.lastSize, x, w, out)
            LogSoftmax.inPlace(out, count: v)
        } else {
            out.update(from: x, count: config.lastSize)
        }
    }
}

enum LogSoftmax {
    /// z ← z − log Σ exp(z), stably.
    @inline(__always)
    static func inPlace<T: CellScalar>(_ z: UnsafeMutablePointer<T>, count v: Int) {
        var m = z[0]
        for i in 1..<v { m = max(m, z[i]) }
        var s: T = 0
        for i in 0..<v { s += T.exp(z[i] - m) }
        let lse = m + T.log(s)
        for i in 0..<v { z[i] -= lse }
    }
}

extension LogSoftmax {
    /// Backward through log-softmax for one row: given g = dL/d(log p) and the log-probabilities,
    /// g ← dL/dz = g − softmax · Σg.
    @inline(__always)
    static func backward<T: CellScalar>(_ g: UnsafeMutablePointer<T>, logProbs lp: UnsafePointer<T>, count v: Int) {
        var total: T = 0
        for i in 0..<v { total += g[i] }
        for i in 0..<v { g[i] -= T.exp(lp[i]) * total }
    }
}
