import HarkSupport
import Glibc

/// Settings of the prefix beam search, with the defaults measured on the dev set (MODEL.md).
public struct BeamSearchConfig: Codable, Equatable, Sendable {
    /// Prefixes kept after every step.
    public var beamWidth: Int = 12
    /// Labels whose log-probability at a step is below this are not tried as extensions there.
    public var labelFloor: Float = -12
    /// Weight of the language model's ln P(word | history).
    public var lmWeight: Float = 0.6
    /// Added per completed word (counters the LM's preference for fewer words).
    public var wordBonus: Float = 1.0
    /// Added per character when phrases are rescored at the end of an utterance: CTC's
    /// likelihood favours short phrases when the network is unsure (every character it must
    /// emit costs probability), so a short command wins over a long one it half-heard. Chosen
    /// on the human dev half's commands with the phoneme model (2026-12-07, MODEL.md): WER 52.8%
    /// at 1.0 (the value chosen on flite awb with the letter model), 39.7% at 2.5, 36.7% at 3,
    /// 37.2% at 3.5, 38.7% at 4; awb stays at 0%, joe's commands go from 6.3% to 0.6%.
    public var phraseCharacterBonus: Float = 3.0
    /// Subtracted from the blank's log-posterior at every step before the search reads it (ln;
    /// sherpa-onnx's and icefall's `blank_penalty`): a network unsure of a voice puts its mass on
    /// the blank and the search deletes words; a penalty trades those deletions for insertions.
    public var blankPenalty: Float = 0

    public init() {}

    /// The widths `validate()` accepts. The search's time per step grows with the width (about
    /// linearly): 256 decodes at about real time on one core of the reference machine in a debug
    /// build, several times faster optimized; 100 000 took over a minute for 12 s of audio.
    public static let beamWidths = 1...256
    /// LM weights accepted: 0 (no LM) to 10, far past any value that helps.
    public static let lmWeights: ClosedRange<Float> = 0...10
    /// Word and phrase-character bonuses accepted (a log-probability per word or character).
    public static let bonuses: ClosedRange<Float> = -20...20
    /// Blank penalties accepted (ln): 0 (none) to 20, far past any value that helps.
    public static let blankPenalties: ClosedRange<Float> = 0...20

    /// Every setting in its documented range (NaN and infinity are in none).
    public func validate() throws(DecoderConfigError) {
        guard Self.beamWidths.contains(beamWidth) else { throw .outOfRange("beamWidth", "\(beamWidth)", "\(Self.beamWidths)") }
        guard labelFloor.isFinite, labelFloor <= 0 else { throw .outOfRange("labelFloor", "\(labelFloor)", "a log-probability ≤ 0") }
        guard Self.lmWeights.contains(lmWeight) else { throw .outOfRange("lmWeight", "\(lmWeight)", "\(Self.lmWeights)") }
        guard Self.bonuses.contains(wordBonus) else { throw .outOfRange("wordBonus", "\(wordBonus)", "\(Self.bonuses)") }
        guard Self.bonuses.contains(phraseCharacterBonus) else {
            throw .outOfRange("phraseCharacterBonus", "\(phraseCharacterBonus)", "\(Self.bonuses)")
        }
        guard Self.blankPenalties.contains(blankPenalty) else {
            throw .outOfRange("blankPenalty", "\(blankPenalty)", "\(Self.blankPenalties)")
        }
    }
}

/// A decoder setting outside its range: the setting, the value, the range.
public enum DecoderConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    case outOfRange(String, String, String)
    /// The same entry twice (a keyword that would fire twice for every hit).
    case duplicate(String)

    public var description: String {
        switch self {
        case let .outOfRange(setting, value, range): "decoder setting '\(setting)' is \(value); it must be in \(range)"
        case let .duplicate(what): "\(what) is given twice"
        }
    }
}

/// A word of a hypothesis with its position in network steps and a confidence in [0, 1]
/// (the geometric mean of its characters' posteriors at the steps they were emitted).
public struct DecodedWord: Equatable, Sendable {
    public var text: String
    public var firstStep: Int
    public var lastStep: Int
    public var confidence: Float

    public init(text: String, firstStep: Int, lastStep: Int, confidence: Float) {
        self.text = text
        self.firstStep = firstStep
        self.lastStep = lastStep
        self.confidence = confidence
    }
}

