import Stream

/// Feature extraction on one core: cost per second of audio, and heap allocations per frame in
/// the steady state (counted by the malloc interposer, not assumed).
enum FeatureBench {
    static func run() {
        Measure.pinToOneCore()
        let seconds = 60
        let source = SyntheticSource(.noise(amplitude: 0.3, seed: 1), seconds: Double(seconds))
        let audio = try! source.readAll()
        let extractor = try! LogMelSpectrogram()
        let stream = extractor.makeStream()
        var frame = [Float](repeating: 0, count: extractor.bands)
        let hop = 160

        func feed(_ range: Range<Int>) {
            audio.withUnsafeBufferPointer { all in
                frame.withUnsafeMutableBufferPointer { out in
                    var i = range.lowerBound
                    while i < range.upperBound {
                        stream.accept(samples: UnsafeBufferPointer(rebasing: all[i..<min(i + hop, range.upperBound)]))
                        while stream.firstHeldFrame < stream.framesReady {
                            stream.frame(stream.firstHeldFrame, into: out)
                            stream.discardFrames(before: stream.firstHeldFrame + 1)
                        }
                        i += hop
                    }
                }
            }
        }
        // Warm-up (first second), then the measured steady state.
        feed(0..<16_000)
        let framesBefore = stream.framesReady
        let allocsBefore = Measure.allocations
        let t0 = Measure.now()
        feed(16_000..<audio.count)
        let elapsed = Measure.now() - t0
        let allocs = Measure.allocations - allocsBefore
        let frames = stream.framesReady - framesBefore
        let audioSeconds = Double(audio.count - 16_000) / 16_000

        // The batch path over the same audio, for comparison.
        let batch = Measure.best(repeats: 3) { _ = extractor.frames(of: audio) }

        print("| measure | value |")
        print("|---|---|")
        print("| streaming log-mel, 10 ms chunks: compute per second of audio (one core) | \(fmt(elapsed / audioSeconds * 1e3, 3)) ms |")
        print("| streaming: per frame | \(fmt(elapsed / Double(frames) * 1e6, 2)) µs |")
        print("| streaming: real-time factor | \(fmt(elapsed / audioSeconds, 5)) (\(Int(audioSeconds / elapsed))× faster than real time) |")
        print("| batch path (\(seconds) s in one call): per second of audio | \(fmt(batch / Double(seconds) * 1e3, 3)) ms |")
        print("| heap allocations in the steady state | \(allocs) over \(frames) frames = \(fmt(Double(allocs) / Double(frames), 3)) per frame |")
    }
}
