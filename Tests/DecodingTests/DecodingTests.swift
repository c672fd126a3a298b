import Testing
@testable import Decoding

@Suite("Decoding")
struct DecodingTests {
    @Test("edit distance and error rates on known cases")
    func errorRates() {
        #expect(editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(editDistance(Array(""), Array("abc")) == 3)
        #expect(editDistance(Array("abc"), Array("")) == 3)
        #expect(editDistance(Array("same"), Array("same")) == 0)
        let w = ErrorCounts.words(reference: "three seven nine", hypothesis: "three eleven nine two")
        #expect(w == ErrorCounts(errors: 2, referenceLength: 3))        // one substitution, one insertion
        let c = ErrorCounts.characters(reference: "open", hypothesis: "opn")
        #expect(c.errors == 1 && c.rate == 0.25)
        #expect((w + c).referenceLength == 7)
        #expect(ErrorCounts.words(reference: "", hypothesis: "").rate == 0)
        #expect(ErrorCounts.words(reference: "", hypothesis: "x").rate == .infinity)
    }

    @Test("token set: text to labels and back; unspellable characters are named")
    func tokens() throws {
        let t = TokenSet.english
        #expect(t.count == 29 && t.blank == 0)
        let labels = try t.encode("  Don't   STOP ")
        #expect(t.decode(labels) == "don't stop")
        #expect { _ = try t.encode("café") } throws: { ($0 as? TokenError) == .cannotSpell(character: "é", text: "café", known: " 'abcdefghijklmnopqrstuvwxyz") && "\($0)".contains("'é'") }
        #expect { _ = try TokenSet(tokens: ["a", "b"]) } throws: { ($0 as? TokenError) == .noBlank }
        #expect { _ = try TokenSet(tokens: ["<blank>", "a", "a"]) } throws: { ($0 as? TokenError) == .duplicate("a") }
    }

    @Test("greedy CTC: best class per step, repeats merged, blanks dropped, tokens final with their step")
    func greedy() {
        // classes: 0 blank, 1 'a', 2 'b'; path a a _ a b b _ → "a a b"
        let path = [1, 1, 0, 1, 2, 2, 0]
        var lp: [Float] = []
        for k in path { lp += (0..<3).map { $0 == k ? -0.1 : -3 } }
        #expect(GreedyCTCDecoder.decode(lp, classes: 3) == [1, 1, 2])
        var d = GreedyCTCDecoder()
        var emitted: [GreedyCTCDecoder.Token] = []
        lp.withUnsafeBufferPointer { all in
            for s in 0..<path.count {
                if let t = d.accept(logProbs: UnsafeBufferPointer(rebasing: all[(s * 3)..<(s * 3 + 3)])) { emitted.append(t) }
                // Partial results only grow.
                #expect(Array(d.tokens.prefix(emitted.count)) == emitted)
            }
        }
        #expect(emitted.map(\.step) == [0, 3, 4])
        #expect(abs(emitted[0].probability - 0.904_837) < 1e-4)
    }
}
