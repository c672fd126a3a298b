import ArgumentParser
import Foundation
import Stream

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Show the live log-mel spectrogram of a device or file.",
        discussion: """
        One line per --every frames: the time of the frame's last sample, its level, and the mel \
        bands from low (left) to high (right) as shades. With --values, prints every frame's \
        numbers instead (one frame per line, for other programs).
        """)

    @OptionGroup var input: InputOptions

    @Option(name: .long, parsing: .unconditional, help: "Mel bands (1 to 256).")
    var bands: Int = 80

    @Option(name: .long, parsing: .unconditional, help: "Frames per line of the picture (10 = one line per 100 ms; 1 to 6000).")
    var every: Int = 10

    @Flag(name: .long, help: "Print every frame's values instead of a picture.")
    var values = false

    func validate() throws {
        try OptionRange.check("--every", every, 1, 6_000)
    }

    func run() throws {
        var config = LogMelConfig()
        config.melBands = bands
        let extractor: LogMelSpectrogram
        do { extractor = try LogMelSpectrogram(config) } catch { throw ValidationError("--bands: \(error)") }
        let source = try input.open()
        let signals = StopSignals(stopping: source)
        let stream = extractor.makeStream()
        var frame = [Float](repeating: 0, count: bands)
        var mean = [Float](repeating: 0, count: bands)
        var inLine = 0
        Terminal.note("log-mel frames from \(source.name): 25 ms windows every 10 ms, \(bands) bands")
        let failure = source.forEachBlock(size: 160, until: { signals.received }) { block in
            stream.accept(samples: block.samples)
            while stream.firstHeldFrame < stream.framesReady {
                let i = stream.firstHeldFrame
                frame.withUnsafeMutableBufferPointer { stream.frame(i, into: $0) }
                stream.discardFrames(before: i + 1)
                if values {
                    print(frame.map { String(format: "%.2f", $0) }.joined(separator: " "))
                    continue
                }
                for b in 0..<bands { mean[b] += frame[b] }
                inLine += 1
                if inLine == every {
                    let t = Double(stream.geometry.endSample(ofFrame: i)) / Double(source.sampleRate)
                    print(picture(mean.map { $0 / Float(every) }, time: t))
                    for b in 0..<bands { mean[b] = 0 }
                    inLine = 0
                }
            }
        }
        stream.finish()
        let losses = source.losses
        Terminal.note("\(stream.framesReady) frames from \(Double(stream.samplesAccepted) / Double(source.sampleRate)) s of audio"
                      + (losses.totalSamplesLost > 0 ? "; \(losses.overruns) overruns, \(losses.totalSamplesLost) samples lost" : ""))
        if let failure { throw failure }
        try input.requireAudio(samples: stream.samplesAccepted, stopped: signals.received)
    }

    /// Shades for log energies from about -16 (silence with dither) to 4 (loud).
    private func picture(_ logMel: [Float], time: Double) -> String {
        let shades = Array(" ░▒▓█")
        let columns = min(logMel.count, 60)
        var line = ""
        for c in 0..<columns {
            let lo = c * logMel.count / columns, hi = (c + 1) * logMel.count / columns
            let v = logMel[lo..<max(hi, lo + 1)].max()!
            let level = Int(((v + 14) / 16 * Float(shades.count)).rounded(.down)).clamped(to: 0...(shades.count - 1))
            line.append(shades[level])
        }
        let energy = logMel.reduce(0, +) / Float(logMel.count)
        return String(format: "%7.2f s %7.2f │%@│", time, energy, line)
    }
}
