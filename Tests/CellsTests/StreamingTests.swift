import Foundation
import Testing
@testable import Cells

@Suite("Streaming")
struct StreamingTests {
    /// Every cell kind, and the LSTM with a projection too.
    static let everyCell: [(CellKind, Int)] = [(.rnn, 0), (.lstm, 0), (.lstm, 6), (.gru, 0)]

    static func network(_ kind: CellKind, projection: Int = 0) throws -> Network<Float> {
        var rng = SeededGenerator(seed: 3)
        let config = NetworkConfig(kind: kind, inputSize: 8, stack: 3, stride: 3, hiddenSize: 24, layers: 2,
                                   projectionSize: projection, outputSize: 11)
        let mean: [Float] = randomValues(8, scale: 0.3, rng: &rng)
        let std = (0..<8).map { _ in Float(rng.uniform(0.5, 2)) }
        let net = try Network<Float>(config: config, mean: mean, std: std)
        net.initialize(seed: 9)
        return net
    }

    @Test("8-bit step weights compute the network rounded to 8 bits, and stay close to the float network",
          arguments: StreamingTests.everyCell)
    func int8Step(kind: CellKind, projection: Int) throws {
        let net = try Self.network(kind, projection: projection)
        var rng = SeededGenerator(seed: 12)
        let frames: [Float] = randomValues(150 * 8, scale: 2, rng: &rng)
        let stream = NetworkStream(net, weights: .int8)
        var out: [Float] = [], step = [Float](repeating: 0, count: 11)
        for f in 0..<150 {
            let produced = frames.withUnsafeBufferPointer { all in
                step.withUnsafeMutableBufferPointer { stream.accept(frame: UnsafeBufferPointer(rebasing: all[(f * 8)..<(f * 8 + 8)]), into: $0) }
            }
            if produced { out += step }
        }
        // Same numbers as the batched pass of the rounded network, up to summation order.
        let rounded = try net.roundedToInt8().forward(frames: frames)
        #expect(out.count == rounded.count)
        let sameModel = zip(out, rounded).map { abs($0 - $1) }.max() ?? 0
        #expect(sameModel < 1e-4, "8-bit stream vs rounded network: \(sameModel)")
        // And close to the float network: log-probabilities within a few hundredths.
        let float = net.forward(frames: frames)
        let drift = zip(out, float).map { abs($0 - $1) }.max() ?? 0
        #expect(drift > 0 && drift < 0.05, "8-bit vs float log-probabilities: \(drift)")
    }

    @Test("an 8-bit matrix moves no weight by more than half a step and multiplies like its rounding")
    func int8Matrix() throws {
        var rng = SeededGenerator(seed: 5)
        for (rows, columns) in [(1, 1), (3, 17), (9, 64), (13, 250)] {
            var w: [Float] = randomValues(rows * columns, scale: 1.5, rng: &rng)
            if rows > 2 { for c in 0..<columns { w[columns + c] = 0 } }      // an all-zero row
            let q = w.withUnsafeBufferPointer { Int8Matrix($0.baseAddress!, rows: rows, columns: columns) }
            var back = [Float](repeating: .nan, count: rows * columns)
            back.withUnsafeMutableBufferPointer { q.dequantize(into: $0.baseAddress!) }
            for r in 0..<rows {
                let row = w[(r * columns)..<((r + 1) * columns)]
                let step = (row.map(abs).max() ?? 0) / 127
                for c in 0..<columns { #expect(abs(back[r * columns + c] - w[r * columns + c]) <= step / 2 * 1.0001) }
            }
            let x: [Float] = randomValues(columns, scale: 1, rng: &rng)
            var y = [Float](repeating: 1, count: rows)
            y.withUnsafeMutableBufferPointer { q.multiplyAdd(x, into: $0.baseAddress!) }
            for r in 0..<rows {
                let expected = 1 + (0..<columns).reduce(Float(0)) { $0 + back[r * columns + $1] * x[$1] }
                #expect(abs(y[r] - expected) < 1e-4 * Float(columns), "row \(r) of \(rows)×\(columns)")
            }
        }
    }

    @Test("any chunking, with state copied and restored midway, equals the whole-sequence forward bit for bit",
          arguments: StreamingTests.everyCell)
    func chunkingIsExact(kind: CellKind, projection: Int) throws {
        let net = try Self.network(kind, projection: projection)
        var rng = SeededGenerator(seed: 11)
        let frames: [Float] = randomValues(200 * 8, scale: 2, rng: &rng)
        let whole = net.forward(frames: frames)
        #expect(whole.count == net.config.steps(frames: 200) * 11)
        for trial in 0..<20 {
            let stream = NetworkStream(net)
            var out: [Float] = [], step = [Float](repeating: 0, count: 11)
            var i = 0
            var saved: NetworkState<Float>? = nil
            var savedOut = 0
            while i < 200 {
                let n = min(Int(rng.next() % 9), 200 - i)
                for f in i..<(i + n) {
                    let produced = frames.withUnsafeBufferPointer { all in
                        step.withUnsafeMutableBufferPointer {
                            stream.accept(frame: UnsafeBufferPointer(rebasing: all[(f * 8)..<(f * 8 + 8)]), into: $0)
                        }
                    }
                    if produced { out += step }
                }
                i += n
                // Save the state once, run on, then restore and replay: identical again.
                if trial % 2 == 1 && saved == nil && i > 90 { saved = stream.state; savedOut = out.count }
            }
            #expect(out == whole, "trial \(trial): streamed outputs differ")
            if var saved {
                // Saved to disk and back (JSON), as a daemon would across restarts.
                saved = try JSONDecoder().decode(NetworkState<Float>.self, from: JSONEncoder().encode(saved))
                stream.state = saved
                var replay = Array(out[0..<savedOut])
                for f in saved.framesSeen..<200 {
                    let produced = frames.withUnsafeBufferPointer { all in
                        step.withUnsafeMutableBufferPointer {
                            stream.accept(frame: UnsafeBufferPointer(rebasing: all[(f * 8)..<(f * 8 + 8)]), into: $0)
                        }
                    }
                    if produced { replay += step }
                }
                #expect(replay == whole, "trial \(trial): restored state diverged")
            }
        }
        // Reset gives a fresh stream.
        let stream = NetworkStream(net)
        _ = net.forward(frames: frames)
        stream.reset()
        #expect(stream.state.framesSeen == 0 && stream.state.hidden.allSatisfy { $0 == 0 })
    }

    @Test("the batched training path agrees with streaming within 1e-5", arguments: [CellKind.rnn, .lstm, .gru])
    func batchedAgrees(kind: CellKind) throws {
        let net = try Self.network(kind)
        var rng = SeededGenerator(seed: 5)
        let seqs: [[Float]] = [150, 97, 33, 2].map { randomValues($0 * 8, scale: 2, rng: &rng) }
        let pass = seqs.withUnsafeBufferPointers { net.forwardPass($0) }
        for (b, seq) in seqs.enumerated() {
            let streamed = net.forward(frames: seq)
            #expect(pass.stepCounts[b] * 11 == streamed.count)
            var worst: Float = 0
            for s in 0..<pass.stepCounts[b] {
                for k in 0..<11 { worst = max(worst, abs(pass.output(step: s, sequence: b)[k] - streamed[s * 11 + k])) }
            }
            #expect(worst <= 1e-5, "sequence \(b): largest difference \(worst)")
        }
    }
}
