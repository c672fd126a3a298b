import CBenchSupport
import Cells
import Decoding
import Foundation
import Recognizer
import Stream

/// The whole recognizer with the shipped model, on one core: per-hop compute split into features,
/// network and decoder beside the matrix-vector limit of the same shapes; heap allocations per hop;
/// RSS while streaming an hour of audio; time from start to the first frame.
enum RecognizerBench {
    static func rssMB() -> Double {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = Double(statm.split(separator: " ")[1]) ?? 0
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    /// Bytes the process holds from malloc (in use, mmapped blocks included), in MB: what a leak
    /// grows, where RSS also counts memory malloc keeps free for reuse.
    static func heapInUseMB() -> Double {
        Double(hark_heap_in_use()) / 1_048_576
    }

    /// Speech for the run: the recording looped to `seconds`, with 1 s gaps (endpoints happen).
    static func audio(_ recording: String, seconds: Double) throws -> [Float] {
        let clip = try AudioFileSource(path: recording).readAll() + [Float](repeating: 0, count: 16_000)
        let n = Int(seconds * 16_000)
        return (0..<n).map { clip[$0 % clip.count] }
    }

    struct Mode { let name: String; let config: RecognizerConfig }

    /// Keyword spotting only, for the two keywords of the recording.
    static var spotting: RecognizerConfig {
        var spot = RecognizerConfig()
        spot.transcribe = false
        spot.keywords = [Keyword("okay robot"), Keyword("play music")]
        return spot
    }

    static func run(model path: String, recording: String, vocabulary: String) throws {
        Measure.pinToOneCore()
        let model = try RecognitionModel(path: path)
        let spot = spotting
        let dictation = RecognizerConfig()
        var open = RecognizerConfig()
        open.dictation = .spelling
        var words = RecognizerConfig()
        words.grammar = .words(try Grammar.readList(path: vocabulary, tokens: model.tokens))
        var spotFloat = spot
        spotFloat.weights = .float
        let modes = [Mode(name: "keyword spotting (2 keywords)", config: spot),
                     Mode(name: "keyword spotting, float step weights", config: spotFloat),
                     Mode(name: "dictation in words, 64 000-word vocabulary and trigram LM (the default; beam 16)", config: dictation),
                     Mode(name: "dictation, open spelling (beam 12)", config: open),
                     Mode(name: "dictation, digit word list (beam 12)", config: words)]
        let speech = try audio(recording, seconds: 600)

        // The matrix-vector limit of the model's shapes, per hop (a step covers `stride` hops).
        let c = model.network.config
        var roofline = Roofline(c, seed: 3)
        let roof = Measure.best(repeats: 5) { roofline.run(steps: 2_000) } / 2_000 / Double(c.stride)

        print("Model: \(path) (\(c.layers.count)×\(c.layers[0].hiddenSize) \(c.layers[0].kind.rawValue.uppercased()), "
              + "\(c.parameterCount) parameters); 600 s of speech (\(recording) looped, 1 s pauses), 10 ms blocks.")
        print()
        print("| mode | per 10 ms hop | features | network | decoders | real-time factor (one core) | heap allocations per hop |")
        print("|---|---|---|---|---|---|---|")
        for mode in modes {
            let r = try StreamingRecognizer(model: model, config: mode.config)
            var events = 0
            speech.withUnsafeBufferPointer { all in
                // Warm-up: the first 60 s (buffers reach their steady sizes).
                var i = 0
                while i < 960_000 { r.accept(samples: UnsafeBufferPointer(rebasing: all[i..<(i + 160)])) { _ in events += 1 }; i += 160 }
                let s0 = r.stats, a0 = Measure.allocations, t0 = Measure.now()
                while i + 160 <= all.count { r.accept(samples: UnsafeBufferPointer(rebasing: all[i..<(i + 160)])) { _ in events += 1 }; i += 160 }
                let elapsed = Measure.now() - t0, allocs = Measure.allocations - a0
                let s = r.stats, n = Double(all.count - 960_000) / 160
                func us(_ v: Double) -> String { fmt(v / n * 1e6, 2) + " µs" }
                print("| \(mode.name) | \(us(elapsed)) | \(us(s.featureSeconds - s0.featureSeconds)) | \(us(s.networkSeconds - s0.networkSeconds)) "
                      + "| \(us(s.decoderSeconds - s0.decoderSeconds)) | \(fmt(elapsed / (n / 100), 5)) | \(fmt(Double(allocs) / n, 3)) |")
            }
        }
        print("| float matrix-vector limit of the same shapes (C, -O3 -march=native) | \(fmt(roof * 1e6, 2)) µs | | | | \(fmt(roof * 100, 5)) | |")
        print()

        // Start-up: model file to the first network output, and ALSA open to the first frame.
        let s0 = Measure.now()
        let m = try RecognitionModel(path: path)
        let loaded = Measure.now()
        let core = try StreamingRecognizer(model: m, config: spot)
        var firstStep: Double?
        core.onStep = { _ in if firstStep == nil { firstStep = Measure.now() } }
        speech.withUnsafeBufferPointer { all in
            var i = 0
            while firstStep == nil { core.accept(samples: UnsafeBufferPointer(rebasing: all[i..<(i + 160)])) { _ in }; i += 160 }
        }
        let frames = c.stack, audioNeeded = Double((frames - 1) * m.features.hopLength + m.features.windowLength) / 16
        print("| start-up | value |")
        print("|---|---|")
        print("| load and check the model file | \(fmt((loaded - s0) * 1e3, 2)) ms |")
        print("| model loaded → first network output (compute; \(fmt(audioNeeded, 0)) ms of audio needed) | \(fmt((firstStep! - loaded) * 1e3, 2)) ms |")
    }

    /// The same keyword spotting, but fed as live capture feeds it: one 10 ms block per 10 ms of real
    /// time, the thread idle in between. Once sleeping (`clock_nanosleep` to an absolute deadline,
    /// as the capture thread's blocking read does), once spinning on the clock, and once spinning
    /// after writing 64 MB, so that the cost of the idle time itself (weights leaving the caches,
    /// the core dropping its clock) shows apart from the compute measured back to back above.
    static func paced(model: RecognitionModel, config: RecognizerConfig, speech: [Float], seconds: Double = 10) throws {
        print("Paced like live capture (\(fmt(seconds, 0)) s of keyword spotting per row, one 10 ms block per 10 ms of real time, one core):")
        print()
        print("The same core's caches between blocks (the anchor for the rows below):")
        print()
        cacheDecay()
        print("| step weights | between blocks | per 10 ms hop | features per block | network per step (30 ms) | decoders per step | p50 block | p99 block |")
        print("|---|---|---|---|---|---|---|---|")
        for weights in [StepWeights.int8, .float] {
            var c = config
            c.weights = weights
            try pacedRows(model: model, config: c, speech: speech, seconds: seconds)
        }
        print()
    }

    private static func pacedRows(model: RecognitionModel, config: RecognizerConfig, speech: [Float], seconds: Double) throws {
        let blocks = Int(seconds * 100)
        var times = [Double](repeating: 0, count: blocks)
        // 64 MB written between blocks pushes the weights out of every cache level: the cost of
        // a step that reads them from memory.
        let evictor = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 64 << 20)
        evictor.initialize(repeating: 0)
        defer { evictor.deallocate() }
        for idle in Idle.allCases {
            let r = try StreamingRecognizer(model: model, config: config)
            var steps = 0
            r.onStep = { _ in steps += 1 }
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            speech.withUnsafeBufferPointer { all in
                for b in 0..<blocks {
                    deadline.tv_nsec += 10_000_000
                    if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_nsec -= 1_000_000_000; deadline.tv_sec += 1 }
                    if idle == .evicting {
                        for i in stride(from: 0, to: evictor.count, by: 64) { evictor[i] &+= 1 }
                    }
                    if idle == .sleeping {
                        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
                    } else {
                        let end = Double(deadline.tv_sec) + Double(deadline.tv_nsec) * 1e-9
                        while Measure.now() < end {}
                    }
                    let t0 = Measure.now()
                    r.accept(samples: UnsafeBufferPointer(rebasing: all[(b * 160)..<(b * 160 + 160)])) { _ in }
                    times[b] = Measure.now() - t0
                }
            }
            let sorted = times.sorted(), total = times.reduce(0, +)
            let perStep = { (s: Double) in fmt(s / Double(max(steps, 1)) * 1e6, 1) }
            print("| \(config.weights.rawValue) | \(idle.rawValue) | \(fmt(total / Double(blocks) * 1e6, 2)) µs "
                  + "| \(fmt(r.stats.featureSeconds / Double(blocks) * 1e6, 1)) µs "
                  + "| \(perStep(r.stats.networkSeconds)) µs | \(perStep(r.stats.decoderSeconds)) µs | \(fmt(sorted[blocks / 2] * 1e6, 1)) µs "
                  + "| \(fmt(sorted[blocks * 99 / 100] * 1e6, 1)) µs |")
        }
    }

    /// The machine's side of the paced rows: how long reading a buffer takes when it was just
    /// read, and when this core has done nothing but spin on the clock (no system call, no other
    /// memory) for 1 or 10 ms since. On a machine whose caches are private, the spin costs
    /// nothing; where they are shared with other work (a virtual machine's host), what this core
    /// had cached is gone within milliseconds, and a live step pays for it however little it does.
    static func cacheDecay() {
        print("| read every cache line of | just read before | after 1 ms of spinning | after 10 ms of spinning |")
        print("|---|---|---|---|")
        for bytes in [16 << 10, 256 << 10, 1 << 20] {
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes)
            defer { buffer.deallocate() }
            buffer.initialize(repeating: 1)
            var cells: [String] = []
            var sink: UInt = 0
            for gap in [0.0, 1e-3, 1e-2] {
                let repeats = 200
                var total = 0.0
                for _ in 0..<repeats {
                    let end = Measure.now() + gap
                    while Measure.now() < end {}
                    let t0 = Measure.now()
                    for i in stride(from: 0, to: bytes, by: 64) { sink &+= UInt(buffer[i]) }
                    total += Measure.now() - t0
                }
                cells.append("\(fmt(total / Double(repeats) * 1e6, 2)) µs")
            }
            precondition(sink > 0)
            print("| \(bytes >> 10) KB | " + cells.joined(separator: " | ") + " |")
        }
        print()
    }

    enum Idle: String, CaseIterable {
        case sleeping = "sleeping (as live capture)"
        case spinning = "spinning (core kept busy)"
        case evicting = "spinning, 64 MB written first (caches evicted)"
    }

    /// ALSA open → first frame on a device (the file device here: no waiting for real time).
    static func firstFrame(device: String) throws {
        let t0 = Measure.now()
        var config = CaptureConfig(device: device)
        config.ringFull = .waitForReader
        let capture = try AlsaCapture(config)
        let opened = Measure.now()
        let stream = try LogMelSpectrogram().makeStream()
        var block = [Float](repeating: 0, count: 160)
        while stream.framesReady == 0 {           // the file device loses nothing (waitForReader): no gaps
            let n = try block.withUnsafeMutableBufferPointer { try capture.read(into: $0) }
            block.withUnsafeBufferPointer { stream.accept(samples: UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
        let first = Measure.now()
        capture.stop()
        print("| open ALSA device '\(device)' | \(fmt((opened - t0) * 1e3, 2)) ms |")
        print("| opened → first log-mel frame (25 ms of audio; file device, not paced) | \(fmt((first - opened) * 1e3, 2)) ms |")
    }

    /// An hour of audio through keyword spotting and dictation together, generated block by block
    /// from the recording (so the benchmark itself holds no large buffers): RSS every 5 minutes.
    static func hour(model: RecognitionModel, recording: String, keywords: [Keyword]) throws {
        var both = RecognizerConfig()
        both.keywords = keywords
        let r = try StreamingRecognizer(model: model, config: both)
        let clip = try AudioFileSource(path: recording).readAll() + [Float](repeating: 0, count: 16_000)
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: 160)
        defer { block.deallocate() }
        var samples: [(Double, Double)] = [(0, rssMB())]
        samples.reserveCapacity(13)
        var peak = rssMB(), position = 0
        let t0 = Measure.now()
        for k in 1...12 {
            for i in 0..<(300 * 100) {
                for j in 0..<160 { block[j] = clip[(position + j) % clip.count] }
                position += 160
                r.accept(samples: UnsafeBufferPointer(block)) { _ in }
                if i % 1000 == 0 { peak = max(peak, rssMB()) }
            }
            samples.append((Double(k) * 5, rssMB()))
        }
        let hourTime = Measure.now() - t0
        // Least-squares slope over minutes 5–60 (after the first buffers settle), in MB per hour.
        let slope = Measure.slope(Array(samples.dropFirst(1))) * 60
        print("| one hour of audio, spotting + dictation (a fresh process: model, recognizer, 1 s clip) | value |")
        print("|---|---|")
        print("| peak RSS (whole process) | \(fmt(peak, 1)) MB |")
        print("| RSS at 5, 30, 60 min | \(fmt(samples[1].1, 1)), \(fmt(samples[6].1, 1)), \(fmt(samples[12].1, 1)) MB |")
        print("| RSS slope, minutes 5–60 | \(fmt(slope, 3)) MB per hour |")
        print("| compute for the hour (one core) | \(fmt(hourTime, 1)) s (real-time factor \(fmt(hourTime / 3600, 5))) |")
        print("| utterances finalized / network resets | \(r.stats.utterances) / \(r.stats.resets) |")
        print()
    }
}
