// libFuzzer target: the ARPA reader and the word/phrase-list parser must reject any text with
// their own errors, never crash or hang; whatever loads must also decode. Run with scripts/fuzz.
import CFuzzDriver
import Decoding
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLanguageModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    // The compact reader must reject any bytes with its own error, never crash.
    if let compact = try? CompactLanguageModel(bytes: Data(bytes: data, count: size), name: "fuzz-input") {
        for w in 0..<Int32(min(compact.vocabularySize, 4)) { _ = compact.logProb(w, context: [w, 0, -1]) }
    }
    if let lm = try? ArpaLanguageModel(text: text, name: "fuzz-input") {
        let ids = Array(lm.vocabulary.values.prefix(4))
        for w in ids { _ = lm.logProb(w, context: ids[...]) }
        // Whatever ARPA loads compiles, reads back, and scores as the ARPA model does.
        let compact = try! CompactLanguageModel(bytes: CompactLanguageModel(arpa: lm).serialized(), name: "compiled")
        for w in ids where compact.counts.allSatisfy({ $0 <= CompactLanguageModel.levels }) {
            precondition(compact.logProb(w, context: ids[...]) == lm.logProb(w, context: ids[...]), "compact and ARPA scores differ")
        }
        if let lexicon = try? Lexicon(entries: lm.vocabulary.keys.filter { !$0.hasPrefix("<") }, tokens: .english), !lexicon.isEmpty {
            decode(CTCBeamSearch(tokens: .english, grammar: .words(lexicon), languageModel: lm))
        }
    }
    let lines = text.split(separator: "\n").map(String.init)
    if let lexicon = try? Lexicon(entries: lines, tokens: .english), !lexicon.isEmpty {
        decode(CTCBeamSearch(tokens: .english, grammar: .words(lexicon)))
        decode(CTCBeamSearch(tokens: .english, grammar: .phrases(lexicon)))
    }
    return 0
}

/// A few steps of fixed posteriors through the search, and the final hypothesis.
func decode(_ search: CTCBeamSearch) {
    var row = [Float](repeating: -3.3, count: 29)
    for s in 0..<12 {
        for k in row.indices { row[k] = k == (s * 7) % 29 ? -0.2 : -3.3 }
        row.withUnsafeBufferPointer { search.accept(logProbs: $0) }
        _ = search.partial()
    }
    _ = search.finish()
}

/// SwiftPM's entry symbol for this executable; hands control to libFuzzer's driver.
@_cdecl("FuzzLanguageModel_main")
public func fuzzEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzLanguageModel(data!, size) }
}
