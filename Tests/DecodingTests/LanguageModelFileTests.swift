import Foundation
import Testing
import TestSupport
@testable import Decoding

/// The dictation vocabulary and word language model (issue 19): the compact `.harklm` form scores
/// exactly as the ARPA file it came from, damaged files and wrong-alphabet vocabularies are named
/// errors, and the shipped pair loads and holds together.
@Suite("Language model files")
struct LanguageModelFileTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shippedVocabulary = repo.appendingPathComponent("share/vocab/english-words.txt").path
    static let shippedModel = repo.appendingPathComponent("share/vocab/english.harklm").path
    static let dir = testFolder("hark-lm-files")

    /// A trigram model as a pruned toolkit output looks: positive and negative back-offs, a word
    /// with no back-off, and the trigram "b a c" whose context "b a" is not a listed bigram.
    static let arpa = """
        \\data\\
        ngram 1=6
        ngram 2=6
        ngram 3=3

        \\1-grams:
        -99\t<s>\t-0.41
        -0.9\t</s>
        -1.2\t<unk>
        -0.5\ta\t-0.2
        -0.7\tb\t0.05
        -1.1\tc

        \\2-grams:
        -0.1\t<s> a\t-0.15
        -0.2\ta b\t-0.3
        -0.45\tb c\t0.1
        -0.35\tc </s>
        -0.6\ta a
        -0.25\tb </s>

        \\3-grams:
        -0.05\t<s> a b
        -0.15\ta b c
        -0.3\tb a c

        \\end\\

        """

    /// Every word after every context of up to two words (and an unknown id) scores the same.
    static func expectSameScores(_ x: some WordLanguageModel, _ y: some WordLanguageModel, ids: [Int32]) {
        var contexts: [[Int32]] = [[]]
        for a in ids + [-1] { contexts.append([a]); for b in ids { contexts.append([a, b]) } }
        for w in ids + [-1] {
            for c in contexts {
                #expect(x.logProb(w, context: c[...]) == y.logProb(w, context: c[...]), "word \(w) after \(c)")
            }
        }
    }

    @Test("the compact form gives the ARPA model's scores exactly, through a file and back")
    func compactEqualsArpa() throws {
        let arpa = try ArpaLanguageModel(text: Self.arpa, name: "fixture.arpa")
        let path = Self.dir.appendingPathComponent("fixture.harklm").path
        try CompactLanguageModel(arpa: arpa).write(to: path)
        let compact = try #require(try LanguageModelFile.load(path: path) as? CompactLanguageModel)
        #expect(compact.order == 3)
        #expect(compact.counts == [6, 7, 3])          // the missing context "b a" became a bigram
        for (w, id) in arpa.vocabulary { #expect(compact.id(of: w) == id) }
        #expect(compact.id(of: "zebra") == arpa.vocabulary["<unk>"])
        Self.expectSameScores(arpa, compact, ids: Array(arpa.vocabulary.values).sorted())
        // Spot checks by hand: a listed trigram; back-off through "<s> a"; the added context scores by back-off.
        let ln10 = Float(M_LN10), v = arpa.vocabulary
        #expect(abs(compact.logProb(v["b"]!, context: [v["<s>"]!, v["a"]!]) - -0.05 * ln10) < 1e-6)
        #expect(abs(compact.logProb(v["c"]!, context: [v["<s>"]!, v["a"]!]) - (-0.15 - 0.2 - 1.1) * ln10) < 1e-5)
        #expect(abs(compact.logProb(v["a"]!, context: [v["b"]!]) - (0.05 - 0.5) * ln10) < 1e-5)
        #expect(abs(compact.logProb(v["c"]!, context: [v["b"]!, v["a"]!]) - -0.3 * ln10) < 1e-6)
        // The ARPA text loads through the same entry point.
        let arpaPath = Self.dir.appendingPathComponent("fixture.arpa").path
        try Data(Self.arpa.utf8).write(to: URL(fileURLWithPath: arpaPath))
        #expect(try LanguageModelFile.load(path: arpaPath) is ArpaLanguageModel)
    }

    @Test("more distinct values than codes: each goes to the nearest of the equal-population bin means")
    func quantization() throws {
        var rng = SystemRandomNumberGenerator()
        let data = (0..<2000).map { _ in -Float.random(in: 1...6, using: &rng) }
        let q = Quantizer(data, levels: 256)
        #expect(q.values.count == 256)
        var worst: Float = 0
        for x in data {
            let c = Int(q.code(x))
            // Nearest: no other value is closer.
            #expect(q.values.allSatisfy { abs($0 - x) >= abs(q.values[c] - x) }, "\(x) → \(q.values[c])")
            worst = max(worst, abs(q.values[c] - x))
        }
        // 2000 values over 5 in 256 bins of 7 or 8 values: within about one bin width.
        #expect(worst > 0 && worst < 0.1)
        let few = Quantizer([-1, -0.5, -1, -2.25], levels: 256)
        #expect(few.values == [-2.25, -1, -0.5])
        #expect([-1, -0.5, -2.25].map { few.values[Int(few.code($0))] } == [-1, -0.5, -2.25])
    }

    @Test("a damaged compact file is an error naming the file and where it breaks")
    func corruptCompact() throws {
        let arpa = try ArpaLanguageModel(text: Self.arpa, name: "fixture.arpa")
        let good = CompactLanguageModel(arpa: arpa).serialized()
        func expectError(_ bytes: Data, _ phrases: String...) {
            let path = Self.dir.appendingPathComponent("bad-\(phrases[0].hashValue).harklm").path
            _ = FileManager.default.createFile(atPath: path, contents: bytes)
            #expect { _ = try LanguageModelFile.load(path: path) } throws: { error in
                let text = "\(error)"
                return text.contains(path) && phrases.allSatisfy(text.contains)
            }
        }
        expectError(good.prefix(good.count - 9), "truncated")
        expectError(good.prefix(40), "byte", "truncated")
        expectError(good + Data([0, 0, 0, 0]), "4 bytes after the last table")
        // The first trigram's word id (the last table) pointed past the vocabulary.
        var wrongWord = good
        let trigramWords = good.count - 4 * 3 - 8          // 3 UInt32 words, 3 UInt16 probabilities padded to 8 bytes
        wrongWord.replaceSubrange(trigramWords..<trigramWords + 4, with: [200, 0, 0, 0])
        expectError(wrongWord, "3-gram 1 has word id 200")
        // A count no file of this size could hold (found by fuzzing: it once sized an array by it).
        var huge = good
        huge.replaceSubrange(12..<16, with: [0x4A, 0, 0, 0x80])
        expectError(huge, "declares 2147483722 / 7 / 3 n-grams, more than its", "truncated")
        var badOrder = good
        badOrder.replaceSubrange(8..<12, with: [0, 0, 0, 0])
        expectError(badOrder, "order 0")
        // The last trigram's probability code past the 3 trigram probability values.
        var badCode = good
        badCode.replaceSubrange(good.count - 4..<good.count - 2, with: [9, 0])
        expectError(badCode, "3-gram probabilities", "entry 3 has code 9, past the 3 values")
        #expect { _ = try LanguageModelFile.load(path: Self.dir.appendingPathComponent("absent.harklm").path) } throws: {
            "\($0)".contains("does not exist")
        }
    }

    @Test("a corrupt ARPA line is an error naming the file and line")
    func corruptArpa() throws {
        let path = Self.dir.appendingPathComponent("corrupt.arpa").path
        try Data(Self.arpa.replacingOccurrences(of: "-0.45\tb c", with: "-0.45x\tb c").utf8).write(to: URL(fileURLWithPath: path))
        #expect { _ = try LanguageModelFile.load(path: path) } throws: { "\($0)".contains("\(path):17:") }
    }

    @Test("a vocabulary line in another alphabet, or with two words, is an error naming the file and line")
    func vocabularyErrors() throws {
        let url = Self.dir.appendingPathComponent("words.txt")
        try Data("hello\nworld\ncafé\n".utf8).write(to: url)
        #expect { _ = try Vocabulary(path: url.path, tokens: .english) } throws: {
            "\($0)".contains("\(url.path):3:") && "\($0)".contains("cannot spell 'é'")
        }
        try Data("hello\n\n# names\nnew york\n".utf8).write(to: url)
        #expect { _ = try Vocabulary(path: url.path, tokens: .english) } throws: {
            "\($0)".contains("\(url.path):4:") && "\($0)".contains("more than one word")
        }
        try Data("# nothing\n".utf8).write(to: url)
        #expect { _ = try Vocabulary(path: url.path, tokens: .english) } throws: { "\($0)".contains("has no words") }
    }

    @Test("the user's words join the vocabulary once each, after the shipped ones")
    func addWords() throws {
        let base = Self.dir.appendingPathComponent("base.txt"), extra = Self.dir.appendingPathComponent("extra.txt")
        try Data("the\nof\n".utf8).write(to: base)
        try Data("Hark\nthe # already there\nalsa\n".utf8).write(to: extra)
        var v = try Vocabulary(path: base.path, tokens: .english)
        try v.add(path: extra.path, tokens: .english)
        #expect(v.words == ["the", "of", "hark", "alsa"])
    }

    @Test("the shipped vocabulary: 50 000+ spellable words, each reachable in the prefix tree and nothing else")
    func shippedVocabulary() throws {
        let v = try Vocabulary(path: Self.shippedVocabulary, tokens: .english)
        #expect(v.count >= 50_000)
        let lexicon = try v.lexicon(tokens: .english)
        #expect(lexicon.entries == v.words)
        for (i, w) in v.words.enumerated() {
            var node: Int32 = 0
            for l in try TokenSet.english.encode(w) { node = try #require(lexicon.child(node, Int32(l)), "\(w)") }
            #expect(lexicon.nodes[Int(node)].entry == Int32(i))
        }
        #expect(lexicon.nodes.filter { $0.entry >= 0 }.count == v.count)
    }

    @Test("the shipped language model: its words are vocabulary words, unknown words score as <unk>")
    func shippedModel() throws {
        let lm = try #require(try LanguageModelFile.load(path: Self.shippedModel) as? CompactLanguageModel)
        let v = try Vocabulary(path: Self.shippedVocabulary, tokens: .english)
        #expect(lm.order == 3)
        let special: Set = ["<s>", "</s>", "<unk>"]
        #expect(lm.words.allSatisfy { special.contains($0) || v.contains($0) })
        #expect(lm.vocabularySize > 30_000)
        let unk = try #require(lm.id(of: "<unk>"))
        #expect(lm.id(of: "qwxzzy") == unk)
        let s = try #require(lm.sentenceStart)
        let the = try #require(lm.id(of: "the")), of = try #require(lm.id(of: "of"))
        // Ordinary English is likelier than its words swapped.
        #expect(lm.logProb(the, context: [of]) > lm.logProb(of, context: [the]))
        #expect(lm.logProb(the, context: [s]) > lm.logProb(unk, context: [s]))
    }

    @Test("perplexity counts OOV words apart and scores the sentence end")
    func perplexity() throws {
        let arpa = try ArpaLanguageModel(text: Self.arpa, name: "fixture.arpa")
        var p = Perplexity()
        p.add(sentence: "a b zebra", model: arpa)
        let v = arpa.vocabulary
        let expected = Double(arpa.logProb(v["a"]!, context: [v["<s>"]!]))
            + Double(arpa.logProb(v["b"]!, context: [v["<s>"]!, v["a"]!]))
            + Double(arpa.logProb(v["</s>"]!, context: [v["b"]!, v["<unk>"]!]))
        #expect(p.words == 3 && p.outOfVocabulary == 1 && p.scored == 3)
        #expect(abs(p.logProb - expected) < 1e-6)
        #expect(abs(p.perplexity - exp(-expected / 3)) < 1e-6)
    }
}