public struct Hypothesis: Equatable, Sendable {
    public var text: String
    public var words: [DecodedWord]
    /// Characters at the front of `text` that no later step can change: every surviving prefix
    /// starts with them. Partial results show them as committed.
    public var stableCharacters: Int
    /// ln P_ctc(text) plus the language model and word bonus terms.
    public var score: Float

    public static let empty = Hypothesis(text: "", words: [], stableCharacters: 0, score: 0)

    /// The hypothesis with its word steps, counted from an utterance's first step, made absolute:
    /// that step is `first` on the stream's clock.
    public func steps(from first: Int) -> Hypothesis {
        var h = self
        for i in h.words.indices {
            h.words[i].firstStep += first
            h.words[i].lastStep += first
        }
        return h
    }

    public init(text: String, words: [DecodedWord], stableCharacters: Int, score: Float) {
        self.text = text
        self.words = words
        self.stableCharacters = stableCharacters
        self.score = score
    }
}

/// Streaming CTC prefix beam search (Hannun et al. 2014), constrained by a `Grammar` and scored
/// by an optional ARPA word n-gram model. Each prefix is a node in an arena shared by all beams,
/// so beams that extend the same prefix merge by node identity and the committed part of a
/// partial result is the beams' common ancestor. `finish()` returns the final hypothesis of an
/// utterance and starts the next; the arena is cleared then, so memory is bounded by the longest
/// utterance (the endpointer bounds that).
public final class CTCBeamSearch {
    public let tokens: TokenSet
    public let grammar: Grammar
    public let languageModel: ArpaLanguageModel?
    public let config: BeamSearchConfig

    private struct Node {
        var parent: Int32
        var label: Int32            // -1 at the root
        var depth: Int32
        var step: Int32             // step at which this label was first emitted
        var logProb: Float          // the label's log-posterior at that step
        var trie: Int32             // lexicon node (words, phrases); 0 = at the start of a word
        var context: Int32          // language-model history (interned word ids)
        var bonus: Float            // language model and word bonus so far
        var emission: Float = -.infinity   // path score of the best emission of `label` so far
    }

    private struct Beam { var node: Int32; var blank: Float; var nonBlank: Float }

    private var nodes: [Node] = []
    private var children: [Int64: Int32] = [:]
    private var beams: [Beam] = []
    private var next: [Int32: Int] = [:]       // node → index in `scratch`
    private var scratch: [Beam] = []
    private var contexts: [[Int32]] = []
    private var contextIndex: [[Int32]: Int32] = [:]
    private var wordIDs: [Int32?] = []        // lexicon entry → LM word id
    private let space: Int32
    private var step = 0
    /// The utterance's posteriors, kept for phrase grammars: `finish()` scores every phrase exactly.
    private var rows: [Float] = []
    private let phraseLabels: [[Int]]
    /// As a `StepDecoder`: the absolute number of the utterance's first step, and the partial last
    /// reported (its node, and its text: a new node can spell the same text).
    private var firstIndex = 0
    private var shownNode: Int32 = -1
    private var shownText = ""

    public init(tokens: TokenSet, grammar: Grammar = .open, languageModel: ArpaLanguageModel? = nil,
                config: BeamSearchConfig = BeamSearchConfig()) {
        self.tokens = tokens
        self.grammar = grammar
        self.languageModel = languageModel
        self.config = config
        space = Int32(tokens.space ?? -1)
        if let lm = languageModel { wordIDs = grammar.rules.words.map { lm.id(of: $0) } }
        phraseLabels = grammar.rules.phrases.map { (try? tokens.encode($0)) ?? [] }
        reset()
    }

    /// Forgets the current utterance.
    public func reset() {
        nodes.removeAll(keepingCapacity: true)
        children.removeAll(keepingCapacity: true)
        contexts.removeAll(keepingCapacity: true)
        contextIndex.removeAll(keepingCapacity: true)
        let start: [Int32] = languageModel?.sentenceStart.map { [$0] } ?? []
        nodes.append(Node(parent: -1, label: -1, depth: 0, step: -1, logProb: 0, trie: 0, context: intern(start), bonus: 0))
        beams = [Beam(node: 0, blank: 0, nonBlank: -.infinity)]
        step = 0
        rows.removeAll(keepingCapacity: true)
        shownNode = -1
        shownText = ""
    }

    /// Steps accepted since the last reset.
    public var steps: Int { step }

