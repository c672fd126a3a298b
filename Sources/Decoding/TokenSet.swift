/// The output classes of a character model: index 0 is CTC's blank, the rest are characters
/// (space included): English letters, or any single characters a model was trained on (one per
/// phoneme, say). Text the model cannot spell is an error that names the character, so a user
/// who asks for a keyword like "café" learns why instead of getting silence.
public struct TokenSet: Equatable, Sendable {
    public static let blankSymbol = "<blank>"
    /// The model's token strings, as stored in its file; `tokens[0]` is the blank.
    public let tokens: [String]
    private let index: [Character: Int]

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
    }

    public var count: Int { tokens.count }
    public var blank: Int { 0 }
    /// The label of the word separator, if the set has one.
    public var space: Int? { index[" "] }

    /// Labels for `text` after normalization (lowercase, runs of whitespace as one space, trimmed).
    public func encode(_ text: String) throws(TokenError) -> [Int] {
        var labels: [Int] = []
        for c in Self.normalize(text) {
            guard let i = index[c] else { throw .cannotSpell(character: c, text: text, known: String(tokens.dropFirst().joined())) }
            labels.append(i)
        }
        return labels
    }

    public func decode(_ labels: [Int]) -> String {
        String(labels.compactMap { $0 > 0 && $0 < tokens.count ? tokens[$0].first : nil })
    }

    public static func normalize(_ text: String) -> String {
        text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
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
