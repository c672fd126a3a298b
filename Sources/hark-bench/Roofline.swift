import CRoofline
import Cells

/// The matrix-vector products of one network step (every layer's input and hidden products, its
/// projection, the output layer) done by the plain C loop of `Sources/CRoofline`: the limit the
/// cells' streaming step is measured against. Weights are random; only the shapes matter.
struct Roofline {
    private let matrices: [(rows: Int, cols: Int)]
    private let weights: [[Float]]
    private let x: [Float]
    private var y = [Float](repeating: 0, count: 2_048)

    init(_ config: NetworkConfig, seed: UInt64) {
        var m: [(rows: Int, cols: Int)] = []
        for s in config.layers {
            m.append((s.gateRows, s.inputSize))
            m.append((s.gateRows, s.outputSize))
            if s.projectionSize > 0 { m.append((s.projectionSize, s.hiddenSize)) }
        }
        m.append((config.outputSize, config.lastSize))
        var rng = SeededGenerator(seed: seed)
        matrices = m
        weights = m.map { m in (0..<(m.rows * m.cols)).map { _ in Float(rng.uniform(-0.1, 0.1)) } }
        x = (0..<2_048).map { _ in Float(rng.uniform(-1, 1)) }
    }

    /// `steps` network steps' worth of products.
    mutating func run(steps: Int) {
        for _ in 0..<steps {
            for (m, w) in zip(matrices, weights) { hark_roofline_matvec(w, x, &y, Int32(m.rows), Int32(m.cols)) }
        }
    }
}

extension Measure {
    /// Least-squares slope of y over x.
    static func slope(_ points: [(x: Double, y: Double)]) -> Double {
        let n = Double(points.count)
        let mx = points.reduce(0) { $0 + $1.x } / n, my = points.reduce(0) { $0 + $1.y } / n
        var sxy = 0.0, sxx = 0.0
        for p in points { sxy += (p.x - mx) * (p.y - my); sxx += (p.x - mx) * (p.x - mx) }
        return sxy / sxx
    }
}
