import ArgumentParser
import Foundation
import Recognizer
import Stream

struct TranscribeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcribe",
        abstract: "Transcribe audio files (or raw PCM on stdin) as fast as the CPU allows.",
        discussion: """
        Prints one line per file: its text (utterances joined by spaces), prefixed by the file name \
        when there are several. With --json, one JSON object per file:
          {"file", "duration", "text",
           "segments": [{"text", "start", "end", "confidence",
                         "words": [{"text", "start", "end", "confidence"}]}]}
        Times are seconds from the start of the file. '-' reads raw 16 kHz S16_LE mono from stdin. \
        On a terminal, a file longer than a minute shows its progress on stderr (not when stderr \
        is a pipe or a file).
        """)

    @Argument(help: ArgumentHelp("Audio files (WAV, FLAC, ...; any rate, resampled) or '-'.", valueName: "file"))
    var files: [String]

    @OptionGroup var model: ModelOptions
    @OptionGroup var decoder: DecoderOptions

    @Flag(name: .long, help: "JSON output with segment and word times.")
    var json = false

    struct FileResult: Encodable {
        var file: String
        var duration: Double
        var text: String
        var segments: [Segment]
    }

    struct Segment: Encodable {
        var text: String
        var start: Double
        var end: Double
        var confidence: Double
        var words: [Word]
    }

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one audio file, or '-' for stdin") }
        if files.filter({ $0 == "-" }).count > 1 { throw ValidationError("'-' (stdin) can be given once") }
    }

    func run() throws {
        let model = try model.load()
        var config = self.model.recognizerConfig()
        try decoder.apply(to: &config, tokens: model.tokens)
        var failed = 0
        // SIGINT and SIGTERM end the file being read as if it ended there (its text so far is
        // printed); the files after it are not read.
        let reading = ReadingSource()
        let signals = StopSignals(onStop: { reading.stop() })
        defer { _ = signals }
        for (index, file) in files.enumerated() {
            if signals.received {
                Terminal.note("hark transcribe: stopped by a signal; not transcribed: " + files[index...].joined(separator: " "))
                throw ExitCode(1)
            }
            let source: AudioSource
            do { source = file == "-" ? RawPCMSource() : try AudioFileSource(path: file) } catch {
                Terminal.note("hark transcribe: \(error)")
                failed += 1
                continue
            }
            reading.set(source)
            let recognizer = try model.makeStream(config)
            var segments: [Segment] = []
            let losses = LossReport(command: "transcribe", source: files.count > 1 ? file : nil)
            let collect: (RecognitionEvent) -> Void = { event in
                if case let .audioLost(loss) = event { losses.note(loss) }
                guard case let .final(t) = event else { return }
                segments.append(Segment(text: t.text, start: roundTo(t.start), end: roundTo(t.end), confidence: roundTo(t.confidence),
                                        words: t.words.map(\.rounded)))
            }
            var progress = Self.progress(for: source, file: file)
            let readError = try source.forEachBlock(size: 4096, until: { signals.received }) { block in
                try recognizer.accept(block, emit: collect)
                if let line = progress?.update(doneSeconds: Double(source.position) / Double(source.sampleRate),
                                               now: MonotonicClock.now()) {
                    Terminal.write(stderrLine: line)
                }
            }
            if let progress { Terminal.write(stderrLine: progress.clear) }
            // (A signal before the first block ends the file at 0 s: its text, none, is printed.)
            if readError == nil && recognizer.stats.audioSeconds == 0 && !signals.received {
                Terminal.note("hark transcribe: \(file): contains no audio")
                failed += 1
                continue
            }
            recognizer.finish(endingAt: source.position, emit: collect)
            losses.summarize(recognizer.stats)
            let text = segments.map(\.text).joined(separator: " ")
            if json {
                emit(JSONLines.line(FileResult(file: file, duration: roundTo(recognizer.stats.audioSeconds), text: text, segments: segments)))
            } else {
                emit(files.count > 1 ? "\(file): \(text)" : text)
            }
            if let readError {
                Terminal.note("hark transcribe: \(file): \(readError) (the text above is what was read before it)")
                failed += 1
            }
        }
        if failed > 0 { throw ExitCode(1) }
    }
}

extension TranscribeCommand {
    /// A progress line for `file` when a person is waiting at a terminal for a long one (stdin's
    /// length is unknown: none).
    static func progress(for source: AudioSource, file: String) -> ProgressLine? {
        guard let f = source as? AudioFileSource, f.fileSampleRate > 0 else { return nil }
        let total = Double(f.fileFrames) / Double(f.fileSampleRate)
        guard ProgressLine.wanted(stderrIsTerminal: Terminal.stderrIsTTY, totalSeconds: total) else { return nil }
        return ProgressLine(label: "hark transcribe: \(file)", totalSeconds: total, now: MonotonicClock.now())
    }
}

/// The source being read, for a signal to stop from another thread.
final class ReadingSource: @unchecked Sendable {
    private let lock = NSLock()
    private var source: AudioSource?
    private var stopped = false

    func set(_ s: AudioSource) {
        lock.lock(); defer { lock.unlock() }
        source = s
        if stopped { s.requestStop() }
    }

    func stop() {
        lock.lock(); defer { lock.unlock() }
        stopped = true
        source?.requestStop()
    }
}
