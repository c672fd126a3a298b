import Foundation
import Testing
import TestSupport
import Stream

/// The `hark` command as a user runs it: exit codes, what goes to stdout and stderr.
@Suite("hark command line", .serialized)
struct CLITests {
    static let hark: URL = {
        // The test bundle sits beside the products in .build/<config>/.
        var dir = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("hark").path) && dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("hark")
    }()

    static let work = testFolder("hark-cli")

    struct Result { var status: Int32; var out: String; var err: String }

    /// A running `hark`: its stdout and stderr are read as they come (so a chatty process never
    /// blocks on a full pipe) and collected for `finish`.
    final class Running: @unchecked Sendable {
        let process: Process
        private let group = DispatchGroup()
        private var out = Data(), err = Data()

        /// `err` nil: the caller sends stderr elsewhere (a file) and reads it itself.
        init(_ process: Process, out: Pipe, err: Pipe?) {
            self.process = process
            for (pipe, isOut) in [(out, true)] + (err.map { [($0, false)] } ?? []) {
                group.enter()
                DispatchQueue.global().async { [self] in
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    if isOut { self.out = data } else { self.err = data }
                    group.leave()
                }
            }
        }

        /// Waits for the exit; a process still running after `timeout` seconds is killed and the
        /// hang recorded as a failure, so a stuck command cannot stall the test run.
        func finish(timeout: Double = 120) -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate(); Issue.record("hark did not exit within \(timeout) s") }
            process.waitUntilExit()
            group.wait()
            return Result(status: process.terminationStatus, out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self))
        }
    }

    /// Starts `hark` with `args`, the environment extended by `env`, and stdin empty.
    static func start(_ args: [String], env: [String: String] = [:]) throws -> Running {
        let p = Process()
        p.executableURL = hark
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return Running(p, out: out, err: err)
    }

    static func run(_ args: [String], env: [String: String] = [:]) throws -> Result {
        try start(args, env: env).finish()
    }

    /// A few seconds of a tone as raw S16 for the ALSA file device, and as WAV.
    static func input() throws -> (raw: String, wav: String, samples: [Int16]) {
        let samples = (0..<24_000).map { Int16((sin(Double($0) * 2 * .pi * 440 / 16_000) * 8_000).rounded()) }
        var data = Data()
        for s in samples { withUnsafeBytes(of: s.littleEndian) { data.append(contentsOf: $0) } }
        let raw = work.appendingPathComponent("in.raw").path
        try data.write(to: URL(fileURLWithPath: raw))
        let wav = work.appendingPathComponent("in.wav").path
        let w = try WAVWriter(path: wav)
        try samples.map { Float($0) / 32_768 }.withUnsafeBufferPointer { try w.write($0) }
        try w.finish()
        return (raw, wav, samples)
    }

    static var alsaEnv: [String: String] {
        let conf = work.appendingPathComponent("vmic.conf")
        try? #"pcm.vmicfile { @args [ IN ] @args.IN { type string } type file slave.pcm "null" file "/dev/null" infile $IN }"#
            .write(to: conf, atomically: true, encoding: .utf8)
        return ["ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf:\(conf.path)"]
    }

    @Test("bad input: each gives a message naming the problem and a non-zero exit, no stack trace", arguments: [
        (["features", "--file", "/nonexistent/a.wav"], "/nonexistent/a.wav"),
        (["features", "--device", "hw:9", "--seconds", "1"], "hw:9"),
        (["record", "/tmp/x.wav", "--seconds", "-2"], "--seconds"),
        (["record", "/tmp/x.wav", "--periods", "1"], "--periods"),
        (["features", "--bands", "0", "--file", "/dev/null"], "melBands"),
        (["model", "info", "/nonexistent/m.safetensors"], "/nonexistent/m.safetensors"),
        (["devices", "--check", "no_such_pcm"], "no_such_pcm"),
        (["record", "/nonexistent-dir/x.wav", "--file", "IN.wav"], "/nonexistent-dir/x.wav"),
        (["frobnicate"], "frobnicate"),
    ])
    func badInput(args: [String], mentions: String) throws {
        let inputs = try Self.input()
        let r = try Self.run(args.map { $0 == "IN.wav" ? inputs.wav : $0 })
        #expect(r.status != 0, "\(args): exit 0")
        #expect(r.err.contains(mentions), "\(args): stderr does not mention \(mentions): \(r.err)")
        #expect(!r.err.contains("Fatal error") && !r.err.contains("Stack dump") && !r.err.contains("backtrace"), "\(args): crashed: \(r.err)")
    }

    @Test("record through the ALSA file device writes exactly the captured samples")
    func recordFromFileDevice() throws {
        let inputs = try Self.input()
        let out = Self.work.appendingPathComponent("take.wav").path
        let r = try Self.run(["record", out, "--device", "vmicfile:IN=\(inputs.raw)", "--seconds", "1.5", "--wait-for-reader"],
                             env: Self.alsaEnv)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("wrote \(out): 1.5 s"))
        let back = try AudioFileSource(path: out).readAll()
        #expect(back.count == 24_000)
        #expect(back == inputs.samples.map { Float($0) / 32_768 })
    }

    @Test("SIGINT during a live recording finishes the WAV and exits 0; raw PCM on stdin works")
    func interruptAndStdin() throws {
        // A real-time device: JACK's dummy backend through ALSA's jack plugin.
        let conf = Self.work.appendingPathComponent("jack.conf")
        try "pcm.jackmic { type jack capture_ports { 0 system:capture_1 } }".write(to: conf, atomically: true, encoding: .utf8)
        let jack = try JackServer(rate: 16_000, period: 320)
        defer { jack.stop() }

        let out = Self.work.appendingPathComponent("interrupted.wav").path
        let p = Process()
        p.executableURL = Self.hark
        p.arguments = ["record", out, "--device", "jackmic"]
        p.environment = ProcessInfo.processInfo.environment.merging(jack.environment) { $1 }
            .merging(["ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf:\(conf.path)"]) { $1 }
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        usleep(1_500_000)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "\(message)")
        let seconds = Double(try AudioFileSource(path: out).readAll().count) / 16_000
        #expect(seconds > 0.5 && seconds < 2.5, "recorded \(seconds) s")

        // `--file -`: raw S16_LE on stdin.
        let inputs = try Self.input()
        let q = Process()
        q.executableURL = Self.hark
        q.arguments = ["features", "--file", "-", "--values"]
        q.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputs.raw))
        let qout = Pipe()
        q.standardOutput = qout
        q.standardError = FileHandle.nullDevice
        try q.run()
        let lines = String(decoding: qout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        q.waitUntilExit()
        #expect(q.terminationStatus == 0 && lines.count == 148)
    }

    @Test("features --values prints one line of 80 numbers per 10 ms frame")
    func featureValues() throws {
        let inputs = try Self.input()
        let r = try Self.run(["features", "--file", inputs.wav, "--values"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 148)          // (24 000 − 400) / 160 + 1
        #expect(lines.allSatisfy { $0.split(separator: " ").count == 80 })
        #expect(r.err.contains("148 frames from 1.5 s of audio"))
    }

    @Test("model info describes a valid model, and refuses a network file that recognition cannot use")
    func modelInfo() throws {
        let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../share/model.safetensors").standardized.path
        let r = try Self.run(["model", "info", model])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("layer 2:      LSTM 320 → 320"))
        #expect(r.out.contains("parameters:   2382461"))
        // A PyTorch export of a bare network (4 inputs, no front end): a valid file, not a model
        // any recognizing command can run, so info says why, as transcribe does.
        let export = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../CellsTests/Fixtures/pytorch_export.safetensors").standardized.path
        let e = try Self.run(["model", "info", export])
        #expect(e.status == 1 && e.err.contains("pytorch_export.safetensors") && e.err.contains("network takes 4"), "\(e.err)")
    }
}

