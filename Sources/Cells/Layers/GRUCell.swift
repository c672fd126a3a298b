/// Gated recurrent unit, exactly as PyTorch's `nn.GRU` (gate order r, z, n):
///
///     r = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
///     h' = (1 − z) ⊙ n + z ⊙ h
///
/// `weight_ih` is [3H × input], `weight_hh` [3H × H], blocks r, z, n stacked. h starts at zero.
enum GRUCell {
    /// One streaming step in place on `h`. `scratch` holds at least 2·3H values. Allocates nothing.
    @inline(__always)
    static func step<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, x: UnsafePointer<T>,
                                    h: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>,
                                    int8: Int8LayerWeights? = nil) {
        let hs = s.hiddenSize
        let gi = scratch, gh = scratch + s.gateRows
        Recurrent.projections(s, w, x: x, h: h, gi: gi, gh: gh, batch: 1, int8: int8)
        activate(gi, gh, hs: hs)
        for j in 0..<hs { h[j] = (1 - gi[hs + j]) * gi[2 * hs + j] + gi[hs + j] * h[j] }
    }

    /// Shared by step and batched forward: `a` holds W_ih x + b_ih and receives (r, z, n);
    /// `q` holds W_hh h + b_hh.
    @inline(__always)
    static func activate<T: CellScalar>(_ a: UnsafeMutablePointer<T>, _ q: UnsafePointer<T>, hs: Int) {
        for j in 0..<(2 * hs) { a[j] += q[j] }
        T.sigmoid(a, count: 2 * hs)
        for j in 0..<hs { a[2 * hs + j] += a[j] * q[2 * hs + j] }
        T.tanh(a + 2 * hs, count: hs)
    }

    static func forward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, cache: LayerCache<T>,
                                       work: UnsafeMutablePointer<T>) {
        let hs = s.hiddenSize, g3 = s.gateRows, batch = cache.batch
        Recurrent.inputProjections(s, w, cache: cache)
        let whh = Recurrent.forwardHidden(s, w)
        for t in 0..<cache.steps {
            let row = t * batch
            let gh = work
            let hPrev: UnsafeMutablePointer<T>? = t == 0 ? nil : cache.output + (row - batch) * hs
            Recurrent.hiddenProjection(s, w, whh, hPrev: hPrev, gh: gh, batch: batch)
            for b in 0..<batch {
                let a = cache.gates + (row + b) * g3, q = gh + b * g3
                let hn = cache.aux + (row + b) * hs, h = cache.output + (row + b) * hs
                activate(a, q, hs: hs)
                for j in 0..<hs {
                    hn[j] = q[2 * hs + j]
                    h[j] = (1 - a[hs + j]) * a[2 * hs + j] + a[hs + j] * (hPrev?[b * hs + j] ?? 0)
                }
            }
        }
    }

    /// `work` holds at least batch·H values; `dGates` steps·batch·3H (input side).
    static func backward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, _ g: LayerWeights<T>,
                                        cache: LayerCache<T>, dOutput: UnsafeMutablePointer<T>,
                                        dGates: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>) {
        let hs = s.hiddenSize, g3 = s.gateRows, batch = cache.batch
        let dhNext = work
        dhNext.update(repeating: 0, count: batch * hs)
        let whh = Recurrent.backwardHidden(s, w)
        // The hidden side's gate gradients differ from the input side's in the n gate (× r), so
        // they get their own buffer over all steps, for `hiddenWeightGradients` after the loop.
        let dHiddenAll = UnsafeMutablePointer<T>.allocate(capacity: max(cache.steps * batch, 1) * g3)
        defer { dHiddenAll.deallocate() }
        for t in stride(from: cache.steps - 1, through: 0, by: -1) {
            let row = t * batch
            let hPrev: UnsafeMutablePointer<T>? = t == 0 ? nil : cache.output + (row - batch) * hs
            let dHidden = dHiddenAll + row * g3
            for b in 0..<batch {
                let a = cache.gates + (row + b) * g3, hn = cache.aux + (row + b) * hs
                let dh = dOutput + (row + b) * hs, dn1 = dhNext + b * hs
                let di = dGates + (row + b) * g3, dq = dHidden + b * g3
                for j in 0..<hs {
                    let r = a[j], z = a[hs + j], n = a[2 * hs + j]
                    let d = dh[j] + dn1[j]
                    let hp = hPrev?[b * hs + j] ?? 0
                    let dan = d * (1 - z) * (1 - n * n)
                    let daz = d * (hp - n) * z * (1 - z)
                    let dar = dan * hn[j] * r * (1 - r)
                    di[j] = dar; di[hs + j] = daz; di[2 * hs + j] = dan
                    dq[j] = dar; dq[hs + j] = daz; dq[2 * hs + j] = dan * r
                    dn1[j] = d * z                               // direct path h → h'
                }
            }
            Recurrent.hiddenBackward(s, whh, dHidden: dHidden, dhNext: dhNext, batch: batch, addToDhNext: true)
        }
        Recurrent.hiddenWeightGradients(s, g, dHidden: dHiddenAll, cache: cache)
        Recurrent.inputBackward(s, w, g, dInputSide: dGates, cache: cache)
    }
}
