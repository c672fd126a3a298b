import Cells
import Decoding
import Foundation
import Stream

/// What a recognizer decodes and when utterances end. Defaults are those of `hark listen`.
public struct RecognizerConfig: Sendable {
    /// Produce transcripts (dictation). A keyword daemon turns this off and runs only the spotter.
    public var transcribe = true
    /// What the character beam search may produce: a word or phrase list; with `.open` (no list),
    /// transcripts are dictation in words (`dictation`).
    public var grammar: Grammar = .open
    public var languageModel: ArpaLanguageModel?
    public var beam = BeamSearchConfig()
    /// How open transcripts (no word or phrase list) are decoded: into the words of a vocabulary
    /// scored by its language model, by default Hark's English one (`Dictation.shipped`), or
    /// spelled character by character (`.spelling`, `hark listen --open-spelling`).
    public var dictation: DictationChoice = .shipped
    public var wordSearch = WordSearchConfig()
    /// The transcript decoder, when not the CTC beam search that `grammar`, `languageModel` and
    /// `beam` describe: any `StepDecoder` (greedy decoding, a word search) plugs in here, fed the
    /// same steps and ended at the same endpoints. Made once per stream.
    public var transcriber: (@Sendable (RecognitionModel) -> any StepDecoder)?
    public var keywords: [Keyword] = []
    public var spotter = KeywordSpotter.Config()
    public var endpoint = EndpointConfig()
    /// Seconds of silence fed after the end of a stream before the last result is final: CTC
    /// networks emit a word's last characters a little after its sound ends, and audio that
    /// stops right at a word (a file cut tight, a stream stopped mid-sentence) would lose them.
    public var tailPadding: Double = 0.5
    /// The network step's weights: 8-bit copies of the recurrent matrices by default (a live step
    /// reads every weight from memory, so a quarter of the bytes is most of the step's cost; the
    /// accuracy is the same within a few tenths of a point, MODEL.md), or the model's own floats.
    public var weights: StepWeights = .int8

    public init() {}

    /// The defaults of `hark listen` with these keywords (`RecognitionModel.keyword` gives each its
    /// tuned threshold); dictation too unless `transcribe` is false.
    public init(keywords: [Keyword], transcribe: Bool = true) {
        self.keywords = keywords
        self.transcribe = transcribe
    }

    /// Every setting in its range, so that a library user gets the same named error as the
    /// command line: the search's and the endpointer's own ranges, each keyword's threshold in
    /// (0, 1] (a threshold above 1 can never fire), a refractory time of at most an hour.
    public func validate() throws {
        try beam.validate()
        try wordSearch.validate()
        try endpoint.validate()
        guard tailPadding >= 0, tailPadding <= 10 else { throw DecoderConfigError.outOfRange("tailPadding", "\(tailPadding)", "[0, 10] seconds") }
        guard spotter.refractorySteps >= 0, spotter.refractorySteps <= 1_000_000 else {
            throw DecoderConfigError.outOfRange("refractorySteps", "\(spotter.refractorySteps)", "0...1000000")
        }
        for k in keywords where !(k.threshold > 0 && k.threshold <= 1) {
            throw DecoderConfigError.outOfRange("threshold of '\(k.text)'", "\(k.threshold)", "(0, 1]")
        }
        let texts = keywords.map(\.text)
        if let twice = texts.first(where: { t in texts.filter { $0 == t }.count > 1 }) {
            throw DecoderConfigError.duplicate("keyword '\(twice)'")
        }
    }
}

/// How a recognizer decodes open transcripts (`RecognizerConfig.dictation`).
public enum DictationChoice: Sendable {
    /// Words of Hark's English vocabulary, scored by its language model.
    case shipped
    /// Words of this vocabulary and language model.
    case custom(Dictation)
    /// Characters, any sequence: today's words need not be in any list, but most come out misspelled.
    case spelling
}

