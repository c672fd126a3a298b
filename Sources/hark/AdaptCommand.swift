import ArgumentParser
import Cells
import Decoding
import Foundation
import ModelTraining
import Recognizer

struct AdaptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapt",
        abstract: "Fine-tune a model on your own enrolled takes (see `hark enroll`).",
        discussion: """
        Trains the model further on the takes in --samples (each repeated --repeat times), mixed \
        with --mix-count utterances of a synthetic manifest so that nothing else is forgotten, \
        with a small learning rate for a few epochs; every 4th take of a keyword with at least 4 is \
        held out of training. Each keyword's scoring and threshold are then re-tuned from the \
        held-out takes (which must be caught) and the other utterances (which must not), as \
        `hark model threshold` does but at the geometric midpoint of the two sides (clean takes \
        score far higher than the keyword said in running speech), and stored in the new model, \
        where `hark spot` finds them.
        """)

    @Option(name: .long, help: ArgumentHelp("Folder written by `hark enroll` (takes.jsonl and WAVs).", valueName: "dir"))
    var samples: String

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: ArgumentHelp("Where the adapted model goes.", valueName: "path"))
    var out: String

    @Option(name: .long, help: ArgumentHelp("Synthetic manifest to mix in (scripts/synth.py writes one).", valueName: "manifest"))
    var mix: String?

    @Option(name: .long, parsing: .unconditional, help: "Synthetic utterances mixed in (0 to 1000000).") var mixCount: Int = 300
    @Option(name: .long, parsing: .unconditional, help: "Times each take is repeated per epoch (1 to 1000).") var `repeat`: Int = 4
    @Option(name: .long, parsing: .unconditional, help: "Epochs (1 to 1000).") var epochs: Int = 6
    @Option(name: .long, parsing: .unconditional, help: "Adam learning rate (more than 0, at most 1).") var learningRate: Double = 3e-4
    @Option(name: .long, help: "Seed for the mix sample and batch order (any number from 0 to 2^64−1).") var seed: UInt64 = 1

    func validate() throws {
        try OptionRange.check("--mix-count", mixCount, 0, 1_000_000)
        try OptionRange.check("--repeat", `repeat`, 1, 1_000)
        try OptionRange.check("--epochs", epochs, 1, 1_000)
        try OptionRange.check("--learning-rate", learningRate, 0, 1, exclusiveLow: true)
    }

    func run() throws {
        let started = Date()
        try checkOutputs(out, out + ".checkpoint")
        let base = try model.load()
        let takesPath = URL(fileURLWithPath: samples).appendingPathComponent("takes.jsonl").path
        guard FileManager.default.fileExists(atPath: takesPath) else {
            throw InputError("--samples \(samples): no takes.jsonl (record takes with `hark enroll --out \(samples)`)")
        }
        let takes = try Manifest.load(takesPath)
        var recipe = Adaptation()
        recipe.epochs = epochs
        recipe.learningRate = learningRate
        recipe.repeats = `repeat`
        recipe.mixCount = mixCount
        recipe.seed = seed
        var mixed: [ManifestEntry] = []
        if let mix {
            mixed = recipe.mixSample(try Manifest.load(mix))
        } else {
            Terminal.note("hark adapt: no --mix manifest; fine-tuning on the takes alone may make other speech worse")
        }
        Terminal.note("adapting \(base.path) on \(takes.count) takes × \(`repeat`) + \(mixed.count) synthetic utterances")
        let tuned = try recipe.run(base: base, takes: takes, takesName: samples, mix: mixed, out: out,
                                   measuredWith: { try model.batchNetwork(of: $0) }, prepare: showProgress(of:))
        let heldOut = Set(Adaptation.keywords(in: recipe.split(takes).heldOut))
        for t in tuned {
            let which = heldOut.contains(t.keyword.text) ? "takes held out of training" : "takes (too few to hold any out)"
            Terminal.note(String(format: "keyword '%@': %@ threshold %.2f catches %d/%d %@, fires on %d/%d other utterances",
                                 t.keyword.text, t.keyword.scoring.rawValue, t.keyword.threshold, t.caught, t.positive.count, which,
                                 t.alarms, t.negative.count))
        }
        print(String(format: "adapted model: %@ (%.0f s)", out, Date().timeIntervalSince(started)))
    }
}
