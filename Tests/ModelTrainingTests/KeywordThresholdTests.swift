import Testing
import Decoding
@testable import ModelTraining

@Suite("Keyword threshold and scoring")
struct KeywordThresholdTests {
    typealias Measured = KeywordThreshold.Measured

    @Test("the threshold sits halfway between the highest other peak and the 10th percentile of the keyword's")
    func threshold() {
        let positive: [Float] = [0.9, 0.8, 0.7, 0.65, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.3]    // 10th percentile 0.6
        #expect(abs(KeywordThreshold.choose(positive: positive, negative: [0.1, 0.2]) - 0.4) < 1e-6)
        // Overlapping sides: just above the highest other peak; clamped at both ends.
        #expect(abs(KeywordThreshold.choose(positive: [0.3], negative: [0.5]) - 0.51) < 1e-6)
        #expect(KeywordThreshold.choose(positive: [0.1], negative: [0.02]) == 0.15)
        #expect(KeywordThreshold.choose(positive: [1], negative: [0.99]) == 0.95)
    }

    @Test("for enrolled takes the threshold is the geometric midpoint: the same ratio to both sides")
    func geometric() {
        // 0.8 and 0.05: 0.2, four times each side (the arithmetic midpoint, 0.425, sits near the takes).
        #expect(abs(KeywordThreshold.choose(positive: [0.8], negative: [0.05], midpoint: .geometric) - 0.2) < 1e-6)
        #expect(abs(KeywordThreshold.choose(positive: [0.8], negative: [0.05]) - 0.425) < 1e-6)
        // Overlap and clamping as for a dev set; no negatives at all clamps to the floor.
        #expect(abs(KeywordThreshold.choose(positive: [0.3], negative: [0.5], midpoint: .geometric) - 0.51) < 1e-6)
        #expect(KeywordThreshold.choose(positive: [0.9], negative: [], midpoint: .geometric) == 0.15)
        #expect(KeywordThreshold.choose(positive: [1], negative: [0.99], midpoint: .geometric) == 0.95)
    }

    @Test("the scoring kept is the one whose sides lie furthest apart, in log, that needs no clamping")
    func scoring() {
        // Peaks measured on dev (MODEL.md): the model trained for "okay robot" separates wider by
        // posterior (0.329 / 0.119) than by ratio (0.637 / 0.282) …
        let trained = [Measured(scoring: .posterior, positive: [0.329, 0.5], negative: [0.119, 0.05]),
                       Measured(scoring: .ratio, positive: [0.637, 0.9], negative: [0.282, 0.1])]
        #expect(KeywordThreshold.pick(trained).scoring == .posterior)
        // … the shipped model, which never heard it, by ratio (0.305 / 0.171 against 0.067 / 0.053).
        let shipped = [Measured(scoring: .posterior, positive: [0.067], negative: [0.053]),
                       Measured(scoring: .ratio, positive: [0.305], negative: [0.171])]
        #expect(KeywordThreshold.pick(shipped).scoring == .ratio)
        // A wider margin whose threshold would be clamped (midpoint under 0.15) is not usable.
        let low = [Measured(scoring: .posterior, positive: [0.2], negative: [0.01]),
                   Measured(scoring: .ratio, positive: [0.5], negative: [0.3])]
        #expect(KeywordThreshold.pick(low).scoring == .ratio)
        // Neither separates: ratio, as before scorings were compared.
        let none = [Measured(scoring: .posterior, positive: [0.2], negative: [0.4]),
                    Measured(scoring: .ratio, positive: [0.3], negative: [0.5])]
        #expect(KeywordThreshold.pick(none).scoring == .ratio)
    }
}
