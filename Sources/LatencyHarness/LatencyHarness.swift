import HarkSupport
import Dispatch
import Foundation
import Glibc
import Histogram
import Recognizer
import Stream

/// `hark latency`'s measurement harness: plays a recording with known item ends (phrases or
/// words) into a real-time capture device in 10 ms blocks at absolute `CLOCK_MONOTONIC` deadlines
/// (or through a playback device), captures it with `AlsaCapture`, recognizes it as it arrives,
/// and times each item from the moment its last sample entered the device to the moment it came
/// out (a keyword event, or a word first shown in a transcript).
///
/// The parts that need no device are separate and pure: `schedule` (what is played, where each
/// item ends) and `LatencyMatch` (outputs matched to items, the latency histograms).
public struct LatencyHarness {
    public enum Measure: String, CaseIterable, Sendable { case keywords, words }

    /// Where the recording is played.
    public enum Player: Sendable {
        /// PulseAudio's module-pipe-source FIFO: played and captured samples are aligned.
        case pipe(String)
        /// An ALSA playback device (a speaker and microphone, or a cable): the time a sample
        /// sounds is estimated from `snd_pcm_delay`, and outputs are matched by time.
        case playback(String)
    }

    /// A failure named by its part, for the command to name its option.
    public enum Failure: Error, CustomStringConvertible {
        case capture(device: String, Error)
        case playback(device: String, Error)
        case pipe(path: String, String)
        /// The capture failed while the run was reading it.
        case read(Error)

        public var description: String {
            switch self {
            case let .capture(device, e): "capture device \(device): \(e)"
            case let .playback(device, e): "playback device \(device): \(e)"
            case let .pipe(path, reason): "pipe \(path): \(reason)"
            case let .read(e): "\(e)"
            }
        }
    }

    /// Samples per second of everything the harness plays and captures (the models' rate).
    public static let rate = AudioDefaults.sampleRate

    public var device: String
    public var player: Player
    /// The recording, at 16 kHz.
    public var clip: [Float]
    /// What is timed: each item's text and where it ends in the recording (seconds).
    public var items: [(text: String, end: Double)]
    public var repeats: Int
    public var measure: Measure
    /// The recognizer's settings (the keyword spotter or the dictation).
    public var recognizer: RecognizerConfig
    /// Capture period and playback block, in samples (10 ms).
    public var period = 160
    /// Called once the playback has started, with a line for the user ("× 20 (99 s, real time)
    /// into …; capturing from …").
    public var started: (String) -> Void = { _ in }
    /// Called for every block read, before recognition (tests inject a stalled reader here).
    public var beforeBlock: () -> Void = {}
    /// Called with the capture once it is open (a signal handler stops it to end the run early).
    public var capturing: (AudioSource) -> Void = { _ in }

    public init(device: String, player: Player, clip: [Float], items: [(text: String, end: Double)], repeats: Int,
                measure: Measure, recognizer: RecognizerConfig) {
        self.device = device
        self.player = player
        self.clip = clip
        self.items = items
        self.repeats = repeats
        self.measure = measure
        self.recognizer = recognizer
    }

    /// What is played: half a second of silence, then the recording `repeats` times with half a
    /// second between, then a second of silence to flush the last item; and where in the played
    /// signal each item ends (in samples).
    public static func schedule(clip: [Float], items: [(text: String, end: Double)], repeats: Int) -> (played: [Int16], truth: [LatencyMatch.Item]) {
        let lead = rate / 2, gap = rate / 2
        var played = [Int16](repeating: 0, count: lead)
        var truth: [LatencyMatch.Item] = []
        for _ in 0..<repeats {
            let base = played.count
            played += clip.map { Int16(max(-32_768, min(32_767, ($0 * 32_767).rounded()))) }
            played += [Int16](repeating: 0, count: gap)
            for e in items { truth.append(.init(text: e.text, endSample: Int64(base) + Int64((e.end * Double(rate)).rounded()))) }
        }
        played += [Int16](repeating: 0, count: rate)
        return (played, truth)
    }

