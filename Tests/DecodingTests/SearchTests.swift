import HarkSupport
import Foundation
import Testing
@testable import Decoding

/// Posteriors for the English token set: each step gives some characters a probability ("_" is
/// the blank) and spreads the rest evenly over the other classes.
func posteriors(_ steps: [[String: Float]], tokens: TokenSet = .english) -> [Float] {
    var out: [Float] = []
    for step in steps {
        let given = step.values.reduce(0, +)
        let rest = max(1 - given, 1e-6) / Float(tokens.count - step.count)
        for (i, t) in tokens.tokens.enumerated() {
            let key = i == 0 ? "_" : t
            out.append(logf(step[key] ?? rest))
        }
    }
    return out
}

/// A clear spelling: each character for one step, a blank after each.
func spell(_ text: String) -> [[String: Float]] {
    var steps: [[String: Float]] = [["_": 0.99]]
    for c in text { steps.append([String(c): 0.95]); steps.append(["_": 0.95]) }
    return steps
}

func decode(_ search: CTCBeamSearch, _ lp: [Float], partials: ((Hypothesis) -> Void)? = nil) -> Hypothesis {
    let v = search.tokens.count
    lp.withUnsafeBufferPointer { all in
        for s in 0..<(all.count / v) {
            search.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * v)..<((s + 1) * v)]))
            partials?(search.partial())
        }
    }
    return search.finish()
}

@Suite("Beam search, language model, keywords, endpoints")
struct SearchTests {
    let tokens = TokenSet.english

    @Test("open grammar reads a clear spelling; words carry their steps and confidence")
    func openGrammar() {
        let search = CTCBeamSearch(tokens: tokens)
        let h = decode(search, posteriors(spell("go home")))
        #expect(h.text == "go home")
        #expect(h.words.map(\.text) == ["go", "home"])
        #expect(h.words[0].firstStep == 1 && h.words[0].lastStep == 3, "\(h.words)")
        #expect(h.words[1].firstStep == 7 && h.words[1].lastStep == 13)
        #expect(abs(h.words[0].confidence - 0.95) < 1e-3)
        #expect(search.steps == 0)                            // finish() started the next utterance
    }

    @Test("a word list constrains the output; the language model can overturn the acoustics")
    func wordsAndLanguageModel() throws {
        // 'o' 0.6 vs 'a' 0.4, then "ne": acoustically "one".
        let lp = posteriors([["_": 0.99], ["o": 0.6, "a": 0.4], ["_": 0.9], ["n": 0.9], ["_": 0.9], ["e": 0.9], ["_": 0.9]])
        #expect(decode(CTCBeamSearch(tokens: tokens), lp).text == "one")
        let onlyAne = try Lexicon(entries: ["ane"], tokens: tokens)
        #expect(decode(CTCBeamSearch(tokens: tokens, grammar: .words(onlyAne)), lp).text == "ane")
        let both = try Lexicon(entries: ["one", "ane"], tokens: tokens)
        #expect(decode(CTCBeamSearch(tokens: tokens, grammar: .words(both)), lp).text == "one")
        let lm = try ArpaLanguageModel(text: """
            \\data\\
            ngram 1=4

            \\1-grams:
            -0.5 <s>
            -0.5 </s>
            -2.0 one
            -0.1 ane
            \\end\\
            """)
        var config = BeamSearchConfig()
        config.lmWeight = 1
        #expect(decode(CTCBeamSearch(tokens: tokens, grammar: .words(both), languageModel: lm, config: config), lp).text == "ane")
        #expect(throws: TokenError.self) { try Lexicon(entries: ["naïve"], tokens: tokens) }
    }

