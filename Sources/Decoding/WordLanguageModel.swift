import Foundation

/// What a word decoder asks of an n-gram language model, whichever file it came from: the ARPA
/// text every toolkit writes (`ArpaLanguageModel`) or Hark's compact binary (`CompactLanguageModel`).
/// Word ids are the unigrams' order in the ARPA file, so the two forms of one model agree on them.
public protocol WordLanguageModel: Sendable {
    var order: Int { get }
    /// The id of `word`, or of `<unk>` when the model has one and does not know the word.
    func id(of word: String) -> Int32?
    /// ln P(word | context), context oldest first (only its last `order − 1` words matter).
    func logProb(_ word: Int32?, context: ArraySlice<Int32>) -> Float
    var sentenceStart: Int32? { get }
    var sentenceEnd: Int32? { get }
}

extension ArpaLanguageModel: WordLanguageModel {}

public enum LanguageModelFile {
    /// Opens `path` as Hark's compact form when it starts with "HARKLM", else as ARPA text.
    public static func load(path: String) throws(ArpaError) -> any WordLanguageModel {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return try ArpaLanguageModel(path: path)               // names the problem (missing, a folder, unreadable)
        }
        let head = (try? handle.read(upToCount: 6)) ?? nil
        try? handle.close()
        // Any version of the compact form goes to its reader, which names a version it cannot read.
        if let head, Array(head) == Array(CompactLanguageModel.magic.prefix(6)) { return try CompactLanguageModel(path: path) }
        return try ArpaLanguageModel(path: path)
    }
}

/// Perplexity and out-of-vocabulary rate of a model over sentences of text, the way SRILM's
/// `ngram -ppl` counts: every word and the sentence end is predicted from `<s>` and what came
/// before; a word the model does not know (no id, or `<unk>`) is counted as OOV and left out of
/// the perplexity, but stays in the context as `<unk>`.
public struct Perplexity: Equatable, Sendable {
    public var sentences = 0
    public var words = 0
    public var outOfVocabulary = 0
    /// Sum of ln P over the scored tokens (in-vocabulary words and sentence ends).
    public var logProb: Double = 0
    public var scored = 0

    public var perplexity: Double { scored > 0 ? exp(-logProb / Double(scored)) : .nan }
    public var oovRate: Double { words > 0 ? Double(outOfVocabulary) / Double(words) : 0 }

    public init() {}

    /// Adds one sentence (already normalized: lowercase words separated by spaces).
    public mutating func add(sentence: String, model: some WordLanguageModel) {
        let unknown = model.id(of: "<unk>")
        var context: [Int32] = model.sentenceStart.map { [$0] } ?? []
        sentences += 1
        for w in sentence.split(separator: " ") {
            words += 1
            let id = model.id(of: String(w))
            if id == nil || id == unknown {
                outOfVocabulary += 1
            } else {
                logProb += Double(model.logProb(id, context: context[...]))
                scored += 1
            }
            context.append(id ?? -1)
            if context.count >= model.order { context.removeFirst(context.count - model.order + 1) }
        }
        if let end = model.sentenceEnd {
            logProb += Double(model.logProb(end, context: context[...]))
            scored += 1
        }
    }
}
