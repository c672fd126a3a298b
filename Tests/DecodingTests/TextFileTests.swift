import Foundation
import Testing
import TestSupport
@testable import Decoding

/// Every text format Hark reads goes through `TextFile`: Windows line endings and a byte-order
/// mark read like plain LF text, and any other control character is an error naming the line.
@Suite("Text files")
struct TextFileTests {
    static let dir = testFolder("hark-text-files")

    /// `text` written as LF, CRLF, CRLF with a BOM, and without its last line end.
    static func variants(_ text: String, name: String) throws -> [String] {
        let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
        return try [("lf", text), ("crlf", crlf), ("bom-crlf", "\u{FEFF}" + crlf), ("no-last-newline", String(crlf.unicodeScalars.dropLast(2)))].map { v, t in
            let url = dir.appendingPathComponent("\(name)-\(v)")
            try Data(t.utf8).write(to: url)
            return url.path
        }
    }

    /// `text` with `bad` put into its third line.
    static func broken(_ text: String, _ bad: String, name: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        lines[2] = String(lines[2].prefix(2)) + bad + String(lines[2].dropFirst(2))
        let url = dir.appendingPathComponent(name)
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url.path
    }

    static let words = "zero\none\ntwo\nthree\n# a comment\n\nfour\n"
    static let phrases = "open the door\nclose the door\nturn on the lights\n"
    static let arpa = """
        \\data\\
        ngram 1=4
        ngram 2=2

        \\1-grams:
        -1.0\t<s>\t-0.3
        -0.5\t</s>
        -0.6\tone\t-0.2
        -0.7\ttwo\t-0.2

        \\2-grams:
        -0.2\t<s> one
        -0.3\tone two

        \\end\\

        """

    /// The bytes that are not text in any of these formats.
    static let badCharacters: [(String, String)] = [("a lone carriage return", "\r"), ("NUL", "\u{0}"),
                                                   ("an escape", "\u{1B}"), ("a backspace", "\u{8}")]

    @Test("the splitter: LF, CRLF, a BOM and a missing last line end give the same lines; other controls name their line")
    func splitter() throws {
        let expected = ["a b", "", "c\td"]
        for text in ["a b\n\nc\td\n", "a b\r\n\r\nc\td\r\n", "\u{FEFF}a b\r\n\r\nc\td", "a b\n\r\nc\td"] {
            #expect(try TextFile.lines(text: text, name: "t", tabs: true).map(\.text) == expected, "\(text.debugDescription)")
        }
        #expect(try TextFile.lines(text: "x\r\ny\r\n", name: "t", tabs: false).map(\.number) == [1, 2])
        #expect { _ = try TextFile.lines(text: "a\nb\tc\n", name: "t", tabs: false) } throws: { "\($0)" == "t:2: has a tab; give one entry per line, with spaces between its words" }
        for (_, bad) in Self.badCharacters {
            #expect { _ = try TextFile.lines(text: "a\nb\n" + bad + "c\n", name: "t", tabs: true) } throws: { "\($0)".hasPrefix("t:3: ") }
        }
    }

    @Test("word and phrase lists: Windows files read the same; a tab or control character names the file and line")
    func lists() throws {
        for (text, name) in [(Self.words, "words"), (Self.phrases, "phrases")] {
            let readings = try Self.variants(text, name: name).map { try Grammar.readList(path: $0, tokens: .english).entries }
            #expect(readings.allSatisfy { $0 == readings[0] }, "\(readings)")
            #expect(readings[0].count == text.split(separator: "\n").filter { !$0.hasPrefix("#") }.count)
            for (what, bad) in Self.badCharacters + [("a tab", "\t")] {
                let path = try Self.broken(text, bad, name: "\(name)-\(what)")
                #expect { _ = try Grammar.readList(path: path, tokens: .english) } throws: { "\($0)".hasPrefix("\(path):3: ") }
            }
        }
    }

    @Test("ARPA files: Windows files read the same; a control character names the line; a tab separates fields")
    func arpaFiles() throws {
        let models = try Self.variants(Self.arpa, name: "lm.arpa").map { try ArpaLanguageModel(path: $0) }
        let one = models[0].id(of: "one"), two = models[0].id(of: "two")
        for m in models {
            #expect(m.order == 2 && m.vocabulary.count == 4)
            #expect(m.logProb(m.id(of: "two"), context: [m.id(of: "one")!]) == models[0].logProb(two, context: [one!]))
        }
        for (what, bad) in Self.badCharacters {
            let path = try Self.broken(Self.arpa, bad, name: "lm-\(what).arpa")
            #expect { _ = try ArpaLanguageModel(path: path) } throws: { "\($0)".contains("\(path):3: ") }
        }
    }
}
