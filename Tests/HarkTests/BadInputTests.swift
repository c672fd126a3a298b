import Decoding
import Foundation
import Stream
import Testing
import TestSupport

/// Issue 7's table: every kind of bad file a user can hand Hark, each with the message it must
/// give. The message names the file (or option) at fault, the exit is non-zero, and nothing
/// crashes or hangs.
@Suite("bad input table", .serialized)
struct BadInputTests {
    static let work = testFolder("hark-bad-input")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let model = repo.appendingPathComponent("share/model.safetensors").path

    /// A WAV file: 16-bit PCM (format 1) or 32-bit float (format 3), mono 16 kHz.
    static func wav(_ samples: [Float], float: Bool) -> Data {
        var body = Data()
        for s in samples {
            if float { withUnsafeBytes(of: s.bitPattern.littleEndian) { body.append(contentsOf: $0) } }
            else { withUnsafeBytes(of: Int16(s * 32_000).littleEndian) { body.append(contentsOf: $0) } }
        }
        var d = Data("RIFF".utf8)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
        u32(36 + body.count); d.append(contentsOf: Data("WAVEfmt ".utf8))
        u32(16); u16(float ? 3 : 1); u16(1); u32(16_000); u32(16_000 * (float ? 4 : 2)); u16(float ? 4 : 2); u16(float ? 32 : 16)
        d.append(contentsOf: Data("data".utf8)); u32(body.count)
        return d + body
    }

