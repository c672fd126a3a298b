/// The output classes of a character model: index 0 is CTC's blank, the rest are characters
/// (space included): English letters, or any single characters a model was trained on (one per
/// phoneme, say). Text the model cannot spell is an error that names the character, so a user
/// who asks for a keyword like "café" learns why instead of getting silence.
public struct TokenSet: Equatable, Sendable {
    public static let blankSymbol = "<blank>"
    /// The model's token strings, as stored in its file; `tokens[0]` is the blank.
    public let tokens: [String]
    private let index: [Character: Int]
    /// `index` for the ASCII characters (-1: not a token), so spelling plain words skips Character.
    private let ascii: [Int16]

    /// Hark's English characters after the blank: space, apostrophe, a–z.
    static let englishCharacters = " 'abcdefghijklmnopqrstuvwxyz"
    /// Hark's English character set: blank, space, apostrophe, a–z.
    public static let english = try! TokenSet(tokens: [blankSymbol] + englishCharacters.map(String.init))

    public init(tokens: [String]) throws(TokenError) {
        guard tokens.first == Self.blankSymbol || tokens.first == "_" else { throw .noBlank }
        var index: [Character: Int] = [:]
        for (i, t) in tokens.enumerated().dropFirst() {
            guard t.count == 1, let c = t.first else { throw .notACharacter(t) }
            guard index[c] == nil else { throw .duplicate(t) }
            index[c] = i
        }
        self.tokens = tokens
        self.index = index
        var ascii = [Int16](repeating: -1, count: 128)
        for (c, i) in index where c.isASCII { ascii[Int(c.asciiValue!)] = Int16(i) }
        self.ascii = ascii
    }

    public var count: Int { tokens.count }
    public var blank: Int { 0 }
    /// The label of the word separator, if the set has one.
    public var space: Int? { index[" "] }

    /// Labels for `text` after normalization (lowercase, runs of whitespace as one space, trimmed).
    public func encode(_ text: String) throws(TokenError) -> [Int] {
        let normal = Self.normalize(text)
        var labels: [Int] = []
        labels.reserveCapacity(normal.utf8.count)
        for b in normal.utf8 {
            guard b < 128, ascii[Int(b)] >= 0 else { labels.removeAll(); break }
            labels.append(Int(ascii[Int(b)]))
        }
        if labels.count == normal.utf8.count { return labels }
        for c in normal {
            guard let i = index[c] else { throw .cannotSpell(character: c, text: text, known: String(tokens.dropFirst().joined())) }
            labels.append(i)
        }
        return labels
    }

    public func decode(_ labels: [Int]) -> String {
        String(labels.compactMap { $0 > 0 && $0 < tokens.count ? tokens[$0].first : nil })
    }

    public static func normalize(_ text: String) -> String {
        // Text already in normal form (ASCII without capitals or whitespace) is returned as is:
        // vocabularies of 64 000 words pass through here twice per word at load.
        if text.utf8.allSatisfy({ $0 > 32 && $0 < 127 && !(65...90).contains($0) }) { return text }
        return text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}

public enum TokenError: Error, Equatable, CustomStringConvertible, Sendable {
    case noBlank
    case notACharacter(String)
    case duplicate(String)
    case cannotSpell(character: Character, text: String, known: String)

    public var description: String {
        switch self {
        case .noBlank: "the token set must start with the blank ('<blank>')"
        case let .notACharacter(t): "token '\(t)' is not a single character"
        case let .duplicate(t): "token '\(t)' appears twice"
        case let .cannotSpell(c, text, known):
            known == TokenSet.englishCharacters
                ? "the model cannot spell '\(c)' (in \"\(text)\"); it knows lowercase letters, space and apostrophe"
                : "the model cannot spell '\(c)' (in \"\(text)\"); its tokens are \"\(known)\""
        }
    }
}
