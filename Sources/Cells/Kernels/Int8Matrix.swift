internal import CKernels

/// A weight matrix kept as 8-bit integers with one scale per row (symmetric: the row's largest
/// magnitude maps to 127), for the streaming step. A live step reads every weight once and finds
/// them gone from the caches, so it is bound by memory bandwidth; 8-bit weights read a quarter of
/// the bytes of `Float`. Rounding to 8 bits moves each weight by at most half a step (scale / 2).
public final class Int8Matrix: @unchecked Sendable {
    public let rows: Int, columns: Int
    private let values: UnsafeMutablePointer<Int8>
    private let scales: UnsafeMutablePointer<Float>

    /// Quantizes a row-major `rows × columns` matrix.
    public init(_ w: UnsafePointer<Float>, rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        values = .allocate(capacity: max(rows * columns, 1))
        scales = .allocate(capacity: max(rows, 1))
        for r in 0..<rows {
            let row = w + r * columns
            var largest: Float = 0
            for c in 0..<columns { largest = max(largest, abs(row[c])) }
            let scale = largest > 0 ? largest / 127 : 1
            scales[r] = scale
            for c in 0..<columns {
                values[r * columns + c] = Int8(min(max((row[c] / scale).rounded(), -127), 127))
            }
        }
    }

    deinit { values.deallocate(); scales.deallocate() }

    /// y += W x.
    @inline(__always)
    public func multiplyAdd(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        hark_q8_matvec(Int32(rows), Int32(columns), values, scales, x, y)
    }

    /// The matrix as the 8-bit weights represent it (scale · q), row-major: what a `Float`
    /// network must hold to compute exactly what the 8-bit step computes, for batched evaluation.
    public func dequantize(into w: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for c in 0..<columns { w[r * columns + c] = scales[r] * Float(values[r * columns + c]) }
        }
    }
}

/// The 8-bit copies of one recurrent layer's weight matrices (biases stay `Float`).
public struct Int8LayerWeights: Sendable {
    public let weightIH: Int8Matrix
    public let weightHH: Int8Matrix
    public let weightHR: Int8Matrix?

    public init(_ s: LayerSpec, _ w: LayerWeights<Float>) {
        weightIH = Int8Matrix(w.weightIH, rows: s.gateRows, columns: s.inputSize)
        weightHH = Int8Matrix(w.weightHH, rows: s.gateRows, columns: s.outputSize)
        weightHR = w.weightHR.map { Int8Matrix($0, rows: s.projectionSize, columns: s.hiddenSize) }
    }
}

/// The 8-bit copies of every recurrent layer of a network: weights, not stream state, so a model
/// makes them once and every stream that steps with them shares them.
public struct Int8NetworkWeights: Sendable {
    public let layers: [Int8LayerWeights]

    public init(_ network: Network<Float>) {
        layers = zip(network.config.layers, network.layerWeights).map { Int8LayerWeights($0, $1) }
    }
}
