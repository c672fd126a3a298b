/// When an utterance ends, decided from the network's own output: a run of steps whose best
/// label is blank or space counts as silence. Rules in the manner of Kaldi's and sherpa-onnx's
/// endpointing, with documented defaults.
public struct EndpointConfig: Codable, Equatable, Sendable {
    /// After something was recognized, this much trailing silence ends the utterance.
    public var trailingSilence: Double = 0.8
    /// An utterance is cut here even without a pause (bounds latency and the decoder's memory).
    public var maxUtterance: Double = 20
    /// With nothing recognized, this much silence resets the network state anyway, so a stream
    /// that runs for days never carries state longer than this.
    public var idleReset: Double = 10

    public init() {}

    /// Trailing silences accepted, seconds: more than 0, at most a minute.
    public static let trailingSilences: ClosedRange<Double> = 0...60
    /// Longest utterances accepted, seconds (the decoder's memory grows with it).
    public static let maxUtterances: ClosedRange<Double> = 1...600

    public func validate() throws(DecoderConfigError) {
        guard trailingSilence > 0, Self.trailingSilences.contains(trailingSilence) else {
            throw .outOfRange("trailingSilence", "\(trailingSilence)", "(0, 60] seconds")
        }
        guard Self.maxUtterances.contains(maxUtterance) else { throw .outOfRange("maxUtterance", "\(maxUtterance)", "\(Self.maxUtterances) seconds") }
        guard idleReset > 0, idleReset <= 3600 else { throw .outOfRange("idleReset", "\(idleReset)", "(0, 3600] seconds") }
    }
}

public struct Endpointer: Sendable {
    public enum Decision: Equatable, Sendable {
        case none
        /// The utterance is over: finalize it and reset the decoder and network state.
        case endpoint
        /// Only silence so far: reset state without producing a result.
        case idleReset
    }

    public let config: EndpointConfig
    /// Seconds of audio per network step.
    public let stepSeconds: Double
    private var stepsInUtterance = 0
    private var silentSteps = 0
    private var heardSpeech = false
    /// The space token, which counts as silence when fed steps (`StepDecoder`); -1 for none.
    private let space: Int

    /// `space`: the token set's space label, for reading network steps.
    public init(config: EndpointConfig = EndpointConfig(), stepSeconds: Double, space: Int? = nil) {
        self.config = config
        self.stepSeconds = stepSeconds
        self.space = space ?? -1
    }

    /// One step: `speech` when its best label is a character other than space.
    public mutating func accept(speech: Bool) -> Decision {
        stepsInUtterance += 1
        if speech { heardSpeech = true; silentSteps = 0 } else { silentSteps += 1 }
        let silence = Double(silentSteps) * stepSeconds, length = Double(stepsInUtterance) * stepSeconds
        let decision: Decision
        if heardSpeech {
            decision = (silence >= config.trailingSilence || length >= config.maxUtterance) ? .endpoint : .none
        } else {
            decision = silence >= config.idleReset ? .idleReset : .none
        }
        if decision != .none { reset() }
        return decision
    }

    /// Starts counting afresh (a new utterance).
    public mutating func reset() {
        stepsInUtterance = 0
        silentSteps = 0
        heardSpeech = false
    }

    public var inSpeech: Bool { heardSpeech }
}

extension Endpointer: StepDecoder {
    /// A step is speech when its best label is a character other than the blank and the space.
    public mutating func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void) {
        let row = step.logProbs
        var best = 0
        for k in 1..<row.count where row[k] > row[best] { best = k }
        switch accept(speech: best != 0 && best != space) {
        case .none: break
        case .endpoint: emit(.endpoint)
        case .idleReset: emit(.idleReset)
        }
    }

    public mutating func endUtterance(emit: (DecoderOutput) -> Void) { reset() }
}

