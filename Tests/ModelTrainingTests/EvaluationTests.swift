import Testing
@testable import ModelTraining

@Suite("Evaluation metrics")
struct EvaluationTests {
    static func entry(_ text: String) -> ManifestEntry { ManifestEntry(audio: "a.wav", text: text, category: "c", origin: "m:1") }

    @Test("recall at a false-alarm rate: the lowest 0.01-grid threshold within the rate, and the recall there")
    func recallAtFalseAlarms() {
        // Two utterances with the keyword (peaks 0.9 and 0.35), three without (0.5, 0.2, 0.1), an
        // hour each: half a false alarm per hour allows one over the three hours without it.
        let entries = ["okay robot go", "well okay robot", "robot okay", "hello", "they okay robots"].map(Self.entry)
        let peaks: [Float] = [0.9, 0.35, 0.5, 0.2, 0.1]
        let hour = [Double](repeating: 3_600, count: 5)
        let r = Evaluation.recall(atFalseAlarms: 0.5, peaks: peaks, entries: entries, seconds: hour, keyword: "okay robot")
        #expect(r.hours == 3)
        #expect(abs(r.threshold - 0.21) < 1e-6 && r.falseAlarms == 1, "\(r)")
        #expect(r.recall == 1)
        // No false alarm allowed: above every other peak (0.5), where the 0.35 utterance is missed.
        let strict = Evaluation.recall(atFalseAlarms: 0, peaks: peaks, entries: entries, seconds: hour, keyword: "okay robot")
        #expect(abs(strict.threshold - 0.51) < 1e-6 && strict.falseAlarms == 0 && strict.recall == 0.5, "\(strict)")
        // Nothing without the keyword: no hours to count alarms in.
        let none = Evaluation.recall(atFalseAlarms: 1, peaks: [0.9], entries: [Self.entry("okay robot")], seconds: [10], keyword: "okay robot")
        #expect(none.recall == 0 && none.threshold == 1 && none.hours == 0)
    }

    @Test("whole-word containment counts each occurrence once")
    func containment() {
        #expect(Evaluation.contains("well hey hark go", keyword: "hey hark") == 1)
        #expect(Evaluation.contains("they harken", keyword: "hey hark") == 0)
        #expect(Evaluation.contains("Hey Hark hey hark", keyword: "hey hark") == 2)
    }
}