    @Test("a blank penalty brings back a word the network half-heard under the blank; out of range is a named error")
    func blankPenalty() throws {
        // "go" at 0.3 against the blank's 0.65 on both letters: the blank path is likelier.
        let halfHeard = posteriors([["_": 0.99], ["g": 0.3, "_": 0.65], ["_": 0.99], ["o": 0.3, "_": 0.65], ["_": 0.99]])
        let words = try Lexicon(entries: ["go", "no"], tokens: tokens)
        #expect(decode(CTCBeamSearch(tokens: tokens, grammar: .words(words)), halfHeard).text == "")
        var config = BeamSearchConfig()
        config.blankPenalty = 2
        #expect(decode(CTCBeamSearch(tokens: tokens, grammar: .words(words), config: config), halfHeard).text == "go")
        // A clear spelling reads the same with the penalty: it moves only what the blank was winning.
        #expect(decode(CTCBeamSearch(tokens: tokens, config: config), posteriors(spell("go home"))).text == "go home")
        config.blankPenalty = -1
        #expect(throws: DecoderConfigError.outOfRange("blankPenalty", "-1.0", "0.0...20.0")) { try config.validate() }
        config.blankPenalty = .nan
        #expect(throws: DecoderConfigError.self) { try config.validate() }
    }

    @Test("a word list never yields a word outside it, even from noise")
    func wordsOnly() throws {
        let digits = try Lexicon(entries: ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"], tokens: tokens)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let steps: [[String: Float]] = (0..<40).map { _ in
                [tokens.tokens[Int.random(in: 1..<tokens.count, using: &rng)]: Float.random(in: 0.2...0.9, using: &rng)]
            }
            let h = decode(CTCBeamSearch(tokens: tokens, grammar: .words(digits)), posteriors(steps))
            for w in h.text.split(separator: " ") { #expect(digits.entries.contains(String(w))) }
        }
    }

