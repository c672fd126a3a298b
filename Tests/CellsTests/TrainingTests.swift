import Foundation
import Testing
@testable import Cells

@Suite("Training")
struct TrainingTests {
    /// The memory task: step 0 shows one of 8 symbols, steps 1…10 show random distractors,
    /// step 11 asks for the symbol. Only step 11 is scored; without memory the best is 1/8.
    static let symbols = 8, distractors = 4, delay = 10
    static var inputSize: Int { symbols + distractors + 1 }

    static func example(_ rng: inout SeededGenerator) -> (frames: [Float], target: [Int]) {
        let n = delay + 2
        var frames = [Float](repeating: 0, count: n * inputSize)
        let symbol = Int(rng.next() % UInt64(symbols))
        frames[symbol] = 1
        for t in 1...delay { frames[t * inputSize + symbols + Int(rng.next() % UInt64(distractors))] = 1 }
        frames[(delay + 1) * inputSize + symbols + distractors] = 1
        var target = [Int](repeating: -1, count: n)
        target[delay + 1] = symbol
        return (frames, target)
    }

    static func accuracy(_ net: Network<Float>, count: Int, seed: UInt64) -> Double {
        var rng = SeededGenerator(seed: seed)
        var correct = 0
        for _ in 0..<count {
            let ex = example(&rng)
            let out = net.forward(frames: ex.frames)              // the streaming path
            let last = Array(out[(delay + 1) * symbols..<(delay + 2) * symbols])
            if last.firstIndex(of: last.max()!) == ex.target[delay + 1] { correct += 1 }
        }
        return Double(correct) / Double(count)
    }

    static func train(kind: CellKind, optimizer: Optimizer, steps: Int, seed: UInt64) throws -> (Network<Float>, [Double]) {
        let net = try Network<Float>(config: NetworkConfig(kind: kind, inputSize: inputSize, hiddenSize: 32, layers: 1,
                                                           outputSize: symbols))
        net.initialize(seed: seed)
        var options = TrainingOptions()
        options.optimizer = optimizer
        let trainer = Trainer(network: net, options: options)
        var rng = SeededGenerator(seed: seed &+ 1)
        var losses: [Double] = []
        for _ in 0..<steps {
            let batch = (0..<32).map { _ in example(&rng) }
            losses.append(trainer.step(batch: batch, loss: FrameCrossEntropy<Float>()).loss)
        }
        return (net, losses)
    }

    @Test("an LSTM trained from scratch recalls a symbol seen 10 steps earlier (≥ 99% on new sequences)")
    func memoryTask() throws {
        let start = Date()
        let steps = Int(ProcessInfo.processInfo.environment["HARK_MEMORY_STEPS"] ?? "") ?? 600
        // Adam at 0.005: at 0.01, seed 1 stopped on a plateau (89% accuracy, one symbol confused) on an
        // AMD Zen machine, whose BLIS kernels round differently from the Intel one it was written on;
        // at 0.005 seeds 1 to 6 all reach 100% there (and at 0.01 five of six did).
        let (net, losses) = try Self.train(kind: .lstm, optimizer: .adam(learningRate: 0.005), steps: steps, seed: 1)
        let accuracy = Self.accuracy(net, count: 1_000, seed: 999)
        print("memory task: accuracy \(accuracy), loss \(losses.first!) → \(losses.last!), \(Date().timeIntervalSince(start)) s")
        #expect(accuracy >= 0.99)
        #expect(losses.last! < 0.1 * losses.first!)
    }

    @Test("training is deterministic for a seed, with two threads")
    func deterministic() throws {
        let (a, _) = try Self.train(kind: .gru, optimizer: .adam(learningRate: 0.01), steps: 15, seed: 4)
        let (b, _) = try Self.train(kind: .gru, optimizer: .adam(learningRate: 0.01), steps: 15, seed: 4)
        let pa = Array(UnsafeBufferPointer(start: a.parameters.values, count: a.parameters.count))
        let pb = Array(UnsafeBufferPointer(start: b.parameters.values, count: b.parameters.count))
        #expect(pa == pb)
        let (c, _) = try Self.train(kind: .gru, optimizer: .adam(learningRate: 0.01), steps: 15, seed: 5)
        #expect(pa != Array(UnsafeBufferPointer(start: c.parameters.values, count: c.parameters.count)))
    }