    private func intern(_ context: [Int32]) -> Int32 {
        if let id = contextIndex[context] { return id }
        let id = Int32(contexts.count)
        contexts.append(context)
        contextIndex[context] = id
        return id
    }

    /// The language model and word bonus for completing lexicon entry `entry` after `context`.
    private func wordScore(entry: Int32, context: Int32) -> (Float, Int32) {
        guard let lm = languageModel else { return (config.wordBonus, context) }
        let word = wordIDs[Int(entry)]
        let history = contexts[Int(context)]
        let lp = lm.logProb(word, context: history[...])
        var next = history + [word ?? -1]
        if next.count > lm.order - 1 { next.removeFirst(next.count - (lm.order - 1)) }
        return (config.lmWeight * lp + config.wordBonus, intern(next))
    }

    /// The node reached from `p` by emitting `label`, or nil when the grammar forbids it.
    private func extend(_ p: Int32, _ label: Int32, logProb: Float) -> Int32? {
        let key = Int64(p) << 8 | Int64(label)
        if let c = children[key] { return c }
        let node = nodes[Int(p)]
        guard let (trie, completed) = grammar.rules.extend(node.trie, label: label, previous: node.label, space: space) else { return nil }
        var context = node.context, bonus = node.bonus
        if let entry = completed {
            let (s, c) = wordScore(entry: entry, context: context)
            bonus += s
            context = c
        }
        nodes.append(Node(parent: p, label: label, depth: node.depth + 1, step: Int32(step), logProb: logProb,
                          trie: trie, context: context, bonus: bonus))
        let id = Int32(nodes.count - 1)
        children[key] = id
        return id
    }

    private func add(_ node: Int32, blank: Float = -.infinity, nonBlank: Float = -.infinity) {
        if let i = next[node] {
            scratch[i].blank = logAdd(scratch[i].blank, blank)
            scratch[i].nonBlank = logAdd(scratch[i].nonBlank, nonBlank)
        } else {
            next[node] = scratch.count
            scratch.append(Beam(node: node, blank: blank, nonBlank: nonBlank))
        }
    }

    /// Adds one step of log-posteriors (one value per token, blank at 0).
    public func accept(logProbs lp: UnsafeBufferPointer<Float>) {
        precondition(lp.count == tokens.count, "the network has \(lp.count) outputs, the token set \(tokens.count)")
        next.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        let blank = lp[0] - config.blankPenalty
        if !phraseLabels.isEmpty {
            rows.append(contentsOf: lp)
            rows[rows.count - lp.count] = blank
        }
        for b in beams {
            let total = logAdd(b.blank, b.nonBlank)
            let last = nodes[Int(b.node)].label
            add(b.node, blank: total + blank)
            if last > 0 { add(b.node, nonBlank: b.nonBlank + lp[Int(last)]) }
            for c in 1..<lp.count where lp[c] >= config.labelFloor {
                let label = Int32(c)
                guard let child = extend(b.node, label, logProb: lp[c]) else { continue }
                let value = (label == last ? b.blank : total) + lp[c]
                add(child, nonBlank: value)
                // The label's time is the step of its most probable emission from its parent.
                if value > nodes[Int(child)].emission {
                    nodes[Int(child)].emission = value
                    nodes[Int(child)].step = Int32(step)
                    nodes[Int(child)].logProb = lp[c]
                }
            }
        }
        let width = config.beamWidth
        if scratch.count > width {
            scratch.sort { rank($0) > rank($1) }
            scratch.removeLast(scratch.count - width)
        }
        swap(&beams, &scratch)
        step += 1
    }

    @inline(__always)
    private func rank(_ b: Beam) -> Float { logAdd(b.blank, b.nonBlank) + nodes[Int(b.node)].bonus }

    /// The best hypothesis so far; it may still change, except its first `stableCharacters`.
    public func partial() -> Hypothesis {
        guard let choice = partialChoice() else { return .empty }
        return partial(choice)
    }

    /// `partial()` when its path differs from the one last shown (`shown`, updated; -1 at the start
    /// of an utterance), else nil without building it: within an utterance a prefix's node is never
    /// reused, so the partial's text and times change exactly when its node does.
    public func partial(ifChangedFrom shown: inout Int32) -> Hypothesis? {
        let choice = partialChoice()
        let node = choice?.node ?? 0
        guard node != shown else { return nil }
        shown = node
        return choice.map(partial) ?? .empty
    }

