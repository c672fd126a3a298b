/// The output classes of a model: index 0 is CTC's blank, the rest are characters (space included):
/// English letters, or any single characters a model was trained on. A phoneme model has one
/// character per phoneme and a `pronunciation`, and `encode` pronounces text before spelling it, so
/// every caller (lists, phrases, keywords, vocabulary, training transcripts) hands it plain words.
/// Text the model cannot spell is an error that names the character or word, so a user who asks for
/// a keyword like "café" learns why instead of getting silence.
public struct TokenSet: Equatable, Sendable {
    public static let blankSymbol = "<blank>"
    /// The model's token strings, as stored in its file; `tokens[0]` is the blank.
    public let tokens: [String]
    private let index: [Character: Int]
    /// `index` for the ASCII characters (-1: not a token), so spelling plain words skips Character.
    private let ascii: [Int16]
    /// How text becomes phonemes, for a phoneme model; nil for a model that spells in letters.
    public let pronunciation: Pronunciation?
    /// For a phoneme model, each token character's espeak-ng phoneme name (`readable`), made once here.
    private let phonemeNames: [Character: String]

    /// Hark's English characters after the blank: space, apostrophe, a–z.
    static let englishCharacters = " 'abcdefghijklmnopqrstuvwxyz"
    /// Hark's English character set: blank, space, apostrophe, a–z.
    public static let english = try! TokenSet(tokens: [blankSymbol] + englishCharacters.map(String.init))

    public init(tokens: [String], pronunciation: Pronunciation? = nil) throws(TokenError) {
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
        var names: [Character: String] = [:]
        if let pronunciation {
            guard index[" "] != nil else { throw .phonemesWithoutSpace }
            for (symbol, c) in pronunciation.phonemes.sorted(by: { $0.key < $1.key }) {
                guard c.count == 1, index[c.first!] != nil, c != " " else { throw .phonemeNotAToken(symbol: symbol, character: c) }
                if names[c.first!] == nil { names[c.first!] = symbol }
            }
        }
        self.pronunciation = pronunciation
        phonemeNames = names
    }

    /// Hark's English phoneme set (espeak-ng en-us, `Pronunciation.english`): blank, space, 59 phonemes.
    public static let englishPhonemes = try! TokenSet(tokens: [blankSymbol] + Pronunciation.englishTokens,
                                                      pronunciation: .english)

    public var count: Int { tokens.count }
    public var blank: Int { 0 }
    /// The label of the word separator, if the set has one.
    public var space: Int? { index[" "] }

    /// Labels for `text` after normalization (lowercase, runs of whitespace as one space, trimmed);
    /// for a phoneme model, each word's phonemes with a space between words.
    public func encode(_ text: String) throws(TokenError) -> [Int] {
        if pronunciation != nil { return try encode(spelled: try spelling(of: text), text: text) }
        return try encode(spelled: Self.normalize(text), text: text)
    }

    /// `text` as the characters the model writes it in: normalized text for a letter model, each
    /// word's phoneme characters (words a space apart) for a phoneme model. The reference a greedy
    /// transcript is scored against.
    public func spelling(of text: String) throws(TokenError) -> String {
        let normal = Self.normalize(text)
        guard let pronunciation else { return normal }
        var words: [String] = []
        for word in normal.split(separator: " ") {
            let spelled = try pronunciation.spell(word: String(word))
            if !spelled.isEmpty { words.append(spelled) }
        }
        return words.joined(separator: " ")
    }

    /// `decode`'s characters as a person reads them: unchanged for letters; for phonemes, espeak-ng's
    /// phoneme names ("bambu: foU@" rather than the token characters).
    public func readable(_ spelled: String) -> String {
        phonemeNames.isEmpty ? spelled : spelled.map { phonemeNames[$0] ?? String($0) }.joined()
    }

    /// Labels for text already in the model's characters.
    private func encode(spelled normal: String, text: String) throws(TokenError) -> [Int] {
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
    case cannotPronounce(word: String, reason: String)
    case phonemesWithoutSpace
    case phonemeNotAToken(symbol: String, character: String)

    public var description: String {
        switch self {
        case .noBlank: "the token set must start with the blank ('<blank>')"
        case let .notACharacter(t): "token '\(t)' is not a single character"
        case let .duplicate(t): "token '\(t)' appears twice"
        case let .cannotPronounce(word, reason): "cannot pronounce '\(word)': \(reason)"
        case .phonemesWithoutSpace: "a phoneme model needs the space token between words"
        case let .phonemeNotAToken(symbol, c): "phoneme '\(symbol)' is written '\(c)', which is not one of the model's tokens"
        case let .cannotSpell(c, text, known):
            known == TokenSet.englishCharacters
                ? "the model cannot spell '\(c)' (in \"\(text)\"); it knows lowercase letters, space and apostrophe"
                : "the model cannot spell '\(c)' (in \"\(text)\"); its tokens are \"\(known)\""
        }
    }
}
