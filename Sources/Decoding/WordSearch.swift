import HarkSupport
import Glibc

/// Settings of the dictation search, with the defaults chosen on the dev sets (MODEL.md).
public struct WordSearchConfig: Codable, Equatable, Sendable {
    /// Hypotheses kept after every step.
    public var beamWidth: Int = 16
    /// Hypotheses scoring this much (ln) below the best are dropped even when the beam has room.
    public var beamThreshold: Float = 16
    /// Characters whose log-posterior at a step is below this are not tried there.
    public var labelFloor: Float = -10
    /// Weight of the language model's ln P(word | history) (and of the look-ahead inside words).
    /// Chosen on the human dev half with the 2026-12-07 model (sentences 88.8% WER at 0.6, 90.5% at
    /// 0.8, 93.6% at 1.2; numbers dictated 75.2% against 81.0%; MODEL.md).
    public var lmWeight: Float = 0.6
    /// Added per word (counters the language model's preference for fewer, longer words).
    public var wordBonus: Float = 0
    /// ln-score of a word boundary the network did not mark with a space: a character network
    /// often runs short words together ("fourtwo"), and a search that needs the space would have
    /// to spell one long word instead. A value at or below `labelFloor` turns such boundaries off.
    public var missingSpace: Float = -4
    /// Subtracted from the blank's log-posterior at every step (ln; `BeamSearchConfig.blankPenalty`).
    public var blankPenalty: Float = 0

    public init() {}

    public static let beamWidths = 1...256
    public static let beamThresholds: ClosedRange<Float> = 1...1000

    /// Every setting in its documented range (NaN and infinity are in none).
    public func validate() throws(DecoderConfigError) {
        guard Self.beamWidths.contains(beamWidth) else { throw .outOfRange("beamWidth", "\(beamWidth)", "\(Self.beamWidths)") }
        guard Self.beamThresholds.contains(beamThreshold) else {
            throw .outOfRange("beamThreshold", "\(beamThreshold)", "\(Self.beamThresholds)")
        }
        guard labelFloor.isFinite, labelFloor <= 0 else { throw .outOfRange("labelFloor", "\(labelFloor)", "a log-probability ≤ 0") }
        guard missingSpace.isFinite, missingSpace <= 0 else { throw .outOfRange("missingSpace", "\(missingSpace)", "a log-probability ≤ 0") }
        guard BeamSearchConfig.lmWeights.contains(lmWeight) else { throw .outOfRange("lmWeight", "\(lmWeight)", "\(BeamSearchConfig.lmWeights)") }
        guard BeamSearchConfig.bonuses.contains(wordBonus) else { throw .outOfRange("wordBonus", "\(wordBonus)", "\(BeamSearchConfig.bonuses)") }
        guard BeamSearchConfig.blankPenalties.contains(blankPenalty) else {
            throw .outOfRange("blankPenalty", "\(blankPenalty)", "\(BeamSearchConfig.blankPenalties)")
        }
    }
}

/// What a dictation search reads: the words as a prefix tree and the n-gram model that scores
/// them. Built once (`Dictation` in the Recognizer target loads the shipped English ones) and
/// shared by every stream.
public struct WordSearchResources: Sendable {
    public let tree: LexiconTree
    public let languageModel: any WordLanguageModel
    public let tokens: TokenSet

    public init(tree: LexiconTree, languageModel: any WordLanguageModel, tokens: TokenSet) {
        self.tree = tree
        self.languageModel = languageModel
        self.tokens = tokens
    }
}

/// Streaming CTC search over a vocabulary with a word n-gram model: dictation in words.
///
/// A hypothesis is a word history (the words completed so far, a node in an arena shared by all
/// hypotheses of the utterance) and a node of the lexicon's prefix tree (the word being spelled);
/// two paths with both equal merge, as CTC prefix search merges equal prefixes (Hannun et al.
/// 2014). A letter moves a hypothesis down the tree; the space after a node where a word ends
/// completes that word, which the language model then scores from the history's last words, in
/// place of the unigram look-ahead the hypothesis carried inside the word. Between words (the
/// root) spaces count as silence. The settled part of a partial result is the word history that
/// every surviving hypothesis shares, so it never changes.
///
/// Every buffer is allocated when the search is made or grows in the first utterances and is
/// then reused: a step of the steady state allocates nothing (`hark-bench word-search` counts).
public final class WordSearch {
    public let resources: WordSearchResources
    public let config: WordSearchConfig
    private var tree: LexiconTree { resources.tree }

