/// A network's architecture: everything needed to lay out its parameters.
///
/// Frames (e.g. 80 log-mel bands) are normalized per band, then `stack` consecutive frames are
/// concatenated into one input every `stride` frames (3 and 3: one step per 30 ms), then run
/// through the recurrent layers, then a linear layer and log-softmax over `outputSize` classes.
/// With `outputSize == 0` the network ends at the last layer's hidden state.
public struct NetworkConfig: Codable, Equatable, Sendable {
    public var inputSize: Int
    public var stack: Int
    public var stride: Int
    public var layers: [LayerSpec]
    public var outputSize: Int

    public init(inputSize: Int, stack: Int = 1, stride: Int = 1, layers: [LayerSpec], outputSize: Int) {
        self.inputSize = inputSize
        self.stack = stack
        self.stride = stride
        self.layers = layers
        self.outputSize = outputSize
    }

    /// `count` layers of one kind and width, wired input → output.
    public init(kind: CellKind, inputSize: Int, stack: Int = 1, stride: Int = 1, hiddenSize: Int,
                layers count: Int, projectionSize: Int = 0, outputSize: Int) {
        var specs: [LayerSpec] = []
        var inSize = inputSize * stack
        for _ in 0..<count {
            let spec = LayerSpec(kind: kind, inputSize: inSize, hiddenSize: hiddenSize,
                                 projectionSize: kind == .lstm ? projectionSize : 0)
            specs.append(spec)
            inSize = spec.outputSize
        }
        self.init(inputSize: inputSize, stack: stack, stride: stride, layers: specs, outputSize: outputSize)
    }

    public var stackedSize: Int { inputSize * stack }
    public var lastSize: Int { layers.last?.outputSize ?? stackedSize }
    /// Size of each step's output: class log-probabilities, or the last hidden state.
    public var outputWidth: Int { outputSize > 0 ? outputSize : lastSize }

    /// Network steps produced by `frames` input frames (a step needs `stack` frames, then every `stride`).
    public func steps(frames: Int) -> Int { frames < stack ? 0 : (frames - stack) / stride + 1 }

    /// Tensor names and shapes in PyTorch state-dict form: `rnn.*_l{i}` for the layers,
    /// `output.weight` / `output.bias` for the classifier.
    public var tensors: [(name: String, shape: [Int])] {
        var t: [(name: String, shape: [Int])] = []
        for (l, spec) in layers.enumerated() { t += spec.tensors(layer: l, prefix: "rnn") }
        if outputSize > 0 {
            t.append(("output.weight", [outputSize, lastSize]))
            t.append(("output.bias", [outputSize]))
        }
        return t
    }

    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// Checks that the layers chain; the message names the layer at fault.
    public func validate() throws(ModelError) {
        guard inputSize > 0 else { throw .invalidArchitecture("inputSize must be positive") }
        guard stack > 0, stride > 0, stride <= stack else { throw .invalidArchitecture("need 0 < stride ≤ stack") }
        guard !layers.isEmpty else { throw .invalidArchitecture("no recurrent layers") }
        guard outputSize >= 0 else { throw .invalidArchitecture("outputSize must be ≥ 0") }
        var inSize = stackedSize
        for (l, s) in layers.enumerated() {
            guard s.inputSize == inSize else {
                throw .invalidArchitecture("layer \(l) takes \(s.inputSize) inputs but receives \(inSize)")
            }
            guard s.hiddenSize > 0 else { throw .invalidArchitecture("layer \(l) has no hidden units") }
            guard s.projectionSize >= 0, s.projectionSize == 0 || (s.kind == .lstm && s.projectionSize < s.hiddenSize) else {
                throw .invalidArchitecture("layer \(l): projection needs an LSTM and 0 < proj_size < hidden_size")
            }
            inSize = s.outputSize
        }
    }
}
