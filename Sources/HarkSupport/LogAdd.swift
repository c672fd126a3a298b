import Glibc

/// ln(eᵃ + eᵇ), exact for −∞ on either side: how CTC sums the probabilities of two paths. The
/// beam search and the alignment (in `Float`) and the CTC loss (in `Double`) all use these.
@inlinable @inline(__always)
public func logAdd(_ a: Float, _ b: Float) -> Float {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return max(a, b) + log1pf(expf(-abs(a - b)))
}

@inlinable @inline(__always)
public func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    return max(a, b) + log1p(exp(-abs(a - b)))
}
