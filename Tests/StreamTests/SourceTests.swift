import Foundation
import Testing
@testable import Stream

@Suite("Audio sources")
struct SourceTests {
    /// WAV in every common encoding reads back as the same 16 kHz mono signal as the 64-bit
    /// float version of it, within the encoding's own quantization step.
    @Test("WAV 8/16/24/32-bit PCM and 32/64-bit float read as the same mono signal",
          arguments: [("8", "unsigned-integer", 1.0 / 128), ("16", "signed-integer", 1.0 / 32_768),
                      ("24", "signed-integer", 1.0 / 8_388_608), ("32", "signed-integer", 1e-7),
                      ("32", "floating-point", 1e-7)])
    func wavEncodings(bits: String, encoding: String, step: Double) throws {
        // Cases run in parallel: every file this case writes carries the case's name.
        func make(_ b: String, _ e: String) throws -> [Float] {
            let url = Support.tempDir.appendingPathComponent("tone-\(b)-\(e)-for-\(bits)-\(encoding).wav")
            try Support.sox(url, ["-r", "16000", "-c", "1", "-b", b, "-e", e, "-D"],
                            synth: ["1.5", "sine", "440", "vol", "0.5"])
            let source = try AudioFileSource(path: url.path)
            #expect(source.fileSampleRate == 16_000 && source.fileChannels == 1)
            return try source.readAll(chunk: 1_000)
        }
        let reference = try make("64", "floating-point")
        let samples = try make(bits, encoding)
        #expect(samples.count == 24_000 && reference.count == 24_000)
        #expect(abs(reference.map { abs($0) }.max()! - 0.5) < 0.02)
        let worst = zip(samples, reference).map { abs(Double($0) - Double($1)) }.max()!
        #expect(worst <= step * 1.01, "largest difference \(worst) for a step of \(step)")
    }

    @Test("channels are averaged to mono")
    func stereoDownmix() throws {
        let dir = Support.tempDir
        let fmt = ["-r", "16000", "-c", "1", "-b", "32", "-e", "floating-point"]
        let (left, right, stereo) = (dir.appendingPathComponent("left.wav"), dir.appendingPathComponent("right.wav"),
                                     dir.appendingPathComponent("stereo.wav"))
        try Support.sox(left, fmt, synth: ["0.5", "sine", "300", "vol", "0.4"])
        try Support.sox(right, fmt, synth: ["0.5", "sine", "700", "vol", "0.2"])
        let r = try Support.run("sox", ["-M", left.path, right.path, stereo.path])
        #expect(r.status == 0, "\(r.output)")
        let source = try AudioFileSource(path: stereo.path)
        #expect(source.fileChannels == 2)
        let mono = try source.readAll()
        let l = try AudioFileSource(path: left.path).readAll(), rr = try AudioFileSource(path: right.path).readAll()
        #expect(mono.count == 8_000)
        #expect(zip(mono, zip(l, rr)).allSatisfy { abs($0 - ($1.0 + $1.1) / 2) < 1e-6 })
    }

    @Test("files at other rates are resampled to 16 kHz", arguments: [8_000, 22_050, 44_100, 48_000])
    func resampling(rate: Int) throws {
        let url = Support.tempDir.appendingPathComponent("tone-\(rate).wav")
        try Support.sox(url, ["-r", "\(rate)", "-c", "1", "-b", "16"], synth: ["2", "sine", "1000", "vol", "0.5"])
        let source = try AudioFileSource(path: url.path)
        #expect(source.fileSampleRate == rate)
        let samples = try source.readAll(chunk: 777)
        #expect(abs(samples.count - 32_000) <= 2, "got \(samples.count) samples")
        // Away from the edges, the signal is a clean 1 kHz sine at amplitude 0.5: check its
        // power at 1 kHz against the total (a resampler that aliased or dropped blocks fails this).
        let mid = Array(samples[4_000..<28_000])
        var re = 0.0, im = 0.0, total = 0.0
        for (i, s) in mid.enumerated() {
            re += Double(s) * cos(2 * .pi * 1_000 * Double(i) / 16_000)
            im += Double(s) * sin(2 * .pi * 1_000 * Double(i) / 16_000)
            total += Double(s * s)
        }
        let tonePower = 2 * (re * re + im * im) / Double(mid.count)
        #expect(tonePower / total > 0.999)
        #expect(abs(total / Double(mid.count) - 0.125) < 0.002)
    }

