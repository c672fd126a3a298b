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
    static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
        try VirtualAudio.run(tool, args)
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

/// Compares two sample arrays exactly, reporting the count and the first difference instead of
/// printing both arrays.
func expectSameSamples(_ got: [Float], _ expected: [Float], _ what: String = "samples",
                       sourceLocation: SourceLocation = #_sourceLocation) {
    if got == expected { return }
    let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }
    let detail = firstDiff.map { "first difference at \($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "one is a prefix of the other"
    Issue.record("\(what) differ: \(got.count) vs \(expected.count) values; \(detail)", sourceLocation: sourceLocation)
}

