import Foundation
import Testing
@testable import Cells

enum Fixtures {
    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
    }
    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) as! [String: Any]
    }
}

/// Largest |a − b| / max(1, |b|).
func maxRelativeError<T: CellScalar>(_ a: [T], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "length \(a.count) vs \(b.count)")
    return zip(a, b).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
}

/// Random values in ±scale, reproducible.
func randomValues<T: CellScalar>(_ n: Int, scale: Double = 1, rng: inout SeededGenerator) -> [T] {
    (0..<n).map { _ in T(rng.uniform(-scale, scale)) }
}

extension Network {
    /// Random parameters in ±scale (the gradient checks want all of them away from zero).
    func randomize(scale: Double, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for i in 0..<parameters.count { parameters.values[i] = T(rng.uniform(-scale, scale)) }
    }
}
