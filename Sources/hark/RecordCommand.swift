import ArgumentParser
import Stream

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record 16 kHz mono 16-bit WAV from a capture device.",
        discussion: """
        The file appears under its name only when recording ends (Ctrl-C, or --seconds), so an \
        interrupted or failed recording never leaves a truncated file that looks complete.
        """)

    @Argument(help: ArgumentHelp("Output WAV file.", valueName: "out.wav"))
    var output: String

    @OptionGroup var input: InputOptions

    @Flag(name: .long, help: "No level meter, even on a terminal.")
    var quiet = false

    func run() throws {
        let writer = try WAVWriter(path: output)           // refuses a name it may not replace, before capture starts
        let source = try input.open()
        let signals = StopSignals(stopping: source)
        let showMeter = !quiet && Terminal.stderrIsTTY
        Terminal.note("recording from \(source.name) into \(output)" + (input.seconds.map { " for \($0) s" } ?? "; Ctrl-C stops"))
        // A capture error keeps what was recorded: the file is finished first, then the error reported.
        let captureError = try source.forEachBlock(size: 1_600, until: { signals.received }) { block in
            try writer.write(block.samples)
            if showMeter {
                var sum: Float = 0, peak: Float = 0
                for s in block.samples { sum += s * s; peak = max(peak, abs(s)) }
                let seconds = Double(writer.samplesWritten) / Double(source.sampleRate)
                Terminal.write(stderrLine: "\r\(Terminal.meter(rms: (sum / Float(block.samples.count)).squareRoot(), peak: peak)) \(Int(seconds)) s ")
            }
        }
        if showMeter { Terminal.write(stderrLine: "\n") }
        if let captureError, writer.samplesWritten == 0 {
            writer.discard()             // nothing was recorded: no empty WAV, no "wrote … 0.0 s"
            throw captureError
        }
        if writer.samplesWritten == 0 && input.file != nil && !signals.received {
            writer.discard()
            try input.requireAudio(samples: 0, stopped: false)
        }
        try writer.finish()
        let losses = source.losses
        var summary = "wrote \(output): \(Double(writer.samplesWritten) / Double(source.sampleRate)) s"
        if captureError != nil { summary += ", what was recorded before the input failed" }
        if losses.totalSamplesLost > 0 {
            summary += "; \(losses.overruns) overruns, \(losses.totalSamplesLost) samples lost"
        }
        Terminal.note(summary)
        if let captureError { throw captureError }
    }
}

