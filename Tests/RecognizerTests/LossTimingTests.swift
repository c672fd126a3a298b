import Dispatch
import Foundation
import Glibc
import Testing
import TestSupport
@testable import Recognizer
@testable import Stream
import Decoding

/// Samples carry their clock: audio a source lost keeps its place in stream time, so words on both
/// sides of a loss keep their true times (issue 18).
@Suite("Recognizer and lost audio", .serialized)
struct LossTimingTests {
    static let model = RecognizerTests.model
    static let digits = RecognizerTests.digits

    /// The digits fixture through the recognizer with nothing lost: each word's time as the
    /// recognizer reports it on intact audio (the reference for the runs that lose some).
    static func lossless() throws -> [Word] {
        let r = try StreamingRecognizer(model: model, config: RecognizerTests.config())
        var words: [Word] = []
        r.accept(samples: digits) { if case let .final(t) = $0 { words += t.words } }
        r.finish { if case let .final(t) = $0 { words += t.words } }
        return words
    }

    /// Every word of `got` is a word of `reference` with the same text at the same place, ±30 ms.
    static func expectTrueTimes(_ got: [Word], _ reference: [Word], sourceLocation: SourceLocation = #_sourceLocation) {
        for w in got {
            let same = reference.first { $0.text == w.text && abs($0.end - w.end) < 0.5 }
            guard let same else {
                Issue.record("'\(w.text)' at \(w.start)–\(w.end) is not in the intact run: \(reference)", sourceLocation: sourceLocation)
                continue
            }
            #expect(abs(same.start - w.start) <= 0.03 && abs(same.end - w.end) <= 0.03,
                    "'\(w.text)': \(w.start)–\(w.end), intact \(same.start)–\(same.end)", sourceLocation: sourceLocation)
        }
    }

    @Test("a gap between blocks: the utterance before it ends, .audioLost says where, later words keep their true times", .tags(.shippedModelTranscript))
    func gapBetweenBlocks() throws {
        let reference = try Self.lossless()
        let r = try StreamingRecognizer(model: Self.model, config: RecognizerTests.config())
        var events: [RecognitionEvent] = []
        let cut = 32_000, resume = 41_600                         // 2.0 s to 2.6 s is lost
        try Self.digits.withUnsafeBufferPointer { all in
            for (from, to) in [(0, cut), (resume, all.count)] {
                var i = from
                while i < to {
                    let n = min(1_600, to - i)
                    try r.accept(AudioBlock(samples: UnsafeBufferPointer(rebasing: all[i..<(i + n)]), start: Int64(i), sampleRate: 16_000)) { events.append($0) }
                    i += n
                }
            }
        }
        r.finish { events.append($0) }
        let losses = events.compactMap { if case let .audioLost(l) = $0 { l } else { nil } }
        #expect(losses == [AudioLoss(start: 2.0, samples: Int64(resume - cut), sampleRate: 16_000)])
        let finals = events.compactMap { if case let .final(t) = $0 { t } else { nil } }
        #expect(closeTranscripts(finals.map(\.text), ["four two seven one", "nine zero three"]), "\(finals.map(\.text))")
        Self.expectTrueTimes(finals.flatMap(\.words), reference)
        #expect(r.stats.samplesLost == Int64(resume - cut) && r.stats.gaps == 1)
    }

    @Test("a block at another rate than the model's, or one that goes back in time, is refused with a named error")
    func refusedBlocks() throws {
        let r = try StreamingRecognizer(model: Self.model, config: RecognizerTests.config())
        let samples = [Float](repeating: 0, count: 800)
        try samples.withUnsafeBufferPointer { b in
            #expect(throws: StreamError.sampleRate(source: 8_000, model: 16_000)) {
                try r.accept(AudioBlock(samples: b, start: 0, sampleRate: 8_000)) { _ in }
            }
            try r.accept(AudioBlock(samples: b, start: 0, sampleRate: 16_000)) { _ in }
            #expect(throws: StreamError.overlap(start: 400, expected: 800)) {
                try r.accept(AudioBlock(samples: b, start: 400, sampleRate: 16_000)) { _ in }
            }
        }
        #expect("\(StreamError.sampleRate(source: 8_000, model: 16_000))".contains("8000 Hz"))
        // Where a source meets a recognizer: a source at another rate is refused before it is read.
        let recognizer = try Recognizer(model: Self.model, config: RecognizerTests.config())
        let slow = SyntheticSource(.silence, seconds: 1, sampleRate: 8_000)
        #expect(throws: StreamError.sampleRate(source: 8_000, model: 16_000)) { try recognizer.start(source: slow, handler: { _ in }) }
    }

    @Test("a ring overflow in the middle of an utterance on the ALSA file device: earlier and later words at their true times (±30 ms)", .tags(.shippedModelTranscript))
    func ringOverflowOnFileDevice() throws {
        let reference = try Self.lossless()
        let folder = testFolder("hark-loss-timing")
        let conf = folder.appendingPathComponent("vmic.conf")
        // The same devices as StreamTests' (ALSA's configuration is process-wide and the suites
        // run in one process): the file device, and the JACK one those tests use.
        try """
        pcm.vmicfile { @args [ IN ] @args.IN { type string } type file slave.pcm "null" file "/dev/null" infile $IN }
        pcm.jackmic { type jack capture_ports { 0 system:capture_1 } }
        """.write(to: conf, atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf:\(conf.path)", 1)
        let raw = folder.appendingPathComponent("digits.raw")
        var bytes = Data(capacity: Self.digits.count * 2)
        for s in Self.digits {
            let v = Int16((s * 32_768).rounded().clamped(-32_768, 32_767))
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        }
        try bytes.write(to: raw)

        // The file device delivers as fast as it is read. Pace it: after each read the capture
        // thread waits until the recognizer has taken everything, except between 2.0 and 2.6 s,
        // where it races ahead while the recognizer is held: the ring (0.1 s) fills and the rest
        // of that stretch is dropped, the way a slow consumer loses audio on a real device.
        let gapFrom = 32_000, gapTo = 41_600
        final class Pacing: @unchecked Sendable {
            var capture: AlsaCapture?
            let released = DispatchSemaphore(value: 0)
            var didRelease = false
        }
        let pacing = Pacing()
        var config = CaptureConfig(device: "vmicfile:IN=\(raw.path)")
        config.maxSamples = Int64(Self.digits.count)
        config.ringSeconds = 0.1
        config.periodObserver = { position, _ in
            if position >= gapFrom && position < gapTo { return }
            if position >= gapTo && !pacing.didRelease { pacing.didRelease = true; pacing.released.signal() }
            while pacing.capture == nil { usleep(100) }
            while pacing.capture!.ring.available > 0 { usleep(100) }
        }
        let capture = try AlsaCapture(config)
        pacing.capture = capture
        let r = try StreamingRecognizer(model: Self.model, config: RecognizerTests.config())
        var events: [RecognitionEvent] = []
        var held = false
        let error = try capture.forEachBlock(size: 1_600) { block in
            try r.accept(block) { events.append($0) }
            if block.end >= Int64(gapFrom) && !held {              // hold the reader while the device runs ahead
                held = true
                pacing.released.wait()
            }
        }
        #expect(error == nil)
        r.finish { events.append($0) }
        let losses = capture.losses
        #expect(losses.samplesDroppedInRing > 2_000, "the overflow dropped much of the 0.6 s: \(losses)")
        // Every dropped sample is in a reported gap, and every gap lies in the stretch where the
        // reader was held (how the drops split into gaps depends on thread timing).
        let gaps = events.compactMap { if case let .audioLost(l) = $0 { l } else { nil } }
        #expect(!gaps.isEmpty && gaps.reduce(0) { $0 + $1.samples } == losses.samplesDroppedInRing, "\(gaps) \(losses)")
        for gap in gaps { #expect(gap.start >= 2.0 && gap.start + gap.seconds <= 2.7, "\(gap)") }
        let finals = events.compactMap { if case let .final(t) = $0 { t } else { nil } }
        let words = finals.flatMap(\.words)
        #expect(words.contains { $0.text == "one" } && words.contains { $0.text == "three" }, "words on both sides of the gap: \(finals.map(\.text))")
        Self.expectTrueTimes(words, reference)
    }
}

private extension Float {
    func clamped(_ lo: Float, _ hi: Float) -> Float { Swift.min(Swift.max(self, lo), hi) }
}

/// A transcript decoder written in a test plugs into the recognizer through its configuration,
/// with no edit to the recognizer, the search or the other decoders (issue 18, 1).
@Suite("A decoder plugged in")
struct PluggedDecoderTests {
    /// Greedy decoding in a few lines, knowing only `StepDecoder`: the best label at each step,
    /// runs merged, blanks dropped; the utterance's text when it ends.
    struct Argmax: StepDecoder {
        let tokens: TokenSet
        var labels: [Int] = [], steps: [Int] = [], previous = 0
        mutating func accept(_ step: DecoderStep, emit: (DecoderOutput) -> Void) {
            var best = 0
            for k in step.logProbs.indices where step.logProbs[k] > step.logProbs[best] { best = k }
            if best != 0 && best != previous { labels.append(best); steps.append(step.index) }
            previous = best
        }
        mutating func endUtterance(emit: (DecoderOutput) -> Void) {
            let text = tokens.decode(labels).trimmingCharacters(in: .whitespaces)
            let words = text.isEmpty ? [] : [DecodedWord(text: text, firstStep: steps.first!, lastStep: steps.last!, confidence: 1)]
            emit(.final(Hypothesis(text: text, words: words, stableCharacters: text.count, score: 0)))
            reset()
        }
        mutating func reset() { labels = []; steps = []; previous = 0 }
    }

    static func finals(_ transcriber: @escaping @Sendable (RecognitionModel) -> any StepDecoder) throws -> [Transcript] {
        var config = RecognizerConfig()
        config.transcriber = transcriber
        let r = try StreamingRecognizer(model: RecognizerTests.model, config: config)
        var finals: [Transcript] = []
        r.accept(samples: RecognizerTests.digits) { if case let .final(t) = $0 { finals.append(t) } }
        r.finish { if case let .final(t) = $0 { finals.append(t) } }
        return finals
    }

    @Test("a greedy decoder written in the test gives the library's greedy text, ended at the same endpoints, timed in stream seconds", .tags(.shippedModelTranscript))
    func argmaxPlugsIn() throws {
        let mine = try Self.finals { Argmax(tokens: $0.tokens) }
        let library = try Self.finals { GreedyTranscriber(tokens: $0.tokens) }
        #expect(mine.count == 2, "the endpointer ends the two phrases: \(mine.map(\.text))")
        #expect(mine.map(\.text) == library.map(\.text))
        let truth = [(0.5, 1.733), (3.233, 4.319)]                    // digits.times
        for (t, (start, end)) in zip(mine, truth) {
            #expect(abs(t.start - start) < 0.25 && abs(t.end - end) < 0.25, "'\(t.text)': \(t.start)–\(t.end)")
        }
    }
}
