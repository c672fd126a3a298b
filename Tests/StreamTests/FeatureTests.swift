import Foundation
import Testing
@testable import Stream

@Suite("Log-mel features")
struct FeatureTests {
    /// A few seconds of speech-like test audio: tones, a chirp and noise, including exact zeros.
    static func testAudio(count: Int = 16_000 * 3, seed: UInt64 = 7) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { i in
            if (8_000..<9_000).contains(i) { return 0 }          // digital silence
            let t = Double(i) / 16_000
            return Float(0.3 * sin(2 * .pi * (200 * t + 500 * t * t)) + 0.1 * sin(2 * .pi * 1_234 * t))
                + 0.02 * rng.nextSignedUnitFloat()
        }
    }

    @Test("frame arithmetic: a frame exists exactly when its last sample has arrived")
    func geometry() {
        let g = FrameGeometry(windowLength: 400, hopLength: 160)
        #expect(g.frameCount(samples: 0) == 0)
        #expect(g.frameCount(samples: 399) == 0)
        #expect(g.frameCount(samples: 400) == 1)
        #expect(g.frameCount(samples: 559) == 1)
        #expect(g.frameCount(samples: 560) == 2)
        for i in 0..<1_000 {
            #expect(g.frameCount(samples: g.endSample(ofFrame: i)) == i + 1)
            #expect(g.frameCount(samples: g.endSample(ofFrame: i) - 1) == i)
        }
    }

    @Test("streaming equals batch bit for bit for 60 random chunkings (dither on)")
    func streamingEqualsBatch() throws {
        let extractor = try LogMelSpectrogram()
        #expect(extractor.config.dither > 0)
        let audio = Self.testAudio()
        let batch = extractor.frames(of: audio)
        #expect(batch.rows == extractor.config.geometry.frameCount(samples: Int64(audio.count)))
        var rng = SplitMix64(seed: 99)
        for trial in 0..<60 {
            let stream = extractor.makeStream()
            var streamed: [Float] = []
            var frame = [Float](repeating: 0, count: extractor.bands)
            var offset = 0
            // Chunk sizes from 0 to ~2 s, biased towards small ones; trial 0 feeds 1 sample at a time.
            while offset < audio.count {
                let maxChunk = [1, 7, 160, 400, 1_000, 40_000][Int(rng.next() % 6)]
                let n = trial == 0 ? 1 : min(Int(rng.next() % UInt64(maxChunk + 1)), audio.count - offset)
                audio[offset..<offset + n].withUnsafeBufferPointer { stream.accept(samples: $0) }
                offset += n
                // Frames appear exactly when their last sample has arrived.
                #expect(stream.framesReady == stream.geometry.frameCount(samples: Int64(offset)))
                // Drain as a live consumer does, so the queue wraps around many times.
                while streamed.count / extractor.bands < stream.framesReady {
                    let i = streamed.count / extractor.bands
                    frame.withUnsafeMutableBufferPointer { stream.frame(i, into: $0) }
                    streamed += frame
                    stream.discardFrames(before: i + 1)
                }
            }
            stream.finish()
            expectSameSamples(streamed, batch.values, "trial \(trial): streamed and batch features")
        }
    }

    @Test("level normalization: speech inside the range passes bit for bit; 30 dB quieter is raised to it, 20 dB louder lowered; streaming equals batch")
    func levelNormalization() throws {
        let audio = Self.testAudio(count: 16_000 * 4)
        let plainExtractor = try LogMelSpectrogram()
        let plain = plainExtractor.frames(of: audio)
        let level = LevelNormalizer.speechLevel(of: plain)
        var config = LogMelConfig()
        config.levelRange = LevelRange(low: level - 1, high: level + 1)
        let extractor = try LogMelSpectrogram(config)
        #expect(extractor.frames(of: audio) == plain, "a level inside the range is left alone")

        /// Mean absolute difference from the plain features over the frames after the first second.
        func distance(_ m: FeatureMatrix) -> Float {
            let from = 100 * plain.cols
            return zip(m.values[from...], plain.values[from...]).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(plain.values.count - from)
        }
        for (decibels, name) in [(-30.0, "quieter"), (20.0, "louder")] {
            let gain = Float(pow(10, decibels / 20))
            let scaled = audio.map { $0 * gain }
            let untouched = distance(plainExtractor.frames(of: scaled))
            let normalized = extractor.frames(of: scaled)
            // Raised or lowered to the range's edge, 1 (log energy) from where the plain audio sits (a little more
            // where the quiet copy's low bands are the dither's, which does not scale with it).
            #expect(untouched > 4 && distance(normalized) < 1.5, "\(name): \(untouched) → \(distance(normalized))")
            // The streaming front end computes the same frames, chunk by chunk.
            let stream = extractor.makeStream()
            var streamed: [Float] = [], frame = [Float](repeating: 0, count: extractor.bands)
            for start in stride(from: 0, to: scaled.count, by: 1_234) {
                scaled[start..<min(start + 1_234, scaled.count)].withUnsafeBufferPointer { stream.accept(samples: $0) }
                while streamed.count / extractor.bands < stream.framesReady {
                    frame.withUnsafeMutableBufferPointer { stream.frame(streamed.count / extractor.bands, into: $0) }
                    streamed += frame
                }
            }
            expectSameSamples(streamed, normalized.values, "\(name): streamed and batch features")
        }
        // Noise alone (no speech 15 dB above the floor) gets no gain.
        let noise = (0..<32_000).map { i in Float(i % 7) * 1e-5 }
        #expect(extractor.frames(of: noise) == plainExtractor.frames(of: noise))
    }

    @Test("quick start: a quiet stream's first speech is raised within 0.15 s, not after the 0.4 s hold; loud speech is not")
    func levelQuickStart() throws {
        let audio = Self.testAudio(count: 16_000 * 2)
        let plain = try LogMelSpectrogram().frames(of: audio)
        let level = LevelNormalizer.speechLevel(of: plain)
        var config = LogMelConfig()
        config.levelRange = LevelRange(low: level - 1, high: level + 1)
        var quick = config
        quick.levelRange?.quickStart = true
        // 0.3 s of digital silence (the dither's floor), then the speech 30 dB quieter.
        let quiet = [Float](repeating: 0, count: 4_800) + audio.map { $0 * Float(pow(10, -30.0 / 20)) }
        /// The gain after `seconds` of the stream (the level normalizer run alone over the plain frames).
        func gain(_ c: LogMelConfig, _ frames: FeatureMatrix, after seconds: Double) -> Float {
            var normalizer = LevelNormalizer(c)!
            var row = [Float](repeating: 0, count: frames.cols)
            for r in 0..<Int(seconds * 100) {
                for b in 0..<frames.cols { row[b] = frames.values[r * frames.cols + b] }
                row.withUnsafeMutableBufferPointer { normalizer.apply($0.baseAddress!, bands: frames.cols) }
            }
            return normalizer.gain
        }
        let quietFrames = try LogMelSpectrogram().frames(of: quiet)
        #expect(gain(config, quietFrames, after: 0.45) == 0, "without quick start the hold keeps the gain at 0")
        #expect(gain(quick, quietFrames, after: 0.45) > 3, "quick start raises by 0.15 s into the speech: \(gain(quick, quietFrames, after: 0.45))")
        // Later the two agree: both have raised the quiet stream to the range.
        #expect(abs(gain(quick, quietFrames, after: 2) - gain(config, quietFrames, after: 2)) < 0.5)
        // Speech inside the range is untouched either way.
        #expect(try LogMelSpectrogram(quick).frames(of: audio) == plain)
    }

    /// Syllables: a voiced tone whose loudness rises and falls three times a second from the very
    /// first sample (a clip trimmed to start on its first word), `decibels` from full level.
    static func syllables(seconds: Double, decibels: Double = 0, seed: UInt64 = 3) -> [Float] {
        var rng = SplitMix64(seed: seed)
        let gain = pow(10, decibels / 20)
        return (0..<Int(seconds * 16_000)).map { i in
            let t = Double(i) / 16_000
            let envelope = 0.05 + 0.95 * pow(max(0, sin(2 * .pi * 3 * t + 0.3)), 2)
            return Float(gain * (0.3 * envelope * (sin(2 * .pi * 220 * t) + 0.5 * sin(2 * .pi * 1_234 * t))
                                 + 0.002 * Double(rng.nextSignedUnitFloat())))
        }
    }

    @Test("lookahead: a quiet clip that starts on its first word is raised from its first frame; in-range speech and late onsets are left alone; streaming equals batch")
    func levelLookahead() throws {
        let loud = Self.syllables(seconds: 2)
        let plainExtractor = try LogMelSpectrogram()
        let level = LevelNormalizer.speechLevel(of: plainExtractor.frames(of: loud))
        var config = LogMelConfig()
        config.levelRange = LevelRange(low: level - 1, high: level + 1)
        var ahead = config
        ahead.levelRange?.lookahead = 30
        let causal = try LogMelSpectrogram(config), lookahead = try LogMelSpectrogram(ahead)
        let bands = plainExtractor.bands
        /// Frame r of `m` minus frame r of `plain`, averaged over the bands: the gain it was given.
        func gain(_ m: FeatureMatrix, _ plain: FeatureMatrix, frame r: Int) -> Float {
            (0..<bands).reduce(0) { $0 + m.values[r * bands + $1] - plain.values[r * bands + $1] } / Float(bands)
        }

        // 30 dB quieter from the first sample: the causal rule holds 0.4 s before it raises; the
        // lookahead gives the first 30 frames one gain, the one the rest of the clip gets.
        let quiet = Self.syllables(seconds: 2, decibels: -30)
        let plain = plainExtractor.frames(of: quiet)
        let held = lookahead.frames(of: quiet), late = causal.frames(of: quiet)
        for r in [0, 10, 29] {
            #expect(abs(gain(late, plain, frame: r)) < 1e-4, "causal, frame \(r): \(gain(late, plain, frame: r))")
            #expect(gain(held, plain, frame: r) > 4, "lookahead, frame \(r): \(gain(held, plain, frame: r))")
            #expect(abs(gain(held, plain, frame: r) - gain(held, plain, frame: 0)) < 1e-4, "one gain for the held frames")
        }
        #expect(abs(gain(held, plain, frame: 150) - gain(held, plain, frame: 0)) < 1, "the causal rule keeps the lookahead's gain")

        // Inside the range: untouched, bit for bit. A stream's first 0.2 s of silence, then the
        // quiet syllables: too little speech in the lookahead to judge, so it is the causal rule's.
        #expect(lookahead.frames(of: loud) == plainExtractor.frames(of: loud))
        let lateOnset = [Float](repeating: 0, count: 3_200) + quiet
        #expect(lookahead.frames(of: lateOnset).values[0..<(30 * bands)] == causal.frames(of: lateOnset).values[0..<(30 * bands)])
        // Noise alone is not speech.
        let noise = (0..<16_000).map { i in Float(i % 7) * 1e-5 }
        #expect(lookahead.frames(of: noise) == plainExtractor.frames(of: noise))

        // Streaming: nothing is ready until the lookahead is full, then all 30 frames at once, the
        // same as the batch path's; a stream shorter than the lookahead is released by finish().
        for (audio, chunk) in [(quiet, 1_234), (quiet, 7), (Array(quiet[0..<3_000]), 500)] {
            let stream = lookahead.makeStream()
            var streamed: [Float] = [], frame = [Float](repeating: 0, count: bands)
            func drain() {
                while streamed.count / bands < stream.framesReady {
                    frame.withUnsafeMutableBufferPointer { stream.frame(streamed.count / bands, into: $0) }
                    streamed += frame
                    stream.discardFrames(before: streamed.count / bands)
                }
            }
            for start in stride(from: 0, to: audio.count, by: chunk) {
                audio[start..<min(start + chunk, audio.count)].withUnsafeBufferPointer { stream.accept(samples: $0) }
                let made = stream.geometry.frameCount(samples: stream.samplesAccepted)
                #expect(stream.framesReady == (made < 30 ? 0 : made), "\(made) frames made")
                drain()
            }
            stream.finish()
            drain()
            expectSameSamples(streamed, lookahead.frames(of: audio).values, "chunks of \(chunk): streamed and batch features")
        }
    }

    @Test("mean normalization (online CMN): each band minus its mean over the window (with a prior at the start); a gain cancels; streaming equals batch")
    func meanNormalization() throws {
        let audio = Self.testAudio(count: 16_000 * 4)
        let plain = try LogMelSpectrogram().frames(of: audio)
        var config = LogMelConfig()
        config.meanWindow = 50
        let extractor = try LogMelSpectrogram(config)
        let normalized = extractor.frames(of: audio)
        // Against the definition, computed directly.
        let bands = plain.cols
        var worst: Float = 0
        for r in 0..<plain.rows {
            let from = max(0, r - 49)
            for b in 0..<bands {
                var sum = 0.0
                for k in from...r { sum += Double(plain.values[k * bands + b]) }
                let expected = plain.values[r * bands + b] - Float(sum / Double(r - from + 1))
                worst = max(worst, abs(normalized.values[r * bands + b] - expected))
            }
        }
        #expect(worst < 1e-4, "largest difference from the definition: \(worst)")
        #expect(normalized.values[0..<bands].allSatisfy { $0 == 0 }, "the first frame is its own mean")
        // A gain is a shift of every log-mel value: it cancels.
        var shifted = try LogMelSpectrogram().frames(of: audio)
        for i in shifted.values.indices { shifted.values[i] -= 3 }
        var mean = MeanNormalizer(window: 50, bands: bands)
        shifted.values.withUnsafeMutableBufferPointer { v in
            for r in 0..<shifted.rows { mean.apply(v.baseAddress! + r * bands) }
        }
        #expect(zip(shifted.values, normalized.values).allSatisfy { abs($0 - $1) < 1e-4 })
        // The streaming front end computes the same frames, chunk by chunk, and again after reset().
        let stream = extractor.makeStream()
        for pass in 0..<2 {
            var streamed: [Float] = [], frame = [Float](repeating: 0, count: bands)
            for start in stride(from: 0, to: audio.count, by: 1_234) {
                audio[start..<min(start + 1_234, audio.count)].withUnsafeBufferPointer { stream.accept(samples: $0) }
                while streamed.count / bands < stream.framesReady {
                    frame.withUnsafeMutableBufferPointer { stream.frame(streamed.count / bands, into: $0) }
                    streamed += frame
                    stream.discardFrames(before: streamed.count / bands)
                }
            }
            expectSameSamples(streamed, normalized.values, "pass \(pass): streamed and batch features")
            stream.reset()
        }
        // With a prior of 20 frames, frame r < 20 counts the prior's mean as the 19 − r frames still
        // missing; from frame 20 on it is the plain running mean.
        var withPrior = config
        let priorMean = (0..<bands).map { Float($0 % 5) - 8 }
        withPrior.meanPrior = MeanPrior(frames: 20, mean: priorMean)
        let primed = try LogMelSpectrogram(withPrior).frames(of: audio)
        worst = 0
        for r in 0..<25 {
            for b in 0..<bands {
                var sum = 0.0
                for k in max(0, r - 49)...r { sum += Double(plain.values[k * bands + b]) }
                let n = max(r + 1, 20)
                sum += Double(n - (r + 1)) * Double(priorMean[b])
                worst = max(worst, abs(primed.values[r * bands + b] - (plain.values[r * bands + b] - Float(sum / Double(n)))))
            }
        }
        #expect(worst < 1e-4, "with a prior: largest difference from the definition \(worst)")
        #expect(primed.values[(20 * bands)...] == normalized.values[(20 * bands)...])
    }

    @Test("a consumer that holds every frame still gets them all (the queue grows)")
    func queueGrows() throws {
        let extractor = try LogMelSpectrogram()
        let audio = Self.testAudio(count: 16_000 * 2)
        let stream = extractor.makeStream()
        stream.accept(samples: audio)
        let batch = extractor.frames(of: audio)
        var frame = [Float](repeating: 0, count: extractor.bands)
        for i in 0..<stream.framesReady {
            frame.withUnsafeMutableBufferPointer { stream.frame(i, into: $0) }
            #expect(Array(batch[i]) == frame)
        }
    }

    /// Bound: the reference works in float64; Hark in float32 (FFTW single precision, float
    /// accumulation over ≤ 30 bins per band). Relative error in a band's energy of a few 1e-6
    /// becomes the same absolute error after the log; 1e-4 leaves a 10× margin for the
    /// lowest-energy bands of the test signal.
    @Test("features equal the independent numpy implementation within 1e-4 after the log")
    func goldenValues() throws {
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: Support.fixture("logmel_golden.json"))) as! [String: Any]
        var config = LogMelConfig()
        config.sampleRate = meta["sampleRate"] as! Int
        config.windowLength = meta["windowLength"] as! Int
        config.hopLength = meta["hopLength"] as! Int
        config.fftSize = meta["fftSize"] as! Int
        config.melBands = meta["bands"] as! Int
        config.lowHz = meta["lowHz"] as! Double
        config.highHz = meta["highHz"] as! Double
        config.logFloor = Float(meta["logFloor"] as! Double)
        config.dither = 0
        let input = try Support.floats(Support.fixture("logmel_input.f32"))
        let expected = try Support.floats(Support.fixture("logmel_expected.f32"))
        let features = try LogMelSpectrogram(config).frames(of: input)
        #expect(features.rows == meta["frames"] as! Int)
        #expect(features.values.count == expected.count)
        let worst = zip(features.values, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "largest difference \(worst)")
        print("log-mel golden: largest difference \(worst)")
    }

    @Test("silence gives finite features; dither keeps it off the log floor")
    func silence() throws {
        let zeros = [Float](repeating: 0, count: 4_000)
        var config = LogMelConfig()
        config.dither = 0
        let floor = log(config.logFloor)
        let undithered = try LogMelSpectrogram(config).frames(of: zeros)
        #expect(undithered.values.allSatisfy { $0 == floor })
        let dithered = try LogMelSpectrogram().frames(of: zeros)
        // Bands of one or two FFT bins fluctuate frame to frame, so: never at the floor, and the
        // mean far above it.
        #expect(dithered.values.allSatisfy { $0.isFinite && $0 > floor })
        let mean = dithered.values.reduce(0, +) / Float(dithered.values.count)
        #expect(mean > floor + 5, "mean \(mean)")
    }

    @Test("invalid settings name the field at fault",
          arguments: ["hopLength", "fftSize", "melBands", "lowHz/highHz", "dither", "levelRange", "lookahead", "meanWindow", "meanPrior"])
    func invalidConfig(field: String) {
        var config = LogMelConfig()
        switch field {
        case "hopLength": config.hopLength = 500
        case "fftSize": config.fftSize = 256
        case "melBands": config.melBands = 0
        case "lowHz/highHz": config.highHz = 9_000
        case "levelRange": config.levelRange = LevelRange(low: 3, high: 2)
        case "lookahead": config.levelRange = LevelRange(low: 2, high: 3, lookahead: 101)
        case "meanWindow": config.meanWindow = 0
        case "meanPrior": config.meanWindow = 10; config.meanPrior = MeanPrior(frames: 5, mean: [0, 1])   // not one per band
        default: config.dither = -1
        }
        #expect { try config.validate() } throws: { ($0 as? FeatureConfigError)?.field == (field == "lookahead" ? "levelRange" : field) }
    }

    @Test("the frame rate is the model's, not a literal: it follows the rate and the hop")
    func framesPerSecond() {
        var c = LogMelConfig()
        #expect(c.sampleRate == AudioDefaults.sampleRate && c.framesPerSecond == 100)
        c.hopLength = 320
        #expect(c.framesPerSecond == 50)
        c.sampleRate = 8_000
        #expect(c.framesPerSecond == 25)
    }
}