extension RecognizerConfig {
    /// The transcript decoder this configuration describes, when `transcriber` gives none: the
    /// character beam search for a word or phrase list or open spelling, else the word search.
    func makeTranscriber(for model: RecognitionModel) throws -> any StepDecoder {
        let dictation: Dictation
        switch self.dictation {
        case _ where !(grammar.rules is OpenGrammar), .spelling:
            return CTCBeamSearch(tokens: model.tokens, grammar: grammar, languageModel: languageModel, config: beam)
        case .shipped: dictation = try Dictation.shipped(tokens: model.tokens)
        case let .custom(d): dictation = d
        }
        guard dictation.resources.tokens == model.tokens else {
            throw RecognizerError.dictation("the vocabulary was spelled for other tokens than the model's (\(model.path))")
        }
        return WordSearch(resources: dictation.resources, config: wordSearch)
    }
}

/// What a stream refuses to accept.
public enum StreamError: Error, Equatable, CustomStringConvertible {
    /// Audio at another rate than the model was trained on (Kaldi's and sherpa-onnx's
    /// `AcceptWaveform(sampling_rate, …)` refuse it the same way).
    case sampleRate(source: Int, model: Int)
    /// A block that starts before the previous one ended: the clock went backwards.
    case overlap(start: Int64, expected: Int64)

    public var description: String {
        switch self {
        case let .sampleRate(source, model): "audio at \(source) Hz, but the model takes \(model) Hz"
        case let .overlap(start, expected): "a block starts at sample \(start), before the end of the previous one (\(expected))"
        }
    }
}

/// The recognizer's per-stream state and its synchronous step: samples in, events out.
///
/// samples → `FeatureStream` → `NetworkStream` (LSTM state carried frame to frame) → beam search,
/// keyword spotter and endpointer, each fed every network step. At an endpoint the utterance's
/// final transcript is emitted and the network and decoders start afresh (the front end's
/// sample counter goes on, so times stay absolute). `Recognizer` runs one of these on a thread.
public final class StreamingRecognizer {
    public let model: RecognitionModel
    public let config: RecognizerConfig
    public private(set) var stats = RecognizerStats()

    /// Where one network step's time went (seconds on `CLOCK_MONOTONIC`), for latency breakdowns.
    public struct StepTiming: Sendable {
        /// Absolute index (losses included) of the sample just after the audio this step saw.
        public var endSample: Int64
        public var network: Double
        public var decoder: Double
    }

    /// Called after every network step with its timing (on the thread that calls `accept`).
    public var onStep: ((StepTiming) -> Void)?
    /// Seconds the front end took for the last `accept` call.
    public private(set) var lastFeatureSeconds: Double = 0

    private let features: FeatureStream
    private let network: NetworkStream<Float>
    /// The keyword spotter, the beam search and the endpointer, fed every step in that order.
    private var decoders: DecoderFanOut
    private let frame: UnsafeMutableBufferPointer<Float>
    private let output: UnsafeMutableBufferPointer<Float>
    private var nextFrame = 0
    /// Frame index at which the network was last reset, and the absolute number of the
    /// utterance's first step: step n ends at frame utteranceFrame + (n − utteranceStep)·stride + stack − 1.
    private var utteranceFrame = 0
    private var utteranceStep = 0
    /// Absolute index (losses included) where the next block must start to follow the last one.
    private var nextSample: Int64 = 0

    /// A stream of `model` (`model.makeStream(config)` says the same): `config` is validated here,
    /// and a setting out of its range is a `DecoderConfigError` that names it.
    public init(model: RecognitionModel, config: RecognizerConfig = RecognizerConfig()) throws {
        try config.validate()
        self.model = model
        self.config = config
        features = model.frontEnd.makeStream()
        network = NetworkStream(model.network, int8: config.weights == .int8 ? model.int8Weights : nil)
        var decoders: [any StepDecoder] = []
        if !config.keywords.isEmpty {
            decoders.append(try KeywordSpotter(keywords: config.keywords, tokens: model.tokens, config: config.spotter))
        }
        if config.transcribe {
            decoders.append(try config.transcriber?(model) ?? config.makeTranscriber(for: model))
        }
        decoders.append(Endpointer(config: config.endpoint, stepSeconds: model.stepSeconds, space: model.tokens.space))
        self.decoders = DecoderFanOut(decoders)
        frame = .allocate(capacity: model.features.melBands)
        output = .allocate(capacity: model.network.config.outputWidth)
    }

    deinit {
        frame.deallocate()
        output.deallocate()
    }

