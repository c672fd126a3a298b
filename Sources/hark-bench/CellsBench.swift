import Cells
import Dispatch

/// The cells' streaming step at batch 1 against the matrix-vector roofline of the same shapes,
/// allocations per step, and training throughput on both cores.
enum CellsBench {
    struct Shape {
        let name: String
        let config: NetworkConfig
    }

    static let shapes: [Shape] = [
        Shape(name: "LSTM 2×256, 80 mels stacked 3", config: NetworkConfig(kind: .lstm, inputSize: 80, stack: 3, stride: 3,
                                                                          hiddenSize: 256, layers: 2, outputSize: 29)),
        Shape(name: "LSTM 3×320, 80 mels stacked 3", config: NetworkConfig(kind: .lstm, inputSize: 80, stack: 3, stride: 3,
                                                                          hiddenSize: 320, layers: 3, outputSize: 29)),
        Shape(name: "LSTM 3×512, 80 mels stacked 3", config: NetworkConfig(kind: .lstm, inputSize: 80, stack: 3, stride: 3,
                                                                          hiddenSize: 512, layers: 3, outputSize: 29)),
        Shape(name: "LSTM 3×384 proj 192, stacked 3", config: NetworkConfig(kind: .lstm, inputSize: 80, stack: 3, stride: 3,
                                                                           hiddenSize: 384, layers: 3, projectionSize: 192, outputSize: 29)),
        Shape(name: "GRU 2×256, 80 mels stacked 3", config: NetworkConfig(kind: .gru, inputSize: 80, stack: 3, stride: 3,
                                                                         hiddenSize: 256, layers: 2, outputSize: 29)),
    ]

    static func run() {
        Measure.pinToOneCore()
        print("### Streaming step, batch 1, one core")
        print()
        print("| network | parameters | Hark step | matrix-vector roofline (C, -O3 -march=native) | ratio | per 10 ms of audio | heap allocations per step |")
        print("|---|---|---|---|---|---|---|")
        for shape in shapes { step(shape) }
        print()
        trainingTable()
    }

    /// Training throughput per shape (also `hark-bench training` on its own).
    static func trainingTable(only filter: String? = nil, threads: Int = 2) {
        print("### Training throughput (BPTT, batch 16 × 3 s, \(threads == 2 ? "both cores" : "\(threads) threads"))")
        print()
        print("| network | frames per second (10 ms frames) | seconds of audio per second | time per minibatch | CPU time per minibatch |")
        print("|---|---|---|---|---|")
        for shape in shapes where filter.map({ shape.name.contains($0) }) ?? true { training(shape, threads: threads) }
    }

    static func step(_ shape: Shape) {
        let net = try! Network<Float>(config: shape.config)
        net.initialize(seed: 1)
        let stream = NetworkStream(net)
        let f = shape.config.inputSize
        var rng = SeededGenerator(seed: 2)
        let frames = (0..<(300 * f)).map { _ in Float(rng.uniform(-1, 1)) }
        var out = [Float](repeating: 0, count: shape.config.outputWidth)
        let stride = shape.config.stride
        func run(steps: Int) {
            frames.withUnsafeBufferPointer { all in
                out.withUnsafeMutableBufferPointer { o in
                    var produced = 0, i = 0
                    while produced < steps {
                        let k = i % 300
                        if stream.accept(frame: UnsafeBufferPointer(rebasing: all[(k * f)..<((k + 1) * f)]), into: o) { produced += 1 }
                        i += 1
                    }
                }
            }
        }
        run(steps: 200)                                  // warm-up
        let n = 2_000

        // Roofline: the same matrix-vector products with the plain C loop.
        var roofline = Roofline(shape.config, seed: 3)
        func roof(steps: Int) { roofline.run(steps: steps) }
        roof(steps: 200)
        // Alternate Hark and roofline rounds so both see the same machine conditions; keep each
        // one's best round. Allocations are counted over all of Hark's rounds.
        var t = Double.infinity, r = Double.infinity
        var allocs: UInt64 = 0
        let rounds = 6
        for _ in 0..<rounds {
            let a0 = Measure.allocations
            t = min(t, Measure.best(repeats: 1) { run(steps: n) } / Double(n))
            allocs += Measure.allocations - a0
            r = min(r, Measure.best(repeats: 1) { roof(steps: n) } / Double(n))
        }
        let perStepAllocs = Double(allocs) / Double(rounds * n)
        let per10ms = t / Double(stride)
        print("| \(shape.name) | \(shape.config.parameterCount) | \(fmt(t * 1e6, 1)) µs | \(fmt(r * 1e6, 1)) µs | \(fmt(t / r, 2))× | \(fmt(per10ms * 1e6, 1)) µs | \(fmt(perStepAllocs, 3)) |")
    }

    static func training(_ shape: Shape, threads: Int = 2) {
        let net = try! Network<Float>(config: shape.config)
        net.initialize(seed: 1)
        var options = TrainingOptions()
        options.threads = threads
        let trainer = Trainer(network: net, options: options)
        var rng = SeededGenerator(seed: 3)
        let f = shape.config.inputSize
        let framesPer = 300
        let batch: [(frames: [Float], target: [Int])] = (0..<16).map { _ in
            let frames = (0..<(framesPer * f)).map { _ in Float(rng.uniform(-1, 1)) }
            let target = (0..<shape.config.steps(frames: framesPer)).map { _ in Int(rng.next() % 29) }
            return (frames, target)
        }
        // The same statistic as scripts/bench_pytorch.py: after warm-up steps, the best of three
        // rounds of three minibatches (one round alone rose from run to run by up to 30% on a
        // shared machine). CPU time is over all rounds, all threads.
        for _ in 0..<2 { trainer.step(batch: batch, loss: FrameCrossEntropy<Float>()) }     // warm-up
        let reps = 3, rounds = 3
        let cpu0 = Measure.processCPU
        let t = Measure.best(repeats: rounds) {
            for _ in 0..<reps { trainer.step(batch: batch, loss: FrameCrossEntropy<Float>()) }
        } / Double(reps)
        let cpu = (Measure.processCPU - cpu0) / Double(rounds * reps)
        let frames = Double(16 * framesPer)
        print("| \(shape.name) | \(Int(frames / t)) | \(fmt(frames / t / 100, 1)) | \(fmt(t, 3)) s | \(fmt(cpu, 3)) s |")
    }
}
