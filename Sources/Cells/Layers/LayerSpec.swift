/// The recurrent cell types. Equations, gate order and parameter layout are PyTorch's
/// (`nn.RNN`, `nn.LSTM`, `nn.GRU`); see each cell's file.
public enum CellKind: String, Codable, Sendable, CaseIterable {
    case rnn, lstm, gru

    /// Gate blocks stacked in `weight_ih` / `weight_hh`: 1 (RNN), 4 (LSTM: i f g o), 3 (GRU: r z n).
    public var gates: Int {
        switch self {
        case .rnn: 1
        case .lstm: 4
        case .gru: 3
        }
    }
}

/// One recurrent layer's shape.
public struct LayerSpec: Codable, Equatable, Sendable {
    public var kind: CellKind
    public var inputSize: Int
    public var hiddenSize: Int
    /// LSTM only: project the hidden state to this size (PyTorch `proj_size`); 0 = none.
    public var projectionSize: Int

    public init(kind: CellKind, inputSize: Int, hiddenSize: Int, projectionSize: Int = 0) {
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
    }

    /// Size of what the layer emits and feeds back: `projectionSize` if set, else `hiddenSize`.
    public var outputSize: Int { projectionSize > 0 ? projectionSize : hiddenSize }
    public var gateRows: Int { kind.gates * hiddenSize }
    /// Per-step state: h (outputSize) and, for the LSTM, c (hiddenSize).
    public var cellStateSize: Int { kind == .lstm ? hiddenSize : 0 }

    /// Tensor names and shapes for layer `l`, exactly as PyTorch's state dict has them.
    public func tensors(layer l: Int, prefix: String) -> [(name: String, shape: [Int])] {
        var t: [(String, [Int])] = [
            ("\(prefix).weight_ih_l\(l)", [gateRows, inputSize]),
            ("\(prefix).weight_hh_l\(l)", [gateRows, outputSize]),
            ("\(prefix).bias_ih_l\(l)", [gateRows]),
            ("\(prefix).bias_hh_l\(l)", [gateRows]),
        ]
        if projectionSize > 0 { t.append(("\(prefix).weight_hr_l\(l)", [projectionSize, hiddenSize])) }
        return t
    }
}

/// Pointers to one layer's weights (or to their gradients) inside a `ParameterStore`.
public struct LayerWeights<T: CellScalar> {
    public let weightIH: UnsafeMutablePointer<T>
    public let weightHH: UnsafeMutablePointer<T>
    public let biasIH: UnsafeMutablePointer<T>
    public let biasHH: UnsafeMutablePointer<T>
    public let weightHR: UnsafeMutablePointer<T>?

    public init(_ store: ParameterStore<T>, layer l: Int, spec: LayerSpec, prefix: String) {
        weightIH = store.pointer("\(prefix).weight_ih_l\(l)")
        weightHH = store.pointer("\(prefix).weight_hh_l\(l)")
        biasIH = store.pointer("\(prefix).bias_ih_l\(l)")
        biasHH = store.pointer("\(prefix).bias_hh_l\(l)")
        weightHR = spec.projectionSize > 0 ? store.pointer("\(prefix).weight_hr_l\(l)") : nil
    }
}

/// What the batched forward pass keeps for the backward pass of one layer, for `steps × batch`
/// rows (time-major: row `t·batch + b`).
final class LayerCache<T: CellScalar> {
    let steps: Int, batch: Int
    /// The layer's inputs, [steps·batch × inputSize] (owned by the previous layer or the network).
    var input: UnsafePointer<T>
    /// Outputs h_t, [steps·batch × outputSize].
    let output: UnsafeMutablePointer<T>
    /// Gate activations after their nonlinearities, [steps·batch × gateRows].
    let gates: UnsafeMutablePointer<T>
    /// LSTM: cell states c_t; GRU: the hidden-side candidate term W_hn h + b_hn. [steps·batch × hiddenSize]
    let aux: UnsafeMutablePointer<T>
    /// LSTM with projection: m_t = o ⊙ tanh(c_t) before projection. [steps·batch × hiddenSize]
    let unprojected: UnsafeMutablePointer<T>?
    /// Where the backward pass adds dL/d(input), [steps·batch × inputSize]; nil to skip it.
    var dInput: UnsafeMutablePointer<T>?
    let spec: LayerSpec

    init(spec: LayerSpec, steps: Int, batch: Int, input: UnsafePointer<T>) {
        self.spec = spec
        self.steps = steps
        self.batch = batch
        self.input = input
        let rows = max(steps * batch, 1)
        output = .allocate(capacity: rows * spec.outputSize)
        gates = .allocate(capacity: rows * spec.gateRows)
        aux = .allocate(capacity: rows * spec.hiddenSize)
        unprojected = spec.projectionSize > 0 ? .allocate(capacity: rows * spec.hiddenSize) : nil
    }

    deinit {
        output.deallocate(); gates.deallocate(); aux.deallocate(); unprojected?.deallocate()
    }
}
