import Foundation
import Testing
import TestSupport

/// The README's command examples work on a fresh clone (issue 20: they named data/corpus14,
/// which only scripts/train-model makes).
@Suite("README commands")
struct ReadmeCommandsTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The README's example line for `hark <command>`, split as a shell would split it (double
    /// quotes group, `#` starts a comment).
    static func example(_ command: String) throws -> [String] {
        let readme = try String(contentsOf: repo.appendingPathComponent("README.md"), encoding: .utf8)
        let line = try #require(readme.split(separator: "\n").first { $0.hasPrefix("hark \(command) ") }, "no `hark \(command)` example")
        var args: [String] = [], word = "", quoted = false, inWord = false
        for ch in line {
            if ch == "\"" { quoted.toggle(); inWord = true; continue }
            if !quoted && ch == "#" { break }
            if !quoted && ch == " " {
                if inWord { args.append(word); word = ""; inWord = false }
                continue
            }
            word.append(ch); inWord = true
        }
        if inWord { args.append(word) }
        return Array(args.dropFirst())          // "hark"
    }

    /// Whether git tracks `path` (so a fresh clone has it).
    static func tracked(_ path: String) throws -> Bool {
        try VirtualAudio.run("git", ["-C", repo.path, "ls-files", "--error-unmatch", path]).status == 0
    }

    @Test("eval: the example runs as written, on files a clone has")
    func eval() throws {
        let args = try Self.example("eval")
        for path in args where path.hasSuffix(".jsonl") || path.hasSuffix(".txt") {
            let file = path.split(separator: "=").last.map(String.init) ?? path
            #expect(try Self.tracked(file), "\(file) is not in the repository")
        }
        let p = Process()
        p.executableURL = CLITests.hark
        p.arguments = args
        p.currentDirectoryURL = Self.repo
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        #expect(text.contains("recall 1/1"), "\(text)")
    }

    @Test("adapt: the manifest the example mixes in is in the repository, with every file it lists")
    func adapt() throws {
        let args = try Self.example("adapt")
        let mix = try #require(args.firstIndex(of: "--mix").map { args[$0 + 1] })
        #expect(try Self.tracked(mix), "\(mix)")
        let manifest = Self.repo.appendingPathComponent(mix)
        for line in try String(contentsOf: manifest, encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let audio = try #require(object["audio"] as? String)
            let path = manifest.deletingLastPathComponent().appendingPathComponent(audio).standardized.path
            #expect(try Self.tracked(String(path.dropFirst(Self.repo.standardized.path.count + 1))), "\(audio)")
        }
    }
}
