import Foundation

/// A back-off n-gram model in Hark's compact binary form (`.harklm`): the scores of the ARPA
/// file it was compiled from (`hark lm compile`), in a third of the bytes, loaded without parsing text.
///
/// Layout, in the spirit of KenLM's trie: the n-grams of each order are one sorted table, and an
/// entry of order n < N points at the range of its continuations in the table of order n + 1, kept
/// sorted by word id, so a lookup is one binary search per word of context. Each table is stored as
/// parallel arrays (next word id, quantized ln-probability, quantized back-off, first child).
/// Probabilities and back-offs are 16-bit indices into a table of at most 65 536 values per order:
/// exact when an order has no more distinct values, otherwise the mean of the values in each of
/// 65 536 equal-population bins (MODEL.md measures what that costs in perplexity; 8 bits cost 15%).
///
/// File (little-endian): magic "HARKLM02"; UInt32 order N; UInt32 count[1...N]; per order its
/// probability values (UInt32 k, Float32 value[k]), then per order below N its back-off values
/// (the same); UInt32 vocabulary byte count and the words in id order, each ended by "\n", padded
/// to 4 bytes; then per order n: UInt32 word[count[n]] (n ≥ 2; a unigram's word is its index),
/// UInt16 probability[count[n]], and for n < N UInt16 back-off[count[n]] (padded to 4 bytes) and
/// UInt32 firstChild[count[n] + 1]; each order padded to 4 bytes.
public struct CompactLanguageModel: WordLanguageModel {
    public static let magic: [UInt8] = Array("HARKLM02".utf8)
    /// Most values per order and kind: codes are 16 bits.
    public static let levels = 65_536

    public let order: Int
    /// Words in id order.
    public let words: [String]
    let index: [String: Int32]
    /// One per order, `tables[0]` the unigrams.
    let tables: [Table]
    let probValues: [[Float]]
    let backoffValues: [[Float]]
    public let sentenceStart: Int32?
    public let sentenceEnd: Int32?
    let unknown: Int32?

    struct Table: Sendable {
        /// The last word of each n-gram; empty for unigrams (the index is the word).
        var word: [Int32]
        var prob: [UInt16]
        /// Empty in the highest order.
        var backoff: [UInt16]
        /// `count + 1` entries in orders below the highest: continuations of entry i are
        /// `firstChild[i] ..< firstChild[i + 1]` in the next table.
        var firstChild: [UInt32]
        var count: Int { prob.count }
    }

    init(order: Int, words: [String], tables: [Table], probValues: [[Float]], backoffValues: [[Float]]) {
        self.order = order
        self.words = words
        var index: [String: Int32] = [:]
        index.reserveCapacity(words.count)
        for (i, w) in words.enumerated() { index[w] = Int32(i) }
        self.index = index
        self.tables = tables
        self.probValues = probValues
        self.backoffValues = backoffValues
        sentenceStart = index["<s>"]
        sentenceEnd = index["</s>"]
        unknown = index["<unk>"]
    }

    public var vocabularySize: Int { words.count }
    /// Number of n-grams of each order, unigrams first.
    public var counts: [Int] { tables.map(\.count) }

    public func id(of word: String) -> Int32? { index[word] ?? unknown }

    /// ln P(word | context) by Katz back-off, as `ArpaLanguageModel.logProb` scores it.
    public func logProb(_ word: Int32?, context: ArraySlice<Int32>) -> Float {
        guard let word, word >= 0, Int(word) < words.count else { return ArpaLanguageModel.unknownFloor }
        let ctx = context.suffix(order - 1)
        var backoff: Float = 0
        var start = ctx.startIndex
        while start < ctx.endIndex {
            if let (level, entry) = find(ctx[start...]) {
                if let child = child(of: entry, level: level, word: word) {
                    return backoff + probValues[level + 1][Int(tables[level + 1].prob[child])]
                }
                backoff += backoffValues[level][Int(tables[level].backoff[entry])]
            }
            start += 1
        }
        return backoff + probValues[0][Int(tables[0].prob[Int(word)])]
    }

    /// The entry of the n-gram `words` (its table index n − 1 and position), or nil.
    @inline(__always)
    func find(_ words: ArraySlice<Int32>) -> (level: Int, entry: Int)? {
        guard let first = words.first, first >= 0, Int(first) < self.words.count else { return nil }
        var entry = Int(first)
        var level = 0
        for w in words.dropFirst() {
            guard let c = child(of: entry, level: level, word: w) else { return nil }
            entry = c
            level += 1
        }
        return (level, entry)
    }

    /// The continuation of `entry` (in table `level`) by `word`, by binary search, or nil.
    @inline(__always)
    func child(of entry: Int, level: Int, word: Int32) -> Int? {
        guard level + 1 < order else { return nil }
        let parent = tables[level], next = tables[level + 1]
        var lo = Int(parent.firstChild[entry]), hi = Int(parent.firstChild[entry + 1])
        while lo < hi {
            let mid = (lo + hi) >> 1
            let w = next.word[mid]
            if w == word { return mid }
            if w < word { lo = mid + 1 } else { hi = mid }
        }
        return nil
    }
}
