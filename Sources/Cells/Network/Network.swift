import HarkSupport
/// A trained (or training) network: configuration, parameters and input normalization. Immutable
/// at inference and shareable across threads; every stream's state lives in a `NetworkStream`.
public final class Network<T: CellScalar>: @unchecked Sendable {
    public let config: NetworkConfig
    public let parameters: ParameterStore<T>
    /// Per-band normalization `(x − mean) / std`, stored with the model.
    public let mean: [T]
    public let std: [T]
    let invStd: [T]
    let layerWeights: [LayerWeights<T>]
    let outputWeight: UnsafeMutablePointer<T>?
    let outputBias: UnsafeMutablePointer<T>?

    /// A network with `parameters` (or zeros) and identity normalization unless given.
    public init(config: NetworkConfig, parameters: ParameterStore<T>? = nil,
                mean: [T]? = nil, std: [T]? = nil) throws(ModelError) {
        try config.validate()
        self.config = config
        let store = parameters ?? ParameterStore(tensors: config.tensors)
        let expected = config.tensors
        guard store.specs.map(\.name) == expected.map(\.name),
              store.specs.map(\.shape) == expected.map(\.shape) else {
            throw .invalidArchitecture("parameter layout does not match the architecture")
        }
        self.parameters = store
        self.mean = mean ?? [T](repeating: 0, count: config.inputSize)
        self.std = std ?? [T](repeating: 1, count: config.inputSize)
        guard self.mean.count == config.inputSize, self.std.count == config.inputSize else {
            throw .invalidArchitecture("normalization needs \(config.inputSize) means and deviations")
        }
        guard self.std.allSatisfy({ $0 > 0 && $0.isFinite }), self.mean.allSatisfy(\.isFinite) else {
            throw .invalidArchitecture("normalization deviations must be positive and finite")
        }
        invStd = self.std.map { 1 / $0 }
        layerWeights = config.layers.enumerated().map { LayerWeights(store, layer: $0, spec: $1, prefix: "rnn") }
        outputWeight = config.outputSize > 0 ? store.pointer("output.weight") : nil
        outputBias = config.outputSize > 0 ? store.pointer("output.bias") : nil
    }

    /// The same network with other parameters (same layout) or normalization.
    public func with(parameters: ParameterStore<T>? = nil, mean: [T]? = nil, std: [T]? = nil) throws(ModelError) -> Network<T> {
        try Network(config: config, parameters: parameters ?? self.parameters, mean: mean ?? self.mean, std: std ?? self.std)
    }

    /// The network as a stream with 8-bit step weights computes it: every recurrent matrix
    /// replaced by its 8-bit rounding (scale · q), so that batched passes (evaluation, threshold
    /// tuning) score what the live recognizer will see. `copies` are this network's 8-bit
    /// weights if already made.
    public func roundedToInt8(_ copies: Int8NetworkWeights? = nil) throws(ModelError) -> Network<T> where T == Float {
        let int8 = copies ?? Int8NetworkWeights(self)
        let copy = try with(parameters: parameters.copy())
        for (q, w) in zip(int8.layers, copy.layerWeights) {
            q.weightIH.dequantize(into: w.weightIH)
            q.weightHH.dequantize(into: w.weightHH)
            if let hr = q.weightHR, let to = w.weightHR { hr.dequantize(into: to) }
        }
        return copy
    }

    /// Initialization, deterministic for a seed: every recurrent weight and bias uniform in
    /// ±1/√hidden (PyTorch's default), then the LSTM forget-gate bias set to 1 (in `bias_ih`,
    /// with `bias_hh`'s forget block at 0) so that memory is kept by default early in training
    /// (Jozefowicz et al. 2015); the output layer uniform in ±1/√fan-in with zero bias.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func initialize(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for spec in parameters.specs {
            let p = parameters.values + spec.offset
            let bound: Double
            if spec.name.hasPrefix("rnn.") {
                let l = Int(spec.name.split(separator: "_l").last!)!
                bound = 1 / Double(config.layers[l].hiddenSize).squareRoot()
            } else {
                bound = spec.name == "output.bias" ? 0 : 1 / Double(spec.shape.last!).squareRoot()
            }
            for i in 0..<spec.count { p[i] = T(rng.uniform(-bound, bound)) }
        }
        for (l, s) in config.layers.enumerated() where s.kind == .lstm {
            let bih = parameters.pointer("rnn.bias_ih_l\(l)"), bhh = parameters.pointer("rnn.bias_hh_l\(l)")
            for j in s.hiddenSize..<(2 * s.hiddenSize) { bih[j] = 1; bhh[j] = 0 }
        }
    }

    /// Whole-sequence inference: `frames` rows of `inputSize`, returns `steps × outputWidth`.
    /// It is a fold of the streaming step, so any chunking of the same frames through a
    /// `NetworkStream` gives identical numbers.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(frames: [T]) -> [T] {
        let stream = NetworkStream(self)
        let n = frames.count / config.inputSize
        var out = [T](repeating: 0, count: config.steps(frames: n) * config.outputWidth)
        var produced = 0
        frames.withUnsafeBufferPointer { f in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let frame = UnsafeBufferPointer(rebasing: f[(i * config.inputSize)..<((i + 1) * config.inputSize)])
                    let slot = UnsafeMutableBufferPointer(rebasing: o[(produced * config.outputWidth)...])
                    if stream.accept(frame: frame, into: slot) { produced += 1 }
                }
            }
        }
        return out
    }
}

/// Errors in architectures and model files; each names the field or tensor at fault.
public enum ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    case invalidArchitecture(String)
    case unreadable(path: String, reason: String)
    case truncated(path: String, detail: String)
    case corrupt(path: String, detail: String)
    case unsupportedVersion(path: String, found: String, supported: String)
    case missingTensor(path: String, name: String)
    case unexpectedTensor(path: String, name: String)
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    case wrongDtype(path: String, name: String, found: String)
    case badMetadata(path: String, field: String, reason: String)
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidArchitecture(why): "invalid network architecture: \(why)"
        case let .unreadable(path, reason): "cannot read model '\(path)': \(reason)"
        case let .truncated(path, detail): "model '\(path)' is truncated: \(detail)"
        case let .corrupt(path, detail): "model '\(path)' is corrupt: \(detail)"
        case let .unsupportedVersion(path, found, supported):
            "model '\(path)' has format version \(found); this Hark reads version \(supported)"
        case let .missingTensor(path, name): "model '\(path)' lacks tensor '\(name)'"
        case let .unexpectedTensor(path, name): "model '\(path)' has unexpected tensor '\(name)'"
        case let .wrongShape(path, name, expected, found):
            "model '\(path)': tensor '\(name)' has shape \(found), the architecture needs \(expected)"
        case let .wrongDtype(path, name, found): "model '\(path)': tensor '\(name)' has dtype \(found); Hark reads F32"
        case let .badMetadata(path, field, reason): "model '\(path)': metadata '\(field)' \(reason)"
        case let .unwritable(path, reason): "cannot write model '\(path)': \(reason)"
        }
    }
}

/// The generator of reproducible initialization and shuffling (one SplitMix64 for all of Hark).
public typealias SeededGenerator = SplitMix64
