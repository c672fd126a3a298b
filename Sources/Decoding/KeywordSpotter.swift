import Glibc

/// A keyword to spot, given as text at run time, with its own threshold and scoring.
public struct Keyword: Equatable, Sendable {
    public var text: String
    /// Hits need a score at or above this (0–1; see `KeywordSpotter`).
    public var threshold: Float
    /// How the score is computed; a threshold means something only for its own scoring.
    public var scoring: KeywordSpotter.Scoring

    public init(_ text: String, threshold: Float = KeywordSpotter.defaultThreshold, scoring: KeywordSpotter.Scoring = .ratio) {
        self.text = TokenSet.normalize(text)
        self.threshold = threshold
        self.scoring = scoring
    }
}

public struct KeywordHit: Equatable, Sendable {
    public var keyword: String
    /// Per-character geometric mean of the best alignment's probability, in [0, 1].
    public var score: Float
    /// Network steps of the keyword's first and last character.
    public var firstStep: Int
    public var lastStep: Int
}

/// Spots keywords in a stream of CTC posteriors, with no decoding of anything else.
///
/// For each keyword with characters k₁…k_L the spotter runs a Viterbi pass over CTC's topology
/// (k₁ · blank* · k₂ · … · k_L, each character repeated freely) in which a path may start at any
/// step: the best alignment ending at the current step is max over start steps of
/// Σ log p(label on the path). Frames between the characters must be blank or repeats, so other
/// speech in between costs what it should; only a space between two words may be left out
/// (`Config.optionalSpaces`). The score is exp(that sum / L), a per-character
/// geometric mean, so thresholds mean the same for short and long keywords. A hit fires at the
/// step the last character's score first reaches the threshold (the earliest moment the keyword
/// is known), then the keyword is silent for the refractory time. Allocation-free per step.
public struct KeywordSpotter: Sendable {
    /// For ratio scoring with the shipped model and a keyword it was not trained for, chosen on the
    /// human dev half (people, not synthetic voices, decide): the lowest threshold at which "okay
    /// robot", "hey computer", "play music" and "bamboo" together raise at most 1 false alarm per
    /// hour of its speech (1 in 4 × 0.29 h: "bamboo" peaks at 0.269 where it is not said, the
    /// next highest is 0.192). Re-chosen with the phoneme model of 2026-12-07 (0.28 with the letter
    /// model before it); on the synthetic keyword sets it catches awb's and joe's "okay robot"
    /// 100/100, with no false alarm in 0.84 h and 0.71 h (MODEL.md).
    public static let defaultThreshold: Float = 0.20

    public struct Config: Codable, Equatable, Sendable {
        /// After a hit, the same keyword cannot fire again for this many steps.
        public var refractorySteps: Int = 33
        /// An alignment longer than this many steps is abandoned (keywords are short).
        public var maxSteps: Int = 100
        /// Whether an alignment may skip the space between a keyword's words: a CTC character
        /// model marks word boundaries unreliably when words run together ("okay okay robot").
        public var optionalSpaces = true
        public init() {}
    }

    /// How a hit is scored, per keyword (`Keyword.scoring`). Which one separates a keyword from
    /// other speech better depends on the model: `hark model threshold` measures both on dev and
    /// keeps the one with the wider margin (`KeywordThreshold`).
    public enum Scoring: String, Codable, CaseIterable, Sendable {
        /// exp(log P(best keyword alignment) / L): the keyword's own probability per character.
        /// Strict where the network is sure of the keyword (a model trained for it).
        case posterior
        /// exp((log P(best keyword alignment) − log P(best unconstrained path, same steps)) / L):
        /// how close the keyword comes to what the network would say anyway, so that audio on
        /// which the network is unsure everywhere (an unfamiliar voice, a keyword the model never
        /// heard) does not lower every score.
        case ratio
    }

    private struct Track {
        var keyword: Keyword
        var labels: [Int32]
        /// Whether label c may be left out (a space between words, when spaces are optional).
        var skippable: [Bool]
        /// Best log-probability of a path in state j (2j = inside character j; 2j+1 = blanks after it).
        var score: [Float]
        var start: [Int32]
        /// Σ max log p over the steps before each path's start, to subtract the free path's score.
        var base: [Double]
        var quietUntil: Int
    }

    public let config: Config
    private var tracks: [Track]
    private var previous: [Float] = []
    private var previousStart: [Int32] = []
    private var previousBase: [Double] = []
    private var step = 0
    /// Σ over all steps so far of the step's largest log-probability (the unconstrained best path).
    private var bestPath: Double = 0

    public init(keywords: [Keyword], tokens: TokenSet, config: Config = Config()) throws(TokenError) {
        self.config = config
        var tracks: [Track] = []
        for k in keywords {
            let labels = try tokens.encode(k.text).map(Int32.init)
            guard !labels.isEmpty else { continue }
            let skippable = labels.indices.map { c in
                config.optionalSpaces && c > 0 && c < labels.count - 1 && Int(labels[c]) == tokens.space
            }
            tracks.append(Track(keyword: k, labels: labels, skippable: skippable,
                                score: Array(repeating: -.infinity, count: 2 * labels.count),
                                start: Array(repeating: 0, count: 2 * labels.count),
                                base: Array(repeating: 0, count: 2 * labels.count), quietUntil: 0))
        }
        self.tracks = tracks
        currentScores = Array(repeating: 0, count: tracks.count)
        let longest = tracks.map { 2 * $0.labels.count }.max() ?? 0
        previous = Array(repeating: -.infinity, count: longest)
        previousStart = Array(repeating: 0, count: longest)
        previousBase = Array(repeating: 0, count: longest)
    }

