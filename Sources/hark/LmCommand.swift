import ArgumentParser
import Decoding
import Foundation

struct LmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lm",
        abstract: "Compile and measure word language models (scripts/build-lm builds the shipped one).",
        subcommands: [Compile.self, Perplexity.self])

    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn an ARPA language model into Hark's compact form (.harklm), same scores.",
            discussion: """
            Probabilities and back-off weights are stored as 16-bit codes into at most 65 536 values \
            per order: exact when an order has no more distinct values, else bin means (see MODEL.md).
            """)

        @Argument(help: ArgumentHelp("An ARPA language model.", valueName: "arpa"))
        var arpa: String

        @Argument(help: ArgumentHelp("Where the compact model goes.", valueName: "out"))
        var out: String

        func run() throws {
            try checkOutputs(out)
            let source = try ArpaLanguageModel(path: arpa)
            let compact = CompactLanguageModel(arpa: source)
            do { try compact.write(to: out) } catch { throw InputError("cannot write \(out): \(describe(error))") }
            let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
            print("\(out): order \(compact.order), n-grams \(compact.counts.map(String.init).joined(separator: " / ")), \(size) bytes")
        }
    }

    struct Perplexity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Perplexity and out-of-vocabulary rate of a language model on text, one sentence a line.",
            discussion: """
            Lines are normalized (lowercase, single spaces). Out-of-vocabulary words (and <unk> \
            in the text) are counted and left out of the perplexity, as SRILM's ngram -ppl does.
            """)

        @Argument(help: ArgumentHelp("An ARPA or compact (.harklm) language model.", valueName: "lm"))
        var lm: String

        @Argument(help: ArgumentHelp("Text, one sentence per line.", valueName: "text"))
        var text: String

        func run() throws {
            let model = try LanguageModelFile.load(path: lm)
            let lines = try TextFile.lines(path: text, tabs: false)
            var p = Decoding.Perplexity()
            for line in lines {
                let sentence = TokenSet.normalize(line.text)
                if !sentence.isEmpty { p.add(sentence: sentence, model: model) }
            }
            guard p.words > 0 else { throw InputError("\(text) has no words") }
            print(String(format: "%@: %d sentences, %d words, %d OOV (%.2f%%), perplexity %.2f",
                         text, p.sentences, p.words, p.outOfVocabulary, 100 * p.oovRate, p.perplexity))
        }
    }
}
