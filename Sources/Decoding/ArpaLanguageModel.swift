import Foundation

/// A word n-gram language model read from an ARPA file, the text format every LM toolkit writes
/// (SRILM, KenLM's `lmplz`, MITLM, CMU-Cambridge). Scores use Katz back-off:
/// P(w | h) = P*(w | h) if the n-gram is listed, else backoff(h) · P(w | h minus its oldest word).
/// Probabilities are returned as natural logarithms (the file stores log10).
public struct ArpaLanguageModel: Sendable {
    public let order: Int
    /// Word → id; `<s>`, `</s>` and `<unk>` are ordinary entries when the file lists them.
    public let vocabulary: [String: Int32]
    /// Every n-gram by its word ids (read by `CompactLanguageModel(arpa:)`).
    let grams: [[Int32]: (logProb: Float, backoff: Float)]
    public let sentenceStart: Int32?
    public let sentenceEnd: Int32?
    private let unknown: Int32?
    /// Log-probability of a word the model does not know and that has no `<unk>`: ln 10^-10.
    public static let unknownFloor: Float = -10 * Float(M_LN10)

    public init(path: String) throws(ArpaError) {
        let lines: [TextFile.Line]
        do { lines = try TextFile.lines(path: path, tabs: true) } catch {
            throw ArpaError(path: error.path, line: error.line, reason: error.reason)
        }
        try self.init(lines: lines, name: path)
    }

    public init(text: String, name: String = "<arpa>") throws(ArpaError) {
        let lines: [TextFile.Line]
        do { lines = try TextFile.lines(text: text, name: name, tabs: true) } catch {
            throw ArpaError(path: error.path, line: error.line, reason: error.reason)
        }
        try self.init(lines: lines, name: name)
    }

    private init(lines: [TextFile.Line], name: String) throws(ArpaError) {
        var counts: [Int: Int] = [:]
        var vocabulary: [String: Int32] = [:]
        var grams: [[Int32]: (Float, Float)] = [:]
        var section = -1          // -1 before \data\, 0 in \data\, n in \n-grams:
        var sawEnd = false
        var lineNumber = 0
        func fail(_ reason: String) -> ArpaError { ArpaError(path: name, line: lineNumber, reason: reason) }
        for raw in lines {
            lineNumber = raw.number
            let line = raw.text.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line == "\\data\\" { section = 0; continue }
            if line == "\\end\\" { sawEnd = true; break }
            if line.hasPrefix("\\") && line.hasSuffix("-grams:") {
                guard section >= 0, let n = Int(line.dropFirst().dropLast(7)), n >= 1, counts[n] != nil else {
                    throw fail("unexpected section header '\(line)'")
                }
                section = n
                continue
            }
            switch section {
            case -1: continue                                   // text before \data\ is allowed
            case 0:
                guard line.hasPrefix("ngram "), let eq = line.firstIndex(of: "="),
                      let n = Int(line[line.index(line.startIndex, offsetBy: 6)..<eq].trimmingCharacters(in: .whitespaces)),
                      let c = Int(line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)), n >= 1, c >= 0 else {
                    throw fail("expected 'ngram N=COUNT' in \\data\\, found '\(line)'")
                }
                counts[n] = c
            default:
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                let n = section
                guard fields.count == n + 1 || fields.count == n + 2, let lp = Float(fields[0]), lp.isFinite || lp == -.infinity else {
                    throw fail("expected 'log10prob' and \(n) word(s)\(n < (counts.keys.max() ?? 0) ? " and an optional back-off" : "")")
                }
                guard lp <= 0 else { throw fail("log10 probability \(fields[0]) is above 0 (a probability over 1)") }
                var backoff: Float = 0
                if fields.count == n + 2 {
                    guard let b = Float(fields[n + 1]), b.isFinite else { throw fail("back-off weight '\(fields[n + 1])' is not a number") }
                    backoff = b
                }
                var key: [Int32] = []
                key.reserveCapacity(n)
                for w in fields[1...n] {
                    let word = String(w)
                    if let id = vocabulary[word] {
                        key.append(id)
                    } else {
                        guard n == 1 else { throw fail("word '\(word)' of a \(n)-gram is not among the unigrams") }
                        let id = Int32(vocabulary.count)
                        vocabulary[word] = id
                        key.append(id)
                    }
                }
                grams[key] = (lp * Float(M_LN10), backoff * Float(M_LN10))
            }
        }
        guard section >= 0 else { throw ArpaError(path: name, line: 0, reason: "has no \\data\\ section; not an ARPA file") }
        guard sawEnd else { throw ArpaError(path: name, line: lineNumber, reason: "ends without \\end\\ (truncated?)") }
        guard let order = counts.keys.max(), counts[1] ?? 0 > 0 else {
            throw ArpaError(path: name, line: 0, reason: "declares no unigrams")
        }
        for n in 1...order {
            let found = grams.keys.lazy.filter { $0.count == n }.count
            guard found == counts[n] ?? 0 else {
                throw ArpaError(path: name, line: 0, reason: "\\data\\ declares \(counts[n] ?? 0) \(n)-grams but the file lists \(found)")
            }
        }
        self.order = order
        self.vocabulary = vocabulary
        self.grams = grams
        sentenceStart = vocabulary["<s>"]
        sentenceEnd = vocabulary["</s>"]
        unknown = vocabulary["<unk>"]
    }

    public func id(of word: String) -> Int32? { vocabulary[word] ?? unknown }

    /// ln P(word | context), context oldest first (only its last `order − 1` words matter).
    /// A word the model does not know scores `<unk>` or `unknownFloor`.
    public func logProb(_ word: Int32?, context: ArraySlice<Int32>) -> Float {
        guard let word else { return Self.unknownFloor }
        var ctx = context.suffix(order - 1)
        var backoff: Float = 0
        while true {
            if let g = grams[Array(ctx) + [word]] { return backoff + g.logProb }
            if ctx.isEmpty { return Self.unknownFloor }
            backoff += grams[Array(ctx)]?.backoff ?? 0
            ctx = ctx.dropFirst()
        }
    }
}

public struct ArpaError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var line: Int
    public var reason: String
    public var description: String {
        line > 0 ? "language model \(path):\(line): \(reason)" : "language model \(path): \(reason)"
    }
}
