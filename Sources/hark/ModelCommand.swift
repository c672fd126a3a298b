import ArgumentParser
import Cells

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect model files.",
        subcommands: [Info.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a model file and describe it: architecture, size, tokens, front end.")

        @Argument(help: ArgumentHelp("A Hark model (.safetensors).", valueName: "model"))
        var path: String

        func run() throws {
            let model = try ModelFile.load(path: path)
            let c = model.network.config
            print("model:        \(path)")
            print("format:       hark safetensors, version \(ModelFile.version)")
            print("input:        \(c.inputSize) features per frame, \(c.stack) frames stacked every \(c.stride)")
            for (i, l) in c.layers.enumerated() {
                let proj = l.projectionSize > 0 ? ", projection \(l.projectionSize)" : ""
                print("layer \(i):      \(l.kind.rawValue.uppercased()) \(l.inputSize) → \(l.hiddenSize)\(proj)")
            }
            if c.outputSize > 0 {
                print("output:       \(c.outputSize) classes, log-softmax")
                print("tokens:       " + model.tokens.map { $0 == " " ? "␠" : $0 }.joined(separator: " "))
            }
            print("parameters:   \(c.parameterCount) (\(c.parameterCount * 4 / 1024) KiB as F32)")
            print("features:     \(model.features ?? "(not recorded)")")
            for (k, v) in model.extra.sorted(by: { $0.key < $1.key }) { print("\(k): \(v)") }
        }
    }
}