    private func partial(_ choice: (node: Int32, score: Float)) -> Hypothesis {
        var h = hypothesis(choice.node, score: choice.score, complete: false)
        // A phrase grammar rescores every phrase at the end, so nothing is settled before then.
        h.stableCharacters = phraseLabels.isEmpty ? Int(nodes[Int(commonAncestor())].depth) : 0
        return h
    }

    /// The best-ranked prefix, or, when a word list or phrase list leaves it inside a word, the
    /// best beam that completes it: the path the final would take if the utterance ended now. A
    /// word's last letters often never win a step outright ("robo" outranks "robot" while the
    /// blank dominates), and without this the partial would show them only with the final.
    private func partialChoice() -> (node: Int32, score: Float)? {
        guard let best = beams.max(by: { rank($0) < rank($1) }) else { return nil }
        if grammar.rules.everyPrefixEnds { return (best.node, rank(best)) }
        guard completionScore(best.node) == nil else { return (best.node, rank(best)) }
        let depth = nodes[Int(best.node)].depth
        var completed: (node: Int32, score: Float)?
        for b in beams where nodes[Int(b.node)].depth > depth {
            guard let s = completionScore(b.node) else { continue }
            var a = b.node
            while nodes[Int(a)].depth > depth { a = nodes[Int(a)].parent }
            let score = logAdd(b.blank, b.nonBlank) + s
            if a == best.node, completed.map({ score > $0.score }) ?? true { completed = (b.node, score) }
        }
        return completed ?? (best.node, rank(best))
    }

    /// Ends the utterance: returns the best hypothesis the grammar accepts as complete (or the
    /// completed words of the best one, when none is complete) and resets for the next.
    public func finish() -> Hypothesis {
        defer { reset() }
        if !phraseLabels.isEmpty, step > 0 { return bestPhrase() }
        var best: (node: Int32, score: Float)?
        for b in beams {
            guard let s = completionScore(b.node) else { continue }
            let score = logAdd(b.blank, b.nonBlank) + s
            if best == nil || score > best!.score { best = (b.node, score) }
        }
        if let best {
            var h = hypothesis(best.node, score: best.score, complete: true)
            h.stableCharacters = h.text.count
            return h
        }
        guard let top = beams.max(by: { rank($0) < rank($1) }) else { return .empty }
        var h = hypothesis(top.node, score: rank(top), complete: true)
        h.stableCharacters = h.text.count
        return h
    }

    /// The phrase with the highest CTC likelihood over the whole utterance (every phrase scored,
    /// none pruned), with its characters placed by the best alignment. An utterance no phrase
    /// fits (shorter than every phrase) gives the empty hypothesis.
    private func bestPhrase() -> Hypothesis {
        var best: (index: Int, score: Float, steps: [Int])?
        rows.withUnsafeBufferPointer { all in
            for (i, labels) in phraseLabels.enumerated() where !labels.isEmpty {
                guard let a = CTCAlignment.align(all, classes: tokens.count, labels: labels) else { continue }
                let score = a.logLikelihood + config.phraseCharacterBonus * Float(labels.count)
                if best == nil || score > best!.score { best = (i, score, a.steps) }
            }
        }
        guard let best else { return .empty }
        let v = tokens.count
        let emitted = phraseLabels[best.index].enumerated().map { k, l in
            Emission(label: Int32(l), step: best.steps[k], logProb: rows[best.steps[k] * v + l])
        }
        let phrase = grammar.rules.phrases[best.index]
        var h = hypothesis(emitted, score: best.score, names: phrase.split(separator: " ").map(String.init))
        h.stableCharacters = h.text.count
        return h
    }

    /// The bonus a prefix earns by ending here, or nil when the grammar does not allow it to end.
    private func completionScore(_ id: Int32) -> Float? {
        let node = nodes[Int(id)]
        var bonus = node.bonus, context = node.context
        switch grammar.rules.ending(node.trie) {
        case .forbidden: return nil
        case .complete: break
        case let .completes(entry):
            let (s, c) = wordScore(entry: entry, context: context)
            bonus += s
            context = c
        }
        // Sentence end, where a language model scores the grammar's words.
        if let lm = languageModel, !wordIDs.isEmpty, let end = lm.sentenceEnd, node.depth > 0 {
            bonus += config.lmWeight * lm.logProb(end, context: contexts[Int(context)][...])
        }
        return bonus
    }

