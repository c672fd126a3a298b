import Cells
import Decoding
import Foundation
import Recognizer
import Stream

/// Issue 7's long run: `hours` of audio through the real pipeline (front end, network, keyword
/// spotter, beam search, endpointer) as fast as one core allows, with the keyword at known times.
/// The audio is built on the fly, so any length costs no memory: a keyword recording, other
/// speech, and stretches of noise and exact silence, in a seeded random order. Reports RSS and
/// its slope, whether the final timestamps are exact (64-bit sample counts), whether the network
/// state stayed finite, and keyword recall and false alarms per hour, first hour against last.
enum SoakBench {
    static func run(model path: String, keywordRecording: String, otherRecording: String, keyword: String, hours: Double) throws {
        Measure.pinToOneCore()
        let model = try RecognitionModel(path: path)
        var config = RecognizerConfig()
        config.keywords = [model.keyword(keyword)]
        let recognizer = try StreamingRecognizer(model: model, config: config)
        let hit = try AudioFileSource(path: keywordRecording).readAll()
        let other = try AudioFileSource(path: otherRecording).readAll()
        var rng = SeededGenerator(seed: 24)
        let total = Int64(hours * 3600 * 16_000)
        let hourSamples: Int64 = 3600 * 16_000

        struct Hour { var keywords = 0, detected = 0, falseAlarms = 0 }
        var perHour = [Hour](repeating: Hour(), count: Int(hours.rounded(.up)))
        var truth: [(start: Int64, end: Int64)] = []  // keyword occurrences not yet detected
        var fed: Int64 = 0
        var nextCheck: Int64 = 300 * 16_000
        var rss: [(Double, Double)] = [], heap: [(Double, Double)] = []
        var nonFinite = 0
        var lastEventEnd = 0.0
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: 160)
        defer { block.deallocate() }
        let started = Measure.now()

        func feed(_ samples: [Float], gain: Float) {
            var i = 0
            while i < samples.count && fed < total {
                let n = min(160, samples.count - i, Int(total - fed))
                for k in 0..<n { block[k] = samples[i + k] * gain }
                recognizer.accept(samples: UnsafeBufferPointer(rebasing: block[0..<n])) { event in
                    guard case let .keyword(k) = event else { return }
                    lastEventEnd = k.end
                    let end = Int64(k.end * 16_000)
                    let hour = min(perHour.count - 1, Int(end / hourSamples))
                    if let j = truth.firstIndex(where: { end >= $0.start && end <= $0.end + 8_000 }) {
                        truth.remove(at: j)
                        perHour[hour].detected += 1
                    } else {
                        perHour[hour].falseAlarms += 1
                    }
                }
                fed += Int64(n)
                i += n
                if fed >= nextCheck {                     // every 5 minutes of audio
                    nextCheck += 300 * 16_000
                    rss.append((Double(fed) / 16_000 / 3600, RecognizerBench.rssMB()))
                    heap.append((Double(fed) / 16_000 / 3600, RecognizerBench.heapInUseMB()))
                    if !recognizer.stateIsFinite { nonFinite += 1 }
                }
            }
        }
        let silence = [Float](repeating: 0, count: 16_000)
        while fed < total {
            switch rng.next() % 4 {
            case 0:                                   // the keyword, at a random level
                let start = fed
                guard start + Int64(hit.count) <= total else { feed(silence, gain: 1); continue }
                truth.removeAll { $0.end < start - 10 * 16_000 }     // long missed: keep the list short
                truth.append((start, start + Int64(hit.count)))       // registered first: the event comes during the feed
                perHour[min(perHour.count - 1, Int(start / hourSamples))].keywords += 1
                feed(hit, gain: Float(rng.uniform(0.5, 1.2)))
            case 1: feed(other, gain: Float(rng.uniform(0.5, 1.2)))
            case 2:                                   // noise, 1–4 s
                let n = 16_000 * Int(1 + rng.next() % 4)
                feed((0..<n).map { _ in Float(rng.uniform(-0.02, 0.02)) }, gain: 1)
            default: feed(Array(silence.prefix(Int(8_000 + rng.next() % 24_000))), gain: 1)
            }
        }
        let elapsed = Measure.now() - started
        recognizer.finish { _ in }
        let exact = recognizer.stats.audioSeconds * 16_000
        let tail = rss.filter { $0.0 >= 1 }
        let slope = tail.count > 2 ? Measure.slope(tail) : 0
        print("| soak: \(fmt(hours, 1)) h of audio, keyword '\(keyword)' | value |")
        print("|---|---|")
        print("| compute (one core) | \(fmt(elapsed, 1)) s, real-time factor \(fmt(elapsed / (hours * 3600), 5)) |")
        print("| samples fed / counted by the recognizer | \(fed) / \(Int64(exact.rounded())) |")
        print("| last keyword event ends at | \(fmt(lastEventEnd, 3)) s of \(fmt(Double(fed) / 16_000, 3)) s |")
        print("| RSS after 1 h, at the end | \(fmt(tail.first?.1 ?? 0, 1)) MB, \(fmt(rss.last?.1 ?? 0, 1)) MB |")
        print("| RSS slope after the first hour | \(fmt(slope, 3)) MB per hour |")
        // The shape of the growth: a leak rises evenly, buffers that keep their largest size level off.
        let marks = [1.0, 2, 4, 8, 16, 24, 48].filter { $0 <= hours }
        func at(_ series: [(Double, Double)]) -> String {
            marks.compactMap { h in series.first { $0.0 >= h - 1e-9 }.map { fmt($0.1, 2) } }.joined(separator: ", ")
        }
        let heapTail = heap.filter { $0.0 >= 1 }
        print("| RSS at \(marks.map { fmt($0, 0) }.joined(separator: ", ")) h | \(at(rss)) MB |")
        print("| heap in use (malloc) at the same hours; its slope after the first hour | \(at(heap)) MB; "
              + "\(fmt(heapTail.count > 2 ? Measure.slope(heapTail) : 0, 4)) MB per hour |")
        print("| network state checks with NaN/Inf | \(nonFinite) of \(rss.count) |")
        for (h, label) in [(0, "first"), (perHour.count - 1, "last")] {
            let r = perHour[h]
            print("| \(label) hour: keyword recall, false alarms | \(r.detected)/\(r.keywords) = \(fmt(100 * Double(r.detected) / Double(max(r.keywords, 1)), 1))%, \(r.falseAlarms) |")
        }
        print("| utterances / resets | \(recognizer.stats.utterances) / \(recognizer.stats.resets) |")
    }
}
