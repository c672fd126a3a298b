import Dispatch
import HarkSupport

/// A named tensor's place in a `ParameterStore`.
public struct TensorSpec: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// All of a network's trainable numbers in one contiguous buffer, named as in a PyTorch state
/// dict (`rnn.weight_ih_l0`, `output.bias`, ...). Gradients and optimizer moments are stores of the
/// same layout, so optimizers, clipping and serialization are single loops over `values`.
public final class ParameterStore<T: CellScalar>: @unchecked Sendable {
    public let specs: [TensorSpec]
    public let count: Int
    public let values: UnsafeMutablePointer<T>
    private let index: [String: Int]

    /// A zero-filled store with these tensors, laid out in order.
    public init(tensors: [(name: String, shape: [Int])]) {
        var offset = 0
        var specs: [TensorSpec] = []
        for t in tensors {
            specs.append(TensorSpec(name: t.name, shape: t.shape, offset: offset))
            offset += t.shape.reduce(1, *)
        }
        self.specs = specs
        count = offset
        values = .allocate(capacity: max(offset, 1))
        values.initialize(repeating: 0, count: max(offset, 1))
        index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    /// A zero-filled store with the same layout (gradients, optimizer moments).
    public func zerosLike() -> ParameterStore<T> {
        ParameterStore(tensors: specs.map { ($0.name, $0.shape) })
    }

    public func copy() -> ParameterStore<T> {
        let c = zerosLike()
        c.values.update(from: values, count: count)
        return c
    }

    deinit { values.deallocate() }

    public func spec(_ name: String) -> TensorSpec? { index[name].map { specs[$0] } }

    /// The tensor's values. Traps on an unknown name: layouts are built from the same spec.
    public func pointer(_ name: String) -> UnsafeMutablePointer<T> {
        guard let i = index[name] else { preconditionFailure("no tensor named \(name)") }
        return values + specs[i].offset
    }

    public func tensor(_ name: String) -> [T] {
        guard let s = spec(name) else { return [] }
        return Array(UnsafeBufferPointer(start: values + s.offset, count: s.count))
    }

    public func set(_ name: String, _ data: [T]) {
        guard let s = spec(name) else { preconditionFailure("no tensor named \(name)") }
        precondition(data.count == s.count, "\(name) needs \(s.count) values, got \(data.count)")
        data.withUnsafeBufferPointer { (values + s.offset).update(from: $0.baseAddress!, count: s.count) }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func zero() { values.update(repeating: 0, count: count) }

    /// self += other (same layout), over `threads` threads (each value's sum is its own).
    public func add(_ other: ParameterStore<T>, threads: Int = 1) {
        Self.split(count, parts: threads) { self.add(other, range: $0) }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func add(_ other: ParameterStore<T>, range: Range<Int>) {
        for i in range { values[i] += other.values[i] }
    }

    public var squaredNorm: Double { squaredNorm(threads: 1) }

    /// Σ values² in Double: blocks of `normBlock` values are summed in order, then the blocks'
    /// sums in order, so the result is the same whatever the number of threads.
    public func squaredNorm(threads: Int) -> Double {
        let blocks = (count + Self.normBlock - 1) / Self.normBlock
        let sums = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(blocks, 1))
        defer { sums.deallocate() }
        let shared = UncheckedSendable(sums)
        Self.split(blocks, parts: threads, align: 1) { range in
            for b in range {
                shared.value[b] = self.squaredNorm(b * Self.normBlock..<min(self.count, (b + 1) * Self.normBlock))
            }
        }
        return sums.prefix(blocks).reduce(0, +)
    }

    static var normBlock: Int { 1 << 14 }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func squaredNorm(_ range: Range<Int>) -> Double {
        var s = 0.0
        for i in range { s += Double(values[i]) * Double(values[i]) }
        return s
    }

    public func scale(by factor: Double, threads: Int = 1) {
        Self.split(count, parts: threads) { self.scale(by: factor, range: $0) }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func scale(by factor: Double, range: Range<Int>) {
        let f = T(factor)
        for i in range { values[i] *= f }
    }

    /// Runs `body` on `parts` contiguous ranges covering 0..<n (boundaries multiples of `align`),
    /// at the same time on `parts` threads. For work whose result does not depend on the split.
    static func split(_ n: Int, parts: Int, align: Int = 64, _ body: @escaping (Range<Int>) -> Void) {
        let parts = max(1, min(parts, (n + align - 1) / align))
        guard parts > 1 else { body(0..<n); return }
        let chunk = ((n + parts - 1) / parts + align - 1) / align * align
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = min(n, p * chunk), hi = min(n, lo + chunk)
            if lo < hi { shared.value(lo..<hi) }
        }
    }
}
