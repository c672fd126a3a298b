import Foundation
import Testing
@testable import Decoding

/// The one decoder seam: `DecoderFanOut` numbers steps on the stream's clock, feeds every decoder
/// the same step, and ends utterances for all of them at once.
@Suite("Decoder fan-out")
struct FanOutTests {
    /// A decoder written here, knowing nothing of the others: it records what it is fed and when
    /// utterances end, and reports a final "hypothesis" naming the steps it saw.
    struct Recorder: StepDecoder {
        var steps: [(index: Int, endSample: Int64)] = []
        var ended: [Int] = []                      // the step count at each end of an utterance
        var resets = 0
        mutating func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void) {
            steps.append((step.index, step.endSample))
        }
        mutating func endUtterance(emit: (DecoderOutput) -> Void) {
            ended.append(steps.count)
            emit(.final(Hypothesis(text: "steps \(steps.first?.index ?? -1)-\(steps.last?.index ?? -1)", words: [],
                                   stableCharacters: 0, score: 0)))
        }
        mutating func reset() { resets += 1 }
    }

    @Test("absolute step numbers for every decoder; an endpoint from the endpointer ends the utterance for all, after the step")
    func endpointForAll() throws {
        let tokens = TokenSet.english
        // "hi", then a second of blanks (0.8 s of silence ends it), then "yo" from step 60 on.
        var steps = spell("hi") + Array(repeating: ["_": 0.99], count: 40)
        let second = steps.count
        steps += spell("yo")
        let lp = posteriors(steps)
        var config = EndpointConfig()
        config.trailingSilence = 0.5
        var fanOut = DecoderFanOut([CTCBeamSearch(tokens: tokens), Recorder(),
                                    Endpointer(config: config, stepSeconds: 0.03, space: tokens.space)], firstStep: 1_000)
        var finals: [(Int, String, [DecodedWord])] = []
        var boundaries: [Int] = []
        let v = tokens.count
        lp.withUnsafeBufferPointer { all in
            for s in 0..<(all.count / v) {
                let b = fanOut.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * v)..<((s + 1) * v)]), endSample: Int64(480 * (s + 1))) {
                    if case let .final(h) = $0 { finals.append(($1, h.text, h.words)) }
                }
                if b == .endpoint { boundaries.append(s) }
            }
        }
        fanOut.endUtterance { if case let .final(h) = $0 { finals.append(($1, h.text, h.words)) } }
        let recorder = try #require(fanOut.first(Recorder.self))
        #expect(recorder.steps.map(\.index) == Array(1_000..<(1_000 + steps.count)))
        #expect(recorder.steps.map(\.endSample) == (1...steps.count).map { Int64(480 * $0) })
        #expect(boundaries.count == 1 && boundaries[0] < second, "\(boundaries)")
        // Both decoders ended each utterance at the same step; the recorder's second utterance
        // starts where the first ended, numbered on.
        #expect(recorder.ended == [boundaries[0] + 1, steps.count])
        #expect(finals.map(\.0) == [0, 1, 0, 1])
        #expect(finals.map(\.1) == ["hi", "steps 1000-\(1_000 + boundaries[0])", "yo", "steps 1000-\(1_000 + steps.count - 1)"])
        // Words are timed in absolute steps: "yo" begins after the silence.
        #expect((finals[2].2.first?.firstStep ?? 0) >= 1_000 + second)
    }

    @Test("greedy decoding as a transcript decoder spells what GreedyCTCDecoder decodes, with absolute word steps")
    func greedyTranscriber() {
        let tokens = TokenSet.english
        let lp = posteriors(spell("one two"))
        var fanOut = DecoderFanOut([GreedyTranscriber(tokens: tokens)], firstStep: 7)
        var partials: [String] = [], final: Hypothesis?
        let v = tokens.count
        lp.withUnsafeBufferPointer { all in
            for s in 0..<(all.count / v) {
                fanOut.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * v)..<((s + 1) * v)]), endSample: 0) { output, _ in
                    if case let .partial(h) = output { partials.append(h.text) }
                }
            }
        }
        fanOut.endUtterance { output, _ in if case let .final(h) = output { final = h } }
        #expect(final?.text == tokens.decode(GreedyCTCDecoder.decode(lp, classes: v)))
        #expect(final?.text == "one two")
        #expect(final?.words.map(\.text) == ["one", "two"])
        #expect(final?.words.first?.firstStep == 8)              // 'o' at step 1 of the utterance, numbered from 7
        #expect(partials.last == "one two" && partials.count == "one two".count)
    }

    /// A grammar written here as a state machine, with no lexicon: "yes" or "no", nothing else.
    struct YesNo: GrammarRules {
        let tokens: TokenSet
        func extend(_ state: Int32, label: Int32, previous: Int32, space: Int32) -> (state: Int32, completes: Int32?)? {
            let c = tokens.tokens[Int(label)]
            switch (state, c) {
            case (0, "y"): return (1, nil)
            case (1, "e"): return (2, nil)
            case (2, "s"): return (3, nil)
            case (0, "n"): return (4, nil)
            case (4, "o"): return (5, nil)
            default: return nil
            }
        }
        func ending(_ state: Int32) -> GrammarEnding { state == 0 || state == 3 || state == 5 ? .complete : .forbidden }
        var words: [String] { [] }
        var phrases: [String] { [] }
        var everyPrefixEnds: Bool { false }
    }

    @Test("a grammar written in a test is a value the search is given: it follows its rules")
    func grammarPlugsIn() {
        let tokens = TokenSet.english
        func best(_ text: String) -> String {
            decode(CTCBeamSearch(tokens: tokens, grammar: Grammar(YesNo(tokens: tokens))), posteriors(spell(text))).text
        }
        #expect(best("yes") == "yes")
        #expect(best("no") == "no")
        #expect(best("ye") == "yes" || best("ye") == "", "an unfinished word is never the result: '\(best("ye"))'")
        #expect(["yes", "no", ""].contains(best("yak")))
    }
}
