/// What the beam search may produce: rules it is given, not cases it switches on. A prefix of the
/// search carries a grammar state (`Int32`; 0 at the start of the utterance and of each word), and
/// the rules say where a label takes it, which lexicon entry a label completes (for the language
/// model to score), and whether a prefix may end there. A new kind of grammar is a new type
/// adopting `GrammarRules`; the search does not change.
public protocol GrammarRules: Sendable {
    /// The state after `label` follows a prefix in `state` whose last label is `previous` (-1 at
    /// the start of the utterance), and the lexicon entry the label completes (a space after a
    /// whole word), or nil when the grammar forbids the label there. `space` is the token set's
    /// space label (-1 when it has none).
    func extend(_ state: Int32, label: Int32, previous: Int32, space: Int32) -> (state: Int32, completes: Int32?)?
    /// Whether a prefix in `state` may end the utterance.
    func ending(_ state: Int32) -> GrammarEnding
    /// The lexicon's entries in entry order, for a language model to score the words they
    /// complete; empty when the grammar completes no entries.
    var words: [String] { get }
    /// A closed list of phrases that the search scores exactly at the end of the utterance, every
    /// one of them, instead of picking the best surviving prefix; empty for other grammars.
    var phrases: [String] { get }
    /// Whether every prefix may end where it is (no word can be left unfinished): the partial
    /// result is then the best prefix as it is.
    var everyPrefixEnds: Bool { get }
}

/// Whether a prefix may end the utterance where it is.
public enum GrammarEnding: Equatable, Sendable {
    /// No: it is inside a word or phrase.
    case forbidden
    /// Yes, as it is.
    case complete
    /// Yes, and ending completes this lexicon entry (its last word has no space after it).
    case completes(Int32)
}

/// What the beam search may produce: a value holding the rules (`GrammarRules`).
public struct Grammar: Sendable {
    public let rules: any GrammarRules

    public init(_ rules: any GrammarRules) { self.rules = rules }

    /// Any character sequence (no doubled or leading spaces).
    public static let open = Grammar(OpenGrammar())
    /// Words of the lexicon separated by spaces, any number, in any order (digit strings,
    /// dictation over a known vocabulary). Words may be scored by an n-gram language model.
    public static func words(_ lexicon: Lexicon) -> Grammar { Grammar(WordLoopGrammar(lexicon: lexicon)) }
    /// Exactly one entry of the lexicon: a list of commands or phrases.
    public static func phrases(_ lexicon: Lexicon) -> Grammar { Grammar(PhraseListGrammar(lexicon: lexicon)) }
}

/// Any character sequence without doubled or leading spaces.
public struct OpenGrammar: GrammarRules {
    public init() {}
    public func extend(_ state: Int32, label: Int32, previous: Int32, space: Int32) -> (state: Int32, completes: Int32?)? {
        if label == space && (previous == space || previous < 0) { return nil }
        return (0, nil)
    }
    public func ending(_ state: Int32) -> GrammarEnding { .complete }
    public var words: [String] { [] }
    public var phrases: [String] { [] }
    public var everyPrefixEnds: Bool { true }
}

/// Words of a lexicon separated by single spaces, any number of them; the state is the lexicon
/// node inside the current word.
public struct WordLoopGrammar: GrammarRules {
    public let lexicon: Lexicon
    public init(lexicon: Lexicon) { self.lexicon = lexicon }

    public func extend(_ state: Int32, label: Int32, previous: Int32, space: Int32) -> (state: Int32, completes: Int32?)? {
        if label == space {
            let entry = lexicon.nodes[Int(state)].entry
            guard state != 0, entry >= 0 else { return nil }
            return (0, entry)
        }
        guard let next = lexicon.child(state, label) else { return nil }
        return (next, nil)
    }

    public func ending(_ state: Int32) -> GrammarEnding {
        if state == 0 { return .complete }
        let entry = lexicon.nodes[Int(state)].entry
        return entry >= 0 ? .completes(entry) : .forbidden
    }

    public var words: [String] { lexicon.entries }
    public var phrases: [String] { [] }
    public var everyPrefixEnds: Bool { false }
}

/// Exactly one entry of a lexicon of phrases (spaces included); the state is the lexicon node.
public struct PhraseListGrammar: GrammarRules {
    public let lexicon: Lexicon
    public init(lexicon: Lexicon) { self.lexicon = lexicon }

    public func extend(_ state: Int32, label: Int32, previous: Int32, space: Int32) -> (state: Int32, completes: Int32?)? {
        lexicon.child(state, label).map { ($0, nil) }
    }

    public func ending(_ state: Int32) -> GrammarEnding {
        state == 0 || lexicon.nodes[Int(state)].entry >= 0 ? .complete : .forbidden
    }

    public var words: [String] { [] }
    public var phrases: [String] { lexicon.entries }
    public var everyPrefixEnds: Bool { false }
}
