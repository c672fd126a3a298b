import Decoding
import HarkSupport
import Foundation
import Recognizer
import Stream

/// The dictation word search alone (issue 19), with the full shipped vocabulary and language model:
/// per-step cost on one core, average and 99th percentile, per 10 ms hop, and heap allocations,
/// split between steps that report nothing and steps that report a changed partial or a final
/// (those build the result's text). Goal: ≤ 50 µs per hop on average, p99 ≤ 500 µs, no allocations
/// in the steady state. The network's posteriors are recorded once from the recordings given (run
/// through the live recognizer, endpoints included) and replayed into the search.
enum WordSearchBench {
    /// A transcript decoder that only keeps what it is fed: each step's posteriors, and where the
    /// utterances end.
    final class Recorder: StepDecoder {
        var rows: [[Float]] = []
        var ends: Set<Int> = []
        func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void) { rows.append(Array(step.logProbs)) }
        func endUtterance(emit: (DecoderOutput) -> Void) { ends.insert(rows.count) }
        func reset() { ends.insert(rows.count) }
    }

    static func run(model path: String, vocabulary: String, languageModel: String, recordings: [String], repeats: Int = 5) throws {
        let model = try RecognitionModel(path: path)
        let recorder = Recorder()
        var config = RecognizerConfig()
        let box = UncheckedSendable(recorder)
        config.transcriber = { _ in box.value }
        var seconds = 0.0
        for file in recordings {
            let stream = try model.makeStream(config)
            let samples = try AudioFileSource(path: file).readAll()
            seconds += Double(samples.count) / 16_000
            samples.withUnsafeBufferPointer { stream.accept(samples: $0) { _ in } }
            stream.finish { _ in }
        }
        let dictation = try Dictation(vocabulary: vocabulary, languageModel: languageModel, tokens: model.tokens)
        let search = WordSearch(resources: dictation.resources)
        let hopsPerStep = Double(model.network.config.stride)
        Measure.pinToOneCore()
        var times: [Double] = [], quietAllocations: UInt64 = 0, quietSteps = 0, reportingAllocations: UInt64 = 0, reportingSteps = 0
        for r in 0..<repeats {
            for (i, row) in recorder.rows.enumerated() {
                if recorder.ends.contains(i) { search.endUtterance { _ in } }
                var reported = false
                let a0 = Measure.allocations, t0 = Measure.threadCPU
                row.withUnsafeBufferPointer { lp in
                    search.accept(DecoderStep(index: i, endSample: 0, logProbs: lp)) { _ in reported = true }
                }
                let t1 = Measure.threadCPU, a1 = Measure.allocations
                guard r > 0 else { continue }                   // the first pass grows the buffers
                times.append(t1 - t0)
                if reported { reportingAllocations += a1 - a0; reportingSteps += 1 } else { quietAllocations += a1 - a0; quietSteps += 1 }
            }
            search.endUtterance { _ in }
        }
        let sorted = times.sorted()
        func us(_ x: Double) -> String { String(format: "%.1f µs", x * 1e6) }
        let mean = times.reduce(0, +) / Double(times.count)
        let p99 = sorted[Int(Double(sorted.count - 1) * 0.99)], maximum = sorted.last!
        print("| measure | value |")
        print("|---|---|")
        print("| audio | \(recordings.count) recordings, \(String(format: "%.1f", seconds)) s, \(recorder.rows.count) network steps of \(Int(hopsPerStep * 10)) ms |")
        print("| vocabulary, language model | \(dictation.wordCount) words (prefix tree of \(dictation.resources.tree.nodeCount) nodes), \(languageModel) |")
        print("| search | beam \(search.config.beamWidth), threshold \(search.config.beamThreshold), letter floor \(search.config.labelFloor) |")
        print("| per step, mean / p99 / max (CPU time, one core; \(repeats - 1) replays) | \(us(mean)) / \(us(p99)) / \(us(maximum)) |")
        print("| **per 10 ms hop, mean / p99** | **\(us(mean / hopsPerStep)) / \(us(p99 / hopsPerStep))** |")
        print("| heap allocations per step that reports nothing (\(quietSteps) steps) | \(String(format: "%.3f", Double(quietAllocations) / Double(max(quietSteps, 1)))) |")
        print("| heap allocations per step that reports a partial or final (\(reportingSteps) steps: building its text) | \(String(format: "%.1f", Double(reportingAllocations) / Double(max(reportingSteps, 1)))) |")
    }
}

