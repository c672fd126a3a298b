import Foundation
import Testing
@testable import Cells

@Suite("CTC loss")
struct CTCTests {
    /// Log-softmax rows for `steps × classes` random logits.
    static func logProbs(_ steps: Int, _ classes: Int, seed: UInt64) -> [Double] {
        var rng = SeededGenerator(seed: seed)
        var lp: [Double] = randomValues(steps * classes, scale: 2, rng: &rng)
        for t in 0..<steps {
            let row = lp[(t * classes)..<((t + 1) * classes)]
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            for k in 0..<classes { lp[t * classes + k] -= lse }
        }
        return lp
    }

    /// dL/d(log p) → dL/d(logits), with the network's own log-softmax backward.
    static func throughLogSoftmax(_ g: inout [Double], _ lp: [Double], steps: Int, classes: Int) {
        g.withUnsafeMutableBufferPointer { gp in
            lp.withUnsafeBufferPointer { l in
                for t in 0..<steps {
                    LogSoftmax.backward(gp.baseAddress! + t * classes, logProbs: l.baseAddress! + t * classes, count: classes)
                }
            }
        }
    }

    static func rows(_ p: UnsafeMutablePointer<Double>, _ steps: Int, _ classes: Int) -> SequenceRows<Double> {
        SequenceRows(base: p, steps: steps, width: classes, stride: classes)
    }

    /// Every path of length T over V classes, collapsed (merge repeats, drop blanks).
    static func bruteForce(_ lp: [Double], steps: Int, classes: Int, labels: [Int]) -> Double {
        var total = 0.0
        var path = [Int](repeating: 0, count: steps)
        func visit(_ t: Int, _ logp: Double) {
            if t == steps {
                var collapsed: [Int] = [], previous = -1
                for k in path {
                    if k != previous && k != 0 { collapsed.append(k) }
                    previous = k
                }
                if collapsed == labels { total += exp(logp) }
                return
            }
            for k in 0..<classes {
                path[t] = k
                visit(t + 1, logp + lp[t * classes + k])
            }
        }
        visit(0, 0)
        return -log(total)
    }

    @Test("equals brute-force enumeration of every alignment", arguments: [
        (4, 3, [1, 2]), (5, 3, [1, 1]), (5, 3, [2]), (4, 3, []), (6, 3, [1, 2, 1]), (3, 3, [1, 1]), (5, 4, [3, 1, 3]),
    ])
    func bruteForce(steps: Int, classes: Int, labels: [Int]) {
        var lp = Self.logProbs(steps, classes, seed: UInt64(steps * 31 + classes))
        let brute = Self.bruteForce(lp, steps: steps, classes: classes, labels: labels)
        let ctc = lp.withUnsafeMutableBufferPointer { CTCLoss<Double>().loss(Self.rows($0.baseAddress!, steps, classes), labels: labels) }
        #expect(abs(ctc - brute) < 1e-10 * max(1, abs(brute)), "\(labels): \(ctc) vs \(brute)")
    }

    @Test("impossible alignments (too few steps) give no loss and no gradient")
    func infeasible() {
        var lp = Self.logProbs(3, 3, seed: 1)
        var grad = [Double](repeating: 0, count: 9)
        let r = lp.withUnsafeMutableBufferPointer { l in grad.withUnsafeMutableBufferPointer { g in
            CTCLoss<Double>().evaluate(Self.rows(l.baseAddress!, 3, 3), target: [1, 1, 2], gradient: Self.rows(g.baseAddress!, 3, 3)) } }
        #expect(r.loss == 0 && r.count == 0 && grad.allSatisfy { $0 == 0 })
    }

