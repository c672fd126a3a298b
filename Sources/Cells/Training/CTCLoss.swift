import HarkSupport
import Glibc

/// Connectionist temporal classification (Graves et al. 2006): −log p(labels | outputs), summed
/// over every alignment of the labels to the output steps, computed by forward–backward in log
/// space. Class `blank` (0 by default) is the blank; a label repeated back to back needs a blank
/// between its two alignments.
///
/// With the labels extended to l′ = (blank, l₁, blank, l₂, …, blank) of length S = 2U + 1:
///
///     α[0][0] = y₀(blank), α[0][1] = y₀(l₁)
///     α[t][s] = (α[t−1][s] + α[t−1][s−1] + [l′ₛ ≠ blank ∧ l′ₛ ≠ l′ₛ₋₂] α[t−1][s−2]) · yₜ(l′ₛ)
///     β[T−1][S−1] = β[T−1][S−2] = 1
///     β[t][s] = Σ over s′ ∈ {s, s+1, s+2 (same rule)} of β[t+1][s′] · yₜ₊₁(l′ₛ′)
///     p = α[T−1][S−1] + α[T−1][S−2];  ∂(−log p)/∂ log yₜ(k) = −Σ_{s: l′ₛ = k} α[t][s] β[t][s] / p
///
/// all in log space (α includes step t's emission, β does not). The lattice and its forward pass
/// are HarkSupport's `CTCLattice`, shared with the decoders' alignment; the backward pass is here.
/// A sequence too short for its labels has p = 0: it contributes zero loss and zero gradient and is not counted (PyTorch's
/// `zero_infinity`). The loss is per sequence (count 1).
public struct CTCLoss<T: CellScalar>: SequenceLoss {
    public var blank: Int

    public init(blank: Int = 0) { self.blank = blank }

    public func evaluate(_ output: SequenceRows<T>, target labels: [Int], gradient: SequenceRows<T>) -> (loss: Double, count: Int) {
        let r = Self.forwardBackward(output, labels: labels, blank: blank)
        guard r.logP.isFinite else { return (0, 0) }
        for t in 0..<output.steps {
            let g = gradient.row(t)
            for (s, k) in r.extended.enumerated() {
                let a = r.alpha[t * r.extended.count + s] + r.beta[t * r.extended.count + s]
                if a > -.infinity { g[k] -= T(Self.exp(a - r.logP)) }
            }
        }
        return (-r.logP, 1)
    }

    /// −log p(labels | outputs) alone.
    public func loss(_ output: SequenceRows<T>, labels: [Int]) -> Double {
        -Self.forwardBackward(output, labels: labels, blank: blank).logP
    }

    struct Lattice {
        var extended: [Int]
        var alpha: [Double]
        var beta: [Double]
        var logP: Double
    }

    static func forwardBackward(_ y: SequenceRows<T>, labels: [Int], blank: Int) -> Lattice {
        let lattice = CTCLattice(labels: labels, blank: blank)
        let ext = lattice.extended
        let S = ext.count, steps = y.steps
        var alpha = [Double](repeating: -.infinity, count: max(steps, 1) * S)
        var beta = alpha
        guard steps > 0 else { return Lattice(extended: ext, alpha: alpha, beta: beta, logP: labels.isEmpty ? 0 : -.infinity) }
        @inline(__always) func lp(_ t: Int, _ k: Int) -> Double { Double(y.row(t)[k]) }

        let logP = alpha.withUnsafeMutableBufferPointer { lattice.forward(steps: steps, alpha: $0, emission: lp) }
        let last = (steps - 1) * S

        beta[last + S - 1] = 0
        if S > 1 { beta[last + S - 2] = 0 }
        for t in stride(from: steps - 2, through: 0, by: -1) {
            for s in 0..<S {
                var b = beta[(t + 1) * S + s] + lp(t + 1, ext[s])
                if s + 1 < S { b = logAdd(b, beta[(t + 1) * S + s + 1] + lp(t + 1, ext[s + 1])) }
                if s + 2 < S && lattice.canSkip(to: s + 2) { b = logAdd(b, beta[(t + 1) * S + s + 2] + lp(t + 1, ext[s + 2])) }
                beta[t * S + s] = b
            }
        }
        return Lattice(extended: ext, alpha: alpha, beta: beta, logP: logP)
    }

    @inline(__always) static func exp(_ x: Double) -> Double { Glibc.exp(x) }
}
