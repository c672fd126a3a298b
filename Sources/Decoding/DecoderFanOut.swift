/// Feeds every network step to every decoder, in order, numbering the steps on the stream's clock,
/// and ends or resets the utterance for all of them at once. The live recognizer
/// (`StreamingRecognizer`) and evaluation (`Evaluation`) both decode through it, so a new decoder
/// is one more element of `decoders`, not an edit to either.
public struct DecoderFanOut {
    /// Where the step just fed left the utterance.
    public enum Boundary: Equatable, Sendable {
        case none
        /// A decoder (the endpointer) ended the utterance: every decoder has reported its final result.
        case endpoint
        /// A decoder called for an idle reset: every decoder has forgotten its state.
        case idleReset
    }

    public private(set) var decoders: [any StepDecoder]
    /// Absolute number of the next step.
    public private(set) var nextStep: Int

    public init(_ decoders: [any StepDecoder], firstStep: Int = 0) {
        self.decoders = decoders
        nextStep = firstStep
    }

    /// What `emit` gets: an output, and the index in `decoders` of the decoder that produced it.
    public typealias Emit = (_ output: DecoderOutput, _ decoder: Int) -> Void

    /// Feeds one step to every decoder; `.endpoint` and `.idleReset` from any of them apply to all
    /// after the step (they are not passed on to `emit`).
    @discardableResult
    public mutating func accept(logProbs: UnsafeBufferPointer<Float>, endSample: Int64, emit: Emit) -> Boundary {
        let step = DecoderStep(index: nextStep, endSample: endSample, logProbs: logProbs)
        nextStep += 1
        var boundary = Boundary.none
        for i in decoders.indices {
            decoders[i].accept(step) { output in
                switch output {
                case .endpoint: boundary = .endpoint
                case .idleReset: if boundary == .none { boundary = .idleReset }
                default: emit(output, i)
                }
            }
        }
        switch boundary {
        case .none: break
        case .endpoint: endUtterance(emit: emit)
        case .idleReset: reset()
        }
        return boundary
    }

    /// Ends the utterance for every decoder (a gap, the end of the stream, an endpoint).
    public mutating func endUtterance(emit: Emit) {
        for i in decoders.indices {
            decoders[i].endUtterance { output in
                if output != .endpoint && output != .idleReset { emit(output, i) }
            }
        }
    }

    /// Every decoder forgets the utterance in progress.
    public mutating func reset() {
        for i in decoders.indices { decoders[i].reset() }
    }

    /// The first decoder of type `D`, for reading its state (the endpointer's `inSpeech`, a
    /// spotter's scores).
    public func first<D: StepDecoder>(_ type: D.Type) -> D? {
        decoders.lazy.compactMap { $0 as? D }.first
    }
}
