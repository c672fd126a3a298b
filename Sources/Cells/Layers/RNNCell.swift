/// Elman RNN with tanh, exactly as PyTorch's `nn.RNN(nonlinearity="tanh")`:
///
///     h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
///
/// `weight_ih` is [H × input], `weight_hh` [H × H]. h starts at zero.
enum RNNCell {
    /// One streaming step in place on `h`. `scratch` holds at least 2H values. Allocates nothing.
    @inline(__always)
    static func step<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, x: UnsafePointer<T>,
                                    h: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>,
                                    int8: Int8LayerWeights? = nil) {
        let gi = scratch, gh = scratch + s.gateRows
        Recurrent.projections(s, w, x: x, h: h, gi: gi, gh: gh, batch: 1, int8: int8)
        for j in 0..<s.hiddenSize { h[j] = gi[j] + gh[j] }
        T.tanh(h, count: s.hiddenSize)
    }

    static func forward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, cache: LayerCache<T>,
                                       work: UnsafeMutablePointer<T>) {
        let hs = s.hiddenSize, batch = cache.batch
        Recurrent.inputProjections(s, w, cache: cache)
        let whh = Recurrent.forwardHidden(s, w)
        for t in 0..<cache.steps {
            let row = t * batch
            let gh = work
            Recurrent.hiddenProjection(s, w, whh, hPrev: t == 0 ? nil : cache.output + (row - batch) * hs,
                                       gh: gh, batch: batch)
            let g = cache.gates + row * hs
            for k in 0..<(batch * hs) { g[k] += gh[k] }
            T.tanh(g, count: batch * hs)
            (cache.output + row * hs).update(from: g, count: batch * hs)
        }
    }

    /// `work` holds at least batch·H values; `dGates` steps·batch·H.
    static func backward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, _ g: LayerWeights<T>,
                                        cache: LayerCache<T>, dOutput: UnsafeMutablePointer<T>,
                                        dGates: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>) {
        let hs = s.hiddenSize, batch = cache.batch
        let dhNext = work
        dhNext.update(repeating: 0, count: batch * hs)
        let whh = Recurrent.backwardHidden(s, w)
        for t in stride(from: cache.steps - 1, through: 0, by: -1) {
            let row = t * batch
            for k in 0..<(batch * hs) {
                let h = cache.output[row * hs + k]
                dGates[row * hs + k] = (dOutput[row * hs + k] + dhNext[k]) * (1 - h * h)
            }
            Recurrent.hiddenBackward(s, whh, dHidden: dGates + row * hs, dhNext: dhNext, batch: batch, addToDhNext: false)
        }
        Recurrent.hiddenWeightGradients(s, g, dHidden: dGates, cache: cache)
        Recurrent.inputBackward(s, w, g, dInputSide: dGates, cache: cache)
    }
}
