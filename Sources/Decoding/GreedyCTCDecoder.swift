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

extension GreedyCTCDecoder: StepDecoder {
    /// Reads a step under its absolute number; a token that starts there is reported as `.partial`
    /// (tokens only, no text: `GreedyTranscriber` spells them).
    public mutating func accept(_ s: DecoderStep, emit: (DecoderOutput) -> Void) {
        steps = s.index
        accept(logProbs: s.logProbs)
    }

    public mutating func endUtterance(emit: (DecoderOutput) -> Void) { reset() }

    /// Forgets the tokens so far.
    public mutating func reset() {
        tokens.removeAll(keepingCapacity: true)
        previous = blank
    }
}

/// Greedy decoding as a transcript decoder: the best token at each step, spelled with the token
/// set; what it shows never changes (nothing is rescored), so every partial is stable.
public struct GreedyTranscriber: StepDecoder {
    public let tokenSet: TokenSet
    private var greedy: GreedyCTCDecoder
    private var shown = 0

    public init(tokens: TokenSet) {
        tokenSet = tokens
        greedy = GreedyCTCDecoder(blank: 0)
    }

    /// The tokens of the utterance so far.
    public var labels: [Int] { greedy.labels }

    public mutating func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void) {
        greedy.accept(step) { _ in }
        guard greedy.tokens.count != shown else { return }
        shown = greedy.tokens.count
        var h = hypothesis()
        h.stableCharacters = h.text.count
        emit(.partial(h))
    }

    public mutating func endUtterance(emit: (DecoderOutput) -> Void) {
        var h = hypothesis()
        h.stableCharacters = h.text.count
        emit(.final(h))
        reset()
    }

    public mutating func reset() {
        greedy.reset()
        shown = 0
    }

    /// Text and words (split at spaces, timed by their first and last token) of the tokens so far.
    private func hypothesis() -> Hypothesis {
        let text = tokenSet.decode(greedy.labels)
        var words: [DecodedWord] = [], current: [GreedyCTCDecoder.Token] = []
        func flush() {
            guard let first = current.first, let last = current.last else { return }
            let mean = current.reduce(Float(0)) { $0 + logf($1.probability) } / Float(current.count)
            words.append(DecodedWord(text: tokenSet.decode(current.map(\.label)), firstStep: first.step,
                                     lastStep: last.step, confidence: expf(mean)))
            current.removeAll()
        }
        for t in greedy.tokens {
            if t.label == tokenSet.space { flush() } else { current.append(t) }
        }
        flush()
        return Hypothesis(text: text, words: words, stableCharacters: 0, score: 0)
    }
}