    static func file(_ name: String, _ data: Data) throws -> String {
        let path = work.appendingPathComponent(name).path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `wav` with its header's sample rate changed to `rate` (the samples stay as they are).
    static func wav(_ samples: [Float], rate: Int) -> Data {
        var d = wav(samples, float: false)
        withUnsafeBytes(of: UInt32(rate).littleEndian) { d.replaceSubrange(24..<28, with: $0) }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: rate * 2).littleEndian) { d.replaceSubrange(28..<32, with: $0) }
        return d
    }

    /// The shipped model with `metadata` added to its safetensors header.
    static func modelFile(adding metadata: [String: String]) throws -> Data {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.model))
        let n = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try #require(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any])
        header["__metadata__"] = (header["__metadata__"] as? [String: String] ?? [:]).merging(metadata) { $1 }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + data.subdata(in: (8 + n)..<data.count)
    }

    static func audioCases() throws -> [(String, [String], String)] {
        let tone = (0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }
        let good = wav(tone, float: false)
        var nan = tone
        nan[1234] = .nan
        var inf = tone
        inf[77] = .infinity
        let model = try Data(contentsOf: URL(fileURLWithPath: Self.model))
        var version = model
        if let r = version.range(of: Data("\"format_version\":\"1\"".utf8)) {
            version.replaceSubrange(r, with: Data("\"format_version\":\"7\"".utf8))
        }
        var corrupt = model
        corrupt.replaceSubrange(12..<20, with: Data("#$%^&*()".utf8))
        let wrongShape = repo.appendingPathComponent("Tests/CellsTests/Fixtures/pytorch_export.safetensors").path
        let empty = try file("empty.wav", Data())
        return [
            ("empty file", ["transcribe", empty], empty),
            ("zero-length audio", ["transcribe", try file("zero.wav", wav([], float: false))], "zero.wav: contains no audio"),
            ("truncated WAV", ["transcribe", try file("truncated.wav", good.prefix(30))], "truncated.wav"),
            ("corrupt WAV", ["transcribe", try file("corrupt.wav", Data("RIFF".utf8) + Data((0..<400).map { UInt8($0 % 251) }))], "corrupt.wav"),
            ("not audio", ["transcribe", try file("notes.wav", Data("shopping list: milk, eggs\n".utf8))], "notes.wav"),
            ("unsupported encoding", ["transcribe", try file("packed.wav", good.prefix(20) + Data([0x55, 0x00]) + good.dropFirst(22))], "packed.wav"),
            ("NaN sample", ["transcribe", try file("nan.wav", wav(nan, float: true))], "sample 1234 is nan"),
            ("Inf sample", ["transcribe", try file("inf.wav", wav(inf, float: true))], "sample 77 is inf"),
            ("missing model", ["transcribe", try file("ok.wav", good), "--model", "/nonexistent/m.safetensors"], "/nonexistent/m.safetensors"),
            ("truncated model", ["transcribe", try file("ok.wav", good), "--model", try file("short.safetensors", model.prefix(5000))], "short.safetensors"),
            ("corrupt model", ["transcribe", try file("ok.wav", good), "--model", try file("corrupt.safetensors", corrupt)], "corrupt.safetensors"),
            ("wrong-version model", ["transcribe", try file("ok.wav", good), "--model", try file("v7.safetensors", version)], "v7.safetensors' has format version 7"),
            ("wrong-shape model", ["transcribe", try file("ok.wav", good), "--model", wrongShape], "pytorch_export.safetensors"),
            // The phoneme model pronounces "røbot" (espeak-ng reads the letter), not Cyrillic (en-us's
            // reading of it uses a phoneme the model has none of).
            ("keyword the model cannot pronounce", ["spot", "--file", try file("ok.wav", good), "--keyword", "okay привет"],
             "cannot pronounce 'привет'"),
            ("keyword of only spaces", ["spot", "--file", try file("ok.wav", good), "--keyword", "   "], "--keyword"),
            ("unknown option", ["listen", "--loudness", "11"], "--loudness"),
            ("options that exclude each other", ["listen", "--words", "a", "--phrases", "b"], "--words and --phrases"),
            ("negative duration", ["spot", "--keyword", "x", "--seconds", "-1"], "--seconds"),
            ("missing device", ["listen", "--device", "hw:9", "--seconds", "1"], "hw:9"),
            ("stats interval of zero", ["spot", "--keyword", "x", "--stats", "0"], "--stats"),
            ("unknown step weights", ["transcribe", try file("ok.wav", good), "--weights", "int4"], "--weights"),
            ("misspelt training setting", ["train", "--train", try file("t.jsonl", Data("{\"audio\": \"ok.wav\", \"text\": \"a\"}\n".utf8)),
                                          "--config", try file("c.json", Data(#"{"epoch": 3}"#.utf8))], "'epoch' is unknown"),
            ("training config that is not JSON", ["train", "--train", try file("t.jsonl", Data()),
                                                 "--config", try file("broken.json", Data("{\"epochs\": 3".utf8))], "broken.json: is not valid JSON"),
            ("latency: dictation options with keywords", ["latency", "--pipe", "/nonexistent/pipe", "--words", try file("w.txt", Data("okay\n".utf8))],
             "--measure words"),
            ("latency: a transcript the model cannot pronounce", ["latency", "--pipe", "/nonexistent/pipe", "--text", "okay привет"],
             "--text: cannot pronounce 'привет'"),
            // Text files: anything but LF or CRLF line ends and (where the format has them) tabs names its line.
            ("word list with a tab in a word", ["transcribe", try file("ok.wav", good), "--words", try file("tab.txt", Data("zero\none\ntw\to\n".utf8))],
             "tab.txt:3: has a tab"),
            ("phrase list with a lone carriage return", ["transcribe", try file("ok.wav", good), "--phrases",
                                                        try file("cr.txt", Data("open the door\rclose the door\n".utf8))], "cr.txt:1: has a carriage return"),
            ("word list with a NUL", ["listen", "--file", try file("ok.wav", good), "--words", try file("nul.txt", Data("zero\n\u{0}one\n".utf8))],
             "nul.txt:2: has the control character U+0000"),
            ("ARPA file with an escape character", ["transcribe", try file("ok.wav", good), "--words", Self.repo.appendingPathComponent("share/vocab/digits.txt").path,
                                                   "--lm", try file("esc.arpa", Data("\\data\\\nngram 1=1\n\u{1B}\n".utf8))], "esc.arpa:3: has the control character U+001B"),
            ("manifest with a control character", ["eval", try file("ctl.jsonl", Data("{\"audio\": \"ok.wav\", \"text\": \"a\"}\n\u{7}\n".utf8))],
             "ctl.jsonl:2: has the control character U+0007"),
            ("phrase times with a lone carriage return", ["latency", "--pipe", "/nonexistent/pipe", "--recording", try file("ok.wav", good),
                                                         "--times", try file("t.times", Data("okay\t0.1\t0.5\r\n\r".utf8))], "t.times:2: has a carriage return"),
            // Values no setting can use, in files: each is named, none runs silently.
            ("model whose stored threshold can never fire", ["spot", "--file", try file("ok.wav", good), "--keyword", "okay robot", "--model",
                                                            try file("t5.safetensors", try modelFile(adding: ["keyword_thresholds": #"{"okay robot":5}"#]))],
             "keyword_thresholds: 'okay robot' has threshold 5.0"),
            ("model whose stored threshold is negative", ["spot", "--file", try file("ok.wav", good), "--keyword", "okay robot", "--model",
                                                         try file("tneg.safetensors", try modelFile(adding: ["keyword_thresholds": #"{"okay robot":-0.5}"#]))],
             "has threshold -0.5"),
            ("ARPA log-probability above 0", ["transcribe", try file("ok.wav", good), "--words", Self.repo.appendingPathComponent("share/vocab/digits.txt").path,
                                              "--lm", try file("p.arpa", Data("\\data\\\nngram 1=2\n\n\\1-grams:\n0.5 one\n-1 two\n\n\\end\\\n".utf8))],
             "p.arpa:5: log10 probability 0.5 is above 0"),
            ("WAV whose header gives no rate", ["transcribe", try file("rate0.wav", wav(tone, rate: 0))], "rate0.wav': its header is invalid"),
            ("WAV at 1 Hz", ["transcribe", try file("1hz.wav", wav(tone, rate: 1))], "its rate is 1 Hz"),
            ("WAV at 4 kHz", ["listen", "--file", try file("4khz.wav", wav(tone, rate: 4_000))], "its rate is 4000 Hz"),
            ("WAV at 2 MHz", ["spot", "--keyword", "okay robot", "--file", try file("2mhz.wav", wav(tone, rate: 2_000_000))], "its rate is 2000000 Hz"),
            ("the same keyword twice", ["spot", "--file", try file("ok.wav", good), "--keyword", "okay robot", "--keyword", "Okay  Robot"],
             "--keyword 'Okay  Robot' is given twice"),
            ("missing starting model", ["train", "--train", try file("t.jsonl", Data("{\"audio\": \"ok.wav\", \"text\": \"a\"}\n".utf8)),
                                        "--initial", "/nonexistent/start.safetensors"], "/nonexistent/start.safetensors"),
            ("starting model with another front end", ["train", "--train", try file("t.jsonl", Data("{\"audio\": \"ok.wav\", \"text\": \"a\"}\n".utf8)),
                                                       "--config", try file("b40.json", Data(#"{"bands": 40}"#.utf8)), "--initial", Self.model],
             "its front end (80 mel bands) is not the one training uses (40 bands"),
        ]
    }

    @Test("each bad input gives its own message naming the culprit, a non-zero exit, no crash")
    func table() throws {
        for (name, args, mentions) in try Self.audioCases() {
            let started = Date()
            let r = try CLITests.run(args)
            #expect(r.status != 0, "\(name): exit 0 (\(r.out))")
            #expect(r.err.contains(mentions), "\(name): stderr does not mention \(mentions): \(r.err)")
            #expect(!r.err.contains("Fatal error") && !r.err.contains("Stack dump") && !r.err.contains("backtrace"), "\(name): crashed: \(r.err)")
            #expect(Date().timeIntervalSince(started) < 10, "\(name): took \(Date().timeIntervalSince(started)) s")
            // One error style (ErrorStyleTests): 'hark <command>: …', no library's internal words.
            #expect(r.err.split(separator: "\n").contains { $0.hasPrefix("hark \(args[0]): ") || $0.hasPrefix("hark \(args[0]) ") },
                    "\(name): no 'hark \(args[0]): ' line: \(r.err)")
            for word in ErrorStyleTests.internals { #expect(!r.err.contains(word), "\(name): '\(word)' in \(r.err)") }
        }
    }

    /// Every command that writes a file, with `OUT` for the file it writes; each must refuse a name
    /// that a rename over it would destroy, before any work, and leave the name as it was.
    static func writingCommands() throws -> [(String, [String])] {
        let tone = (0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }
        let ok = try file("ok.wav", wav(tone, float: false))
        let manifest = try file("w.jsonl", Data("{\"audio\": \"ok.wav\", \"text\": \"okay robot\"}\n".utf8))
        let samples = work.appendingPathComponent("takes").path
        try FileManager.default.createDirectory(atPath: samples, withIntermediateDirectories: true)
        try Data("{\"audio\": \"../ok.wav\", \"text\": \"okay robot\", \"category\": \"keyword\"}\n".utf8)
            .write(to: URL(fileURLWithPath: samples + "/takes.jsonl"))
        return [
            ("record", ["record", "OUT", "--file", ok]),
            ("train", ["train", "--train", manifest, "--out", "OUT"]),
            ("adapt", ["adapt", "--samples", samples, "--out", "OUT"]),
            ("model threshold", ["model", "threshold", "--keyword", "okay robot", "--dev", manifest, "--out", "OUT"]),
            ("eval --details", ["eval", manifest, "--details", "OUT"]),
        ]
    }

    /// Models that load as files but cannot be recognized with: their front end, token list or
    /// stored thresholds are wrong.
    static func unusableModels() throws -> [(String, String, String)] {
        func settings(_ change: (inout [String: Any]) -> Void) throws -> String {
            var f: [String: Any] = ["lowHz": 20, "logFloor": 1e-10, "hopLength": 160, "windowLength": 400, "fftSize": 512,
                                    "highHz": 8000, "sampleRate": 16000, "melBands": 80, "dither": 3.0517578e-05]
            change(&f)
            return String(decoding: try JSONSerialization.data(withJSONObject: f, options: [.sortedKeys]), as: UTF8.self)
        }
        var tokens = TokenSet.englishPhonemes.tokens                   // the shipped model's outputs
        let duplicate = tokens.enumerated().map { $0.offset == 5 ? "a" : $0.element }
        tokens[4] = "ab"
        func json(_ t: [String]) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: t), as: UTF8.self) }
        return [
            ("fft0.safetensors", try settings { $0["fftSize"] = 0 }, "front-end settings: feature setting 'fftSize'"),
            ("rate0.safetensors", try settings { $0["sampleRate"] = 0 }, "front-end settings: feature setting 'sampleRate'"),
            ("hop0.safetensors", try settings { $0["hopLength"] = 0 }, "front-end settings: feature setting 'hopLength'"),
            ("high.safetensors", try settings { $0["highHz"] = 12_000 }, "front-end settings: feature setting 'lowHz/highHz'"),
            ("floor.safetensors", try settings { $0["logFloor"] = 0 }, "front-end settings: feature setting 'logFloor'"),
            ("dup.safetensors", "tokens=" + (try json(duplicate)), "token list"),
            ("multi.safetensors", "tokens=" + (try json(tokens)), "token list"),
        ]
    }

    @Test("model info refuses every model that recognition refuses, naming the file and the setting")
    func infoValidatesAsRecognition() throws {
        let good = Self.wav((0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }, float: false)
        let audio = try Self.file("ok.wav", good)
        for (name, change, mentions) in try Self.unusableModels() {
            let metadata = change.hasPrefix("tokens=") ? ["tokens": String(change.dropFirst(7))] : ["features": change]
            let model = try Self.file(name, try Self.modelFile(adding: metadata))
            for args in [["model", "info", model], ["transcribe", audio, "--model", model], ["spot", "--file", audio, "--keyword", "okay", "--model", model]] {
                let r = try CLITests.run(args)
                #expect(r.status == 1, "\(name) \(args[0]): exit \(r.status)")
                #expect(r.err.contains(name) && r.err.contains(mentions), "\(name) \(args[0]): \(r.err)")
            }
        }
    }

    @Test("every command that writes a file refuses a device, FIFO, socket, folder, read-only file or dangling link, and leaves it as it was")
    func outputs() throws {
        for (command, args) in try Self.writingCommands() {
            for target in try refusedTargets(in: Self.work, prefix: command.replacingOccurrences(of: " ", with: "-")) {
                let started = Date()
                let r = try CLITests.run(args.map { $0 == "OUT" ? target.path : $0 })
                let name = "\(command) onto a \(target.kind)"
                #expect(r.status == 1, "\(name): exit \(r.status) (\(r.err))")
                #expect(r.err.contains(target.path) && r.err.contains(target.mentions), "\(name): \(r.err)")
                #expect(target.unchanged, "\(name): \(target.path) was changed")
                #expect(Date().timeIntervalSince(started) < 10, "\(name): took \(Date().timeIntervalSince(started)) s (the name is checked before the work)")
            }
        }
        // enroll writes takes.jsonl into its --out folder.
        let folder = Self.work.appendingPathComponent("enroll-out")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let manifest = folder.appendingPathComponent("takes.jsonl").path
        try? FileManager.default.removeItem(atPath: manifest)
        #expect(mkfifo(manifest, 0o644) == 0)
        let r = try CLITests.run(["enroll", "--keyword", "okay robot", "--out", folder.path, "--file", try Self.file("ok.wav", Self.wav([0.1], float: false))])
        #expect(r.status == 1 && r.err.contains(manifest) && r.err.contains("FIFO"), "\(r.err)")
    }

    @Test("record over a private file keeps it private; through a symbolic link it writes the file the link names")
    func recordKeepsFile() throws {
        let tone = (0..<8_000).map { Float(sin(Double($0) * 0.1) * 0.3) }
        let ok = try Self.file("ok.wav", Self.wav(tone, float: false))
        let secret = Self.work.appendingPathComponent("secret.wav").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: secret))
        chmod(secret, 0o600)
        var r = try CLITests.run(["record", secret, "--file", ok])
        #expect(r.status == 0, "\(r.err)")
        #expect(permissions(secret) == 0o600, "mode is now \(String(permissions(secret), radix: 8))")
        let link = Self.work.appendingPathComponent("latest.wav").path
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: secret)
        try Data("old".utf8).write(to: URL(fileURLWithPath: secret))
        r = try CLITests.run(["record", link, "--file", ok])
        #expect(r.status == 0, "\(r.err)")
        #expect(isSymbolicLink(link), "the link was replaced by a file")
        #expect((FileManager.default.contents(atPath: secret)?.count ?? 0) > 16_000, "the file the link names holds the recording")
    }

    @Test("word lists, phrase lists, language models and manifests with Windows line ends read as their LF versions")
    func windowsLineEnds() throws {
        let digits = Self.repo.appendingPathComponent("Tests/HarkTests/Fixtures/digits.wav").path
        func crlf(_ path: String, _ name: String) throws -> String {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return try Self.file(name, Data(("\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n")).utf8))
        }
        let vocab = Self.repo.appendingPathComponent("share/vocab")
        let words = vocab.appendingPathComponent("digits.txt").path, phrases = vocab.appendingPathComponent("commands.txt").path
        let demoWords = vocab.appendingPathComponent("demo.txt").path, lm = vocab.appendingPathComponent("demo.arpa").path
        for (plain, windows) in [(["--words", words], ["--words", try crlf(words, "digits-crlf.txt")]),
                                 (["--phrases", phrases], ["--phrases", try crlf(phrases, "commands-crlf.txt")]),
                                 (["--words", demoWords, "--lm", lm], ["--words", try crlf(demoWords, "demo-crlf.txt"), "--lm", try crlf(lm, "demo-crlf.arpa")])] {
            let a = try CLITests.run(["transcribe", digits] + plain), b = try CLITests.run(["transcribe", digits] + windows)
            #expect(a.status == 0 && b.status == 0, "\(a.err) \(b.err)")
            #expect(!a.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && b.out == a.out, "\(windows): '\(b.out)' against '\(a.out)'")
        }
        let manifest = "{\"audio\": \"\(digits)\", \"text\": \"four two seven one nine zero three\", \"category\": \"digits\"}\n"
        let a = try CLITests.run(["eval", try Self.file("m-lf.jsonl", Data(manifest.utf8))])
        let b = try CLITests.run(["eval", try Self.file("m-crlf.jsonl", Data(manifest.replacingOccurrences(of: "\n", with: "\r\n").utf8))])
        // The first line names the manifest and the real-time factor; the table after it must be the same.
        func table(_ out: String) -> [Substring] { Array(out.split(separator: "\n").dropFirst()) }
        #expect(a.status == 0 && b.status == 0 && !table(a.out).isEmpty && table(a.out) == table(b.out), "\(a.out) \(b.out) \(b.err)")
    }

    @Test("no half-truths: a record that read nothing leaves no file and says so; enroll with no take kept suggests nothing")
    func leftovers() throws {
        var nan = [Float](repeating: 0.1, count: 4_000)
        nan[0] = .nan
        let out = Self.work.appendingPathComponent("nan-take.wav").path
        var r = try CLITests.run(["record", out, "--file", try Self.file("nan-first.wav", Self.wav(nan, float: true))])
        #expect(r.status == 1 && r.err.contains("sample 0 is nan"), "\(r.err)")
        #expect(!r.err.contains("wrote"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: out), "an empty WAV was left")
        #expect(try FileManager.default.contentsOfDirectory(atPath: Self.work.path).filter { $0.contains("partial") }.isEmpty)

        // A NaN later on: what came before it is kept, and the summary says the input failed.
        // (The file is decoded 4096 frames at a time; the block holding the NaN is not delivered.)
        var late = [Float](repeating: 0.1, count: 12_000)
        late[10_000] = .nan
        r = try CLITests.run(["record", out, "--file", try Self.file("nan-late.wav", Self.wav(late, float: true))])
        #expect(r.status == 1 && r.err.contains("before the input failed") && r.err.contains("sample 10000 is nan"), "\(r.err)")
        #expect(try AudioFileSource(path: out).readAll().count == 8_192)

        let silence = try Self.file("silence.wav", Self.wav([Float](repeating: 0, count: 16_000 * 6), float: false))
        let takes = Self.work.appendingPathComponent("no-takes").path
        r = try CLITests.run(["enroll", "--keyword", "okay robot", "--out", takes, "--file", silence, "--takes", "2", "--take-seconds", "2"])
        #expect(r.status == 1 && r.err.contains("no take was kept"), "\(r.err)")
        #expect(!r.out.contains("hark adapt") && !r.err.contains("hark adapt"), "\(r.out)")
    }
}
