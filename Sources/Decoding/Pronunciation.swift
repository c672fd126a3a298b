internal import CEspeak
import Foundation
import Synchronization

/// How a phoneme model spells text: each word as espeak-ng pronounces it in `voice`, its allophones
/// folded together and each phoneme written as one token character. A model trained on
/// phonemes stores this in its file (`pronunciation`), so word lists, phrases, keywords and the
/// dictation vocabulary stay plain text: they are pronounced here, at run time, exactly as the
/// training transcripts were.
///
/// Words are pronounced one by one, each as its own clause (a word's pronunciation does not depend on
/// its neighbours), so a word in a list and the same word in a transcript always agree.
public struct Pronunciation: Codable, Equatable, Hashable, Sendable {
    /// The pronouncing engine; "espeak-ng" is the only one.
    public var engine: String
    /// The espeak-ng voice whose rules and dictionary pronounce the words ("en-us").
    public var voice: String
    /// espeak-ng phoneme name (ASCII, stress marks removed) → the model's token character.
    public var phonemes: [String: String]
    /// espeak-ng allophones and variants → the phoneme they are folded into ("" drops the symbol).
    public var fold: [String: String]

    public init(engine: String = "espeak-ng", voice: String, phonemes: [String: String], fold: [String: String]) {
        self.engine = engine
        self.voice = voice
        self.phonemes = phonemes
        self.fold = fold
    }

    /// Hark's English phonemes: espeak-ng en-us folded to 59 phonemes, written as the characters
    /// `scripts/phonemize.py` gives them (a–z, then IPA letters, then digits, most frequent first), so
    /// models trained from its manifests and from `hark train --spelling phonemes` agree.
    public static let english = Pronunciation(
        voice: "en-us",
        phonemes: Dictionary(uniqueKeysWithValues: zip(englishOrder, englishCharacters.map(String.init))),
        fold: ["@2": "@", "@5": "@", "@-": "@", "I#": "I", "I2": "I", "t#": "t", "t2": "t", "?": "t", "i@3": "i@",
               "aI3": "aI@", "a#": "a", "aa": "a", "O2": "0", "r-": "r", "n-": "n", "o": "oU", "A~": "A:", "O~": "0",
               "_": "", "_:": "", "_!": "", "_|": "", ";": ""])
    /// The espeak-ng symbols of `english`: the 51 of corpus14's transcripts, most frequent first, then
    /// the 8 that only other English words use (93 752 words of the shipped vocabulary and
    /// `wamerican`), in code-point order, as `scripts/phonemize.py` orders them.
    static let englishOrder: [String] = [
        "n", "t", "s", "I", "r", "@", "k", "aI", "v", "f", "d", "z", "u:", "E", "eI", "l", "V", "w", "oU",
        "m", "i:", "a", "p", "D", "o@", "3", "b", "i@", "T", "0", "j", "i", "N", "S", "3:", "g", "h", "@L",
        "O@", "dZ", "tS", "A@", "O:", "aU", "e@", "U", "U@", "aI@", "Z", "OI", "A:", "C", "O", "a#:", "a:",
        "e", "i::", "l#", "x"
    ]
    static let englishCharacters = Array("abcdefghijklmnopqrstuvwxyzæðŋɑɐɒɔəɛɜɪʊʌʃʒθɹɾʔçɣɫɬɲʎʝ0123456789").prefix(englishOrder.count)

    /// The token strings of a model that spells in `english`, after the blank: space, then one
    /// character per phoneme, most frequent first.
    public static var englishTokens: [String] { [" "] + englishCharacters.map(String.init) }

    /// The token characters for one word (already normalized: lowercase, no spaces); empty for a
    /// "word" espeak-ng does not pronounce (a lone apostrophe). A phoneme this table has no
    /// character for is an error that names the word and the phoneme.
    public func spell(word: String) throws(TokenError) -> String {
        let symbols: [String]
        do { symbols = try Espeak.shared.phonemes(of: word, voice: voice) } catch {
            throw .cannotPronounce(word: word, reason: error.description)
        }
        var out = ""
        for raw in symbols {
            let symbol = fold[raw] ?? raw
            guard !symbol.isEmpty else { continue }
            guard let c = phonemes[symbol] else {
                throw .cannotPronounce(word: word, reason: "espeak-ng's \(voice) phoneme '\(symbol)' is not one of the model's")
            }
            out += c
        }
        return out
    }

}

