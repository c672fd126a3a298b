import Foundation

/// The lines of a text file Hark reads: word and phrase lists, ARPA language models, manifests,
/// phrase times. One reader, so every format accepts the same files:
/// - UTF-8, with a byte-order mark at the start ignored (Notepad writes one);
/// - lines end with LF or CRLF (Windows), and a last line may lack its end;
/// - any other control character (a carriage return alone, NUL, and a tab where the format has
///   no use for one) is an error that names the file and the line, instead of an entry that
///   silently never matches.
public enum TextFile {
    public struct Line: Equatable, Sendable {
        /// 1-based, as editors count.
        public let number: Int
        public let text: String
    }

    /// Reads `path`; `tabs` says whether the format uses tabs (ARPA and times files separate
    /// fields with them; in a word list a tab is a mistake).
    public static func lines(path: String, tabs: Bool) throws(TextFileError) -> [Line] {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw TextFileError(path: path, line: 0, reason: "is a folder, not a text file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = stat(path, &st) == 0 ? "cannot be read (\(String(cString: strerror(EACCES))))" : "does not exist"
            throw TextFileError(path: path, line: 0, reason: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TextFileError(path: path, line: 0, reason: "is not UTF-8 text")
        }
        return try lines(text: text, name: path, tabs: tabs)
    }

    /// The lines of `text` (named `name` in errors), by the rules above.
    public static func lines(text: String, name: String, tabs: Bool) throws(TextFileError) -> [Line] {
        var out: [Line] = []
        var current = String.UnicodeScalarView()
        var number = 1
        var pendingCR = false
        func fail(_ reason: String) -> TextFileError { TextFileError(path: name, line: number, reason: reason) }
        var scalars = text.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        for s in scalars {
            if pendingCR && s != "\n" { throw fail("has a carriage return (CR) that does not end the line") }
            pendingCR = false
            switch s {
            case "\n":
                out.append(Line(number: number, text: String(current)))
                current = String.UnicodeScalarView()
                number += 1
            case "\r": pendingCR = true
            case "\t" where tabs: current.append(s)
            case "\t": throw fail("has a tab; give one entry per line, with spaces between its words")
            default:
                if s.properties.generalCategory == .control {
                    throw fail("has the control character U+\(String(s.value, radix: 16, uppercase: true).leftPadded(to: 4))")
                }
                current.append(s)
            }
        }
        if pendingCR { throw fail("has a carriage return (CR) that does not end the line") }
        if !current.isEmpty { out.append(Line(number: number, text: String(current))) }
        return out
    }
}

/// A text file that cannot be read, or a line in it that breaks the rules of `TextFile`.
public struct TextFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public var path: String
    /// 0 for the file as a whole.
    public var line: Int
    public var reason: String
    public var description: String { line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)" }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
