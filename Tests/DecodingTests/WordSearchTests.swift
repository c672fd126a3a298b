import Foundation
import Testing
import TestSupport
@testable import Decoding

/// Dictation in words (issue 19): the lexicon's prefix tree holds exactly its words, the word
/// search writes only vocabulary words, scored by the language model with its history, and the
/// settled part of a partial result never changes.
@Suite("Word search: lexicon tree and dictation")
struct WordSearchTests {
    let tokens = TokenSet.english

    /// A bigram model over a few words, with `<unk>` holding the mass of every other word.
    static let lm = try! ArpaLanguageModel(text: """
        \\data\\
        ngram 1=9
        ngram 2=4

        \\1-grams:
        -99\t<s>\t-0.3
        -1.0\t</s>
        -1.5\t<unk>
        -1.0\tgo\t-0.2
        -1.2\thome\t-0.2
        -2.0\tone\t-0.2
        -1.0\tane\t-0.2
        -1.3\tat\t-0.2
        -1.3\tan\t-0.2

        \\2-grams:
        -0.1\t<s> go
        -0.1\tgo home
        -0.05\t<s> one
        -3.0\t<s> ane

        \\end\\
        """)

    func search(_ words: [String], config: WordSearchConfig = WordSearchConfig()) throws -> WordSearch {
        let tree = try LexiconTree(words: words, tokens: tokens, languageModel: Self.lm)
        return WordSearch(resources: WordSearchResources(tree: tree, languageModel: Self.lm, tokens: tokens), config: config)
    }