    @Test("directional finite differences through log-softmax, 25 steps: relative error ≤ 1e-6")
    func gradientCheck() {
        let steps = 25, classes = 6, labels = [1, 4, 4, 2, 5, 1, 3]
        var rng = SeededGenerator(seed: 77)
        let logits: [Double] = randomValues(steps * classes, scale: 2, rng: &rng)
        func lossAndGrad(_ z: [Double]) -> (Double, [Double]) {
            var lp = z
            for t in 0..<steps {
                lp.withUnsafeMutableBufferPointer { LogSoftmax.inPlace($0.baseAddress! + t * classes, count: classes) }
            }
            var g = [Double](repeating: 0, count: z.count)
            let r = lp.withUnsafeMutableBufferPointer { l in g.withUnsafeMutableBufferPointer { gp in
                CTCLoss<Double>().evaluate(Self.rows(l.baseAddress!, steps, classes), target: labels, gradient: Self.rows(gp.baseAddress!, steps, classes)) } }
            Self.throughLogSoftmax(&g, lp, steps: steps, classes: classes)
            return (r.loss, g)
        }
        let (_, grad) = lossAndGrad(logits)
        let v: [Double] = randomValues(logits.count, rng: &rng)
        let analytic = zip(grad, v).reduce(0) { $0 + $1.0 * $1.1 }
        let eps = 1e-5
        let plus = lossAndGrad(zip(logits, v).map { $0 + eps * $1 }).0
        let minus = lossAndGrad(zip(logits, v).map { $0 - eps * $1 }).0
        let numeric = (plus - minus) / (2 * eps)
        let err = abs(numeric - analytic) / max(abs(numeric), abs(analytic))
        #expect(err <= 1e-6, "relative error \(err)")
    }

    @Test("loss and gradient equal PyTorch's ctc_loss (Fixtures/make_ctc_golden.py)")
    func pytorchGolden() throws {
        let cases = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("ctc_golden.json"))) as! [[String: Any]]
        for c in cases {
            let steps = c["steps"] as! Int, classes = c["classes"] as! Int, labels = c["labels"] as! [Int]
            var lp = c["logits"] as! [Double]
            for t in 0..<steps { lp.withUnsafeMutableBufferPointer { LogSoftmax.inPlace($0.baseAddress! + t * classes, count: classes) } }
            var g = [Double](repeating: 0, count: lp.count)
            let r = lp.withUnsafeMutableBufferPointer { l in g.withUnsafeMutableBufferPointer { gp in
                CTCLoss<Double>().evaluate(Self.rows(l.baseAddress!, steps, classes), target: labels, gradient: Self.rows(gp.baseAddress!, steps, classes)) } }
            Self.throughLogSoftmax(&g, lp, steps: steps, classes: classes)
            #expect(abs(r.loss - (c["loss"] as! Double)) < 1e-9, "\(labels): loss \(r.loss)")
            #expect(maxRelativeError(g, c["grad_logits"] as! [Double]) < 1e-9, "\(labels): gradient")
        }
    }

    @Test("an LSTM trained with CTC learns to spell its input's symbols")
    func learnsWithCTC() throws {
        // Each sequence shows 2–4 symbols (1…4), each held for 3 frames with 1–2 silent frames
        // between; the target is the symbol sequence. Decoding: best class per step, collapsed.
        func example(_ rng: inout SeededGenerator) -> (frames: [Float], target: [Int]) {
            let count = 2 + Int(rng.next() % 3)
            var frames: [Float] = [], labels: [Int] = []
            for _ in 0..<count {
                let s = 1 + Int(rng.next() % 4)
                labels.append(s)
                for _ in 0..<(1 + Int(rng.next() % 2)) { frames += [1, 0, 0, 0, 0] }
                for _ in 0..<3 { var f: [Float] = [0, 0, 0, 0, 0]; f[s] = 1; frames += f }
            }
            frames += [1, 0, 0, 0, 0]
            return (frames, labels)
        }
        let net = try Network<Float>(config: NetworkConfig(kind: .lstm, inputSize: 5, hiddenSize: 24, layers: 1, outputSize: 5))
        net.initialize(seed: 3)
        var options = TrainingOptions()
        options.optimizer = .adam(learningRate: 0.02)
        let trainer = Trainer(network: net, options: options)
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<250 { trainer.step(batch: (0..<16).map { _ in example(&rng) }, loss: CTCLoss<Float>()) }
        var correct = 0
        for _ in 0..<200 {
            let ex = example(&rng)
            let out = net.forward(frames: ex.frames)
            var decoded: [Int] = [], previous = -1
            for t in 0..<(out.count / 5) {
                let row = Array(out[(t * 5)..<(t * 5 + 5)])
                let k = row.firstIndex(of: row.max()!)!
                if k != previous && k != 0 { decoded.append(k) }
                previous = k
            }
            if decoded == ex.target { correct += 1 }
        }
        #expect(correct >= 196, "\(correct) of 200 sequences spelled exactly")
    }
}