    /// Whether every value of the network's recurrent state is finite (a soak-test check: a
    /// stream that runs for days must never carry NaN or Inf).
    public var stateIsFinite: Bool {
        let s = network.state
        return s.hidden.allSatisfy(\.isFinite) && s.cell.allSatisfy(\.isFinite) && s.history.allSatisfy(\.isFinite)
    }

    private var rate: Double { Double(model.features.sampleRate) }

    /// Absolute sample index just after the audio of step `s` (an absolute step number of the
    /// utterance in progress).
    private func endSample(ofStep s: Int) -> Int64 {
        let c = model.network.config
        let lastFrame = utteranceFrame + (s - utteranceStep) * c.stride + c.stack - 1
        return features.geometry.endSample(ofFrame: lastFrame) + stats.samplesLost   // lost audio counts in stream time
        // (every frame made after a gap ends in audio after it: the frames before were stepped as
        // their block arrived, and the utterance ended at the gap)
    }

    /// A CTC network emits a word's first character some time after the word's sound begins
    /// (it waits for evidence); word ends need no such correction, since the last character is
    /// emitted about when the sound ends. Measured on the awb fixtures (Tests/HarkTests/Fixtures,
    /// synthesis-known times): first characters 82–115 ms after the onset, 90 ms on average.
    static let onsetLag = 0.09

    /// Stream time (seconds) at which the word whose first character was emitted at step `s` began.
    private func startTime(ofStep s: Int) -> Double { max(0, time(ofStep: s) - Self.onsetLag) }

    /// Stream time (seconds) of the end of utterance step `s`.
    private func time(ofStep s: Int) -> Double { Double(endSample(ofStep: s)) / rate }

    /// Feeds a block read from a source (`AudioSource.forEachBlock`); calls `emit` for every event
    /// it produces, in order. The block's rate must be the model's, and it must not start before
    /// the previous block ended. A block that starts later follows lost audio: the utterance in
    /// progress is finalized first, with the times it had, `.audioLost` says where and how much,
    /// and the next utterance starts from a clean state after the gap, its times counted from the
    /// block's own start.
    public func accept(_ block: AudioBlock, emit: (RecognitionEvent) -> Void) throws(StreamError) {
        guard block.sampleRate == model.features.sampleRate else {
            throw .sampleRate(source: block.sampleRate, model: model.features.sampleRate)
        }
        guard block.start >= nextSample else { throw .overlap(start: block.start, expected: nextSample) }
        if block.start > nextSample {
            let lost = block.start - nextSample
            endUtterance(emit: emit)                         // resets the spotter too
            emit(.audioLost(AudioLoss(start: Double(nextSample) / rate, samples: lost, sampleRate: block.sampleRate)))
            stats.samplesLost += lost
            stats.gaps += 1
            nextSample = block.start
        }
        accept(samples: block.samples, emit: emit)
    }

    /// Feeds samples at the model's rate that follow the last ones directly (a whole file, a
    /// synthetic signal); calls `emit` for every event they produce, in order.
    public func accept(samples: UnsafeBufferPointer<Float>, emit: (RecognitionEvent) -> Void) {
        nextSample += Int64(samples.count)
        var t = MonotonicClock.now()
        features.accept(samples: samples)
        let afterFeatures = MonotonicClock.now()
        lastFeatureSeconds = afterFeatures - t
        stats.featureSeconds += lastFeatureSeconds
        t = afterFeatures
        stats.audioSeconds += Double(samples.count) / rate
        while nextFrame < features.framesReady {
            features.frame(nextFrame, into: frame)
            nextFrame += 1
            features.discardFrames(before: nextFrame)
            guard network.accept(frame: UnsafeBufferPointer(frame), into: output) else { continue }
            let afterNetwork = MonotonicClock.now()
            let end = endSample(ofStep: decoders.nextStep)     // before an endpoint moves the utterance's origin
            step(UnsafeBufferPointer(output), endSample: end, emit: emit)
            let afterDecoder = MonotonicClock.now()
            stats.networkSeconds += afterNetwork - t
            stats.decoderSeconds += afterDecoder - afterNetwork
            onStep?(StepTiming(endSample: end, network: afterNetwork - t, decoder: afterDecoder - afterNetwork))
            t = afterDecoder
        }
    }

