import ArgumentParser
import Stream

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record 16 kHz mono 16-bit WAV from a capture device.",
        discussion: """
        The file appears under its name only when recording ends (Ctrl-C, or --seconds), so an
        interrupted or failed recording never leaves a truncated file that looks complete.
        """)

    @Argument(help: ArgumentHelp("Output WAV file.", valueName: "out.wav"))
    var output: String

    @OptionGroup var input: InputOptions

    @Flag(name: .long, help: "No level meter, even on a terminal.")
    var quiet = false

    func run() throws {
        let source = try input.open()
        let writer = try WAVWriter(path: output)
        let signals = StopSignals(stopping: source)
        let showMeter = !quiet && Terminal.stderrIsTTY
        var block = [Float](repeating: 0, count: 1_600)
        var remaining = input.maxSamples ?? .max
        var captureError: Error?
        Terminal.note("recording from \(source.name) into \(output)" + (input.seconds.map { " for \($0) s" } ?? "; Ctrl-C stops"))
        while remaining > 0 && signals.received == 0 {
            let n: Int
            do {
                n = try block.withUnsafeMutableBufferPointer {
                    try source.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<Int(min(Int64($0.count), remaining))]))
                }
            } catch {
                captureError = error              // keep what was recorded, then report
                break
            }
            if n == 0 { break }
            try block.withUnsafeBufferPointer { try writer.write(UnsafeBufferPointer(rebasing: $0[0..<n])) }
            remaining -= Int64(n)
            if showMeter {
                var sum: Float = 0, peak: Float = 0
                for s in block[0..<n] { sum += s * s; peak = max(peak, abs(s)) }
                let seconds = Double(writer.samplesWritten) / 16_000
                Terminal.write(stderrLine: "\r\(Terminal.meter(rms: (sum / Float(n)).squareRoot(), peak: peak)) \(Int(seconds)) s ")
            }
        }
        if showMeter { Terminal.write(stderrLine: "\n") }
        try writer.finish()
        let losses = source.losses
        var summary = "wrote \(output): \(Double(writer.samplesWritten) / 16_000) s"
        if losses.totalSamplesLost > 0 {
            summary += "; \(losses.overruns) overruns, \(losses.totalSamplesLost) samples lost"
        }
        Terminal.note(summary)
        if let captureError { throw captureError }
    }
}