    public var keywords: [Keyword] { tracks.map(\.keyword) }
    /// Each keyword's score for an alignment ending at the last step (0 when there is none); its
    /// peak over an utterance is what threshold tuning needs.
    public private(set) var currentScores: [Float] = []
    public var steps: Int { step }

    /// Forgets partial alignments (at an endpoint or a stream reset); step numbers go on.
    public mutating func reset() {
        bestPath = 0
        for t in tracks.indices {
            for j in tracks[t].score.indices { tracks[t].score[j] = -.infinity }
        }
    }

    /// Adds one step of log-posteriors; calls `hit` for every keyword that fires at this step.
    public mutating func accept(logProbs lp: UnsafeBufferPointer<Float>, hit: (KeywordHit) -> Void) {
        let now = step
        step += 1
        let blank = lp[0]
        var top = lp[0]
        for k in 1..<lp.count where lp[k] > top { top = lp[k] }
        let before = bestPath
        bestPath += Double(top)
        let after = bestPath
        for t in tracks.indices {
            let n = tracks[t].labels.count
            for j in 0..<(2 * n) {
                previous[j] = tracks[t].score[j]
                previousStart[j] = tracks[t].start[j]
                previousBase[j] = tracks[t].base[j]
            }
            for c in 0..<n {
                let label = tracks[t].labels[c]
                let p = lp[Int(label)]
                // inside character c: stay (repeat), or enter from the blanks after c−1, or
                // directly from character c−1 when the labels differ (CTC needs a blank between equal ones)
                var best = previous[2 * c], from = previousStart[2 * c], base = previousBase[2 * c]
                if c == 0 {
                    best = 0; from = Int32(now); base = before    // free start: a fresh path beats any older one
                } else {
                    if previous[2 * c - 1] > best {
                        best = previous[2 * c - 1]; from = previousStart[2 * c - 1]; base = previousBase[2 * c - 1]
                    }
                    if tracks[t].labels[c - 1] != label, previous[2 * c - 2] > best {
                        best = previous[2 * c - 2]; from = previousStart[2 * c - 2]; base = previousBase[2 * c - 2]
                    }
                    // over a skippable space: from character c−2 or the blanks after it
                    if c >= 2, tracks[t].skippable[c - 1] {
                        if previous[2 * c - 3] > best {
                            best = previous[2 * c - 3]; from = previousStart[2 * c - 3]; base = previousBase[2 * c - 3]
                        }
                        if tracks[t].labels[c - 2] != label, previous[2 * c - 4] > best {
                            best = previous[2 * c - 4]; from = previousStart[2 * c - 4]; base = previousBase[2 * c - 4]
                        }
                    }
                }
                tracks[t].score[2 * c] = best + p
                tracks[t].start[2 * c] = from
                tracks[t].base[2 * c] = base
                // blanks after character c: stay, or come from the character
                var b = previous[2 * c + 1], bFrom = previousStart[2 * c + 1], bBase = previousBase[2 * c + 1]
                if previous[2 * c] > b { b = previous[2 * c]; bFrom = previousStart[2 * c]; bBase = previousBase[2 * c] }
                tracks[t].score[2 * c + 1] = b + blank
                tracks[t].start[2 * c + 1] = bFrom
                tracks[t].base[2 * c + 1] = bBase
            }
            // abandon alignments that have run too long
            for j in 0..<(2 * n) where now - Int(tracks[t].start[j]) >= config.maxSteps {
                tracks[t].score[j] = -.infinity
            }
            let end = tracks[t].score[2 * n - 2]
            guard end > -.infinity else { currentScores[t] = 0; continue }
            let free = Float(after - tracks[t].base[2 * n - 2])               // best unconstrained path, same steps
            let score = expf((tracks[t].keyword.scoring == .ratio ? end - free : end) / Float(n))
            currentScores[t] = score
            guard now >= tracks[t].quietUntil else { continue }
            if score >= tracks[t].keyword.threshold {
                hit(KeywordHit(keyword: tracks[t].keyword.text, score: score,
                               firstStep: Int(tracks[t].start[2 * n - 2]), lastStep: now))
                tracks[t].quietUntil = now + config.refractorySteps
                for j in 0..<(2 * n) { tracks[t].score[j] = -.infinity }
            }
        }
    }
}

extension KeywordSpotter: StepDecoder {
    /// Reads a step under its absolute number (hits and the refractory time count in those).
    public mutating func accept(_ s: DecoderStep, emit: (DecoderOutput) -> Void) {
        step = s.index
        accept(logProbs: s.logProbs) { emit(.keyword($0)) }
    }

    /// A keyword does not span utterances: partial alignments are forgotten.
    public mutating func endUtterance(emit: (DecoderOutput) -> Void) { reset() }
}

