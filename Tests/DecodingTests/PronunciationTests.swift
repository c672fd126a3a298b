import Foundation
import Testing
@testable import Decoding

/// A phoneme model at run time (issue 16): text users type is pronounced by espeak-ng, word by word,
/// into the model's phoneme characters, and every decoder that writes entries of a list or a
/// vocabulary writes the words the user gave, not their phonemes; homophones are kept apart for the
/// language model to choose.
@Suite("Phoneme models: pronunciation, lists, homophones")
struct PronunciationTests {
    let tokens = TokenSet.englishPhonemes

    /// Clear posteriors for `text` as the phoneme model would spell it.
    func spoken(_ text: String) throws -> [Float] {
        posteriors(spell(try tokens.spelling(of: text)), tokens: tokens)
    }

    @Test("words are pronounced one by one by espeak-ng en-us, stress removed, variants folded")
    func pronounces() throws {
        #expect(tokens.readable(try tokens.spelling(of: "Okay  ROBOT")) == "oUkeI roUb0t")
        #expect(tokens.readable(try tokens.spelling(of: "bamboo four")) == "bambu: fo@")
        // A word sounds the same alone and in a sentence, so a list entry matches a transcript.
        let sentence = try tokens.spelling(of: "set a timer for two minutes").split(separator: " ")
        #expect(sentence[4] == Substring(try tokens.spelling(of: "two")))
        #expect(try tokens.encode("two") == (try tokens.encode("too")))
        // Labels: the phonemes' characters with the space token between words.
        let labels = try tokens.encode("one two")
        #expect(labels.filter { $0 == tokens.space }.count == 1)
        #expect(tokens.decode(labels) == (try tokens.spelling(of: "one two")))
    }

    @Test("a phoneme the model has no token for is an error naming the word and the phoneme")
    func unknownPhoneme() throws {
        var reduced = Pronunciation.english
        let missing = try #require(reduced.phonemes.first { $0.key == "b" })
        reduced.phonemes[missing.key] = nil
        let set = try TokenSet(tokens: tokens.tokens, pronunciation: reduced)
        #expect(throws: TokenError.cannotPronounce(word: "robot", reason: "espeak-ng's en-us phoneme 'b' is not one of the model's")) {
            try set.encode("okay robot")
        }
        // A pronunciation whose characters are not tokens is refused when the set is made.
        var wrong = Pronunciation.english
        wrong.phonemes["b"] = "B"
        #expect(throws: TokenError.phonemeNotAToken(symbol: "b", character: "B")) { try TokenSet(tokens: tokens.tokens, pronunciation: wrong) }
    }

    @Test("word and phrase lists decode to the words given, not their phonemes")
    func listsWriteWords() throws {
        let words = try Lexicon(entries: ["zero", "one", "two", "three"], tokens: tokens)
        let digits = CTCBeamSearch(tokens: tokens, grammar: .words(words))
        let h = decode(digits, try spoken("two three one"))
        #expect(h.text == "two three one")
        #expect(h.words.map(\.text) == ["two", "three", "one"])
        let phrases = try Lexicon(entries: ["turn on the lights", "volume down", "set a timer"], tokens: tokens)
        let commands = CTCBeamSearch(tokens: tokens, grammar: .phrases(phrases))
        let p = decode(commands, try spoken("volume down"))
        #expect(p.text == "volume down")
        #expect(p.words.map(\.text) == ["volume", "down"])
        // Open spelling shows the phonemes by their names.
        #expect(decode(CTCBeamSearch(tokens: tokens), try spoken("two")).text == "tu:")
    }

    /// "to" is the likelier word alone; after "one", "two" is.
    static let lm = try! ArpaLanguageModel(text: """
        \\data\\
        ngram 1=7
        ngram 2=2

        \\1-grams:
        -99\t<s>\t-0.3
        -1.0\t</s>
        -1.5\t<unk>
        -1.0\tto\t-0.2
        -2.0\ttwo\t-0.2
        -2.5\ttoo\t-0.2
        -2.0\tone\t-0.2

        \\2-grams:
        -0.05\t<s> one
        -0.1\tone two

        \\end\\
        """)

    @Test("homophones share one node of the lexicon tree, and the language model tells them apart")
    func homophones() throws {
        let tree = try LexiconTree(words: ["to", "two", "too", "one"], tokens: tokens, languageModel: Self.lm)
        let node = try #require(tree.node(spelling: "two", tokens: tokens))
        var alike: [String] = []
        var w = tree.word[Int(node)]
        while w >= 0 { alike.append(tree.words[Int(w)]); w = tree.nextHomophone[Int(w)] }
        #expect(alike == ["to", "two", "too"])
        #expect(tree.lookahead[Int(node)] == tree.unigram[0])           // the best of the three: "to"
        let search = WordSearch(resources: WordSearchResources(tree: tree, languageModel: Self.lm, tokens: tokens),
                                config: WordSearchConfig())
        func dictate(_ text: String) throws -> String {
            let lp = try spoken(text)
            let v = tokens.count
            lp.withUnsafeBufferPointer { all in
                for s in 0..<(all.count / v) { search.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * v)..<((s + 1) * v)])) }
            }
            return search.finish().text
        }
        #expect(try dictate("to") == "to")
        #expect(try dictate("one two") == "one two")
    }

    @Test("pronunciations are kept on disk for the next run, under the espeak-ng version that made them")
    func fileCache() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hark-pron-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        setenv("HARK_CACHE_DIR", folder, 1)
        defer { unsetenv("HARK_CACHE_DIR") }
        _ = try tokens.spelling(of: "zyzzogeton okay")
        TokenSet.savePronunciations()
        let text = try String(contentsOfFile: folder + "/pronunciations-en-us.tsv", encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(lines.first?.hasPrefix("# espeak-ng ") == true)
        #expect(lines.contains("okay\toU k eI"))
        #expect(lines.contains { $0.hasPrefix("zyzzogeton\t") })
    }
}
