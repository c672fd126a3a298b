import Decoding
import Foundation

/// One utterance of a JSONL manifest (one JSON object per line, as scripts/synth.py writes):
/// `audio` (a path, relative to the manifest's folder unless absolute), `text`, and optionally
/// `category` (digits, commands, words, sentences, ...) for per-category error rates.
public struct ManifestEntry: Equatable, Sendable {
    public var audio: String
    public var text: String
    public var category: String
    /// Where it came from, for messages: "train.jsonl:17".
    public var origin: String
    /// Who speaks it (`speaker`, else `source`, when the manifest says): the clips that one live
    /// stream would hear one after another (`hark eval --warm`).
    public var speaker: String? = nil
}

public enum ManifestError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case badLine(origin: String, reason: String)
    case empty(path: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read manifest '\(path)': \(reason)"
        case let .badLine(origin, reason): "\(origin): \(reason)"
        case let .empty(path): "manifest '\(path)' lists no utterances"
        }
    }
}

public enum Manifest {
    public static func load(_ path: String) throws(ManifestError) -> [ManifestEntry] {
        let lines: [TextFile.Line]
        do { lines = try TextFile.lines(path: path, tabs: true) } catch {
            throw error.line > 0 ? .badLine(origin: "\(URL(fileURLWithPath: path).lastPathComponent):\(error.line)", reason: error.reason)
                : .unreadable(path: path, reason: error.reason)
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        let name = URL(fileURLWithPath: path).lastPathComponent
        var entries: [ManifestEntry] = []
        for line in lines {
            let trimmed = line.text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let origin = "\(name):\(line.number)"
            guard let object = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any] else {
                throw .badLine(origin: origin, reason: "not a JSON object")
            }
            guard let audio = object["audio"] as? String, !audio.isEmpty else {
                throw .badLine(origin: origin, reason: "missing \"audio\"")
            }
            guard let transcript = object["text"] as? String else { throw .badLine(origin: origin, reason: "missing \"text\"") }
            let resolved = audio.hasPrefix("/") ? audio : base.appendingPathComponent(audio).path
            entries.append(ManifestEntry(audio: resolved, text: transcript, category: object["category"] as? String ?? "all",
                                         origin: origin, speaker: object["speaker"] as? String ?? object["source"] as? String))
        }
        guard !entries.isEmpty else { throw .empty(path: path) }
        return entries
    }
}