/// espeak-ng as a pronouncing dictionary: one process-wide engine (the library keeps global state),
/// behind a lock, with every word it has pronounced remembered, since vocabularies and training
/// transcripts repeat words. What it pronounced is also kept on disk (`saveCache`), so a 64 000-word
/// vocabulary costs its 2 s of espeak-ng once per machine, not at every start.
final class Espeak: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let shared = Espeak()

    private struct State {
        var ready: Result<Void, Failure>?
        var voice = ""
        /// voice → word → its phoneme names.
        var cache: [String: [String: [String]]] = [:]
        /// Voices whose file cache has been read, and words pronounced since (to be saved).
        var loaded: Set<String> = []
        var unsaved = 0
        /// The espeak-ng version and its data's dictionary (size, time): a cache made by another is stale.
        var identity = ""
    }
    private let state = Mutex(State())

    /// espeak-ng's phoneme names for `word` (stress marks removed) in `voice`.
    func phonemes(of word: String, voice: String) throws(Failure) -> [String] {
        let result: Result<[String], Failure> = state.withLock { s in
            if let hit = s.cache[voice]?[word] { return .success(hit) }
            if s.ready == nil { s.ready = Self.start(&s) }
            if case let .failure(f)? = s.ready { return .failure(f) }
            if !s.loaded.contains(voice) {
                s.loaded.insert(voice)
                Self.readCache(voice: voice, into: &s)
                if let hit = s.cache[voice]?[word] { return .success(hit) }
            }
            if s.voice != voice {
                guard espeak_SetVoiceByName(voice) == EE_OK else {
                    return .failure(Failure(description: "espeak-ng has no voice '\(voice)'"))
                }
                s.voice = voice
            }
            var symbols: [String] = []
            word.withCString { text in
                var pointer: UnsafeRawPointer? = UnsafeRawPointer(text)
                // Phoneme names separated by spaces (bits 8–23 of the mode), clause by clause.
                while pointer != nil {
                    guard let out = espeak_TextToPhonemes(&pointer, espeakCHARS_UTF8, Int32(UInt8(ascii: " ")) << 8) else { break }
                    for name in String(cString: out).split(separator: " ") {
                        let bare = name.filter { $0 != "'" && $0 != "," }
                        if !bare.isEmpty { symbols.append(bare) }
                    }
                }
            }
            s.cache[voice, default: [:]][word] = symbols
            s.unsaved += 1
            return .success(symbols)
        }
        return try result.get()
    }

    /// Starts the engine (no audio: DONT_EXIT makes a missing data folder an error code, not exit()).
    private static func start(_ s: inout State) -> Result<Void, Failure> {
        guard espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nil, Int32(espeakINITIALIZE_DONT_EXIT)) > 0 else {
            return .failure(Failure(description: "espeak-ng did not start (is espeak-ng-data installed?)"))
        }
        var data: UnsafePointer<CChar>? = nil
        let version = espeak_Info(&data).map { String(cString: $0) } ?? "?"
        var st = stat()
        let dictionary = data.map { String(cString: $0) + "/en_dict" } ?? ""
        let stamp = stat(dictionary, &st) == 0 ? "\(st.st_size) \(st.st_mtim.tv_sec)" : "-"
        s.identity = "espeak-ng \(version) en_dict \(stamp)"
        return .success(())
    }

    /// The cache file for `voice`: `$HARK_CACHE_DIR`, else `$XDG_CACHE_HOME/hark`, else `~/.cache/hark`.
    private static func cachePath(voice: String) -> String? {
        let env = ProcessInfo.processInfo.environment
        let dir: String
        if let d = env["HARK_CACHE_DIR"], !d.isEmpty { dir = d }
        else if let x = env["XDG_CACHE_HOME"], !x.isEmpty { dir = x + "/hark" }
        else if let h = env["HOME"], !h.isEmpty { dir = h + "/.cache/hark" }
        else { return nil }
        return dir + "/pronunciations-\(voice.filter { $0.isLetter || $0.isNumber || $0 == "-" }).tsv"
    }

    /// Reads the file cache (its first line is the espeak-ng identity; a file from another is ignored).
    private static func readCache(voice: String, into s: inout State) {
        guard let path = cachePath(voice: voice), let data = FileManager.default.contents(atPath: path) else { return }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map(String.init) == "# " + s.identity else { return }
        for line in lines.dropFirst() {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            s.cache[voice, default: [:]][String(line[..<tab])] = line[line.index(after: tab)...].split(separator: " ").map(String.init)
        }
    }

    /// Writes every pronunciation made so far to the file cache, if there are new ones (atomically,
    /// by rename; a cache that cannot be written is skipped: it only saves time).
    func saveCache() {
        state.withLock { s in
            guard s.unsaved > 0, case .success? = s.ready else { return }
            for (voice, entries) in s.cache {
                guard let path = Self.cachePath(voice: voice) else { continue }
                let folder = (path as NSString).deletingLastPathComponent
                try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                var text = "# " + s.identity + "\n"
                for (word, symbols) in entries.sorted(by: { $0.key < $1.key }) where !word.contains("\t") && !word.contains("\n") {
                    text += word + "\t" + symbols.joined(separator: " ") + "\n"
                }
                let temporary = path + ".partial-\(getpid())"
                if FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)), rename(temporary, path) != 0 {
                    unlink(temporary)
                }
            }
            s.unsaved = 0
        }
    }
}

extension TokenSet {
    /// Keeps the pronunciations made so far on disk for the next run (phoneme models; a no-op when
    /// nothing new was pronounced).
    public static func savePronunciations() { Espeak.shared.saveCache() }
}
