import Foundation
import Testing
import TestSupport

/// `hark lm compile` and `hark lm perplexity`, run as scripts/build-lm runs them: the compact
/// model measures as its ARPA source does, and bad input is a one-line error naming the file.
@Suite("hark lm")
struct LmCommandTests {
    static let work = testFolder("hark-lm")
    static let arpa = """
        \\data\\
        ngram 1=5
        ngram 2=3

        \\1-grams:
        -99\t<s>\t-0.3
        -0.8\t</s>
        -1.5\t<unk>
        -0.5\tcats\t-0.2
        -0.6\tsleep\t-0.1

        \\2-grams:
        -0.1\t<s> cats
        -0.2\tcats sleep
        -0.3\tsleep </s>

        \\end\\

        """

    @Test("compile, then perplexity: the compact model gives the ARPA model's figures")
    func compileAndMeasure() throws {
        let arpa = Self.work.appendingPathComponent("small.arpa").path
        let compact = Self.work.appendingPathComponent("small.harklm").path
        let text = Self.work.appendingPathComponent("text.txt").path
        try Data(Self.arpa.utf8).write(to: URL(fileURLWithPath: arpa))
        try Data("Cats sleep\ncats dogs sleep\n".utf8).write(to: URL(fileURLWithPath: text))
        try? FileManager.default.removeItem(atPath: compact)
        let c = try CLITests.run(["lm", "compile", arpa, compact])
        #expect(c.status == 0, "\(c.err)")
        #expect(c.out.contains("order 2, n-grams 5 / 3"))
        let fromArpa = try CLITests.run(["lm", "perplexity", arpa, text])
        let fromCompact = try CLITests.run(["lm", "perplexity", compact, text])
        #expect(fromArpa.status == 0 && fromCompact.status == 0, "\(fromArpa.err)\(fromCompact.err)")
        #expect(fromArpa.out.contains("2 sentences, 5 words, 1 OOV (20.00%)"), "\(fromArpa.out)")
        #expect(fromArpa.out == fromCompact.out)
    }

    @Test("a corrupt ARPA line, a damaged compact file and a missing file: exit 1 naming the file")
    func badInput() throws {
        let bad = Self.work.appendingPathComponent("bad.arpa").path
        try Data(Self.arpa.replacingOccurrences(of: "-0.2\tcats sleep", with: "x\tcats sleep").utf8).write(to: URL(fileURLWithPath: bad))
        let r = try CLITests.run(["lm", "compile", bad, Self.work.appendingPathComponent("never.harklm").path])
        #expect(r.status == 1)
        #expect(r.err.hasPrefix("hark lm compile: language model \(bad):14:"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: Self.work.appendingPathComponent("never.harklm").path))

        let arpa = Self.work.appendingPathComponent("good.arpa").path
        let damaged = Self.work.appendingPathComponent("damaged.harklm").path
        try Data(Self.arpa.utf8).write(to: URL(fileURLWithPath: arpa))
        try? FileManager.default.removeItem(atPath: damaged)
        #expect(try CLITests.run(["lm", "compile", arpa, damaged]).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        try bytes.prefix(bytes.count - 6).write(to: URL(fileURLWithPath: damaged))
        let d = try CLITests.run(["lm", "perplexity", damaged, arpa])
        #expect(d.status == 1)
        #expect(d.err.hasPrefix("hark lm perplexity: language model \(damaged): "), "\(d.err)")
        #expect(d.err.contains("truncated"), "\(d.err)")

        let missing = try CLITests.run(["lm", "perplexity", Self.work.appendingPathComponent("absent.harklm").path, arpa])
        #expect(missing.status == 1 && missing.err.contains("does not exist"), "\(missing.err)")
    }
}
