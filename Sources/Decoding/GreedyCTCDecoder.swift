import Glibc

/// Streaming greedy CTC decoding: the best class at each step, repeats merged, blanks dropped.
///
/// Steps arrive one at a time; a token is emitted at the first step of its run, with that step and
/// its probability. Everything emitted is final: a later step can only add tokens, never change
/// earlier ones, so partial text built from it never flickers.
public struct GreedyCTCDecoder: Sendable {
    public struct Token: Equatable, Sendable {
        public var label: Int
        /// Network step at which the token's run began.
        public var step: Int
        /// Its posterior probability at that step.
        public var probability: Float
    }

    public let blank: Int
    public private(set) var tokens: [Token] = []
    private var previous: Int
    private var steps = 0

    public init(blank: Int = 0) {
        self.blank = blank
        previous = blank
    }

    /// Adds one step of log-probabilities; returns the token it starts, if any.
    @discardableResult
    public mutating func accept(logProbs row: UnsafeBufferPointer<Float>) -> Token? {
        var best = 0
        for k in 1..<row.count where row[k] > row[best] { best = k }
        defer { previous = best; steps += 1 }
        guard best != blank, best != previous else { return nil }
        let t = Token(label: best, step: steps, probability: expf(row[best]))
        tokens.append(t)
        return t
    }

    public var labels: [Int] { tokens.map(\.label) }

    /// Decodes a whole `steps × classes` matrix.
    public static func decode(_ logProbs: [Float], classes: Int, blank: Int = 0) -> [Int] {
        var d = GreedyCTCDecoder(blank: blank)
        logProbs.withUnsafeBufferPointer { all in
            for s in 0..<(all.count / classes) {
                d.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * classes)..<((s + 1) * classes)]))
            }
        }
        return d.labels
    }
}

