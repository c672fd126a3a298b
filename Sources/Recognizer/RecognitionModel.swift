import Cells
import Decoding
import Foundation
import Stream

/// Everything a recognizer needs from a model file: the network, its token set and the exact
/// front-end settings it was trained with. Immutable and shared by every stream.
public struct RecognitionModel: @unchecked Sendable {
    public let path: String
    public let network: Network<Float>
    public let tokens: TokenSet
    public let features: LogMelConfig
    /// The front end those settings describe, validated and planned once here (the FFT plan, the
    /// mel matrix) and shared by every stream of this model.
    public let frontEnd: LogMelSpectrogram
    /// Keyword thresholds tuned by `hark adapt` or `hark model threshold` (keyword text →
    /// threshold), used when none is given.
    public let keywordThresholds: [String: Float]
    /// The scoring each tuned keyword's threshold is for (`keyword_scoring`; a keyword without one,
    /// as in files from before it was stored, scores by ratio).
    public let keywordScoring: [String: KeywordSpotter.Scoring]
    /// The 8-bit copies of the recurrent weights that the default streaming step reads, made once
    /// here (about 3 ms) and shared by every stream of this model.
    public let int8Weights: Int8NetworkWeights

    /// Loads a model file; every problem is an error that names the file and what is wrong.
    public init(path: String) throws {
        try self.init(file: try ModelFile.load(path: path), path: path)
    }

    /// Checks a loaded model file as a recognition model: the one validation every command that
    /// opens a model goes through (`hark model info` included), so a file that one command accepts
    /// is one that recognition can run.
    public init(file: ModelFile, path: String) throws {
        guard file.network.config.outputSize > 0 else {
            throw RecognizerError.badModel(path: path, reason: "has no output layer; it is not a recognition model")
        }
        let pronunciation: Pronunciation?
        do {
            pronunciation = try file.extra["pronunciation"].map { try JSONDecoder().decode(Pronunciation.self, from: Data($0.utf8)) }
        } catch let error as DecodingError {
            throw RecognizerError.badModel(path: path, reason: "pronunciation: \(Self.describe(error))")
        }
        if let pronunciation, pronunciation.engine != "espeak-ng" {
            throw RecognizerError.badModel(path: path, reason: "pronunciation: engine '\(pronunciation.engine)' is unknown (Hark pronounces with espeak-ng)")
        }
        let tokens: TokenSet
        do { tokens = try TokenSet(tokens: file.tokens, pronunciation: pronunciation) } catch {
            throw RecognizerError.badModel(path: path, reason: "token list: \(error)")
        }
        guard tokens.count == file.network.config.outputSize else {
            throw RecognizerError.badModel(path: path, reason: "\(tokens.count) tokens for \(file.network.config.outputSize) outputs")
        }
        /// A JSON metadata field, absent → `fallback`; unreadable → an error naming the file and `field`.
        func metadata<T: Decodable>(_ json: String?, _ field: String, else fallback: T) throws -> T {
            guard let json else { return fallback }
            do { return try JSONDecoder().decode(T.self, from: Data(json.utf8)) } catch let error as DecodingError {
                throw RecognizerError.badModel(path: path, reason: "\(field): \(Self.describe(error))")
            } catch {
                throw RecognizerError.badModel(path: path, reason: "\(field): \(error)")
            }
        }
        let features = try metadata(file.features, "front-end settings", else: LogMelConfig())
        let frontEnd: LogMelSpectrogram
        do { frontEnd = try LogMelSpectrogram(features) } catch {
            throw RecognizerError.badModel(path: path, reason: "front-end settings: \(error)")
        }
        guard features.melBands == file.network.config.inputSize else {
            throw RecognizerError.badModel(path: path, reason: "front end gives \(features.melBands) bands, network takes \(file.network.config.inputSize)")
        }
        keywordThresholds = try metadata(file.extra["keyword_thresholds"], "keyword_thresholds", else: [:])
        keywordScoring = try metadata(file.extra["keyword_scoring"], "keyword_scoring", else: [:])
        // A stored threshold outside (0, 1] could never fire (or would fire on everything).
        if let (text, t) = keywordThresholds.sorted(by: { $0.key < $1.key }).first(where: { !($0.value > 0 && $0.value <= 1) }) {
            throw RecognizerError.badModel(path: path, reason: "keyword_thresholds: '\(text)' has threshold \(t); a threshold is a score in (0, 1]")
        }
        self.path = path
        network = file.network
        int8Weights = Int8NetworkWeights(file.network)
        self.tokens = tokens
        self.features = features
        self.frontEnd = frontEnd
    }

