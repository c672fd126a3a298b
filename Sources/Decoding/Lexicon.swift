import Foundation

/// A character trie over the entries a decoder may produce: single words (for a word loop) or
/// whole phrases with their spaces (for a phrase grammar). Users give entries as plain text at run
/// time; nothing is retrained. Node 0 is the root.
public struct Lexicon: Sendable {
    public struct Node: Sendable {
        /// (label, child node) pairs; a handful per node, so a linear scan beats a dictionary.
        public var children: [(label: Int32, node: Int32)] = []
        /// Index into `entries` when an entry ends here, else -1.
        public var entry: Int32 = -1
    }

    public private(set) var nodes: [Node] = [Node()]
    /// The normalized entries, in the order given (duplicates dropped).
    public private(set) var entries: [String] = []
    /// Labels that can start an entry: the root's children.
    public var firstLabels: [Int32] { nodes[0].children.map(\.label) }

    /// Builds the trie. Every entry is normalized (lowercase, single spaces); one the model cannot
    /// spell is an error that names it and the character. Entries spelled alike (for a phoneme model,
    /// homophones: "two" and "too") are one path: the first of them is the one written.
    public init<S: Sequence>(entries list: S, tokens: TokenSet) throws(TokenError) where S.Element == String {
        for raw in list {
            let text = TokenSet.normalize(raw)
            guard !text.isEmpty else { continue }
            let labels = try tokens.encode(text)
            var n = 0
            for l in labels {
                let label = Int32(l)
                if let c = nodes[n].children.first(where: { $0.label == label }) {
                    n = Int(c.node)
                } else {
                    nodes.append(Node())
                    nodes[n].children.append((label, Int32(nodes.count - 1)))
                    n = nodes.count - 1
                }
            }
            if nodes[n].entry < 0 {
                nodes[n].entry = Int32(entries.count)
                entries.append(text)
            }
        }
    }

    /// The child of `node` along `label`, or nil.
    @inline(__always)
    public func child(_ node: Int32, _ label: Int32) -> Int32? {
        for c in nodes[Int(node)].children where c.label == label { return c.node }
        return nil
    }

    public var isEmpty: Bool { entries.isEmpty }
}

extension Grammar {
    /// Reads a word or phrase list: one entry per line; `#` starts a comment; blank lines skipped.
    /// Errors name the file and line.
    public static func readList(path: String, tokens: TokenSet) throws -> Lexicon {
        var lines: [String] = []
        for raw in try ListError.uncommentedLines(path: path) {
            let line = raw.text
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            do { _ = try tokens.encode(line) } catch {
                throw ListError(path: path, line: raw.number, reason: "\(error)")
            }
            lines.append(line)
        }
        guard !lines.isEmpty else { throw ListError(path: path, line: 0, reason: "has no entries") }
        return try Lexicon(entries: lines, tokens: tokens)
    }
}

public struct ListError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var line: Int
    public var reason: String
    public var description: String { line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)" }

    /// The lines of a word or phrase list (`TextFile`'s rules, no tabs) with everything from `#`
    /// on cut off; blank lines are kept, so each keeps its number. Errors name the file and line.
    static func uncommentedLines(path: String) throws(ListError) -> [TextFile.Line] {
        let file: [TextFile.Line]
        do { file = try TextFile.lines(path: path, tabs: false) } catch {
            throw ListError(path: error.path, line: error.line, reason: error.reason)
        }
        return file.map {
            TextFile.Line(number: $0.number,
                          text: $0.text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "")
        }
    }
}
