import Cells
import Decoding
import Stream

/// Where each word of a known transcript ends in a recording, by the model's own forced
/// alignment: the recording goes through the same front end and network step as live audio, and
/// CTC's best alignment of the transcript (`CTCAlignment`) gives the step at which each word's last
/// character is emitted. A CTC network emits a word's last character about when its sound ends
/// (`StreamingRecognizer.onsetLag` describes the other end), so the end of that step's audio is the
/// word's end. `hark latency` uses it when a recording has no synthesis times, and to measure
/// every word of a dictation rather than whole phrases.
public enum WordAlignment {
    public struct WordEnd: Equatable, Sendable {
        public var text: String
        /// Seconds from the start of the recording.
        public var end: Double
        /// Which phrase of the transcript the word belongs to, and whether it ends it.
        public var phrase: Int
        public var endsPhrase: Bool
    }

    /// How far past the end of the recording a word's last character may be emitted (the
    /// network's emission delay after a tight cut, about 90 ms measured, plus a step).
    public static let lateness = 0.15

    /// Aligns `phrases` (in order) to `samples` (16 kHz, the model's rate). A transcript the model
    /// cannot spell, or one longer than the recording allows, is an error that says so.
    public static func wordEnds(samples: [Float], phrases: [String], model: RecognitionModel,
                                weights: StepWeights = .int8) throws -> [WordEnd] {
        let words = phrases.enumerated().flatMap { p, text in
            let w = TokenSet.normalize(text).split(separator: " ").map(String.init)
            return w.enumerated().map { (text: $1, phrase: p, last: $0 == w.count - 1) }
        }
        guard !words.isEmpty else { throw RecognizerError.alignment("the transcript has no words") }
        let space = model.tokens.space.map { [$0] } ?? []          // (encoding " " would normalize it away)
        var labels: [Int] = [], lastLabel: [Int] = []
        for (i, w) in words.enumerated() {
            if i > 0 { labels += space }
            labels += try model.tokens.encode(w.text)
            lastLabel.append(labels.count - 1)
        }

        // The live path's log-posteriors, with the recognizer's tail of silence so that the last
        // word's characters are emitted.
        let padded = samples + [Float](repeating: 0, count: Int(RecognizerConfig().tailPadding * Double(model.features.sampleRate)))
        let frames = model.frontEnd.frames(of: padded)
        let stream = NetworkStream(model.network, int8: weights == .int8 ? model.int8Weights : nil)
        let v = model.network.config.outputWidth
        var out = [Float](repeating: 0, count: v), logProbs: [Float] = []
        frames.values.withUnsafeBufferPointer { all in
            for f in 0..<frames.rows {
                let ready = out.withUnsafeMutableBufferPointer {
                    stream.accept(frame: UnsafeBufferPointer(rebasing: all[(f * frames.cols)..<((f + 1) * frames.cols)]), into: $0)
                }
                if ready { logProbs += out }
            }
        }
        guard let path = logProbs.withUnsafeBufferPointer({ CTCAlignment.align($0, classes: v, labels: labels) }) else {
            throw RecognizerError.alignment("the transcript (\(labels.count) characters) does not fit \(logProbs.count / v) network steps of audio")
        }
        let c = model.network.config, geometry = model.features.geometry, rate = Double(model.features.sampleRate)
        let recording = Double(samples.count) / rate
        return try words.enumerated().map { i, w in
            let step = path.steps[lastLabel[i]]
            let end = Double(geometry.endSample(ofFrame: step * c.stride + c.stack - 1)) / rate
            // The last characters may come a little after a recording cut tight; a word placed
            // well into the padding was not in the audio at all.
            guard end <= recording + lateness else {
                throw RecognizerError.alignment(String(format: "'%@' would end %.0f ms after the recording (%.2f s): the transcript does not fit it",
                                                       w.text, (end - recording) * 1000, recording))
            }
            return WordEnd(text: w.text, end: min(end, recording), phrase: w.phrase, endsPhrase: w.last)
        }
    }
}
