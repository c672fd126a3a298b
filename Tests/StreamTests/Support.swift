import Foundation
import Testing
import TestSupport
@testable import Stream

/// Test helpers: fixtures, external tools (sox, jackd), and the virtual ALSA devices of
/// shared/TESTING-AUDIO.md, installed once per test process through ALSA_CONFIG_PATH.
enum Support {
    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    }

    static func floats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    static let tempDir = testFolder("hark-tests")

    /// Runs a program and returns its exit status; stdout/stderr are captured for messages.
    @discardableResult
    static func run(_ tool: String, _ args: [String], wait: Bool = true) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Writes a test WAV (or raw) file with sox; `args` are sox's output-format options and effects.
    static func sox(_ out: URL, _ formatArgs: [String], synth: [String]) throws {
        let r = try run("sox", ["-n"] + formatArgs + [out.path] + ["synth"] + synth)
        #expect(r.status == 0, "sox failed: \(r.output)")
    }

    /// ALSA devices for tests: `vmicfile:IN=/abs/raw` (file-fed, exact samples) and `jackmic`
    /// (JACK dummy backend, real time, real overruns).
    static let alsaConfigured: Bool = {
        let conf = tempDir.appendingPathComponent("vmic.conf")
        let text = """
        pcm.vmicfile {
            @args [ IN ]
            @args.IN { type string }
            type file
            slave.pcm "null"
            file "/dev/null"
            infile $IN
        }
        pcm.jackmic { type jack capture_ports { 0 system:capture_1 } }
        """
        try? text.write(to: conf, atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", "/usr/share/alsa/alsa.conf:\(conf.path)", 1)
        return true
    }()

    /// Samples as raw S16_LE bytes, the format the `file` device hands to a reader asking for S16.
    static func writeRawS16(_ samples: [Int16], to url: URL) throws {
        var data = Data(capacity: samples.count * 2)
        for s in samples { withUnsafeBytes(of: s.littleEndian) { data.append(contentsOf: $0) } }
        try data.write(to: url)
    }
}

/// A JACK server with the dummy backend, for real-time capture and real overruns.
final class JackServer {
    let process = Process()

    init(rate: Int = 16_000, period: Int = 320, captureChannels: Int = 1) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["jackd", "--no-realtime", "-d", "dummy", "-r", "\(rate)", "-p", "\(period)",
                             "-C", "\(captureChannels)", "-P", "1"]
        process.environment = ProcessInfo.processInfo.environment.merging(["JACK_NO_AUDIO_RESERVATION": "1"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if try Support.run("jack_lsp", []).output.contains("system:capture_1") { return }
            usleep(50_000)
        }
        process.terminate()
        throw JackError.notReady
    }

    enum JackError: Error { case notReady }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        usleep(200_000)
    }
}

/// A private PulseAudio server whose only source is a pipe (`module-pipe-source`): whatever is
/// written into `pipePath` as S16_LE 16 kHz mono comes out of ALSA device "pulse", in real time.
final class PulseServer {
    let dir: URL
    var pipePath: String { dir.appendingPathComponent("fifomic.pipe").path }
    private var saved: [String: String?] = [:]

    init() throws {
        dir = Support.tempDir.appendingPathComponent("pulse-\(UInt32.random(in: 0...UInt32.max))")
        for sub in ["run", "state", "config"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let script = """
        load-module module-native-protocol-unix auth-anonymous=1
        load-module module-pipe-source source_name=fifomic file=\(dir.path)/fifomic.pipe format=s16le rate=16000 channels=1
        set-default-source fifomic
        """
        try script.write(to: dir.appendingPathComponent("vmic.pa"), atomically: true, encoding: .utf8)
        let env = ["PULSE_RUNTIME_PATH": dir.appendingPathComponent("run").path,
                   "PULSE_STATE_PATH": dir.appendingPathComponent("state").path,
                   "PULSE_CONFIG_PATH": dir.appendingPathComponent("config").path,
                   "PULSE_SERVER": "unix:\(dir.path)/run/native"]
        for (k, v) in env {
            saved[k] = ProcessInfo.processInfo.environment[k]
            setenv(k, v, 1)
        }
        let r = try Support.run("pulseaudio", ["--daemonize=yes", "--use-pid-file=yes", "--exit-idle-time=-1",
                                               "--disallow-exit", "-n", "-F", dir.appendingPathComponent("vmic.pa").path])
        guard r.status == 0 else { throw PulseError.notStarted(r.output) }
        for _ in 0..<100 {
            if try Support.run("pactl", ["info"]).status == 0 { return }
            usleep(50_000)
        }
        throw PulseError.notStarted("pactl info never answered")
    }

    enum PulseError: Error { case notStarted(String) }

    func stop() {
        if let pid = try? String(contentsOf: dir.appendingPathComponent("run/pid"), encoding: .utf8),
           let p = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(p, SIGTERM)
            for _ in 0..<60 where kill(p, 0) == 0 { usleep(50_000) }
        }
        for (k, v) in saved {
            if let v { setenv(k, v, 1) } else { unsetenv(k) }
        }
    }
}

/// Compares two sample arrays exactly, reporting the count and the first difference instead of
/// printing both arrays.
func expectSameSamples(_ got: [Float], _ expected: [Float], _ what: String = "samples",
                       sourceLocation: SourceLocation = #_sourceLocation) {
    if got == expected { return }
    let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }
    let detail = firstDiff.map { "first difference at \($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "one is a prefix of the other"
    Issue.record("\(what) differ: \(got.count) vs \(expected.count) values; \(detail)", sourceLocation: sourceLocation)
}