    @Test("missing, empty and non-audio files give errors that name the file")
    func badFiles() throws {
        let missing = "/nonexistent/hark/x.wav"
        #expect { _ = try AudioFileSource(path: missing) } throws: {
            "\($0)".contains(missing) && "\($0)".contains("No such file")
        }
        let text = Support.tempDir.appendingPathComponent("notes.wav")
        try "this is not audio".write(to: text, atomically: true, encoding: .utf8)
        #expect { _ = try AudioFileSource(path: text.path) } throws: { "\($0)".contains(text.path) }
        let empty = Support.tempDir.appendingPathComponent("empty.wav")
        FileManager.default.createFile(atPath: empty.path, contents: Data())
        #expect { _ = try AudioFileSource(path: empty.path) } throws: { "\($0)".contains(empty.path) }
    }

    @Test("NaN samples in a float file are rejected with their position")
    func nanSamples() throws {
        let url = Support.tempDir.appendingPathComponent("nan.wav")
        try Support.sox(url, ["-r", "16000", "-c", "1", "-b", "32", "-e", "floating-point"],
                        synth: ["0.1", "sine", "300"])
        // Overwrite sample 100 (after the 44-byte canonical header sox writes for float: check it).
        var data = try Data(contentsOf: url)
        let dataOffset = try #require(data.range(of: Data("data".utf8))).upperBound + 4
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { data.replaceSubrange(dataOffset + 400..<dataOffset + 404, with: $0) }
        try data.write(to: url)
        let source = try AudioFileSource(path: url.path)
        #expect { _ = try source.readAll() } throws: { "\($0)".contains("sample 100") && "\($0)".contains(url.path) }
    }

    @Test("WAVWriter writes atomically: nothing under the name until finish()")
    func writerAtomic() throws {
        let url = Support.tempDir.appendingPathComponent("rec.wav")
        try? FileManager.default.removeItem(at: url)
        do {
            let w = try WAVWriter(path: url.path)
            try [Float](repeating: 0.25, count: 1_600).withUnsafeBufferPointer { try w.write($0) }
            #expect(!FileManager.default.fileExists(atPath: url.path))
            // Dropped without finish(): the temporary file goes too.
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Support.tempDir.path).filter { $0.hasPrefix("rec.wav.partial") }
        #expect(leftovers.isEmpty)
        let w = try WAVWriter(path: url.path)
        try [Float](repeating: 0.25, count: 1_600).withUnsafeBufferPointer { try w.write($0) }
        try w.finish()
        let back = try AudioFileSource(path: url.path).readAll()
        #expect(back.count == 1_600 && back.allSatisfy { abs($0 - 0.25) < 1e-4 })
        #expect { _ = try WAVWriter(path: "/nonexistent-dir/x.wav") } throws: { "\($0)".contains("/nonexistent-dir/x.wav") }
    }

    @Test("raw S16 PCM from a pipe, split at odd byte boundaries")
    func rawPCM() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let samples: [Int16] = (0..<5_001).map { Int16(truncatingIfNeeded: $0 &* 37 &- 9_000) }
        let bytes = samples.flatMap { v -> [UInt8] in let u = UInt16(bitPattern: v); return [UInt8(u & 0xff), UInt8(u >> 8)] }
        let writer = Thread {
            var offset = 0, step = 1
            while offset < bytes.count {
                let n = min(step, bytes.count - offset)
                _ = bytes[offset..<offset + n].withUnsafeBytes { write(writeEnd, $0.baseAddress, n) }
                offset += n
                step = step % 13 + 2          // odd and even sizes
            }
            close(writeEnd)
        }
        writer.start()
        let source = RawPCMSource(fileDescriptor: readEnd, name: "pipe")
        let got = try source.readAll(chunk: 333)
        close(readEnd)
        expectSameSamples(got, samples.map { Float($0) / 32_768 })
        #expect(source.position == Int64(samples.count))
    }

    @Test("synthetic sources: exact length, reproducible noise")
    func synthetic() throws {
        let tone = try SyntheticSource(.tone(hertz: 100, amplitude: 0.5), seconds: 0.5).readAll(chunk: 100)
        #expect(tone.count == 8_000)
        #expect(abs(tone[40] - 0.5) < 1e-6)     // a quarter period of 100 Hz at 16 kHz
        let a = try SyntheticSource(.noise(amplitude: 0.1, seed: 3), seconds: 0.1).readAll()
        let b = try SyntheticSource(.noise(amplitude: 0.1, seed: 3), seconds: 0.1).readAll(chunk: 7)
        #expect(a == b && a.allSatisfy { abs($0) <= 0.1 })
    }
}