    /// One hypothesis: a word history and a node of the tree, with CTC's two path scores.
    private struct Hyp {
        var history: Int32
        var node: Int32
        /// ln P of the paths ending in a blank (at the root: in a blank or a space) and in a letter.
        var blank: Float
        var nonBlank: Float
        /// The word being spelled: the steps of its first and last letters, and the sum of
        /// their log-posteriors (its confidence when it completes).
        var wordStart: Int32
        var lastEmit: Int32
        var letterScore: Float
        /// The largest single path merged into this entry during a step: its word timing wins.
        var strongest: Float
    }

    /// A completed word, in the arena of word histories (entry 0: the utterance's start).
    private struct WordEntry {
        var parent: Int32
        var word: Int32
        var firstStep: Int32
        var lastStep: Int32
        var confidence: Float
        /// Language-model and word-bonus score of the whole history up to and with this word.
        var score: Float
        /// The language model's last two word ids, oldest first (-1: none).
        var context0: Int32
        var context1: Int32
        var depth: Int32
        /// Characters in the history's text, spaces between words included.
        var length: Int32
        /// ln P of the strongest path that completed the word so far: its timing and letters are
        /// the word's (the same rule as the character search's emission times).
        var strongest: Float
    }

    private var beams: [Hyp] = []
    /// The best-ranked hypothesis of `beams` and its rank, as `prune` found them.
    private var bestBeam = 0
    private var bestRank: Float = 0
    private var candidates: [Hyp] = []
    private var arena: [WordEntry] = []
    /// (history, node) → index in `candidates`, open addressing; `used` lists the slots to clear.
    private var slotKey: [Int64]
    private var slotValue: [Int32]
    private var used: [Int32] = []
    private let slotMask: Int
    /// (history, word) → arena entry, open addressing, cleared at every utterance.
    private var arenaKey: [Int64] = []
    private var arenaValue: [Int32] = []
    private var arenaUsed: [Int32] = []
    /// The pruning heap: (rank, candidate) of the best `beamWidth` candidates.
    private var heap: [(Float, Int32)] = []
    private var context: [Int32] = [-1, -1]
    private let space: Int
    private let sentenceEnd: Int32?
    private var step: Int32 = 0
    /// As a `StepDecoder`: the absolute number of the utterance's first step and the partial last
    /// reported (history and word at the node).
    private var firstIndex = 0
    private var shown: (history: Int32, word: Int32) = (0, -1)

    public init(resources: WordSearchResources, config: WordSearchConfig = WordSearchConfig()) {
        precondition(resources.tokens.space != nil, "dictation needs a token set with a space")
        self.resources = resources
        self.config = config
        space = resources.tokens.space!
        sentenceEnd = resources.languageModel.sentenceEnd
        let most = config.beamWidth * (resources.tokens.count + 1)
        var slots = 64
        while slots < 4 * most { slots <<= 1 }
        slotMask = slots - 1
        slotKey = [Int64](repeating: -1, count: slots)
        slotValue = [Int32](repeating: 0, count: slots)
        used.reserveCapacity(most)
        beams.reserveCapacity(config.beamWidth)
        candidates.reserveCapacity(most)
        heap.reserveCapacity(config.beamWidth)
        arena.reserveCapacity(4096)
        arenaKey = [Int64](repeating: -1, count: 8192)
        arenaValue = [Int32](repeating: 0, count: 8192)
        arenaUsed.reserveCapacity(4096)
        reset()
    }