    func decode(_ search: WordSearch, _ lp: [Float], partials: ((Hypothesis) -> Void)? = nil) -> Hypothesis {
        let v = tokens.count
        lp.withUnsafeBufferPointer { all in
            for s in 0..<(all.count / v) {
                search.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * v)..<((s + 1) * v)]))
                partials?(search.partial())
            }
        }
        return search.finish()
    }

    @Test("the tree holds every word once, reachable by its spelling, and no other; look-aheads are the best unigram below")
    func treeHoldsExactlyItsWords() throws {
        let words = ["go", "gone", "home", "homes", "a", "an", "ane", "at", "it's", "go", "zebra"]
        let tree = try LexiconTree(words: words, tokens: tokens, languageModel: Self.lm)
        #expect(tree.words == ["go", "gone", "home", "homes", "a", "an", "ane", "at", "it's", "zebra"])
        for (i, w) in tree.words.enumerated() {
            let node = try #require(tree.node(spelling: w, tokens: tokens))
            #expect(tree.word[Int(node)] == Int32(i), "\(w)")
        }
        // Walking every node from the root spells exactly the words at the word ends.
        var spelled: [String] = []
        func walk(_ n: Int, _ prefix: String) {
            if tree.word[n] >= 0 { spelled.append(prefix) }
            for c in Int(tree.firstChild[n])..<Int(tree.firstChild[n + 1]) {
                walk(c, prefix + tokens.tokens[Int(tree.label[c])])
            }
        }
        walk(0, "")
        #expect(spelled.sorted() == tree.words.sorted())
        #expect(tree.node(spelling: "hom", tokens: tokens).map { tree.word[Int($0)] } == -1)
        #expect(tree.node(spelling: "gox", tokens: tokens) == nil)
        // Children sorted by label, each node's look-ahead the best unigram of its subtree.
        for n in 0..<tree.nodeCount {
            let children = Array(Int(tree.firstChild[n])..<Int(tree.firstChild[n + 1]))
            #expect(children.map { tree.label[$0] } == children.map { tree.label[$0] }.sorted())
        }
        let g = try #require(tree.node(spelling: "g", tokens: tokens))
        #expect(tree.lookahead[Int(g)] == max(tree.unigram[0], tree.unigram[1]))
        #expect(throws: TokenError.self) { try LexiconTree(words: ["naïve"], tokens: tokens, languageModel: Self.lm) }
    }

    @Test("words the model does not know share <unk>'s probability equally")
    func unknownWordsShareUnk() throws {
        let tree = try LexiconTree(words: ["go", "gone", "zebra", "homes"], tokens: tokens, languageModel: Self.lm)
        #expect(tree.inModel == [true, false, false, false])
        let unk = Self.lm.logProb(Self.lm.id(of: "<unk>"), context: [])
        #expect(abs(tree.unigram[1] - (unk - logf(3))) < 1e-5)
        #expect(tree.unigram[1] == tree.unigram[2] && tree.unigram[2] == tree.unigram[3])
        #expect(abs(tree.unigram[0] - Self.lm.logProb(Self.lm.id(of: "go"), context: [])) < 1e-6)
    }

    @Test("a clear spelling comes out as its words, timed by their letters, with confidences")
    func clearSpelling() throws {
        let s = try search(["go", "home", "gone", "a", "at"])
        let h = decode(s, posteriors(spell("go home")))
        #expect(h.text == "go home")
        #expect(h.words.map(\.text) == ["go", "home"])
        #expect(h.words[0].firstStep == 1 && h.words[0].lastStep == 3, "\(h.words)")
        #expect(h.words[1].firstStep == 7 && h.words[1].lastStep == 13, "\(h.words)")
        #expect(abs(h.words[0].confidence - 0.95) < 1e-2)
        #expect(h.stableCharacters == h.text.count)
        #expect(s.steps == 0)                                // finish() started the next utterance
        #expect(decode(s, posteriors(spell("home"))).text == "home")
    }

    @Test("only vocabulary words come out: a misspelling becomes the nearest words, never a non-word")
    func onlyVocabularyWords() throws {
        let words = ["go", "home", "gone", "a", "at", "an"]
        let s = try search(words)
        let h = decode(s, posteriors(spell("goe hame")))
        #expect(!h.text.isEmpty)
        for w in h.words { #expect(words.contains(w.text), "\(h.text)") }
        #expect(h.text == "go home", "\(h.text)")
        // Nothing but silence: no words.
        #expect(decode(s, posteriors(Array(repeating: ["_": 0.99], count: 30))).text == "")
    }

    @Test("the language model, with its history, overturns uncertain letters")
    func languageModelDecides() throws {
        // 'a' 0.6 against 'o' 0.4, then "ne": acoustically "ane".
        let lp = posteriors([["_": 0.99], ["a": 0.6, "o": 0.4], ["_": 0.9], ["n": 0.9], ["_": 0.9], ["e": 0.9], ["_": 0.9]])
        var config = WordSearchConfig()
        config.lmWeight = 0
        #expect(decode(try search(["one", "ane"], config: config), lp).text == "ane")
        config.lmWeight = 1
        // "<s> one" is a likely bigram, "<s> ane" an unlikely one, though "ane" is the likelier unigram.
        #expect(decode(try search(["one", "ane"], config: config), lp).text == "one")
    }

    @Test("a word added to the vocabulary can be written; before, it could not")
    func addedWord() throws {
        let lp = posteriors(spell("go hark"))
        let before = decode(try search(["go", "home", "a"]), lp)
        #expect(!before.text.contains("hark"))
        let after = decode(try search(["go", "home", "a", "hark"]), lp)
        #expect(after.text == "go hark")
    }

    @Test("the settled part of every partial result is kept by every later partial and by the final")
    func settledPartNeverChanges() throws {
        let words = ["go", "gone", "home", "a", "an", "at", "one", "ane", "it's"]
        let s = try search(words)
        // Uncertain letters throughout, so hypotheses compete and change.
        var steps: [[String: Float]] = [["_": 0.99]]
        for (i, c) in "go home at one go an home".enumerated() {
            let others = Array("aeiost").filter { $0 != c }
            steps.append(c == " " ? [" ": 0.7, "_": 0.2] : [String(c): 0.55, String(others[i % others.count]): 0.35])
            steps.append(["_": 0.8])
        }
        var seen: [Hypothesis] = []
        let final = decode(s, posteriors(steps)) { seen.append($0) }
        #expect(seen.contains { $0.stableCharacters > 0 }, "nothing was ever settled")
        for (i, p) in seen.enumerated() {
            let settled = String(p.text.prefix(p.stableCharacters))
            for later in seen[i...] { #expect(later.text.hasPrefix(settled), "'\(settled)' then '\(later.text)'") }
            #expect(final.text.hasPrefix(settled), "'\(settled)' then final '\(final.text)'")
        }
        for w in final.words { #expect(words.contains(w.text)) }
    }

    @Test("as a StepDecoder: partials when the words change, a final per utterance, absolute steps")
    func stepDecoder() throws {
        var s: any StepDecoder = try search(["go", "home"])
        let lp = posteriors(spell("go home"))
        let v = tokens.count
        var outputs: [DecoderOutput] = []
        lp.withUnsafeBufferPointer { all in
            for i in 0..<(all.count / v) {
                let step = DecoderStep(index: 100 + i, endSample: Int64(i * 480), logProbs: UnsafeBufferPointer(rebasing: all[(i * v)..<((i + 1) * v)]))
                s.accept(step) { outputs.append($0) }
            }
        }
        s.endUtterance { outputs.append($0) }
        let partials = outputs.compactMap { if case let .partial(h) = $0 { h.text } else { nil } }
        #expect(partials == ["go", "go home"])
        guard case let .final(h) = outputs.last else { Issue.record("no final: \(outputs)"); return }
        #expect(h.text == "go home")
        #expect(h.words[0].firstStep == 101 && h.words[1].lastStep == 113, "\(h.words)")
    }

    @Test("a blank penalty brings back a word the network half-heard under the blank")
    func blankPenalty() throws {
        let halfHeard = posteriors([["_": 0.99], ["g": 0.3, "_": 0.65], ["_": 0.99], ["o": 0.3, "_": 0.65], ["_": 0.99]])
        var config = WordSearchConfig()
        #expect(decode(try search(["go", "home"], config: config), halfHeard).text == "")
        config.blankPenalty = 2
        #expect(decode(try search(["go", "home"], config: config), halfHeard).text == "go")
        #expect(decode(try search(["go", "home"], config: config), posteriors(spell("go home"))).text == "go home")
        config.blankPenalty = 21
        #expect(throws: DecoderConfigError.outOfRange("blankPenalty", "21.0", "0.0...20.0")) { try config.validate() }
    }

    @Test("settings out of range are named errors")
    func configRanges() {
        var c = WordSearchConfig()
        c.beamWidth = 0
        #expect(throws: DecoderConfigError.outOfRange("beamWidth", "0", "1...256")) { try c.validate() }
        c = WordSearchConfig()
        c.lmWeight = .nan
        #expect(throws: DecoderConfigError.self) { try c.validate() }
    }
}
