import Foundation
import Testing
@testable import Cells

/// Outputs and gradients against PyTorch (Fixtures/make_cell_golden.py wrote the fixture).
@Suite("PyTorch golden values")
struct GoldenTests {
    struct Case {
        let name: String
        let config: NetworkConfig
        let x, r, y, xGrad: [Double]
        let weights, grads: [String: [Double]]
    }

    static func cases() throws -> [Case] {
        let root = try Fixtures.json("cell_golden.json")
        return (root["cases"] as! [[String: Any]]).map { c in
            let kind = CellKind(rawValue: c["kind"] as! String)!
            let config = NetworkConfig(kind: kind, inputSize: c["input_size"] as! Int, hiddenSize: c["hidden_size"] as! Int,
                                       layers: c["layers"] as! Int, projectionSize: c["proj_size"] as! Int, outputSize: 0)
            return Case(name: c["name"] as! String, config: config,
                        x: c["x"] as! [Double], r: c["r"] as! [Double], y: c["y"] as! [Double],
                        xGrad: c["x_grad"] as! [Double],
                        weights: c["weights"] as! [String: [Double]], grads: c["grads"] as! [String: [Double]])
        }
    }

    static let steps = 21, batch = 2

    /// Sequence b's frames from PyTorch's time-major (T, B, F) layout.
    static func sequences<T: CellScalar>(_ x: [Double], width f: Int) -> [[T]] {
        (0..<batch).map { b in (0..<steps).flatMap { t in (0..<f).map { T(x[(t * batch + b) * f + $0]) } } }
    }

    func check<T: CellScalar>(_ type: T.Type, tolerance: Double) throws {
        for c in try Self.cases() {
            let net = try Network<T>(config: c.config)
            for (name, values) in c.weights { net.parameters.set(name, values.map { T($0) }) }
            let seqs: [[T]] = Self.sequences(c.x, width: c.config.inputSize)

            // Batched training path: outputs.
            let pass = seqs.withUnsafeBufferPointers { net.forwardPass($0) }
            let width = c.config.outputWidth
            let y = (0..<Self.steps * Self.batch * width).map { pass.output[$0] }
            #expect(maxRelativeError(y, c.y) < tolerance, "\(c.name) \(T.self): batched outputs")

            // Streaming path, one frame at a time: the same outputs.
            for b in 0..<Self.batch {
                let streamed = net.forward(frames: seqs[b])
                let expected = (0..<Self.steps).flatMap { t in (0..<width).map { c.y[(t * Self.batch + b) * width + $0] } }
                #expect(maxRelativeError(streamed, expected) < tolerance, "\(c.name) \(T.self): streamed outputs")
            }

            // Gradients of L = Σ y ⊙ R for every weight and the input.
            let grads = net.parameters.zerosLike()
            var dOut = c.r.map { T($0) }
            var dFrames0 = [T](repeating: 0, count: seqs[0].count)
            var dFrames1 = [T](repeating: 0, count: seqs[1].count)
            dOut.withUnsafeMutableBufferPointer { d in
                dFrames0.withUnsafeMutableBufferPointer { d0 in
                    dFrames1.withUnsafeMutableBufferPointer { d1 in
                        net.backward(pass, dOutput: d.baseAddress!, gradients: grads, dFrames: [d0, d1])
                    }
                }
            }
            let dFrames = [dFrames0, dFrames1]
            for (name, expected) in c.grads {
                #expect(maxRelativeError(grads.tensor(name), expected) < tolerance, "\(c.name) \(T.self): d\(name)")
            }
            let f = c.config.inputSize
            let xGrad = (0..<Self.steps * Self.batch * f).map { i -> T in
                let t = i / (Self.batch * f), b = (i / f) % Self.batch
                return dFrames[b][t * f + i % f]
            }
            #expect(maxRelativeError(xGrad, c.xGrad) < tolerance, "\(c.name) \(T.self): dx")
        }
    }

    @Test("Float: outputs, weight and input gradients within 1e-5 of PyTorch (RNN, LSTM, LSTM+proj, GRU)")
    func float() throws { try check(Float.self, tolerance: 1e-5) }

    @Test("Double: the same within 1e-10")
    func double() throws { try check(Double.self, tolerance: 1e-10) }
}