    /// Forgets the utterance in progress.
    public func reset() {
        for s in arenaUsed { arenaKey[Int(s)] = -1 }
        arenaUsed.removeAll(keepingCapacity: true)
        arena.removeAll(keepingCapacity: true)
        let start = resources.languageModel.sentenceStart ?? -1
        arena.append(WordEntry(parent: -1, word: -1, firstStep: 0, lastStep: 0, confidence: 0, score: 0,
                               context0: -1, context1: start, depth: 0, length: 0, strongest: 0))
        beams.removeAll(keepingCapacity: true)
        beams.append(Hyp(history: 0, node: 0, blank: 0, nonBlank: -.infinity, wordStart: 0, lastEmit: 0, letterScore: 0,
                         strongest: -.infinity))
        bestBeam = 0
        bestRank = 0                                     // the root's rank: no paths, words or look-ahead yet
        step = 0
        shown = (0, -1)                                  // the empty partial is not reported
    }

    /// Steps accepted since the utterance began.
    public var steps: Int { Int(step) }

    // MARK: - Scores

    /// ln P(word | history's last words) by the language model; a word it does not know is scored
    /// as `<unk>` (its `lmID`) and gets its share of it (`LexiconTree.unigram`).
    @inline(__always)
    private func languageScore(_ word: Int32, after entry: WordEntry) -> Float {
        let p = logProb(tree.lmID[Int(word)], entry)
        return tree.inModel[Int(word)] ? p : p + tree.unknownShare
    }

    @inline(__always)
    private func logProb(_ id: Int32, _ entry: WordEntry) -> Float {
        context[0] = entry.context0
        context[1] = entry.context1
        let from = entry.context0 >= 0 ? 0 : (entry.context1 >= 0 ? 1 : 2)
        return resources.languageModel.logProb(id, context: context[from...])
    }

    /// The arena entry for `word` after `history`, made (and scored) the first time it is reached.
    private func complete(_ word: Int32, after history: Int32, first: Int32, last: Int32, letterScore: Float, strength: Float) -> Int32 {
        let key = Int64(history) << 32 | Int64(word)
        let letters = tree.words[Int(word)].count          // characters, as `stableCharacters` counts them
        var slot = Self.hash(key) & (arenaKey.count - 1)
        while arenaKey[slot] != -1 {
            if arenaKey[slot] == key {
                let e = Int(arenaValue[slot])
                if strength > arena[e].strongest {
                    arena[e].strongest = strength
                    arena[e].firstStep = first
                    arena[e].lastStep = last
                    arena[e].confidence = expf(letterScore / Float(max(letters, 1)))
                }
                return arenaValue[slot]
            }
            slot = (slot + 1) & (arenaKey.count - 1)
        }
        let parent = arena[Int(history)]
        let entry = WordEntry(parent: history, word: word, firstStep: first, lastStep: last,
                              confidence: expf(letterScore / Float(max(letters, 1))),
                              score: parent.score + config.lmWeight * languageScore(word, after: parent) + config.wordBonus,
                              context0: parent.context1, context1: tree.lmID[Int(word)],
                              depth: parent.depth + 1, length: parent.length + (parent.depth > 0 ? 1 : 0) + Int32(letters),
                              strongest: strength)
        let index = Int32(arena.count)
        arena.append(entry)
        arenaKey[slot] = key
        arenaValue[slot] = index
        arenaUsed.append(Int32(slot))
        if 2 * arenaUsed.count > arenaKey.count { growArenaTable() }
        return index
    }

    private func growArenaTable() {
        let size = arenaKey.count * 2
        arenaKey = [Int64](repeating: -1, count: size)
        arenaValue = [Int32](repeating: 0, count: size)
        arenaUsed.removeAll(keepingCapacity: true)
        for (i, e) in arena.enumerated() where i > 0 {
            let key = Int64(e.parent) << 32 | Int64(e.word)
            var slot = Self.hash(key) & (size - 1)
            while arenaKey[slot] != -1 { slot = (slot + 1) & (size - 1) }
            arenaKey[slot] = key
            arenaValue[slot] = Int32(i)
            arenaUsed.append(Int32(slot))
        }
    }

