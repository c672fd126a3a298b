import ArgumentParser
import Decoding
import Foundation
import Glibc
import Histogram
import Recognizer
import Stream

struct LatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "Measure sound-in → keyword-out (or word-shown) latency through a real-time capture device.",
        discussion: """
        Plays a recording with known phrases into PulseAudio's module-pipe-source (writing 10 ms \
        blocks at absolute CLOCK_MONOTONIC deadlines) while Hark captures the same audio from ALSA \
        device --device and spots each phrase as a keyword (--measure keywords), or transcribes it \
        and times every word (--measure words: when the word first shows, with its text, in a \
        partial or final transcript; --words/--phrases/--lm constrain the dictation as in listen). \
        For each: latency = time it came out − time its last sample was written into the device, \
        with percentiles from an HDR histogram and a breakdown:
          audio after the word  how much audio past the end the model needed (framing,
                                stacking, and the network's own emission delay)
          capture               device → capture thread (period, PulseAudio transport)
          processing            capture thread → output (ring, features, network,
                                decoder)
        Phrase ends come from the synthesis (the recording's .times file). Word ends, and phrase \
        ends with --align or for a recording given only as --text, come from the model's own \
        forced alignment of the recording; the report says which, and how far the alignment is \
        from the synthesis where both are known. scripts/latency starts the virtual device and \
        runs this command. With --play-device the recording is played on a real output instead \
        (the time a sample sounds is estimated from snd_pcm_delay); played and captured samples \
        are then not aligned, so outputs are matched by time and only the total latency and \
        per-step compute are reported.
        """)

    @Option(name: .long, help: ArgumentHelp("FIFO of PulseAudio's module-pipe-source (default: $HARK_PULSE_PIPE).", valueName: "path"))
    var pipe: String?

    @Option(name: .long, help: "ALSA capture device that delivers what is written to --pipe (or what --play-device plays).")
    var device: String = "pulse"

    @Option(name: .long, help: ArgumentHelp("Play through this ALSA playback device instead of writing to a pipe: a real speaker → microphone or cable loopback into --device.",
                                            valueName: "device"))
    var playDevice: String?

    @Option(name: .long, help: ArgumentHelp("Recording to play (16 kHz).", valueName: "wav"))
    var recording: String?

    @Option(name: .long, help: ArgumentHelp("Phrase times: 'text<TAB>start<TAB>end' lines, seconds (default: the recording with .times).",
                                            valueName: "file"))
    var times: String?

    @Option(name: .long, help: ArgumentHelp("The recording's transcript, phrases separated by '|', for a recording without times (its ends then come from the forced alignment).",
                                            valueName: "text"))
    var text: String?

    @Option(name: .long, help: "What to time: keywords (each phrase spotted as a keyword) or words (each word of the dictation, when it first shows in the partial text).")
    var measure: Measure = .keywords

    @Flag(name: .long, help: "Take phrase ends from the model's forced alignment of the recording instead of the synthesis times (--measure words always aligns: the synthesis gives phrase ends only).")
    var align = false

    @Option(name: .long, parsing: .unconditional, help: "How many times to play the recording (1 to 10000).")
    var repeats: Int = 20

    @Option(name: .long, parsing: .unconditional, help: "Keyword threshold (default: the one tuned for each phrase in the model, else 0.22).")
    var threshold: Float?

    @OptionGroup var model: ModelOptions

    /// The dictation's decoder (--measure words): word or phrase list, language model, beam.
    @OptionGroup var decoder: DecoderOptions

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        try OptionRange.check("--repeats", repeats, 1, 10_000)
        if let threshold, !(threshold > 0 && threshold <= 1) { throw ValidationError("--threshold must be in (0, 1]") }
        if measure == .keywords, decoder.words != nil || decoder.phrases != nil || decoder.lm != nil {
            throw ValidationError("--words, --phrases and --lm shape the dictation of --measure words; keywords are spotted without them")
        }
    }

    enum Measure: String, ExpressibleByArgument, CaseIterable { case keywords, words }

    /// One phrase of the recording; its end (seconds) is known when the synthesis gave it.
    struct Phrase { var text: String; var end: Double? }

    static func readTimes(_ path: String) throws -> [Phrase] {
        let lines = try wrap("--times") { try TextFile.lines(path: path, tabs: true) }
        var out: [Phrase] = []
        for line in lines where !line.text.trimmingCharacters(in: .whitespaces).isEmpty {
            let f = line.text.split(separator: "\t")
            guard f.count == 3, let s = Double(f[1]), let e = Double(f[2]), s.isFinite, e.isFinite, e > s else {
                throw InputError("--times \(path):\(line.number): expected 'text<TAB>start<TAB>end'")
            }
            out.append(Phrase(text: String(f[0]), end: e))        // the start only checks the line
        }
        guard !out.isEmpty else { throw InputError("--times \(path): no phrases") }
        return out
    }

    func run() throws {
        let model = try model.load()
        let recordingPath = try recording ?? Self.defaultRecording()
        let timesPath = times ?? (recordingPath as NSString).deletingPathExtension + ".times"
        let phrases: [Phrase]
        if let text {
            phrases = text.split(separator: "|").map { Phrase(text: String($0), end: nil) }.filter { !TokenSet.normalize($0.text).isEmpty }
            guard !phrases.isEmpty else { throw ValidationError("--text '\(text)' has no words") }
        } else {
            phrases = try Self.readTimes(timesPath)
        }
        let pipePath = pipe ?? ProcessInfo.processInfo.environment["HARK_PULSE_PIPE"]
        guard pipePath != nil || playDevice != nil else {
            throw ValidationError("--pipe: give the FIFO of PulseAudio's module-pipe-source (or run scripts/latency, which sets one up), or --play-device")
        }
        let loopback = playDevice != nil
        let clip = try AudioFileSource(path: recordingPath).readAll()
        let rate = 16_000, period = 160
        let lead = rate / 2, gap = rate / 2
        // What is timed, and where in the recording each item ends: a phrase's end from the
        // synthesis, or a word's or phrase's end from the model's forced alignment.
        let aligned = align || measure == .words || phrases.contains { $0.end == nil }
        var ends: [(text: String, end: Double)] = phrases.map { (TokenSet.normalize($0.text), $0.end ?? 0) }
        var agreement: (mean: Double, largest: Double)?
        if aligned {
            let words: [WordAlignment.WordEnd]
            do { words = try WordAlignment.wordEnds(samples: clip, phrases: phrases.map(\.text), model: model, weights: self.model.weights) }
            catch {
                // The transcript is at fault when the model cannot spell it; the pairing otherwise.
                let source = text != nil ? "--text" : "--times \(timesPath)"
                throw InputError("\(error is TokenError ? source : "--recording \(recordingPath)"): \(error)")
            }
            let phraseEnds = words.filter(\.endsPhrase)
            let known = zip(phraseEnds, phrases).compactMap { a, p in p.end.map { a.end - $0 } }
            if !known.isEmpty {
                agreement = (known.reduce(0, +) / Double(known.count), known.map(abs).max()!)
            }
            ends = measure == .words ? words.map { ($0.text, $0.end) }
                                     : phraseEnds.map { (TokenSet.normalize(phrases[$0.phrase].text), $0.end) }
        }

        // The played signal: lead silence, then the recording `repeats` times with gaps.
        var played = [Int16](repeating: 0, count: lead)
        var truth: [(text: String, endSample: Int64)] = []
        for _ in 0..<repeats {
            let base = played.count
            played += clip.map { Int16(($0 * 32_767).rounded().clamped(to: -32_768...32_767)) }
            played += [Int16](repeating: 0, count: gap)
            for e in ends { truth.append((e.text, Int64(base) + Int64((e.end * Double(rate)).rounded()))) }
        }
        played += [Int16](repeating: 0, count: rate)            // a second of silence to flush the last phrase
        let chunks = (played.count + period - 1) / period

        // Keyword spotter, or dictation, over the captured audio.
        var config = self.model.recognizerConfig()
        if measure == .keywords {
            config.transcribe = false
            config.keywords = Set(truth.map(\.text)).sorted().map { model.keyword($0, threshold: threshold) }
        } else {
            try decoder.apply(to: &config, tokens: model.tokens)
        }
        let recognizer = try model.makeStream(config)
        var network = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var decoder = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var features = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        recognizer.onStep = { t in
            network.record(UInt64(max(0, t.network * 1e9)))
            decoder.record(UInt64(max(0, t.decoder * 1e9)))
        }

        // Capture-side timestamps: (samples captured, time) per period, written by the capture thread
        // into preallocated memory.
        let captureLog = TimeLog(capacity: chunks + 1000)
        var capture = CaptureConfig(device: device)
        capture.periodSize = period
        capture.maxSamples = Int64(played.count)
        capture.periodObserver = { position, time in captureLog.append(Int64(position), time) }
        let source: AlsaCapture
        do { source = try AlsaCapture(capture) } catch {
            throw InputError("--device \(device): \(error)")
        }
        let signals = StopSignals(stopping: source)
        defer { _ = signals }

        // The player: 10 ms blocks at absolute deadlines; the time each block was written is when
        // its samples entered the device.
        var fd: Int32 = -1
        var speaker: AlsaPlayback?
        if let playDevice {
            do { speaker = try AlsaPlayback(device: playDevice) } catch { throw InputError("--play-device \(playDevice): \(error)") }
        } else if let pipePath {
            fd = open(pipePath, O_WRONLY)
            guard fd >= 0 else { throw InputError("--pipe \(pipePath): \(String(cString: strerror(errno)))") }
        }
        let output = UncheckedSendable(speaker)
        let pipeFD = fd
        let playLog = TimeLog(capacity: chunks)
        let audio = UncheckedSendable(played)
        let playerDone = DispatchSemaphore(value: 0)
        let stopper = UncheckedSendable(source as AudioSource)
        let player = Thread {
            defer {
                // The device has everything; if it lost some, capture would wait forever for the rest.
                usleep(1_500_000)
                stopper.value.requestStop()
                playerDone.signal()
            }
            var deadline = timespec()
            clock_gettime(CLOCK_MONOTONIC, &deadline)
            deadline.tv_nsec += 100_000_000
            audio.value.withUnsafeBytes { bytes in
                for k in 0..<chunks {
                    if let out = output.value {
                        // The device paces the writes; a sample sounds when the buffer ahead of it has played.
                        let from = k * period, to = min(bytes.count / 2, from + period)
                        let block = UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: Int16.self) + from, count: to - from)
                        do { try out.write(block) } catch { return }
                        playLog.append(Int64(to), MonotonicClock.now() + out.delaySeconds)
                        continue
                    }
                    deadline.tv_nsec += 10_000_000
                    if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
                    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
                    let from = k * period * 2, to = min(bytes.count, from + period * 2)
                    var off = from
                    while off < to {
                        let n = write(pipeFD, bytes.baseAddress! + off, to - off)
                        if n < 0 { if errno == EINTR { continue }; return }
                        off += n
                    }
                    playLog.append(Int64(to / 2), MonotonicClock.now())
                }
            }
        }
        player.start()
        Terminal.note("playing \(recordingPath) × \(repeats) (\(String(format: "%.0f", Double(played.count) / Double(rate))) s, real time) "
                      + "\(playDevice.map { "on \($0)" } ?? "into \(pipePath ?? "")"); capturing from \(device)")

        // Everything that came out: keyword events, or each word the first time a transcript
        // (partial or final) shows it with that text and end.
        var hits: [(text: String, end: Double, emitted: Double)] = []
        var shown = Set<String>()
        let readerStall = InputOptions.injectedReaderStall()
        let readError = try source.forEachBlock(size: period) { block in
            readerStall?.tick(MonotonicClock.now())
            try recognizer.accept(block) { event in
                switch event {
                case let .keyword(k): hits.append((k.keyword, k.end, MonotonicClock.now()))
                case let .partial(t), let .final(t):
                    let now = MonotonicClock.now()
                    for w in t.words where shown.insert("\(w.text)@\(Int((w.end * 1000).rounded()))").inserted {
                        hits.append((w.text, w.end, now))
                    }
                default: break
                }
            }
            features.record(UInt64(max(0, recognizer.lastFeatureSeconds * 1e9)))
        }
        source.stop()                                    // joins the capture thread: its log is complete
        if readError == nil { playerDone.wait() }
        if fd >= 0 { close(fd) }
        if let readError { throw readError }

        // Match each item with the first output of its text within a second (a word: half a second) of it.
        let window = measure == .words ? 0.5 : 1.0
        var total = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var after = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var captured = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var processing = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var used = Set<Int>(), missed = 0, early = 0
        for t in truth {
            let end = Double(t.endSample) / Double(rate)
            let matched: Int?
            if loopback {
                // Sample indices of playback and capture are not aligned: match by time.
                let wordTime = playLog.time(atOrAfter: t.endSample) ?? .infinity
                matched = hits.indices.first { !used.contains($0) && hits[$0].text == t.text
                    && hits[$0].emitted > wordTime - window && hits[$0].emitted < wordTime + 1.5 * window }
            } else {
                matched = hits.indices.first { !used.contains($0) && hits[$0].text == t.text && abs(hits[$0].end - end) < window }
            }
            guard let i = matched else {
                missed += 1
                continue
            }
            used.insert(i)
            if loopback, let wordIn = playLog.time(atOrAfter: t.endSample) {
                let latency = hits[i].emitted - wordIn
                if latency < 0 { early += 1 }
                total.record(UInt64(max(0, (latency + 1) * 1e6)))
                continue
            }
            let stepEnd = Int64((hits[i].end * Double(rate)).rounded())
            guard let wordIn = playLog.time(atOrAfter: t.endSample), let stepIn = playLog.time(atOrAfter: stepEnd),
                  let stepCaptured = captureLog.time(atOrAfter: stepEnd) else { missed += 1; continue }
            let latency = hits[i].emitted - wordIn
            if latency < 0 { early += 1 }
            // HDR histograms hold non-negative integers: record µs + 1 s, so an event that comes
            // before the word has ended (negative latency) keeps its value.
            total.record(UInt64(max(0, (latency + 1) * 1e6)))
            after.record(UInt64(max(0, (stepIn - wordIn + 1) * 1e6)))
            captured.record(UInt64(max(0, (stepCaptured - stepIn) * 1e6)))
            processing.record(UInt64(max(0, (hits[i].emitted - stepCaptured) * 1e6)))
        }
        let falseHits = hits.count - used.count
        let c = model.network.config, f = model.features
        let algorithmic = (Double(period) + Double(f.windowLength) + Double(f.hopLength * (c.stride - 1))) / Double(rate) * 1000

        func row(_ name: String, _ h: Histogram<UInt64>, scale: Double, offset: Double = 0) -> [String: Double] {
            guard h.totalCount > 0 else { return [:] }
            func v(_ x: UInt64) -> Double { Double(x) / scale - offset }
            return ["p50": v(h.valueAtPercentile(50)), "p90": v(h.valueAtPercentile(90)),
                    "p99": v(h.valueAtPercentile(99)), "max": v(h.max)]
        }
        let report: [String: [String: Double]] = [
            "latency_ms": row("latency", total, scale: 1000, offset: 1000),
            "audio_after_word_ms": row("after", after, scale: 1000, offset: 1000),
            "capture_ms": row("capture", captured, scale: 1000),
            "processing_ms": row("processing", processing, scale: 1000),
            "features_per_block_us": row("features", features, scale: 1000),
            "network_per_step_us": row("network", network, scale: 1000),
            "decoder_per_step_us": row("decoder", decoder, scale: 1000),
        ]
        let losses = source.losses                       // what the device and the ring lost (times count it in)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted]
            var top: [String: AnyEncodable] = ["stages": AnyEncodable(report)]
            top["measure"] = AnyEncodable(measure.rawValue)
            top["items"] = AnyEncodable(truth.count)
            top["detected"] = AnyEncodable(used.count)
            top["other_outputs"] = AnyEncodable(falseHits)
            top["algorithmic_ms"] = AnyEncodable(algorithmic)
            top["overruns"] = AnyEncodable(losses.overruns)
            top["samples_lost"] = AnyEncodable(losses.totalSamplesLost)
            top["truth"] = AnyEncodable(aligned ? "alignment" : "synthesis")
            if let agreement {
                top["alignment_minus_synthesis_ms"] = AnyEncodable(["mean": agreement.mean * 1000, "largest": agreement.largest * 1000])
            }
            emit(String(decoding: try e.encode(top), as: UTF8.self))
            return
        }
        let what = measure == .keywords ? "keyword out, \(used.count) of \(truth.count) phrases detected (\(missed) missed, \(falseHits) other hits)"
            : "word shown, \(used.count) of \(truth.count) words recognized (\(missed) missed, \(falseHits) other words shown)"
        print("sound in → \(what), device \(device), \(losses.overruns) overruns, "
              + "\(losses.totalSamplesLost) samples lost (\(String(format: "%.2f", Double(losses.totalSamplesLost) / Double(rate))) s); "
              + (aligned ? "\(measure == .words ? "word" : "phrase") ends from the model's forced alignment" : "phrase ends from the synthesis (.times)")
              + (loopback ? "; loopback through \(playDevice!): sound-in times estimated from snd_pcm_delay" : ""))
        if let agreement {
            print(String(format: "forced alignment against the synthesis, phrase ends: %+.1f ms on average, %.1f ms at most", agreement.mean * 1000, agreement.largest * 1000))
        }
        print("algorithmic latency: \(String(format: "%.0f", algorithmic)) ms = period \(period * 1000 / rate) ms + window "
              + "\(f.windowLength * 1000 / rate) ms + \(c.stride - 1) hops of \(f.hopLength * 1000 / rate) ms (stacking \(c.stack), stride \(c.stride))")
        print("stage                            p50        p90        p99        max")
        for (name, key, unit) in [("latency", "latency_ms", "ms"), ("  audio after the word", "audio_after_word_ms", "ms"),
                                  ("  capture (device → thread)", "capture_ms", "ms"), ("  processing (thread → event)", "processing_ms", "ms"),
                                  ("features per block", "features_per_block_us", "µs"), ("network per step", "network_per_step_us", "µs"),
                                  ("decoder per step", "decoder_per_step_us", "µs")] {
            let r = report[key] ?? [:]
            let cells = ["p50", "p90", "p99", "max"].map { r[$0].map { String(format: "%7.2f %@", $0, unit) } ?? "      –   " }
            print(name.padding(toLength: 30, withPad: " ", startingAt: 0) + cells.joined(separator: " "))
        }
        if early > 0 {
            let why = measure == .words ? "words were shown before their last sample, the word being certain before it ended"
                                        : "events came before the phrase's last sample, the keyword being certain before it ended"
            print("(\(early) of \(used.count) \(why): negative latencies)")
        }
    }

    static func defaultRecording() throws -> String {
        let model = try RecognitionModel.defaultPath()
        return URL(fileURLWithPath: model).deletingLastPathComponent().appendingPathComponent("latency/keywords.wav").path
    }
}

/// (sample count, time) pairs appended by one thread without allocating, read after it stops.
final class TimeLog: @unchecked Sendable {
    private let samples: UnsafeMutablePointer<Int64>
    private let times: UnsafeMutablePointer<Double>
    private let capacity: Int
    private var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        samples = .allocate(capacity: capacity)
        times = .allocate(capacity: capacity)
    }

    deinit { samples.deallocate(); times.deallocate() }

    func append(_ sample: Int64, _ time: Double) {
        guard count < capacity else { return }
        samples[count] = sample
        times[count] = time
        count += 1
    }

    /// The time of the first entry whose sample count reaches `sample` (the block that held it).
    func time(atOrAfter sample: Int64) -> Double? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if samples[mid] >= sample { hi = mid } else { lo = mid + 1 }
        }
        return lo < count ? times[lo] : nil
    }
}

struct AnyEncodable: Encodable {
    let encode: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encode = value.encode }
    func encode(to encoder: Encoder) throws { try encode(encoder) }
}
