/// The words a dictation search may write, as one prefix tree over the model's characters, with
/// what the search needs at each node precomputed: the word that ends there, and the best unigram
/// language-model score of any word below it (the "look-ahead" that lets a half-spelled rare word
/// compete fairly with a half-spelled common one, as in Kaldi's and flashlight's lexicon decoders).
///
/// Flat arrays, children of a node contiguous and sorted by label (breadth-first numbering), so the
/// search's inner loop reads a few bytes per hypothesis and allocates nothing. Node 0 is the root.
/// Immutable once built, shared by every stream.
public struct LexiconTree: Sendable {
    /// The children of node n are the nodes `firstChild[n] ..< firstChild[n + 1]`.
    public let firstChild: [Int32]
    /// The label that leads into each node (0 for the root).
    public let label: [UInt8]
    /// The word ending at each node (an index into `words`), or -1. Words that are spelled alike (a
    /// phoneme model's homophones: "two", "to", "too") end at one node: this is the first of them in
    /// the list, and `nextHomophone` leads to the rest.
    public let word: [Int32]
    /// For each word, the next word spelled the same, or -1.
    public let nextHomophone: [Int32]
    /// ln P(w) of the best word in each node's subtree, by the unigram scores below.
    public let lookahead: [Float]
    /// The words, normalized, in the order given (repeats dropped).
    public let words: [String]
    /// Each word's id in the language model (`<unk>`'s for a word it does not know, -1 without one).
    public let lmID: [Int32]
    /// Each word's unigram ln P: the model's own, or for a word the model does not know, an equal
    /// share of `<unk>`'s probability among all such words of the vocabulary (a class model of the
    /// unknown words: `<unk>` holds the probability of every word outside the LM's vocabulary, so
    /// giving each of them all of it would make every rare word as likely as "the").
    public let unigram: [Float]
    /// Whether the language model knows the word (else it is scored as its share of `<unk>`).
    public let inModel: [Bool]
    /// ln of the share of `<unk>` each unknown word gets: −ln(number of unknown words).
    public let unknownShare: Float

    public var nodeCount: Int { label.count }

    /// Builds the tree of `words` spelled in `tokens` (each must be one word: no spaces), with
    /// unigram scores and look-aheads from `languageModel`. A word the tokens cannot spell is an
    /// error naming it; callers that read words from a file check them there, with the line.
    public init(words list: [String], tokens: TokenSet, languageModel lm: some WordLanguageModel) throws(TokenError) {
        // 1. Spell every word; build a pointer trie (first child / next sibling, siblings sorted).
        var first: [Int32] = [-1], sibling: [Int32] = [-1], labels: [UInt8] = [0], ends: [Int32] = [-1]
        var words: [String] = [], seen: Set<String> = [], next: [Int32] = [], lastAlike: [Int32: Int32] = [:]
        words.reserveCapacity(list.count)
        for raw in list {
            let text = TokenSet.normalize(raw)
            guard !text.isEmpty, seen.insert(text).inserted else { continue }
            var n: Int32 = 0
            for l in try tokens.encode(text) {
                let l = UInt8(l)
                var previous: Int32 = -1, c = first[Int(n)]
                while c >= 0, labels[Int(c)] < l { previous = c; c = sibling[Int(c)] }
                if c >= 0, labels[Int(c)] == l { n = c; continue }
                let new = Int32(labels.count)
                first.append(-1); sibling.append(c); labels.append(l); ends.append(-1)
                if previous >= 0 { sibling[Int(previous)] = new } else { first[Int(n)] = new }
                n = new
            }
            guard n != 0 else { continue }                            // nothing to spell (a lone apostrophe)
            let index = Int32(words.count)
            if ends[Int(n)] < 0 { ends[Int(n)] = index } else { next[Int(lastAlike[n] ?? ends[Int(n)])] = index; lastAlike[n] = index }
            words.append(text)
            next.append(-1)
        }
        // 2. Renumber breadth-first so that each node's children are contiguous.
        let count = labels.count
        var order = [Int32](repeating: 0, count: count), newIndex = [Int32](repeating: 0, count: count)
        var filled = 1, head = 0
        var firstChild = [Int32](repeating: 0, count: count + 1)
        while head < filled {
            let old = order[head]
            firstChild[head] = Int32(filled)
            var c = first[Int(old)]
            while c >= 0 { order[filled] = c; newIndex[Int(c)] = Int32(filled); filled += 1; c = sibling[Int(c)] }
            head += 1
        }
        firstChild[count] = Int32(count)
        self.firstChild = firstChild
        label = order.map { labels[Int($0)] }
        word = order.map { ends[Int($0)] }
        nextHomophone = next
        self.words = words

        // 3. Language-model ids and unigram scores; unknown words share `<unk>`.
        let unknownID = lm.id(of: "<unk>")
        var lmID = [Int32](repeating: -1, count: words.count), inModel = [Bool](repeating: false, count: words.count)
        for (i, w) in words.enumerated() {
            let id = lm.id(of: w)
            lmID[i] = id ?? -1
            inModel[i] = id != nil && id != unknownID
        }
        let unknownWords = inModel.lazy.filter { !$0 }.count
        let share: Float = unknownWords > 0 ? -logf(Float(unknownWords)) : 0
        let unknownScore = lm.logProb(unknownID, context: []) + share
        let unigram = (0..<words.count).map { i in inModel[i] ? lm.logProb(lmID[i], context: []) : unknownScore }
        unknownShare = share
        self.lmID = lmID
        self.inModel = inModel
        self.unigram = unigram
        // 4. Look-ahead: children come after their parent, so one backward pass.
        var lookahead = [Float](repeating: -.infinity, count: count)
        for n in stride(from: count - 1, through: 0, by: -1) {
            var best = -Float.infinity
            var w = word[n]
            while w >= 0 { best = max(best, unigram[Int(w)]); w = next[Int(w)] }
            for c in Int(firstChild[n])..<Int(firstChild[n + 1]) where lookahead[c] > best { best = lookahead[c] }
            lookahead[n] = best
        }
        lookahead[0] = 0                                            // between words: nothing to anticipate
        self.lookahead = lookahead
    }

    /// The node reached from `node` along `label`, or nil.
    public func child(_ node: Int32, _ label: UInt8) -> Int32? {
        for c in Int(firstChild[Int(node)])..<Int(firstChild[Int(node) + 1]) where self.label[c] == label { return Int32(c) }
        return nil
    }

    /// The node that spells `text` exactly from the root, or nil.
    public func node(spelling text: String, tokens: TokenSet) -> Int32? {
        guard let labels = try? tokens.encode(text) else { return nil }
        var n: Int32 = 0
        for l in labels {
            guard let c = child(n, UInt8(l)) else { return nil }
            n = c
        }
        return n
    }
}

import Glibc