    @inline(__always)
    private static func hash(_ key: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 29)
    }

    /// A hypothesis's score for pruning: paths, words so far, and the look-ahead of its word.
    @inline(__always)
    private func rank(_ h: Hyp) -> Float {
        logAdd(h.blank, h.nonBlank) + arena[Int(h.history)].score + config.lmWeight * tree.lookahead[Int(h.node)]
    }

    // MARK: - One step

    /// Adds path mass to the candidate (history, node), made with this word timing when it is new; the
    /// strongest single path merged into it during the step decides its word timing.
    @inline(__always)
    private func add(history: Int32, node: Int32, blank: Float, nonBlank: Float,
                     wordStart: Int32, lastEmit: Int32, letterScore: Float) {
        let key = Int64(history) << 32 | Int64(node)
        let strength = max(blank, nonBlank)
        var slot = Self.hash(key) & slotMask
        while slotKey[slot] != -1 {
            if slotKey[slot] == key {
                let i = Int(slotValue[slot])
                candidates[i].blank = logAdd(candidates[i].blank, blank)
                candidates[i].nonBlank = logAdd(candidates[i].nonBlank, nonBlank)
                if strength > candidates[i].strongest {
                    candidates[i].strongest = strength
                    candidates[i].wordStart = wordStart
                    candidates[i].lastEmit = lastEmit
                    candidates[i].letterScore = letterScore
                }
                return
            }
            slot = (slot + 1) & slotMask
        }
        slotKey[slot] = key
        slotValue[slot] = Int32(candidates.count)
        used.append(Int32(slot))
        candidates.append(Hyp(history: history, node: node, blank: blank, nonBlank: nonBlank, wordStart: wordStart,
                              lastEmit: lastEmit, letterScore: letterScore, strongest: strength))
    }

    /// Adds one step of log-posteriors (one per token, blank at 0).
    public func accept(logProbs lp: UnsafeBufferPointer<Float>) {
        precondition(lp.count == resources.tokens.count, "the network has \(lp.count) outputs, the token set \(resources.tokens.count)")
        let floor = config.labelFloor
        let blankP = lp[0] - config.blankPenalty, spaceP = lp[space]
        let silence = logAdd(blankP, spaceP)
        let label = tree.label, firstChild = tree.firstChild, words = tree.word, homophones = tree.nextHomophone
        for h in beams {
            let total = logAdd(h.blank, h.nonBlank)
            let n = Int(h.node)
            if n == 0 {
                // Between words: blanks and spaces are both silence.
                add(history: h.history, node: 0, blank: total + silence, nonBlank: -.infinity,
                    wordStart: h.wordStart, lastEmit: h.lastEmit, letterScore: 0)
            } else {
                let last = Int(label[n])
                add(history: h.history, node: h.node, blank: total + blankP, nonBlank: h.nonBlank + lp[last],
                    wordStart: h.wordStart, lastEmit: h.lastEmit, letterScore: h.letterScore)
                // A word ends here (each of its homophones, for a phoneme model: the language model
                // tells "two" from "to").
                var w = words[n]
                while w >= 0 {
                    if spaceP >= floor {
                        let entry = complete(w, after: h.history, first: h.wordStart, last: h.lastEmit, letterScore: h.letterScore,
                                             strength: total + spaceP)
                        add(history: entry, node: 0, blank: total + spaceP, nonBlank: -.infinity,
                            wordStart: step, lastEmit: step, letterScore: 0)
                    }
                    // The next word's first letter straight after this word's last, at a cost.
                    if config.missingSpace > floor {
                        var entry: Int32 = -1
                        for c in Int(firstChild[0])..<Int(firstChild[1]) {
                            let l = Int(label[c])
                            let p = lp[l]
                            guard p + config.missingSpace >= floor else { continue }
                            let value = (l == last ? h.blank : total) + p + config.missingSpace
                            if entry < 0 {
                                entry = complete(w, after: h.history, first: h.wordStart, last: h.lastEmit, letterScore: h.letterScore,
                                                 strength: value)
                            }
                            add(history: entry, node: Int32(c), blank: -.infinity, nonBlank: value,
                                wordStart: step, lastEmit: step, letterScore: p)
                        }
                    }
                    w = homophones[Int(w)]
                }
            }
            let last = n == 0 ? -1 : Int(label[n])
            for c in Int(firstChild[n])..<Int(firstChild[n + 1]) {
                let l = Int(label[c])
                let p = lp[l]
                guard p >= floor else { continue }
                let value = (l == last ? h.blank : total) + p
                add(history: h.history, node: Int32(c), blank: -.infinity, nonBlank: value,
                    wordStart: n == 0 ? step : h.wordStart, lastEmit: step, letterScore: (n == 0 ? 0 : h.letterScore) + p)
            }
        }
        prune()
        step += 1
    }

    /// Keeps the best `beamWidth` candidates within `beamThreshold` of the best, in `beams`.
    private func prune() {
        for s in used { slotKey[Int(s)] = -1 }
        used.removeAll(keepingCapacity: true)
        var best = -Float.infinity
        heap.removeAll(keepingCapacity: true)
        let width = config.beamWidth
        for i in candidates.indices {
            let r = rank(candidates[i])
            best = max(best, r)
            if heap.count < width {
                heap.append((r, Int32(i)))
                siftUp(heap.count - 1)
            } else if r > heap[0].0 {
                heap[0] = (r, Int32(i))
                siftDown(0)
            }
        }
        beams.removeAll(keepingCapacity: true)
        let cut = best - config.beamThreshold
        bestBeam = -1
        for (r, i) in heap where r >= cut {
            if bestBeam < 0, r == best { bestBeam = beams.count }       // the first of equals, in `beams` order
            beams.append(candidates[Int(i)])
        }
        bestRank = best
        candidates.removeAll(keepingCapacity: true)
    }

    private func siftUp(_ i: Int) {
        var i = i
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].0 < heap[parent].0 else { return }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private func siftDown(_ i: Int) {
        var i = i
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count, heap[l].0 < heap[smallest].0 { smallest = l }
            if r < heap.count, heap[r].0 < heap[smallest].0 { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }

    // MARK: - Results

    /// The best hypothesis as a (history, word being spelled when the tree node ends one).
    private func partialChoice() -> (history: Int32, word: Int32, score: Float)? {
        guard beams.indices.contains(bestBeam) else { return nil }
        let best = beams[bestBeam]
        return (best.history, shownWord(at: best.node), bestRank)
    }

    /// The word a partial result shows for a hypothesis inside a word: the word its letters so far
    /// spell, when no longer word they begin is more likely ("to" while "to" is being spelled, but
    /// not "lig" on the way to "light": the vocabulary holds fragments of web text), else none.
    @inline(__always)
    private func shownWord(at node: Int32) -> Int32 {
        guard node != 0 else { return -1 }
        var w = tree.word[Int(node)], best: Int32 = -1
        while w >= 0 {                                             // the likeliest of its homophones
            if best < 0 || tree.unigram[Int(w)] > tree.unigram[Int(best)] { best = w }
            w = tree.nextHomophone[Int(w)]
        }
        return best >= 0 && tree.unigram[Int(best)] >= tree.lookahead[Int(node)] ? best : -1
    }

    /// The best hypothesis so far; its first `stableCharacters` no later step can change.
    public func partial() -> Hypothesis {
        guard let choice = partialChoice() else { return .empty }
        return partial(choice)
    }

    private func partial(_ choice: (history: Int32, word: Int32, score: Float)) -> Hypothesis {
        var h = hypothesis(choice.history, score: choice.score)
        if choice.word >= 0 {
            // The word being spelled, once its letters so far spell the likeliest word they begin.
            let text = tree.words[Int(choice.word)]
            h.text += (h.text.isEmpty ? "" : " ") + text
            let b = beams.first { $0.history == choice.history && $0.node != 0 && shownWord(at: $0.node) == choice.word }
            h.words.append(DecodedWord(text: text, firstStep: Int(b?.wordStart ?? step), lastStep: Int(b?.lastEmit ?? step),
                                       confidence: expf((b?.letterScore ?? 0) / Float(max(text.count, 1)))))
        }
        h.stableCharacters = Int(arena[Int(commonHistory())].length)
        return h
    }

    /// The deepest word history that every hypothesis continues.
    private func commonHistory() -> Int32 {
        guard var a = beams.first?.history else { return 0 }
        for b in beams.dropFirst() {
            var x = a, y = b.history
            while arena[Int(x)].depth > arena[Int(y)].depth { x = arena[Int(x)].parent }
            while arena[Int(y)].depth > arena[Int(x)].depth { y = arena[Int(y)].parent }
            while x != y { x = arena[Int(x)].parent; y = arena[Int(y)].parent }
            a = x
        }
        return a
    }

    /// Ends the utterance: the best hypothesis that ends between words or on a whole word, scored
    /// with the sentence end; the next utterance starts afresh.
    public func finish() -> Hypothesis {
        defer { reset() }
        var best: (history: Int32, score: Float)?
        for h in beams {
            // Between words: its history; on a whole word: each word (homophone) spelled there.
            var endings: [Int32] = []
            if h.node == 0 {
                endings = [h.history]
            } else {
                var w = tree.word[Int(h.node)]
                while w >= 0 {
                    endings.append(complete(w, after: h.history, first: h.wordStart, last: h.lastEmit, letterScore: h.letterScore,
                                            strength: logAdd(h.blank, h.nonBlank)))
                    w = tree.nextHomophone[Int(w)]
                }
            }
            for history in endings {
                let entry = arena[Int(history)]
                var score = logAdd(h.blank, h.nonBlank) + entry.score
                if let end = sentenceEnd, entry.depth > 0 { score += config.lmWeight * logProb(end, entry) }
                if best == nil || score > best!.score { best = (history, score) }
            }
        }
        // No hypothesis ends on a whole word: the words the best one completed.
        if best == nil, let choice = partialChoice() { best = (choice.history, choice.score) }
        guard let best else { return .empty }
        var h = hypothesis(best.history, score: best.score)
        h.stableCharacters = h.text.count
        return h
    }

    /// Text and timed words of a word history.
    private func hypothesis(_ history: Int32, score: Float) -> Hypothesis {
        var entries: [WordEntry] = []
        var e = history
        while e > 0 { entries.append(arena[Int(e)]); e = arena[Int(e)].parent }
        let words = entries.reversed().map { entry in
            DecodedWord(text: tree.words[Int(entry.word)], firstStep: Int(entry.firstStep), lastStep: Int(entry.lastStep),
                        confidence: entry.confidence)
        }
        return Hypothesis(text: words.map(\.text).joined(separator: " "), words: words, stableCharacters: 0, score: score)
    }
}

