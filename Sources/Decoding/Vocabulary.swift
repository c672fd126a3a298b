import Foundation

/// The words a dictation decoder may write: one word per line, most frequent first (Hark's
/// `share/vocab/english-words.txt`), with the user's own words added at run time. Every word must
/// be spellable in the model's tokens; a line that is not is an error naming the file and line,
/// so a vocabulary in the wrong alphabet fails at load, not as words that can never be heard.
public struct Vocabulary: Sendable {
    /// Normalized (lowercase), in file order, without repeats.
    public private(set) var words: [String] = []
    private var known: Set<String> = []

    public init() {}

    /// Reads a word list: one word per line; `#` starts a comment; blank lines are skipped.
    public init(path: String, tokens: TokenSet) throws(ListError) {
        try add(path: path, tokens: tokens)
        guard !words.isEmpty else { throw ListError(path: path, line: 0, reason: "has no words") }
    }

    /// Adds the words of another list (a user's names and jargon); words already known are kept once.
    public mutating func add(path: String, tokens: TokenSet) throws(ListError) {
        if let fast = Self.plainWords(path: path, tokens: tokens) {
            for word in fast where known.insert(word).inserted { words.append(word) }
            return
        }
        for raw in try ListError.uncommentedLines(path: path) {
            let word = TokenSet.normalize(raw.text)
            guard !word.isEmpty else { continue }
            guard !word.contains(" ") else {
                throw ListError(path: path, line: raw.number, reason: "has more than one word (\"\(word)\"); give one word per line")
            }
            do { _ = try tokens.encode(word) } catch { throw ListError(path: path, line: raw.number, reason: "\(error)") }
            if known.insert(word).inserted { words.append(word) }
        }
    }

    /// The words of a file whose every line is one word already in normal form (lowercase, no
    /// spaces or comments, LF or CRLF) and spelled only in ASCII tokens, as `scripts/build-lm`
    /// writes the shipped list: read straight from the bytes, since the general path below costs
    /// a third of a second on 64 000 words. Nil for any other file, which that path then reads.
    static func plainWords(path: String, tokens: TokenSet) -> [String]? {
        var allowed = [Bool](repeating: false, count: 256)
        for t in tokens.tokens.dropFirst() {
            guard let c = t.unicodeScalars.first, c.isASCII, c != " ", c != "#", !("A"..."Z").contains(c) else { continue }
            allowed[Int(c.value)] = true
        }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var out: [String] = []
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [String]? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 10 { end += 1 }
                var last = end
                if last > start, end < bytes.count, bytes[last - 1] == 13 { last -= 1 }      // CRLF
                guard last > start else { return nil }                     // blank lines: the general path
                for i in start..<last where !allowed[Int(bytes[i])] { return nil }
                out.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<last]), as: UTF8.self))
                start = end + 1
            }
            return out
        }
    }

    public var count: Int { words.count }
    public func contains(_ word: String) -> Bool { known.contains(word) }

    /// The prefix tree a decoder walks, one entry per word.
    public func lexicon(tokens: TokenSet) throws(TokenError) -> Lexicon { try Lexicon(entries: words, tokens: tokens) }
}