    /// The deepest node that every beam descends from.
    private func commonAncestor() -> Int32 {
        guard var a = beams.first?.node else { return 0 }
        for b in beams.dropFirst() {
            var x = a, y = b.node
            while nodes[Int(x)].depth > nodes[Int(y)].depth { x = nodes[Int(x)].parent }
            while nodes[Int(y)].depth > nodes[Int(x)].depth { y = nodes[Int(y)].parent }
            while x != y { x = nodes[Int(x)].parent; y = nodes[Int(y)].parent }
            a = x
        }
        return a
    }

    /// Text and words of the prefix ending at `id`. An unfinished last word of a constrained
    /// grammar is left out of a complete hypothesis.
    private func hypothesis(_ id: Int32, score: Float, complete: Bool) -> Hypothesis {
        var path: [Node] = []
        var n = id
        while n > 0 { path.append(nodes[Int(n)]); n = nodes[Int(n)].parent }
        path.reverse()
        if complete, let last = path.last, grammar.rules.ending(last.trie) == .forbidden {
            while let l = path.last, l.label != space { path.removeLast() }
        }
        // A word list names each whole word by its entry: the text the user gave, which a phoneme
        // model's labels only pronounce.
        var names: [String]? = nil
        let entries = grammar.rules.words
        if !entries.isEmpty {
            var found: [String] = []
            for (i, node) in path.enumerated() where node.label != space && (i + 1 == path.count || path[i + 1].label == space) {
                if case let .completes(entry) = grammar.rules.ending(node.trie) { found.append(entries[Int(entry)]) }
            }
            names = found
        }
        return hypothesis(path.map { Emission(label: $0.label, step: Int($0.step), logProb: $0.logProb) }, score: score, names: names)
    }

    /// A label on the chosen path, with the step it was emitted at and its log-posterior there.
    private struct Emission { var label: Int32; var step: Int; var logProb: Float }

    /// Text and words of a path of emissions: words split at spaces, each timed by its first and
    /// last character and scored by the geometric mean of their posteriors. `names`, when it has
    /// one per word, gives the words' text (the entries of a word or phrase list); otherwise the
    /// labels spell it.
    private func hypothesis(_ path: [Emission], score: Float, names: [String]? = nil) -> Hypothesis {
        var spelled: [String] = [], words: [DecodedWord] = []
        var current: [Emission] = []
        func flush() {
            guard let first = current.first, let last = current.last else { return }
            let mean = current.reduce(Float(0)) { $0 + $1.logProb } / Float(current.count)
            spelled.append(String(current.compactMap { tokens.tokens[Int($0.label)].first }))
            words.append(DecodedWord(text: spelled.last!, firstStep: first.step, lastStep: last.step, confidence: expf(mean)))
            current.removeAll()
        }
        for e in path {
            if e.label == space { flush() } else { current.append(e) }
        }
        flush()
        // Words before an unfinished last one are named in order; a word without a name is its labels
        // (a phoneme model's shown as phoneme names).
        if let names, names.count == words.count || names.count + 1 == words.count {
            for i in names.indices { words[i].text = names[i]; spelled[i] = names[i] }
        }
        if tokens.pronunciation != nil {
            for i in words.indices.dropFirst(names?.count ?? 0) { words[i].text = tokens.readable(spelled[i]); spelled[i] = words[i].text }
        }
        return Hypothesis(text: spelled.joined(separator: " "), words: words, stableCharacters: 0, score: score)
    }
}

extension CTCBeamSearch: StepDecoder {
    /// Reads a step; reports the best hypothesis as `.partial` when its text changed.
    public func accept(_ s: DecoderStep, emit: (DecoderOutput) -> Void) {
        if step == 0 { firstIndex = s.index }
        accept(logProbs: s.logProbs)
        // The best hypothesis can change at any step, also where the greedy label is the blank (a
        // character that never wins a step outright still extends the best beam); it is built
        // only when its node changed.
        guard let p = partial(ifChangedFrom: &shownNode), p.text != shownText else { return }
        shownText = p.text
        emit(.partial(absolute(p)))
    }

    /// Reports the utterance's final hypothesis (empty when nothing was said) and starts afresh.
    public func endUtterance(emit: (DecoderOutput) -> Void) {
        emit(.final(absolute(finish())))                  // `finish` resets the beams, not `firstIndex`
    }

    private func absolute(_ h: Hypothesis) -> Hypothesis { h.steps(from: firstIndex) }
}

