/// One network step as every decoder sees it: its number and place on the stream's clock, and the
/// network's log-posteriors.
public struct DecoderStep {
    /// Absolute step number: steps count on from the start of the stream, across utterances,
    /// resets and gaps in the audio. Words and hits are timed in these numbers.
    public let index: Int
    /// Absolute index (losses included) of the sample just after the audio this step saw.
    public let endSample: Int64
    /// One log-posterior per token of the model's `TokenSet`, the blank at 0.
    public let logProbs: UnsafeBufferPointer<Float>

    public init(index: Int, endSample: Int64, logProbs: UnsafeBufferPointer<Float>) {
        self.index = index
        self.endSample = endSample
        self.logProbs = logProbs
    }
}

/// What a decoder reports. Steps in hypotheses and hits are absolute (`DecoderStep.index`).
public enum DecoderOutput: Equatable, Sendable {
    /// The best transcript so far of the utterance in progress; reported when it changes.
    case partial(Hypothesis)
    /// The utterance's final transcript (possibly empty), reported when it ends.
    case final(Hypothesis)
    case keyword(KeywordHit)
    /// The utterance is over at this step (the endpointer's decision): `DecoderFanOut` ends it
    /// for every decoder once the step has been fed to all of them.
    case endpoint
    /// Only silence for a long time: every decoder forgets its state, without a result.
    case idleReset
}

/// The one seam between the network and everything that reads its output: the CTC beam search,
/// greedy decoding, the keyword spotter and the endpointer adopt it, and so does any new decoder
/// (a lexicon + language-model word search): per-step log-posteriors in, partial and final
/// hypotheses with step times out, a fresh start at every endpoint. `DecoderFanOut` feeds one
/// step to every decoder, numbered on the stream's clock, for the live recognizer and for
/// evaluation alike (pocketsphinx's `ps_search_t`, Kaldi's `DecodableInterface`).
public protocol StepDecoder {
    /// Reads one step; reports what it produces through `emit`.
    mutating func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void)
    /// The utterance ended (an endpoint, a gap in the audio, the end of the stream): report its
    /// final result, if the decoder has one, and start the next utterance. Step numbers go on.
    mutating func endUtterance(emit: (DecoderOutput) -> Void)
    /// Forgets the utterance in progress without a result (an idle reset).
    mutating func reset()
}
