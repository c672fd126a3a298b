import HarkSupport
internal import CKernels
import Dispatch

/// Training settings with documented defaults.
public struct TrainingOptions: Codable, Equatable, Sendable {
    public var optimizer: Optimizer = .adam(learningRate: 1e-3)
    /// Gradients are scaled down when their global L2 norm exceeds this (nil: no clipping).
    public var clipNorm: Double? = 5
    /// Threads a minibatch is split over; each computes its part's gradients, which are then
    /// summed in a fixed order, so results do not depend on timing.
    public var threads: Int = 2

    public init() {}
}

/// Minibatch training by backpropagation through time. Deterministic: the same network, options
/// and batches give the same parameters, whatever the threads' timing.
public final class Trainer<T: CellScalar> {
    public let network: Network<T>
    public var options: TrainingOptions
    /// Overrides the optimizer's learning rate when set (for schedules).
    public var learningRate: Double?
    private let state: OptimizerState<T>
    private let gradients: [ParameterStore<T>]

    public init(network: Network<T>, options: TrainingOptions = TrainingOptions()) {
        _ = keepFreedMemory
        self.network = network
        self.options = options
        state = OptimizerState(like: network.parameters)
        gradients = (0..<max(options.threads, 1)).map { _ in network.parameters.zerosLike() }
    }

    public struct StepResult: Sendable {
        /// Loss per counted unit (frame, label), averaged over the minibatch.
        public var loss: Double
        /// Global gradient norm before clipping.
        public var gradientNorm: Double
        /// Frames the minibatch contained.
        public var frames: Int
    }

    /// Optimizer steps taken so far.
    public var optimizerSteps: Int { state.steps }

    /// The optimizer's moments by tensor name (`optimizer.first.<name>`, `optimizer.second.<name>`)
    /// and its step count: with the parameters, everything needed to resume exactly.
    public func optimizerState() -> (tensors: [String: [Float]], steps: Int) where T == Float {
        var t: [String: [Float]] = [:]
        for spec in network.parameters.specs {
            t["optimizer.first." + spec.name] = state.first.tensor(spec.name)
            t["optimizer.second." + spec.name] = state.second.tensor(spec.name)
        }
        return (t, state.steps)
    }

    /// Restores what `optimizerState()` returned.
    public func restoreOptimizerState(_ tensors: [String: [Float]], steps: Int) where T == Float {
        for spec in network.parameters.specs {
            if let m = tensors["optimizer.first." + spec.name] { state.first.set(spec.name, m) }
            if let v = tensors["optimizer.second." + spec.name] { state.second.set(spec.name, v) }
        }
        state.steps = steps
    }

    /// Computes the gradient of `loss` over `batch` (each example's frames and target) without
    /// changing the parameters; the summed, unscaled gradient is left in the returned store.
    public func gradient<L: SequenceLoss>(batch: [(frames: [T], target: L.Target)], loss: L)
        -> (store: ParameterStore<T>, loss: Double, count: Int) where L.T == T {
        let parts = min(gradients.count, max(batch.count, 1))
        let results = UnsafeMutableBufferPointer<(Double, Int)>.allocate(capacity: parts)
        defer { results.deallocate() }
        let net = network
        let grads = gradients
        let chunk = (batch.count + parts - 1) / parts
        // Each part reads the shared batch and loss and writes only its own gradient store
        // and result slot.
        let shared = UncheckedSendable((batch, loss, results))
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let (batch, loss, results) = shared.value
            grads[part].zero()
            let lo = part * chunk, hi = min(batch.count, lo + chunk)
            guard lo < hi else { results[part] = (0, 0); return }
            let examples = Array(batch[lo..<hi])
            let buffers = examples.map { $0.frames }
            let pass = buffers.withUnsafeBufferPointers { net.forwardPass($0) }
            let rows = max(pass.steps * pass.batch, 1) * pass.width
            let dOut = UnsafeMutablePointer<T>.allocate(capacity: rows)
            dOut.initialize(repeating: 0, count: rows)
            defer { dOut.deallocate() }
            var total = 0.0, count = 0
            for (b, ex) in examples.enumerated() {
                let out = SequenceRows(base: pass.output(step: 0, sequence: b), steps: pass.stepCounts[b],
                                       width: pass.width, stride: pass.rowStride)
                let grad = SequenceRows(base: dOut + b * pass.width, steps: pass.stepCounts[b],
                                        width: pass.width, stride: pass.rowStride)
                let r = loss.evaluate(out, target: ex.target, gradient: grad)
                total += r.loss
                count += r.count
            }
            net.backward(pass, dOutput: dOut, gradients: grads[part])
            results[part] = (total, count)
        }
        var total = 0.0, count = 0
        for p in 0..<parts {
            total += results[p].0
            count += results[p].1
            if p > 0 { grads[0].add(grads[p], threads: gradients.count) }
        }
        return (grads[0], total, count)
    }

    /// One optimizer step on a minibatch: gradient averaged per counted unit, clipped, applied.
    @discardableResult
    public func step<L: SequenceLoss>(batch: [(frames: [T], target: L.Target)], loss: L) -> StepResult where L.T == T {
        let (g, total, count) = gradient(batch: batch, loss: loss)
        // Every pass over the parameters is split over the threads too: each value's arithmetic
        // is its own (the norm's sum has a fixed order), so the results are those of one thread.
        let threads = gradients.count
        g.scale(by: count > 0 ? 1 / Double(count) : 0, threads: threads)
        let norm = g.squaredNorm(threads: threads).squareRoot()
        if let clip = options.clipNorm, norm > clip, norm.isFinite { g.scale(by: clip / norm, threads: threads) }
        if norm.isFinite {
            state.apply(options.optimizer, learningRate: learningRate ?? options.optimizer.learningRate,
                        params: network.parameters, grads: g, threads: threads)
        }
        let frames = batch.reduce(0) { $0 + $1.frames.count / network.config.inputSize }
        return StepResult(loss: count > 0 ? total / Double(count) : 0, gradientNorm: norm, frames: frames)
    }
}

/// Every minibatch allocates its forward pass's caches (megabytes per layer) and frees them at
/// the end. glibc returns such blocks to the kernel on free (mmap above its threshold, trimming
/// the heap's top), so the next minibatch takes a page fault for every 4 KB of them again:
/// measured as 15% of a training step's CPU time in the kernel. Keeping freed memory in the process
/// (glibc's largest mmap threshold, and no trimming below 1 GB free) makes them reused instead.
/// Process-wide, set once, by the first trainer.
private let keepFreedMemory: Void = hark_keep_freed_memory()

extension Array {
    /// Calls `body` with an array of buffer pointers to each element array's storage (for
    /// `Network.forwardPass`, which takes one buffer per sequence).
    public func withUnsafeBufferPointers<T, R>(_ body: ([UnsafeBufferPointer<T>]) -> R) -> R where Element == [T] {
        var pointers: [UnsafeBufferPointer<T>] = []
        pointers.reserveCapacity(count)
        func recurse(_ i: Int) -> R {
            if i == count { return body(pointers) }
            return self[i].withUnsafeBufferPointer { p in
                pointers.append(p)
                return recurse(i + 1)
            }
        }
        return recurse(0)
    }
}