    /// A short-memory task SGD can learn in a hundred steps: name the distractor seen one step
    /// earlier, at every step.
    @Test("SGD with momentum trains every cell type", arguments: CellKind.allCases)
    func sgdLearns(kind: CellKind) throws {
        let net = try Network<Float>(config: NetworkConfig(kind: kind, inputSize: Self.inputSize, hiddenSize: 16,
                                                           layers: 1, outputSize: Self.distractors))
        net.initialize(seed: 6)
        var options = TrainingOptions()
        options.optimizer = .sgd(learningRate: 0.3, momentum: 0.9)
        let trainer = Trainer(network: net, options: options)
        var rng = SeededGenerator(seed: 12)
        var losses: [Double] = []
        for _ in 0..<150 {
            let batch = (0..<16).map { _ -> (frames: [Float], target: [Int]) in
                let ex = Self.example(&rng)
                let shown = (0..<ex.target.count).map { t in
                    (0..<Self.distractors).firstIndex { ex.frames[t * Self.inputSize + Self.symbols + $0] == 1 } ?? -1
                }
                return (ex.frames, [-1] + shown.dropLast().map { $0 })
            }
            losses.append(trainer.step(batch: batch, loss: FrameCrossEntropy<Float>()).loss)
        }
        let early = losses.prefix(5).reduce(0, +) / 5, late = losses.suffix(5).reduce(0, +) / 5
        #expect(late < 0.2 * early, "\(kind): loss \(early) → \(late)")
    }

    /// The update rules themselves, on a tiny network and a fixed gradient.
    @Test("Adam's first step moves each parameter by lr·sign(g); SGD momentum accumulates")
    func updateRules() throws {
        let config = NetworkConfig(kind: .rnn, inputSize: 2, hiddenSize: 2, layers: 1, outputSize: 2)
        let params = ParameterStore<Double>(tensors: config.tensors)
        let grads = params.zerosLike()
        for i in 0..<grads.count { grads.values[i] = Double(i % 5) - 2.2 }
        let adam = OptimizerState(like: params)
        adam.apply(.adam(learningRate: 0.1), learningRate: 0.1, params: params, grads: grads)
        for i in 0..<params.count {
            #expect(abs(params.values[i] + 0.1 * (grads.values[i] > 0 ? 1 : -1)) < 1e-7)
        }
        let p2 = params.zerosLike()
        let sgd = OptimizerState(like: p2)
        sgd.apply(.sgd(learningRate: 0.1, momentum: 0.9), learningRate: 0.1, params: p2, grads: grads)
        sgd.apply(.sgd(learningRate: 0.1, momentum: 0.9), learningRate: 0.1, params: p2, grads: grads)
        for i in 0..<p2.count {
            // v1 = g, v2 = 0.9 g + g; θ = −0.1 (v1 + v2) = −0.29 g
            #expect(abs(p2.values[i] + 0.29 * grads.values[i]) < 1e-12)
        }
    }

    /// The passes over all parameters (gradient sum, scaling, norm, update) run on the trainer's
    /// threads; the split must not change a value.
    @Test("parameter passes split over threads equal one thread's, bit for bit")
    func splitPasses() throws {
        let config = NetworkConfig(kind: .lstm, inputSize: 40, hiddenSize: 64, layers: 2, outputSize: 29)
        var rng = SeededGenerator(seed: 9)
        func filled() -> ParameterStore<Float> {
            let s = ParameterStore<Float>(tensors: config.tensors)
            for i in 0..<s.count { s.values[i] = Float(rng.uniform(-1, 1)) }
            return s
        }
        let params = filled(), grads = filled(), other = filled()
        #expect(params.count > 2 * ParameterStore<Float>.normBlock)     // several norm blocks
        var results: [[Float]] = []
        var norms: [Double] = []
        for threads in [1, 2, 3] {
            let p = params.copy(), g = grads.copy()
            g.add(other, threads: threads)
            g.scale(by: 0.37, threads: threads)
            norms.append(g.squaredNorm(threads: threads))
            let adam = OptimizerState(like: p)
            for _ in 0..<2 { adam.apply(.adam(learningRate: 0.01), learningRate: 0.01, params: p, grads: g, threads: threads) }
            results.append(Array(UnsafeBufferPointer(start: p.values, count: p.count)))
        }
        #expect(results[1] == results[0] && results[2] == results[0])
        #expect(norms[1] == norms[0] && norms[2] == norms[0])
    }

    @Test("gradient clipping caps the global norm")
    func clipping() throws {
        let net = try Network<Float>(config: NetworkConfig(kind: .lstm, inputSize: Self.inputSize, hiddenSize: 8,
                                                           layers: 1, outputSize: Self.symbols))
        net.initialize(seed: 3)
        let before = net.parameters.copy()
        var options = TrainingOptions()
        options.optimizer = .sgd(learningRate: 1, momentum: 0)
        options.clipNorm = 1e-3
        let trainer = Trainer(network: net, options: options)
        var rng = SeededGenerator(seed: 8)
        let r = trainer.step(batch: (0..<4).map { _ in Self.example(&rng) }, loss: FrameCrossEntropy<Float>())
        #expect(r.gradientNorm > 1e-3)
        var moved = 0.0
        for i in 0..<net.parameters.count { moved += Double(pow(net.parameters.values[i] - before.values[i], 2)) }
        #expect(abs(moved.squareRoot() - 1e-3) < 1e-6)
    }
}
