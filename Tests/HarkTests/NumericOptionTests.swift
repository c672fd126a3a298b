import Foundation
import Testing
import TestSupport

/// Every numeric option of every command, found from the command line's own description of
/// itself (`--experimental-dump-help`), rejects the values a user can type that are out of any
/// sensible range, each with a usage error naming the option, and no trap. An option added later
/// is in this table automatically; one that takes text must be listed in `textOptions`.
@Suite("numeric options have ranges", .serialized)
struct NumericOptionTests {
    static let work = testFolder("hark-numeric-options")

    /// Options whose value is text, a path or a name (or, for --seed, any number at all).
    static let textOptions: Set<String> = [
        "device", "file", "model", "weights", "words", "phrases", "lm", "keyword", "exec", "out", "train", "dev",
        "config", "kind", "initial", "samples", "mix", "pipe", "play-device", "recording", "times", "text",
        "measure", "scoring", "details", "check", "cache", "add-words", "vocabulary", "dictation", "dictation-lm",
        "seed",          // a seed may be any UInt64; its parser already rejects everything else
    ]

    /// Values out of every option's range: huge, hugely negative, not a number, infinite, Int.max.
    static let values = ["1e15", "-1e15", "nan", "inf", "9223372036854775807", "-9223372036854775808"]

    /// (command path, option) for every option that takes a value.
    static func options() throws -> [([String], String)] {
        let r = try CLITests.run(["--experimental-dump-help"])
        let info = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        var found: [([String], String)] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            for a in command["arguments"] as? [[String: Any]] ?? [] where a["kind"] as? String == "option" {
                if let name = (a["names"] as? [[String: Any]])?.first(where: { $0["kind"] as? String == "long" })?["name"] as? String {
                    found.append((path, name))
                }
            }
            for s in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(s, path + [s["commandName"] as? String ?? "?"])
            }
        }
        walk(try #require(info["command"] as? [String: Any]), [])
        return found
    }

    /// What each command needs besides the option under test, so that nothing but that option
    /// could make it fail (and, were the value accepted, it would not wait on a device).
    static func baseArguments() throws -> [String: [String]] {
        let ok = work.appendingPathComponent("ok.wav").path
        try BadInputTests.wav((0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }, float: false).write(to: URL(fileURLWithPath: ok))
        let manifest = work.appendingPathComponent("m.jsonl").path
        try Data("{\"audio\": \"ok.wav\", \"text\": \"okay robot\"}\n".utf8).write(to: URL(fileURLWithPath: manifest))
        let out = work.appendingPathComponent("out").path
        return ["listen": ["--file", ok], "spot": ["--file", ok, "--keyword", "okay robot"], "transcribe": [ok],
                "record": [out + ".wav", "--file", ok], "features": ["--file", ok],
                "enroll": ["--keyword", "okay robot", "--out", out, "--file", ok],
                "model threshold": ["--keyword", "okay robot", "--dev", manifest, "--out", out],
                "model level": ["--train", manifest, "--out", out],
                "model mean-prior": ["--train", manifest, "--out", out],
                "train": ["--train", manifest, "--out", out], "eval": [manifest], "latency": ["--pipe", "/nonexistent/pipe"],
                "adapt": ["--samples", work.path, "--out", out]]
    }

    @Test("every numeric option rejects 1e15, -1e15, nan, inf and ±2^63 with a usage error naming it")
    func table() throws {
        let base = try Self.baseArguments()
        var checked = 0
        for (path, option) in try Self.options() where !Self.textOptions.contains(option) {
            let command = path.joined(separator: " ")
            let args = try #require(base[command], "no base arguments for `hark \(command)` (option --\(option))")
            for value in Self.values {
                let r = try CLITests.run(path + args + ["--\(option)", value])
                let name = "hark \(command) --\(option) \(value)"
                #expect(r.status == 64, "\(name): exit \(r.status): \(r.err)")
                #expect(r.err.contains("--\(option)"), "\(name): the message does not name the option: \(r.err)")
                #expect(!r.err.contains("Fatal error") && !r.err.contains("Backtrace"), "\(name): crashed: \(r.err)")
            }
            checked += 1
        }
        #expect(checked >= 50, "only \(checked) numeric options found")
    }

    @Test("negative values reach the option's own check instead of being taken for an option")
    func negatives() throws {
        let ok = Self.work.appendingPathComponent("neg.wav").path
        try BadInputTests.wav((0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }, float: false).write(to: URL(fileURLWithPath: ok))
        var r = try CLITests.run(["listen", "--seconds", "-1"])
        #expect(r.status == 64 && r.err.contains("--seconds must be more than 0") && !r.err.contains("Missing value"), "\(r.err)")
        r = try CLITests.run(["transcribe", ok, "--word-bonus", "-1"])                     // in range: it runs
        #expect(r.status == 0, "\(r.err)")
    }
}