    /// Plays, captures, recognizes and matches; the report of the run.
    public func run(model: RecognitionModel) throws -> LatencyReport {
        let rate = Self.rate
        let (played, truth) = Self.schedule(clip: clip, items: items, repeats: repeats)
        let chunks = (played.count + period - 1) / period
        let recognizer = try model.makeStream(self.recognizer)
        var network = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var decoder = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        var features = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        recognizer.onStep = { t in
            network.record(UInt64(max(0, t.network * 1e9)))
            decoder.record(UInt64(max(0, t.decoder * 1e9)))
        }

        // Capture-side timestamps: (stream position, time) per period, written by the capture
        // thread into preallocated memory.
        let captureLog = TimeLog(capacity: chunks + 1000)
        var capture = CaptureConfig(device: device)
        capture.periodSize = period
        capture.maxSamples = Int64(played.count)
        capture.periodObserver = { position, time in captureLog.append(Int64(position), time) }
        let source: AlsaCapture
        do { source = try AlsaCapture(capture) } catch { throw Failure.capture(device: device, error) }
        capturing(source)

        // The player: 10 ms blocks at absolute deadlines; the time each block was written is when
        // its samples entered the device.
        var fd: Int32 = -1
        var speaker: AlsaPlayback?
        switch player {
        case let .playback(name):
            do { speaker = try AlsaPlayback(device: name) } catch { throw Failure.playback(device: name, error) }
        case let .pipe(path):
            fd = open(path, O_WRONLY)
            guard fd >= 0 else { throw Failure.pipe(path: path, String(cString: strerror(errno))) }
        }
        let playLog = TimeLog(capacity: chunks)
        let playerDone = DispatchSemaphore(value: 0)
        let output = UncheckedSendable((speaker, fd, source))           // used by the player thread alone until it signals
        let thread = Thread { [period] in
            let (speaker, fd, source) = output.value
            Self.play(played, period: period, speaker: speaker, fd: fd, log: playLog)
            // The device has everything; if it lost some, capture would wait forever for the rest.
            usleep(1_500_000)
            source.requestStop()
            playerDone.signal()
        }
        thread.start()
        let into: String
        switch player {
        case let .playback(name): into = "on \(name)"
        case let .pipe(path): into = "into \(path)"
        }
        started("× \(repeats) (\(String(format: "%.0f", Double(played.count) / Double(rate))) s, real time) \(into); capturing from \(device)")

        // Everything that came out: keyword events, or each word the first time a transcript
        // (partial or final) shows it with that text and end.
        var hits: [LatencyMatch.Output] = []
        var shown = Set<String>()
        let readError = try source.forEachBlock(size: period) { block in
            beforeBlock()
            try recognizer.accept(block) { event in
                switch event {
                case let .keyword(k): hits.append(.init(text: k.keyword, end: k.end, emitted: MonotonicClock.now()))
                case let .partial(t), let .final(t):
                    let now = MonotonicClock.now()
                    for w in t.words where shown.insert("\(w.text)@\(Int((w.end * 1000).rounded()))").inserted {
                        hits.append(.init(text: w.text, end: w.end, emitted: now))
                    }
                default: break
                }
            }
            features.record(UInt64(max(0, recognizer.lastFeatureSeconds * 1e9)))
        }
        source.stop()                                    // joins the capture thread: its log is complete
        if readError == nil { playerDone.wait() }
        if fd >= 0 { close(fd) }
        if let readError { throw Failure.read(readError) }

        let matched = LatencyMatch(truth: truth, outputs: hits, playLog: playLog, captureLog: captureLog,
                                   window: measure == .words ? 0.5 : 1.0, loopback: speaker != nil, rate: rate)
        let c = model.network.config, f = model.features
        let losses = source.losses
        return LatencyReport(
            measure: measure, device: device, items: truth.count, matched: matched,
            stages: ["features_per_block_us": LatencyReport.row(features, scale: 1000),
                     "network_per_step_us": LatencyReport.row(network, scale: 1000),
                     "decoder_per_step_us": LatencyReport.row(decoder, scale: 1000)],
            algorithm: .init(period: period, window: f.windowLength, hop: f.hopLength, stride: c.stride, stack: c.stack, rate: rate),
            overruns: losses.overruns, samplesLost: losses.totalSamplesLost)
    }

    /// Writes the played signal block by block: at 10 ms deadlines into the pipe, or as fast as
    /// the playback device takes it. Logs (samples played, time they entered the device).
    private static func play(_ played: [Int16], period: Int, speaker: AlsaPlayback?, fd: Int32, log: TimeLog) {
        let chunks = (played.count + period - 1) / period
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        deadline.tv_nsec += 100_000_000
        played.withUnsafeBytes { bytes in
            for k in 0..<chunks {
                if let out = speaker {
                    // The device paces the writes; a sample sounds when the buffer ahead of it has played.
                    let from = k * period, to = min(bytes.count / 2, from + period)
                    let block = UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: Int16.self) + from, count: to - from)
                    do { try out.write(block) } catch { return }
                    log.append(Int64(to), MonotonicClock.now() + out.delaySeconds)
                    continue
                }
                deadline.tv_nsec += 10_000_000
                if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
                while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nil) == EINTR {}
                let from = k * period * 2, to = min(bytes.count, from + period * 2)
                var off = from
                while off < to {
                    let n = write(fd, bytes.baseAddress! + off, to - off)
                    if n < 0 { if errno == EINTR { continue }; return }
                    off += n
                }
                log.append(Int64(to / 2), MonotonicClock.now())
            }
        }
    }
}

/// (stream position, time) pairs appended by one thread without allocating, read after it stops.
public final class TimeLog: @unchecked Sendable {
    private let samples: UnsafeMutablePointer<Int64>
    private let times: UnsafeMutablePointer<Double>
    private let capacity: Int
    private var count = 0

    public init(capacity: Int) {
        self.capacity = capacity
        samples = .allocate(capacity: capacity)
        times = .allocate(capacity: capacity)
    }

    deinit { samples.deallocate(); times.deallocate() }

    public func append(_ sample: Int64, _ time: Double) {
        guard count < capacity else { return }
        samples[count] = sample
        times[count] = time
        count += 1
    }

    /// The time of the first entry whose sample count reaches `sample` (the block that held it).
    public func time(atOrAfter sample: Int64) -> Double? {
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if samples[mid] >= sample { hi = mid } else { lo = mid + 1 }
        }
        return lo < count ? times[lo] : nil
    }
}
