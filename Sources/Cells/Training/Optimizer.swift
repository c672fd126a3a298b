/// Parameter updates from gradients.
public enum Optimizer: Codable, Equatable, Sendable {
    /// PyTorch's SGD with momentum: v ← μ·v + g; θ ← θ − lr·v.
    case sgd(learningRate: Double, momentum: Double)
    /// Adam (Kingma & Ba) with bias correction: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²;
    /// θ ← θ − lr · m̂ / (√v̂ + ε).
    case adam(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)

    public var learningRate: Double {
        switch self {
        case let .sgd(lr, _): lr
        case let .adam(lr, _, _, _): lr
        }
    }
}

/// The optimizer's state (moments) for one parameter layout.
final class OptimizerState<T: CellScalar>: @unchecked Sendable {
    let first: ParameterStore<T>
    let second: ParameterStore<T>
    var steps = 0

    init(like p: ParameterStore<T>) {
        first = p.zerosLike()
        second = p.zerosLike()
    }

    /// Applies one update to `params` with `grads`, at learning rate `lr` (which may be scheduled),
    /// split over `threads` threads: every value's update is its own, so the split changes nothing
    /// in the result.
    func apply(_ optimizer: Optimizer, learningRate lr: Double, params: ParameterStore<T>, grads: ParameterStore<T>,
               threads: Int = 1) {
        steps += 1
        let step = steps
        ParameterStore<T>.split(params.count, parts: threads) { range in
            self.update(optimizer, learningRate: lr, step: step, params: params, grads: grads, range: range)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private func update(_ optimizer: Optimizer, learningRate lr: Double, step steps: Int, params: ParameterStore<T>,
                        grads: ParameterStore<T>, range: Range<Int>) {
        let p = params.values, g = grads.values, m = first.values, v = second.values
        switch optimizer {
        case let .sgd(_, mu):
            let mu = T(mu), lr = T(lr)
            for i in range {
                m[i] = mu * m[i] + g[i]
                p[i] -= lr * m[i]
            }
        case let .adam(_, b1, b2, eps):
            let correction1 = 1 - pow(b1, Double(steps)), correction2 = 1 - pow(b2, Double(steps))
            let step = T(lr / correction1), b1 = T(b1), b2 = T(b2), eps = T(eps), c2 = T(correction2)
            for i in range {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                p[i] -= step * m[i] / ((v[i] / c2).squareRoot() + eps)
            }
        }
    }
}

private func pow(_ x: Double, _ y: Double) -> Double {
    var r = 1.0
    for _ in 0..<Int(y) { r *= x }
    return r
}
