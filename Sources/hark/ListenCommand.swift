import ArgumentParser
import Foundation
import Glibc
import Recognizer
import Stream

struct ListenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Live dictation: text appears while you speak.",
        discussion: """
        Text is English words: the shipped 64 000-word vocabulary scored by its language model \
        (--add-words for your own; --words or --phrases for a closed list; --open-spelling for the \
        model's own phonemes or letters). On a terminal the current utterance is rewritten in place as it is recognized (the part \
        that can no longer change in normal text, the rest dimmed) and each final line stays when \
        you pause. Otherwise one final line per utterance. With --json, one JSON object per line:
          {"type": "partial"|"final", "text", "stable", "start", "end", "confidence",
           "words": [{"text", "start", "end", "confidence"}]}
        (times in seconds since capture began). Ctrl-C prints the last final result, then exits.
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var decoder: DecoderOptions

    @Flag(name: .long, help: "JSON lines instead of text.")
    var json = false

    struct Line: Encodable {
        var type: String
        var text: String
        var stable: Int
        var start: Double
        var end: Double
        var confidence: Double
        var words: [Word]
    }

    func run() throws {
        let model = try model.load()
        var config = self.model.recognizerConfig()
        try decoder.apply(to: &config, tokens: model.tokens)
        let source = try input.open()
        let recognizer = try Recognizer(model: model, config: config)
        let signals = StopSignals(onStop: { [recognizer] in recognizer.stop() })
        let tty = isatty(STDOUT_FILENO) == 1 && !json
        Terminal.note("listening to \(source.name) with \(model.path)" + (tty ? " (Ctrl-C to stop)" : ""))
        let json = self.json
        let losses = LossReport(command: "listen")
        try recognizer.start(source: source, handler: { event in
            switch event {
            case let .audioLost(loss): losses.note(loss)
            case let .partial(t) where json: emit(JSONLines.line(Self.line("partial", t)))
            case let .final(t) where json: emit(JSONLines.line(Self.line("final", t)))
            case let .partial(t) where tty:
                let stable = String(t.text.prefix(t.stableCharacters)), rest = String(t.text.dropFirst(t.stableCharacters))
                Terminal.write(stdout: "\r\u{1B}[K" + stable + "\u{1B}[2m" + rest + "\u{1B}[0m")
            case let .final(t): Terminal.write(stdout: (tty ? "\r\u{1B}[K" : "") + t.text + "\n")
            default: break
            }
        })
        defer { _ = signals }
        defer { losses.summarize(recognizer.finalStats) }
        try recognizer.wait()            // a device error is thrown after the last final line
        try input.requireAudio(samples: Int64((recognizer.finalStats.audioSeconds * Double(model.features.sampleRate)).rounded()), stopped: signals.received)
    }

    static func line(_ type: String, _ t: Transcript) -> Line {
        Line(type: type, text: t.text, stable: t.stableCharacters, start: roundTo(t.start), end: roundTo(t.end),
             confidence: roundTo(t.confidence), words: t.words.map(\.rounded))
    }
}