    /// A JSON metadata field's decoding failure in words: which key, what was expected.
    static func describe(_ error: DecodingError) -> String {
        func at(_ c: DecodingError.Context) -> String {
            c.codingPath.isEmpty ? "" : " at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        }
        switch error {
        case let .typeMismatch(type, c), let .valueNotFound(type, c): return "expected \(type)\(at(c))"
        case let .keyNotFound(key, c): return "missing '\(key.stringValue)'\(at(c))"
        case let .dataCorrupted(c): return c.codingPath.isEmpty ? "is not valid JSON" : "bad value\(at(c))"
        @unknown default: return "\(error)"
        }
    }

    /// `text` as a keyword, with the threshold given, else the one tuned for it in this file, else
    /// the default; and with the scoring tuned for it (ratio if none was).
    public func keyword(_ text: String, threshold: Float? = nil) -> Keyword {
        let normalized = TokenSet.normalize(text)
        return Keyword(normalized, threshold: threshold ?? keywordThresholds[normalized] ?? KeywordSpotter.defaultThreshold,
                       scoring: keywordScoring[normalized] ?? .ratio)
    }

    /// Seconds of audio per network step (hop × stride).
    public var stepSeconds: Double {
        Double(features.hopLength * network.config.stride) / Double(features.sampleRate)
    }

    /// The model at `defaultPath()`.
    public static func shipped() throws -> RecognitionModel { try RecognitionModel(path: try defaultPath()) }

    /// The shipped model, found without configuration: `$HARK_MODEL` if set, else, in the running
    /// executable's folder or one above it, `share/model.safetensors` (a source checkout's
    /// `.build/release/hark` finds the repository's) or `share/hark/model.safetensors` (an
    /// installed `PREFIX/bin/hark` finds `PREFIX/share/hark`, see scripts/install), else
    /// `/usr/local/share/hark/model.safetensors`.
    public static func defaultPath() throws -> String {
        if let env = ProcessInfo.processInfo.environment["HARK_MODEL"], !env.isEmpty { return env }
        let found = shippedFile("model.safetensors")
        guard let path = found.path else { throw RecognizerError.noModel(tried: found.tried) }
        return path
    }

    /// A file Hark ships (`relative` to its share folder), found as the model is: in the running
    /// executable's folder or one of the five above it, `share/<relative>` or `share/hark/<relative>`,
    /// else `/usr/local/share/hark/<relative>`. The path, or nil and every place looked at.
    static func shippedFile(_ relative: String) -> (path: String?, tried: [String]) {
        var dir = executable().deletingLastPathComponent()
        var tried: [String] = []
        for _ in 0..<6 {
            for share in ["share/", "share/hark/"] {
                let candidate = dir.appendingPathComponent(share + relative).path
                if FileManager.default.fileExists(atPath: candidate) { return (candidate, tried) }
                tried.append(candidate)
            }
            dir.deleteLastPathComponent()
        }
        let system = "/usr/local/share/hark/" + relative
        if FileManager.default.fileExists(atPath: system) { return (system, tried) }
        return (nil, tried + [system])
    }

    /// The running executable's real path. `argv[0]` is only "hark" when the shell found it on
    /// the PATH, so Linux's /proc/self/exe comes first.
    static func executable() -> URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    }
}

public enum RecognizerError: Error, CustomStringConvertible, Equatable {
    case badModel(path: String, reason: String)
    case noModel(tried: [String])
    /// A forced alignment that cannot be made (`WordAlignment`).
    case alignment(String)
    /// Dictation's vocabulary or language model cannot be used.
    case dictation(String)

    public var description: String {
        switch self {
        case let .alignment(reason): "cannot align the transcript: \(reason)"
        case let .dictation(reason): "dictation: \(reason)"
        case let .badModel(path, reason): "model '\(path)' \(reason)"
        case let .noModel(tried): "no model given and the shipped one was not found (looked at \(tried.joined(separator: ", "))); pass --model or set HARK_MODEL"
        }
    }
}
