import Cells
import Decoding
import Foundation
import Recognizer
import Stream

/// What `hark eval` measures on a manifest: error rates per category with greedy decoding and,
/// where a category has a vocabulary, with the constrained beam search; keyword recall and
/// false alarms per hour with the keyword spotter. The network runs in batches (identical to the
/// streaming step within 1e-5, see CellsTests); decoders run step by step as they do live.
public struct Evaluation {
    public struct Report: Codable, Sendable {
        public var model: String
        public var manifest: String
        public var utterances: Int
        public var hours: Double
        public var categories: [CategoryReport]
        public var keywords: [KeywordReport]
        /// Seconds of compute (features excluded) per second of audio, network and decoders.
        public var realTimeFactor: Double
        /// The network step's weights the figures are for ("int8", "float"); set by the caller.
        public var weights: String?
        /// With `warmGap`: the seconds of silence between an utterance and the one heard before
        /// it, and how many utterances had one (the others are their speaker's first, cold).
        public var warmGap: Double?
        public var warmUtterances: Int?
    }

    public struct CategoryReport: Codable, Sendable {
        public var category: String
        public var utterances: Int
        /// Error rates; nil where the category's references hold no words (non-speech), where a
        /// rate has no denominator: `greedyWordErrors` then counts the words inserted.
        public var greedyCER: Double?
        public var greedyWER: Double?
        public var referenceWords: Int
        public var greedyWordErrors: Int
        /// Which vocabulary constrained the beam search, when one did.
        public var vocabulary: String?
        public var constrainedCER: Double?
        public var constrainedWER: Double?
    }

    public struct KeywordReport: Codable, Sendable {
        public var keyword: String
        public var threshold: Double
        /// The scoring the threshold and the peaks are in.
        public var scoring: KeywordSpotter.Scoring
        /// Utterances whose transcript contains the keyword (as whole words).
        public var occurrences: Int
        public var detected: Int
        public var recall: Double?
        public var falseAlarms: Int
        /// Audio hours of the utterances without the keyword, where every hit is a false alarm.
        public var otherHours: Double
        public var falseAlarmsPerHour: Double?
        /// The keyword's peak score (`KeywordSpotter.currentScores`) over each utterance: the lowest
        /// among utterances that say it and the highest among those that do not. Every threshold
        /// above the second and up to the first catches them all with no false alarm.
        public var lowestPeakWithKeyword: Double?
        public var highestPeakElsewhere: Double?
    }

    public struct Vocabulary {
        public var name: String
        public var grammar: Grammar
        /// Dictation: the word search over these words and language model, in place of the
        /// character search over `grammar`.
        public var dictation: WordSearchResources?
        public init(name: String, grammar: Grammar) { self.name = name; self.grammar = grammar }
        public init(name: String, dictation: WordSearchResources) {
            self.name = name
            grammar = .open
            self.dictation = dictation
        }
    }

    public var network: Network<Float>
    public var tokens: TokenSet
    public var features: LogMelConfig
    /// Category → vocabulary for the constrained pass ("*" applies to every category without its own).
    public var vocabularies: [String: Vocabulary] = [:]
    public var languageModel: ArpaLanguageModel?
    public var beam = BeamSearchConfig()
    public var wordSearch = WordSearchConfig()
    public var keywords: [Keyword] = []
    public var spotter = KeywordSpotter.Config()
    public var threads = 2
    /// Seconds of silence appended to every utterance, as the recognizer does at the end of a
    /// stream (`RecognizerConfig.tailPadding`).
    public var tailPadding = RecognizerConfig().tailPadding
    /// When set, every utterance but a speaker's first is heard as live use hears the next
    /// utterance after a pause: the front end (its level normalizer) has heard the speaker's
    /// previous utterance in the manifest and this many seconds of silence; the network and the
    /// decoders start clean, as the endpointer resets them (`FeatureSet.WarmUp`). When nil, every
    /// utterance is the start of a stream.
    public var warmGap: Double?

    public init(network: Network<Float>, tokens: TokenSet, features: LogMelConfig) {
        self.network = network
        self.tokens = tokens
        self.features = features
    }

    /// Per-utterance decoder output, kept for reports and tests.
    public struct Decoded: Sendable {
        public var entry: ManifestEntry
        public var seconds: Double
        public var greedy: String
        public var constrained: String?
        public var hits: [KeywordHit]
        /// Each keyword's peak score in the utterance, whatever the thresholds (in `keywords`
        /// order): what threshold tuning and recall at a fixed false-alarm rate need.
        public var peaks: [Float]
    }

