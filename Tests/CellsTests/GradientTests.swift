import Testing
@testable import Cells

/// Directional finite differences in Double: for a random direction (v over every parameter,
/// u over every input frame), (L(θ+εv, x+εu) − L(θ−εv, x−εu)) / 2ε must equal ∇θL·v + ∇xL·u.
@Suite("Gradient checks")
struct GradientTests {
    /// Cross-entropy of the whole stack — normalization, stacking, layers, output layer and
    /// log-softmax — over 3 sequences of different lengths (24, 31 and 44 frames
    /// after stacking 3 frames with stride 2: 21 steps for the longest).
    static func check(_ config: NetworkConfig, seed: UInt64) throws -> Double {
        var rng = SeededGenerator(seed: seed)
        let mean: [Double] = randomValues(config.inputSize, scale: 0.5, rng: &rng)
        let std: [Double] = (0..<config.inputSize).map { _ in rng.uniform(0.5, 2) }
        let net = try Network<Double>(config: config, mean: mean, std: std)
        net.randomize(scale: 0.5, seed: seed)
        let lengths = [24, 31, 44]
        let frames: [[Double]] = lengths.map { randomValues($0 * config.inputSize, scale: 1.5, rng: &rng) }
        let targets: [[Int]] = lengths.map { n in (0..<config.steps(frames: n)).map { _ in Int(rng.next() % UInt64(config.outputSize)) } }
        #expect(config.steps(frames: 44) >= 20)

        func loss(_ net: Network<Double>, _ frames: [[Double]]) -> Double {
            let pass = frames.withUnsafeBufferPointers { net.forwardPass($0) }
            var total = 0.0
            for b in 0..<frames.count {
                for (s, t) in targets[b].enumerated() { total -= pass.output(step: s, sequence: b)[t] }
            }
            return total
        }

        // Analytic gradient.
        let pass = frames.withUnsafeBufferPointers { net.forwardPass($0) }
        let dOut = UnsafeMutablePointer<Double>.allocate(capacity: pass.steps * pass.batch * pass.width)
        dOut.initialize(repeating: 0, count: pass.steps * pass.batch * pass.width)
        defer { dOut.deallocate() }
        for b in 0..<frames.count {
            for (s, t) in targets[b].enumerated() { dOut[(s * pass.batch + b) * pass.width + t] = -1 }
        }
        let grads = net.parameters.zerosLike()
        var dFrames = frames.map { [Double](repeating: 0, count: $0.count) }
        let buffers = dFrames.indices.map { i in dFrames[i].withUnsafeMutableBufferPointer { $0 } }
        net.backward(pass, dOutput: dOut, gradients: grads, dFrames: buffers)
        _ = dFrames   // keep the storage alive until here

        // Direction.
        let v: [Double] = randomValues(net.parameters.count, rng: &rng)
        let u: [[Double]] = frames.map { randomValues($0.count, rng: &rng) }
        var analytic = 0.0
        for i in 0..<grads.count { analytic += grads.values[i] * v[i] }
        for b in frames.indices { for i in frames[b].indices { analytic += buffers[b][i] * u[b][i] } }

        let eps = 1e-5
        func shifted(_ sign: Double) throws -> Double {
            let p = net.parameters.copy()
            for i in 0..<p.count { p.values[i] += sign * eps * v[i] }
            let x = frames.indices.map { b in zip(frames[b], u[b]).map { $0 + sign * eps * $1 } }
            return loss(try net.with(parameters: p), x)
        }
        let numeric = (try shifted(1) - shifted(-1)) / (2 * eps)
        return abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-12)
    }

    @Test("RNN, LSTM, LSTM with projection, GRU: two layers through ≥20 steps, relative error ≤ 1e-6",
          arguments: [("rnn", CellKind.rnn, 0), ("lstm", .lstm, 0), ("lstm+proj", .lstm, 3), ("gru", .gru, 0)])
    func cellGradients(name: String, kind: CellKind, projection: Int) throws {
        let config = NetworkConfig(kind: kind, inputSize: 4, stack: 3, stride: 2, hiddenSize: 5, layers: 2,
                                   projectionSize: projection, outputSize: 6)
        let err = try Self.check(config, seed: 42)
        print("gradient check \(name): relative error \(err)")
        #expect(err <= 1e-6, "\(name): relative error \(err)")
    }

    /// Hidden sizes from 16 up run the cells' element loops 16 lanes at a time, with a scalar rest.
    @Test("LSTM with 20 hidden units (vector lanes and a scalar rest): relative error ≤ 1e-6",
          arguments: [0, 7])
    func vectorLanes(projection: Int) throws {
        let config = NetworkConfig(kind: .lstm, inputSize: 4, stack: 3, stride: 2, hiddenSize: 20, layers: 2,
                                   projectionSize: projection, outputSize: 6)
        let err = try Self.check(config, seed: 43)
        print("gradient check lstm 20 (projection \(projection)): relative error \(err)")
        #expect(err <= 1e-6, "relative error \(err)")
    }

    @Test("mixed stack (GRU → LSTM → RNN) and the output layer alone")
    func mixedStack() throws {
        let layers = [LayerSpec(kind: .gru, inputSize: 6, hiddenSize: 5),
                      LayerSpec(kind: .lstm, inputSize: 5, hiddenSize: 4, projectionSize: 2),
                      LayerSpec(kind: .rnn, inputSize: 2, hiddenSize: 3)]
        let err = try Self.check(NetworkConfig(inputSize: 3, stack: 2, stride: 1, layers: layers, outputSize: 4), seed: 7)
        #expect(err <= 1e-6, "relative error \(err)")
    }
}
