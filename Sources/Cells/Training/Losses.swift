/// One sequence's rows of a `ForwardPass` output (log-probabilities) and of its gradient.
public struct SequenceRows<T: CellScalar> {
    public let base: UnsafeMutablePointer<T>
    public let steps: Int
    public let width: Int
    /// Distance between consecutive steps, in values.
    public let stride: Int
    @inline(__always) public func row(_ s: Int) -> UnsafeMutablePointer<T> { base + s * stride }
}

/// A loss over one sequence's network outputs: returns the loss summed over the sequence and
/// the number of units it counts (frames, labels) for averaging, and *adds* dL/d(output) into
/// `gradient`.
public protocol SequenceLoss<T> {
    associatedtype T: CellScalar
    associatedtype Target
    func evaluate(_ output: SequenceRows<T>, target: Target, gradient: SequenceRows<T>) -> (loss: Double, count: Int)
}

/// Cross-entropy per step against a class label; label −1 means the step is not scored.
public struct FrameCrossEntropy<T: CellScalar>: SequenceLoss {
    public init() {}
    public func evaluate(_ output: SequenceRows<T>, target: [Int], gradient: SequenceRows<T>) -> (loss: Double, count: Int) {
        var loss = 0.0, count = 0
        for s in 0..<min(output.steps, target.count) where target[s] >= 0 {
            loss -= Double(output.row(s)[target[s]])
            gradient.row(s)[target[s]] -= 1
            count += 1
        }
        return (loss, count)
    }
}