extension WordSearch: StepDecoder {
    /// Reads a step; reports the best hypothesis as `.partial` when its words changed.
    public func accept(_ s: DecoderStep, emit: (DecoderOutput) -> Void) {
        if step == 0 { firstIndex = s.index }
        accept(logProbs: s.logProbs)
        guard let choice = partialChoice(), choice.history != shown.history || choice.word != shown.word else { return }
        let before = shown
        shown = (choice.history, choice.word)
        guard !sameText(before, shown) else { return }
        emit(.partial(absolute(partial(choice))))
    }

    /// Whether two partial choices show the same words: histories are unique per word sequence
    /// (the arena merges equal ones), so only "history h, spelling w" against "the history h + w
    /// that completing w made" can.
    private func sameText(_ a: (history: Int32, word: Int32), _ b: (history: Int32, word: Int32)) -> Bool {
        func completed(_ x: (history: Int32, word: Int32), as y: (history: Int32, word: Int32)) -> Bool {
            x.word >= 0 && y.word < 0 && y.history > 0 && arena[Int(y.history)].parent == x.history && arena[Int(y.history)].word == x.word
        }
        guard a.history >= 0 else { return false }
        return completed(a, as: b) || completed(b, as: a)
    }

    /// Reports the utterance's final hypothesis (empty when nothing was said) and starts afresh.
    public func endUtterance(emit: (DecoderOutput) -> Void) {
        emit(.final(absolute(finish())))
    }

    private func absolute(_ h: Hypothesis) -> Hypothesis { h.steps(from: firstIndex) }
}
