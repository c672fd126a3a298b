import Decoding
import Testing
@testable import ModelTraining

@Suite("Adaptation recipe")
struct AdaptationTests {
    static func entry(_ text: String, _ category: String = "synthetic", audio: String? = nil) -> ManifestEntry {
        ManifestEntry(audio: audio ?? text + ".wav", text: text, category: category, origin: "m:1")
    }

    @Test("the recipe's settings: every epoch run at a small rate in batches of 8, the base model's alphabet")
    func settings() throws {
        var recipe = Adaptation()
        recipe.epochs = 3
        recipe.seed = 9
        let english = recipe.trainConfig(tokens: .english)
        #expect(english.epochs == 3 && english.patience == 3 && !english.halveOnPlateau)
        #expect(english.learningRate == 3e-4 && english.batchSize == 8 && english.seed == 9)
        #expect(english.tokens == nil)
        let own = try TokenSet(tokens: ["<blank>", " ", "a", "b"])
        #expect(recipe.trainConfig(tokens: own).tokens == [" ", "a", "b"])
    }

    @Test("an epoch is each take repeated, then the mix; the mix is a seeded sample; keywords come from the takes")
    func data() {
        var recipe = Adaptation()
        recipe.repeats = 3
        recipe.mixCount = 4
        let takes = [Self.entry("okay robot", "keyword"), Self.entry("Okay  Robot", "keyword"), Self.entry("one two", "digits")]
        let pool = (0..<50).map { Self.entry("utterance \($0)") }
        let mix = recipe.mixSample(pool)
        #expect(mix.count == 4 && Set(mix.map(\.text)).count == 4)
        #expect(mix == recipe.mixSample(pool), "the same seed draws the same sample")
        recipe.seed = 2
        #expect(mix != recipe.mixSample(pool))
        let set = recipe.trainingSet(takes: takes, mix: mix)
        #expect(set.count == 3 * 3 + 4 && Array(set.suffix(4)) == mix)
        #expect(Adaptation.keywords(in: takes) == ["okay robot"])
    }

    @Test("every 4th take of a keyword is held out of training for its threshold; a keyword with fewer takes is all trained on")
    func holdOut() {
        let recipe = Adaptation()
        let robot = (1...9).map { Self.entry(($0 % 2 == 0 ? "Okay  Robot" : "okay robot"), "keyword", audio: "robot\($0).wav") }
        let music = (1...3).map { Self.entry("play music", "keyword", audio: "music\($0).wav") }
        let digits = (1...5).map { Self.entry("one two", "digits", audio: "digits\($0).wav") }
        let takes = robot + music + digits
        let (train, heldOut) = recipe.split(takes)
        #expect(heldOut.map(\.audio) == ["robot4.wav", "robot8.wav"])
        #expect(train.count == takes.count - 2 && Set(train.map(\.audio)).isDisjoint(with: heldOut.map(\.audio)))
        #expect(train.filter { $0.category == "digits" }.count == 5, "only keyword takes are held out")
        #expect(train.filter { $0.text == "play music" }.count == 3, "3 takes: too few to hold one out")
    }
}