    public func accept(samples: [Float], emit: (RecognitionEvent) -> Void) {
        samples.withUnsafeBufferPointer { accept(samples: $0, emit: emit) }
    }

    /// End of the stream: the pending utterance becomes final (when it has any words). `position`
    /// is where the stream ended on its clock (`AudioSource.position`): audio the source lost after
    /// the last block (a ring that overflowed until capture stopped) is reported as `.audioLost`.
    public func finish(endingAt position: Int64? = nil, emit: (RecognitionEvent) -> Void) {
        // A stream shorter than the level normalizer's lookahead: its frames are still held.
        features.releaseHeld()
        accept(samples: UnsafeBufferPointer(start: nil, count: 0), emit: emit)
        let inSpeech = decoders.first(Endpointer.self)?.inSpeech ?? false
        let lostAtEnd = (position ?? nextSample) - nextSample, lostFrom = nextSample
        defer {
            if lostAtEnd > 0 {
                emit(.audioLost(AudioLoss(start: Double(lostFrom) / rate, samples: lostAtEnd, sampleRate: model.features.sampleRate)))
                stats.samplesLost += lostAtEnd
                stats.gaps += 1
            }
        }
        if inSpeech {
            let pad = [Float](repeating: 0, count: Int(config.tailPadding * rate))
            let seconds = stats.audioSeconds
            accept(samples: pad, emit: emit)
            stats.audioSeconds = seconds                  // padding is not audio the source delivered
        }
        endUtterance(emit: emit)
    }

    private func step(_ row: UnsafeBufferPointer<Float>, endSample: Int64, emit: (RecognitionEvent) -> Void) {
        switch decoders.accept(logProbs: row, endSample: endSample, emit: { output, _ in report(output, emit: emit) }) {
        case .none: break
        case .endpoint, .idleReset: resetUtterance()
        }
    }

    /// A decoder's output as a recognition event, its steps turned into stream times.
    private func report(_ output: DecoderOutput, emit: (RecognitionEvent) -> Void) {
        switch output {
        case let .partial(h): emit(.partial(transcript(h)))
        case let .final(h):
            guard !h.text.isEmpty else { return }
            stats.utterances += 1
            emit(.final(transcript(h)))
        case let .keyword(hit):
            stats.keywordHits += 1
            emit(.keyword(KeywordEvent(keyword: hit.keyword, score: Double(hit.score),
                                       start: startTime(ofStep: hit.firstStep), end: time(ofStep: hit.lastStep),
                                       wallClock: Date().timeIntervalSince1970)))
        case .endpoint, .idleReset: break                 // the fan-out acts on them
        }
    }

    private func endUtterance(emit: (RecognitionEvent) -> Void) {
        decoders.endUtterance { output, _ in report(output, emit: emit) }
        resetUtterance()
    }

    /// Starts the next utterance from a clean network state (the decoders have ended or reset
    /// theirs); audio already accepted is not re-read.
    private func resetUtterance() {
        network.reset()
        utteranceFrame = nextFrame
        utteranceStep = decoders.nextStep
        stats.resets += 1
    }

    private func transcript(_ h: Hypothesis) -> Transcript {
        let words = h.words.map {
            Word(text: $0.text, start: startTime(ofStep: $0.firstStep), end: time(ofStep: $0.lastStep),
                 confidence: Double($0.confidence))
        }
        let start = words.first?.start ?? time(ofStep: utteranceStep)
        let end = words.last?.end ?? start
        let confidence = words.isEmpty ? 0 : words.reduce(0) { $0 + $1.confidence } / Double(words.count)
        return Transcript(text: h.text, stableCharacters: h.stableCharacters, words: words, start: start, end: end,
                          confidence: confidence)
    }
}

extension RecognitionModel {
    /// A new recognition stream of this model: the one place where streams are made and their
    /// configuration validated (a beam width of 0, a keyword threshold outside (0, 1], a NaN
    /// weight: a `DecoderConfigError` naming the setting, the same one the command line reports),
    /// as sherpa-onnx's `OnlineRecognizerConfig::Validate()` does.
    public func makeStream(_ config: RecognizerConfig = RecognizerConfig()) throws -> StreamingRecognizer {
        try StreamingRecognizer(model: self, config: config)
    }
}

