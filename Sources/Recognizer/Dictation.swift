import Decoding
import Foundation
import Synchronization

/// The vocabulary and word language model that dictation decodes into: by default Hark's English
/// ones (`share/vocab/english-words.txt`, 64 000 words by frequency, and `share/vocab/english.harklm`,
/// a pruned trigram; MODEL.md says how `scripts/build-lm` made them), with any words a user adds.
/// Loaded once and shared by every stream (the shipped pair in about a tenth of a second).
public struct Dictation: Sendable {
    public let resources: WordSearchResources
    public let vocabularyPath: String
    public let languageModelPath: String
    /// Words added to the vocabulary (`--add-words`), after the list's own.
    public let addedWords: Int

    public var wordCount: Int { resources.tree.words.count }

    /// Reads a word list and a language model (ARPA or Hark's compact form) and builds the search's
    /// prefix tree for `tokens`; `addWords` are further word lists (a user's names and jargon).
    /// Every problem is an error that names the file (and line).
    public init(vocabulary: String, languageModel: String, addWords: [String] = [], tokens: TokenSet) throws {
        var words = try Vocabulary(path: vocabulary, tokens: tokens)
        let listed = words.count
        for file in addWords { try words.add(path: file, tokens: tokens) }
        try self.init(words: words, added: words.count - listed, languageModel: try LanguageModelFile.load(path: languageModel),
                      tokens: tokens, vocabularyPath: vocabulary, languageModelPath: languageModel)
    }

    /// Builds the search's prefix tree over `words` (the last `added` of them a user's) for `tokens`.
    public init(words: Vocabulary, added: Int = 0, languageModel lm: any WordLanguageModel, tokens: TokenSet,
                vocabularyPath: String, languageModelPath: String) throws {
        guard tokens.space != nil else {
            throw RecognizerError.dictation("the model's tokens have no space, so it cannot separate words; use --open-spelling")
        }
        resources = WordSearchResources(tree: try LexiconTree(words: words.words, tokens: tokens, languageModel: lm),
                                        languageModel: lm, tokens: tokens)
        if tokens.pronunciation != nil { TokenSet.savePronunciations() }     // the next start reads them from disk
        self.vocabularyPath = vocabularyPath
        self.languageModelPath = languageModelPath
        addedWords = added
    }

    /// The shipped English vocabulary and language model (with `addWords`), for `tokens`; without
    /// added words, loaded once per process.
    public static func shipped(tokens: TokenSet, addWords: [String] = []) throws -> Dictation {
        if !addWords.isEmpty {
            let paths = try defaultPaths()
            return try Dictation(vocabulary: paths.vocabulary, languageModel: paths.languageModel, addWords: addWords, tokens: tokens)
        }
        return try cache.withLock { cached in
            if let d = cached[tokens.tokens] { return d }
            let paths = try defaultPaths()
            let d = try Dictation(vocabulary: paths.vocabulary, languageModel: paths.languageModel, tokens: tokens)
            cached[tokens.tokens] = d
            return d
        }
    }

    private static let cache = Mutex<[[String]: Dictation]>([:])

    /// Where the shipped vocabulary and language model are: `$HARK_VOCABULARY` and `$HARK_LM` if
    /// set, else `vocab/` beside the shipped model (`RecognitionModel.defaultPath`'s search: a
    /// checkout's `share/`, an installed `PREFIX/share/hark/`).
    public static func defaultPaths() throws -> (vocabulary: String, languageModel: String) {
        func find(_ variable: String, _ name: String) throws -> String {
            if let path = ProcessInfo.processInfo.environment[variable], !path.isEmpty {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw RecognizerError.dictation("$\(variable) is \(path), which does not exist")
                }
                return path
            }
            let found = RecognitionModel.shippedFile("vocab/" + name)
            guard let path = found.path else {
                throw RecognizerError.dictation("the shipped \(name) was not found (looked at \(found.tried.joined(separator: ", "))); "
                                                + "set $\(variable), or use --open-spelling to spell without a vocabulary")
            }
            return path
        }
        return (try find("HARK_VOCABULARY", "english-words.txt"), try find("HARK_LM", "english.harklm"))
    }
}
