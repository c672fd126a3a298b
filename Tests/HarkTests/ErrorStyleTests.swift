import Foundation
import Testing
import TestSupport

/// One error style: `hark <command>: <what>` on stderr; exit 64 with the command's usage for a
/// mistake in the command line, exit 1 without it for bad input (a file's content, a device, a
/// model, the environment); no library's internal wording.
@Suite("error style", .serialized)
struct ErrorStyleTests {
    static let work = testFolder("hark-error-style")
    static let repo = BadInputTests.repo

    /// Words that must never reach a user: Foundation's and libsndfile's internals, ArgumentParser's own prefix.
    static let internals = ["NSCocoaErrorDomain", "SF_INFO", "The data isn't in the correct format", "Error: ", "Missing value for"]

    static func file(_ name: String, _ data: Data) throws -> String {
        let path = work.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// (arguments, environment, exit, the command as the message names it, a word the message must hold)
    static func cases() throws -> [([String], [String: String], Int32, String, String)] {
        let tone = (0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }
        let ok = try file("ok.wav", BadInputTests.wav(tone, float: false))
        let empty = try file("empty.wav", BadInputTests.wav([], float: false))
        var rate0 = BadInputTests.wav(tone, float: false)
        rate0.replaceSubrange(24..<32, with: [UInt8](repeating: 0, count: 8))
        let noRate = try file("rate0.wav", rate0)
        let badMeta = try file("meta.safetensors", try BadInputTests.modelFile(adding: ["keyword_thresholds": "not json"]))
        let tab = try file("tab.txt", Data("zero\none\ntw\to\n".utf8))
        return [
            // Mistakes in the command line: 64 and the usage.
            (["listen", "--loudness", "11"], [:], 64, "hark listen", "--loudness"),
            (["listen", "--seconds", "-1"], [:], 64, "hark listen", "--seconds must be more than 0"),
            (["spot", "--file", ok], [:], 64, "hark spot", "--keyword"),
            (["model", "threshold", "--dev", "d.jsonl", "--out", "o"], [:], 64, "hark model threshold", "--keyword"),
            (["frobnicate"], [:], 64, "hark", "frobnicate"),
            // Bad input: 1, no usage.
            (["transcribe", ok, "--words", tab], [:], 1, "hark transcribe", "tab.txt:3: has a tab"),
            (["listen", "--file", ok, "--model", "/tmp"], [:], 1, "hark listen", "'/tmp': is a folder"),
            (["listen", "--file", ok], ["HARK_MODEL": "/nonexistent/m.safetensors"], 1, "hark listen", "$HARK_MODEL (/nonexistent/m.safetensors)"),
            (["spot", "--file", ok, "--keyword", "okay robot", "--model", badMeta], [:], 1, "hark spot", "keyword_thresholds: is not valid JSON"),
            (["transcribe", noRate], [:], 1, "hark transcribe", "header is invalid"),
            (["listen", "--file", empty], [:], 1, "hark listen", "empty.wav: contains no audio"),
            (["spot", "--file", empty, "--keyword", "okay robot"], [:], 1, "hark spot", "empty.wav: contains no audio"),
            (["features", "--file", empty], [:], 1, "hark features", "empty.wav: contains no audio"),
            (["record", work.appendingPathComponent("r.wav").path, "--file", empty], [:], 1, "hark record", "empty.wav: contains no audio"),
            (["transcribe", empty], [:], 1, "hark transcribe", "empty.wav: contains no audio"),
            (["listen", "--device", "hw:9", "--seconds", "1"], [:], 1, "hark listen", "'hw:9'"),
            (["model", "threshold", "--keyword", "okay robot", "--dev", "/nonexistent/d.jsonl", "--out", work.appendingPathComponent("o").path],
             [:], 1, "hark model threshold", "/nonexistent/d.jsonl"),
            (["model", "info", "/tmp"], [:], 1, "hark model info", "is a folder"),
        ]
    }

    @Test("each error reads 'hark <command>: …', exits 64 with the usage for a command-line mistake and 1 for bad input")
    func table() throws {
        for (args, env, status, command, mentions) in try Self.cases() {
            let r = try CLITests.run(args, env: env)
            let name = args.joined(separator: " ")
            #expect(r.status == status, "\(name): exit \(r.status), not \(status): \(r.err)")
            let first = r.err.split(separator: "\n").first { $0.hasPrefix("hark") } ?? ""
            #expect(first.hasPrefix("\(command): ") && first.contains(mentions), "\(name): \(r.err)")
            #expect(r.err.contains("Usage: ") == (status == 64), "\(name): usage shown for bad input, or missing for a mistake: \(r.err)")
            if status == 64 { #expect(r.err.contains("See '\(command) --help'"), "\(name): \(r.err)") }
            for word in Self.internals { #expect(!r.err.contains(word), "\(name): '\(word)' in \(r.err)") }
        }
    }
}