    public func run(_ entries: [ManifestEntry], modelName: String, manifestName: String,
                    progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) throws -> (Report, [Decoded]) {
        let extractor = try LogMelSpectrogram(features)
        let warmUp = warmGap.map { FeatureSet.WarmUp(previous: FeatureSet.WarmUp.previousSameSpeaker(entries),
                                                     gapSamples: Int(($0 * Double(features.sampleRate)).rounded())) }
        let set = try FeatureSet.compute(entries, tokens: tokens, features: extractor, threads: threads,
                                         tailPadding: Int(tailPadding * Double(features.sampleRate)), warmUp: warmUp, progress: progress)
        let spotterTemplate = try KeywordSpotter(keywords: keywords, tokens: tokens, config: spotter)
        // A second spotter that never fires (threshold above 1): a hit resets the first one's
        // alignments, which would hide a higher score later in the same utterance.
        let peakTemplate = try KeywordSpotter(keywords: keywords.map { Keyword($0.text, threshold: 2, scoring: $0.scoring) }, tokens: tokens, config: spotter)
        var decoded: [Decoded] = []
        let clock = Date()
        let c = network.config, geometry = features.geometry
        set.forEachOutput(of: network) { u, steps, row in
            // The same fan-out as the live recognizer, one utterance at a time (no endpointer:
            // an entry is one utterance): greedy, the constrained search when the category has a
            // vocabulary, the spotter, and the never-firing spotter that tracks peak scores.
            let vocabulary = vocabularies[u.entry.category] ?? vocabularies["*"]
            var list: [any StepDecoder] = [GreedyTranscriber(tokens: tokens), spotterTemplate, KeywordPeaks(peakTemplate)]
            if let dictation = vocabulary?.dictation {
                list.append(WordSearch(resources: dictation, config: wordSearch))
            } else if let vocabulary {
                list.append(CTCBeamSearch(tokens: tokens, grammar: vocabulary.grammar, languageModel: languageModel, config: beam))
            }
            var fanOut = DecoderFanOut(list)
            var greedy = "", constrained: String?, hits: [KeywordHit] = []
            let collect: DecoderFanOut.Emit = { output, decoder in
                switch output {
                case let .final(h) where decoder == 0: greedy = h.text
                case let .final(h): constrained = h.text
                case let .keyword(hit): hits.append(hit)
                default: break
                }
            }
            for s in 0..<steps {
                fanOut.accept(logProbs: row(s), endSample: geometry.endSample(ofFrame: s * c.stride + c.stack - 1), emit: collect)
            }
            let peaks = fanOut.first(KeywordPeaks.self)?.peaks ?? []
            fanOut.endUtterance(emit: collect)
            decoded.append(Decoded(entry: u.entry, seconds: Double(u.frameCount) / features.framesPerSecond - tailPadding, greedy: greedy,
                                   constrained: constrained, hits: hits, peaks: peaks))
        }
        let compute = Date().timeIntervalSince(clock)
        let hours = decoded.reduce(0) { $0 + $1.seconds } / 3600
        return (Report(model: modelName, manifest: manifestName, utterances: decoded.count, hours: hours,
                       categories: categoryReports(decoded), keywords: keywordReports(decoded),
                       realTimeFactor: compute / max(hours * 3600, 1e-9), warmGap: warmGap,
                       warmUtterances: warmUp.map { $0.previous.compactMap { $0 }.count }), decoded)
    }

    func categoryReports(_ decoded: [Decoded]) -> [CategoryReport] {
        var out: [CategoryReport] = []
        let names = Set(decoded.map(\.entry.category)).sorted()
        for name in names + ["all"] {
            let items = name == "all" ? decoded : decoded.filter { $0.entry.category == name }
            var gc = ErrorCounts(), gw = ErrorCounts(), cc = ErrorCounts(), cw = ErrorCounts()
            var constrained = 0
            for d in items {
                // The greedy transcript is in the model's characters (phonemes, for a phoneme
                // model); constrained decoders write the entries' words.
                let ref = TokenSet.normalize(d.entry.text)
                let spelled = (try? tokens.spelling(of: ref)) ?? ref
                gc = gc + .characters(reference: spelled, hypothesis: d.greedy)
                gw = gw + .words(reference: spelled, hypothesis: d.greedy)
                if let c = d.constrained {
                    constrained += 1
                    cc = cc + .characters(reference: ref, hypothesis: c)
                    cw = cw + .words(reference: ref, hypothesis: c)
                }
            }
            let vocabulary = name == "all" ? nil : (vocabularies[name] ?? vocabularies["*"])?.name
            func rate(_ e: ErrorCounts) -> Double? { e.referenceLength > 0 ? e.rate : nil }
            out.append(CategoryReport(category: name, utterances: items.count, greedyCER: rate(gc), greedyWER: rate(gw),
                                      referenceWords: gw.referenceLength, greedyWordErrors: gw.errors,
                                      vocabulary: constrained == items.count ? vocabulary : nil,
                                      constrainedCER: constrained == items.count && constrained > 0 ? rate(cc) : nil,
                                      constrainedWER: constrained == items.count && constrained > 0 ? rate(cw) : nil))
        }
        return out
    }