    @Test("the stable part of every partial is a prefix of every later partial and of the final text")
    func stablePrefix() {
        var rng = SplitMix(seed: 7)
        for _ in 0..<10 {
            let steps: [[String: Float]] = (0..<60).map { _ in
                let i = Int(rng.next() % 28), j = (i + 1 + Int(rng.next() % 27)) % 28
                let a = tokens.tokens[1 + i], b = tokens.tokens[1 + j]
                return ["_": 0.3, a: 0.35, b: 0.25]
            }
            var stable: [String] = []
            let final = decode(CTCBeamSearch(tokens: tokens), posteriors(steps)) { p in
                stable.append(String(p.text.prefix(p.stableCharacters)))
            }
            for (i, s) in stable.enumerated() {
                #expect(final.text.hasPrefix(s))
                if i > 0 { #expect(s.hasPrefix(stable[i - 1])) }
            }
        }
    }

    @Test("a phrase grammar returns the most likely whole phrase, even with a beam of one")
    func phrases() throws {
        let commands = try Lexicon(entries: ["stop", "start recording", "go"], tokens: tokens)
        var config = BeamSearchConfig()
        config.beamWidth = 1
        let search = CTCBeamSearch(tokens: tokens, grammar: .phrases(commands), config: config)
        // "start recxrding": one wrong character still selects the right phrase
        let h = decode(search, posteriors(spell("start recxrding")))
        #expect(h.text == "start recording")
        #expect(h.words.map(\.text) == ["start", "recording"])
        #expect(h.words[1].firstStep == 13)
    }

    @Test("CTC alignment: forward score equals the sum over all paths; Viterbi steps on the best one")
    func alignment() {
        // 3 classes (blank, a, b), 4 steps, random posteriors; labels "a b".
        var rng = SplitMix(seed: 3)
        var lp: [Float] = []
        for _ in 0..<4 {
            let raw = (0..<3).map { _ in Float(rng.next() % 1000 + 1) }
            let sum = raw.reduce(0, +)
            lp += raw.map { logf($0 / sum) }
        }
        var brute: Float = 0
        for code in 0..<81 {
            var path: [Int] = [], c = code
            for _ in 0..<4 { path.append(c % 3); c /= 3 }
            var collapsed: [Int] = [], last = -1
            for k in path { if k != last && k != 0 { collapsed.append(k) }; last = k }
            if collapsed == [1, 2] { brute += expf((0..<4).map { lp[$0 * 3 + path[$0]] }.reduce(0, +)) }
        }
        let a = lp.withUnsafeBufferPointer { CTCAlignment.align($0, classes: 3, labels: [1, 2]) }!
        #expect(abs(a.logLikelihood - logf(brute)) < 1e-5)
        #expect(a.steps[0] < a.steps[1])
        #expect(lp.withUnsafeBufferPointer { CTCAlignment.align($0, classes: 3, labels: [1, 1, 1]) } == nil)  // needs 5 steps
    }

    @Test("ARPA: Katz back-off values, and errors that name file and line")
    func arpa() throws {
        let text = """
            \\data\\
            ngram 1=4
            ngram 2=2

            \\1-grams:
            -1.0 <s> -0.3
            -1.0 </s>
            -0.5 a -0.2
            -0.7 b

            \\2-grams:
            -0.1 <s> a
            -0.2 a b

            \\end\\
            """
        let lm = try ArpaLanguageModel(text: text, name: "t.arpa")
        let ln10 = Float(M_LN10)
        let s = lm.vocabulary["<s>"]!, a = lm.vocabulary["a"]!, b = lm.vocabulary["b"]!
        #expect(abs(lm.logProb(a, context: [s]) - -0.1 * ln10) < 1e-5)
        #expect(abs(lm.logProb(b, context: [s, a]) - -0.2 * ln10) < 1e-5)
        // "b" after "b": no bigram, and "b" has no back-off weight → P(b)
        #expect(abs(lm.logProb(b, context: [b]) - -0.7 * ln10) < 1e-5)
        // "b" after "<s>": back-off(<s>) + P(b)
        #expect(abs(lm.logProb(b, context: [s]) - (-0.3 - 0.7) * ln10) < 1e-5)
        #expect(lm.logProb(nil, context: []) == ArpaLanguageModel.unknownFloor)

        #expect { try ArpaLanguageModel(text: text.replacingOccurrences(of: "\\end\\", with: ""), name: "t.arpa") } throws: {
            "\($0)".contains("t.arpa") && "\($0)".contains("\\end\\")
        }
        #expect { try ArpaLanguageModel(text: text.replacingOccurrences(of: "ngram 2=2", with: "ngram 2=3"), name: "t.arpa") } throws: {
            "\($0)".contains("declares 3 2-grams but the file lists 2")
        }
        #expect { try ArpaLanguageModel(text: text.replacingOccurrences(of: "-0.2 a b", with: "-0.2 a c"), name: "t.arpa") } throws: {
            "\($0)".contains("t.arpa:13") && "\($0)".contains("'c'")
        }
        #expect { try ArpaLanguageModel(text: "hello", name: "t.arpa") } throws: { "\($0)".contains("not an ARPA file") }
    }

    @Test("keyword spotter: a hit at the keyword's last character, refractory time, order matters")
    func keywords() throws {
        var steps: [[String: Float]] = Array(repeating: ["_": 0.98], count: 10)
        steps += spell("hey")                                  // 'h' at 11, 'e' at 13, 'y' at 15
        steps += Array(repeating: ["_": 0.98], count: 10)      // second "hey" 10 steps after the first
        steps += spell("hey")
        steps += Array(repeating: ["_": 0.98], count: 50)
        steps += spell("yeh")
        let lp = posteriors(steps)
        func run(_ config: KeywordSpotter.Config, threshold: Float = 0.5, scoring: KeywordSpotter.Scoring = .ratio) throws -> [KeywordHit] {
            var spotter = try KeywordSpotter(keywords: [Keyword("Hey", threshold: threshold, scoring: scoring)], tokens: tokens, config: config)
            var hits: [KeywordHit] = []
            lp.withUnsafeBufferPointer { all in
                for s in 0..<(all.count / 29) {
                    spotter.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * 29)..<((s + 1) * 29)])) { hits.append($0) }
                }
            }
            return hits
        }
        var config = KeywordSpotter.Config()
        config.refractorySteps = 30
        let hits = try run(config)
        #expect(hits.count == 1)
        #expect(hits.first?.keyword == "hey" && hits.first?.firstStep == 11 && hits.first?.lastStep == 15)
        #expect((hits.first?.score ?? 0) > 0.9)
        config.refractorySteps = 5
        #expect(try run(config).map(\.lastStep) == [15, 32])
        // Ratio scoring (default): the clean keyword is exactly what the network says, score 1.
        #expect(try run(config, threshold: 0.99).count == 2)
        // Posterior scoring: each character has p = 0.95, so the score cannot reach 0.99.
        #expect(try run(config, threshold: 0.99, scoring: .posterior).isEmpty)
        #expect(try run(config, threshold: 0.9, scoring: .posterior).count == 2)
        // "hay" where 'a' outscores 'e' (0.6 vs 0.3): the keyword path is half as likely as the best
        // path at one of three characters, so the ratio score is (0.3 / 0.6)^(1/3) ≈ 0.79.
        var hay: [[String: Float]] = [["_": 0.98], ["h": 0.95], ["_": 0.95], ["a": 0.6, "e": 0.3], ["_": 0.95], ["y": 0.95], ["_": 0.98]]
        hay += hay
        var spotter = try KeywordSpotter(keywords: [Keyword("hey", threshold: 0.75)], tokens: tokens)
        var scores: [Float] = []
        posteriors(hay).withUnsafeBufferPointer { all in
            for s in 0..<(all.count / 29) {
                spotter.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * 29)..<((s + 1) * 29)])) { scores.append($0.score) }
            }
        }
        #expect(scores.count == 1 && abs(scores[0] - powf(0.5, 1.0 / 3)) < 0.01, "\(scores)")
        #expect { try KeywordSpotter(keywords: [Keyword("héy")], tokens: tokens) } throws: { "\($0)".contains("'é'") }
    }

    @Test("keyword spotter: the space between a keyword's words may be left out, nothing else may")
    func optionalSpaces() throws {
        func peak(_ text: String, _ keyword: String, optionalSpaces: Bool) throws -> Float {
            var config = KeywordSpotter.Config()
            config.optionalSpaces = optionalSpaces
            var spotter = try KeywordSpotter(keywords: [Keyword(keyword, threshold: 2)], tokens: tokens, config: config)
            var best: Float = 0
            posteriors(spell(text) + [["_": 0.98]]).withUnsafeBufferPointer { all in
                for s in 0..<(all.count / 29) {
                    spotter.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * 29)..<((s + 1) * 29)])) { _ in }
                    best = max(best, spotter.currentScores[0])
                }
            }
            return best
        }
        // Spelled with its space, the keyword scores 1 either way.
        #expect(try peak("hey you", "hey you", optionalSpaces: true) > 0.99)
        #expect(try peak("hey you", "hey you", optionalSpaces: false) > 0.99)
        // Run together, only a path that skips the space matches what the network says.
        #expect(try peak("heyyou", "hey you", optionalSpaces: true) > 0.99)
        #expect(try peak("heyyou", "hey you", optionalSpaces: false) < 0.7)
        // A missing letter is never skipped, and a keyword's ends are not spaces to skip.
        #expect(try peak("hey ou", "hey you", optionalSpaces: true) < 0.7)
        #expect(try peak("ey you", "hey you", optionalSpaces: true) < 0.7)
    }

    @Test("endpointer: trailing silence after speech, maximum length, idle reset")
    func endpoints() {
        var e = Endpointer(stepSeconds: 0.03)                 // defaults: 0.8 s, 20 s, 10 s
        var decisions: [Endpointer.Decision] = []
        for _ in 0..<10 { decisions.append(e.accept(speech: true)) }
        for _ in 0..<27 { decisions.append(e.accept(speech: false)) }
        #expect(decisions.firstIndex(of: .endpoint) == 10 + 26)   // 27 × 30 ms ≥ 0.8 s
        var idle = Endpointer(stepSeconds: 0.03)
        let first = (0..<1000).first { _ in idle.accept(speech: false) == .idleReset }
        #expect(first == 333)                                      // 334 steps ≥ 10 s
        var long = Endpointer(stepSeconds: 0.03)
        let cut = (0..<1000).first { _ in long.accept(speech: true) == .endpoint }
        #expect(cut == 666)
    }
}

typealias SplitMix = SplitMix64
