/// The lattice of connectionist temporal classification (Graves et al. 2006) for one label
/// sequence, and its forward pass: the one place Hark spells out which CTC paths exist. The
/// training loss (`CTCLoss`, in `Double`, with its backward pass) and the end-of-utterance
/// alignment (`CTCAlignment`, in `Float`, with its best path) both walk this lattice.
///
/// The labels are extended to l′ = (blank, l₁, blank, l₂, …, blank) of length S = 2U + 1. A path
/// stays on its state, moves to the next, or skips a blank between two different labels:
///
///     α[0][0] = y₀(blank), α[0][1] = y₀(l₁)
///     α[t][s] = (α[t−1][s] + α[t−1][s−1] + [l′ₛ ≠ blank ∧ l′ₛ ≠ l′ₛ₋₂] α[t−1][s−2]) · yₜ(l′ₛ)
///     p(labels) = α[T−1][S−1] + α[T−1][S−2]
///
/// all in log space (α includes step t's emission).
public struct CTCLattice: Sendable {
    /// l′: the labels with a blank before, between and after them.
    public let extended: [Int]
    public let blank: Int

    public init(labels: [Int], blank: Int) {
        var extended = [blank]
        extended.reserveCapacity(2 * labels.count + 1)
        for l in labels { extended.append(l); extended.append(blank) }
        self.extended = extended
        self.blank = blank
    }

    /// S, the number of states.
    @inlinable public var count: Int { extended.count }

    /// Whether a path may reach state `s` from `s − 2`, skipping the blank between two labels:
    /// only between different labels (a repeated label needs its blank).
    @inlinable @inline(__always)
    public func canSkip(to s: Int) -> Bool {
        s >= 2 && extended[s] != blank && extended[s] != extended[s - 2]
    }

    /// Fills `alpha` (`steps × count`, row-major; at least one step) with the forward variables
    /// and returns ln p(labels), −∞ when no path fits in `steps`. `emission(t, k)` is ln yₜ(k).
    @inlinable
    public func forward<Scalar: LogSpaceFloat>(
        steps: Int, alpha: UnsafeMutableBufferPointer<Scalar>, emission: (_ step: Int, _ label: Int) -> Scalar
    ) -> Scalar {
        let S = count
        precondition(steps > 0 && alpha.count >= steps * S, "CTCLattice.forward: alpha must hold steps × states")
        for i in 0..<(steps * S) { alpha[i] = -.infinity }
        alpha[0] = emission(0, extended[0])
        if S > 1 { alpha[1] = emission(0, extended[1]) }
        for t in 1..<steps {
            let previous = (t - 1) * S, row = t * S
            for s in 0..<S {
                var a = alpha[previous + s]
                if s >= 1 { a = Scalar.logAdd(a, alpha[previous + s - 1]) }
                if canSkip(to: s) { a = Scalar.logAdd(a, alpha[previous + s - 2]) }
                alpha[row + s] = a == -.infinity ? a : a + emission(t, extended[s])
            }
        }
        let last = (steps - 1) * S
        return S > 1 ? Scalar.logAdd(alpha[last + S - 1], alpha[last + S - 2]) : alpha[last]
    }
}

/// A floating-point type CTC can sum paths in: `logAdd` of `Float` or `Double`.
public protocol LogSpaceFloat: BinaryFloatingPoint {
    static func logAdd(_ a: Self, _ b: Self) -> Self
}

extension Float: LogSpaceFloat {
    @inlinable @inline(__always)
    public static func logAdd(_ a: Float, _ b: Float) -> Float { HarkSupport.logAdd(a, b) }
}

extension Double: LogSpaceFloat {
    @inlinable @inline(__always)
    public static func logAdd(_ a: Double, _ b: Double) -> Double { HarkSupport.logAdd(a, b) }
}