    /// From each utterance's peak score: the lowest threshold (on a 0.01 grid) whose false alarms
    /// (utterances without the keyword whose peak reaches it) stay within `target` per hour, and the
    /// recall there (utterances with the keyword whose peak reaches it).
    public static func recall(atFalseAlarms target: Double, peaks: [Float], entries: [ManifestEntry], seconds: [Double],
                       keyword: String) -> (recall: Double, threshold: Float, falseAlarms: Int, hours: Double) {
        let present = entries.map { Evaluation.contains($0.text, keyword: keyword) > 0 }
        let hours = zip(present, seconds).filter { !$0.0 }.reduce(0) { $0 + $1.1 } / 3600
        let positives = present.filter { $0 }.count
        for step in 1...100 {
            let t = Float(step) / 100
            let alarms = zip(present, peaks).filter { !$0.0 && $0.1 >= t }.count
            if hours > 0 && Double(alarms) / hours <= target {
                let hits = zip(present, peaks).filter { $0.0 && $0.1 >= t }.count
                return (positives > 0 ? Double(hits) / Double(positives) : 0, t, alarms, hours)
            }
        }
        return (0, 1, 0, hours)
    }

    /// Whole-word containment: "hey hark" is in "well hey hark go" but not in "they harken".
    public static func contains(_ text: String, keyword: String) -> Int {
        let words = TokenSet.normalize(text).split(separator: " "), k = keyword.split(separator: " ")
        guard !k.isEmpty, words.count >= k.count else { return 0 }
        var n = 0, i = 0
        while i + k.count <= words.count {
            if Array(words[i..<(i + k.count)]) == k { n += 1; i += k.count } else { i += 1 }
        }
        return n
    }

    func keywordReports(_ decoded: [Decoded]) -> [KeywordReport] {
        keywords.enumerated().map { i, k in
            var occurrences = 0, detected = 0, falseAlarms = 0
            var otherSeconds = 0.0
            var lowest: Float?, highest: Float?
            for d in decoded {
                let present = Self.contains(d.entry.text, keyword: k.text)
                let hits = d.hits.filter { $0.keyword == k.text }.count
                occurrences += present
                detected += min(present, hits)
                falseAlarms += max(0, hits - present)
                if present == 0 { otherSeconds += d.seconds }
                if present > 0 { lowest = min(lowest ?? .infinity, d.peaks[i]) } else { highest = max(highest ?? 0, d.peaks[i]) }
            }
            let otherHours = otherSeconds / 3600
            return KeywordReport(keyword: k.text, threshold: Double(k.threshold), scoring: k.scoring, occurrences: occurrences, detected: detected,
                                 recall: occurrences > 0 ? Double(detected) / Double(occurrences) : nil,
                                 falseAlarms: falseAlarms, otherHours: otherHours,
                                 falseAlarmsPerHour: otherHours > 0 ? Double(falseAlarms) / otherHours : nil,
                                 lowestPeakWithKeyword: lowest.map(Double.init), highestPeakElsewhere: highest.map(Double.init))
        }
    }
}

/// Each keyword's highest score over an utterance, from a spotter that never fires (a hit would
/// reset its alignments and hide a higher score later in the utterance).
struct KeywordPeaks: StepDecoder {
    private var spotter: KeywordSpotter
    private(set) var peaks: [Float]

    init(_ spotter: KeywordSpotter) {
        self.spotter = spotter
        peaks = [Float](repeating: 0, count: spotter.keywords.count)
    }

    mutating func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void) {
        spotter.accept(step) { _ in }
        for k in peaks.indices { peaks[k] = max(peaks[k], spotter.currentScores[k]) }
    }

    mutating func endUtterance(emit: (DecoderOutput) -> Void) { reset() }

    mutating func reset() {
        spotter.reset()
        for k in peaks.indices { peaks[k] = 0 }
    }
}

