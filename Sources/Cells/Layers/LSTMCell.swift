/// Long short-term memory, exactly as PyTorch's `nn.LSTM` (gate order i, f, g, o):
///
///     i = σ(W_ii x + b_ii + W_hi h + b_hi)        f = σ(W_if x + b_if + W_hf h + b_hf)
///     g = tanh(W_ig x + b_ig + W_hg h + b_hg)     o = σ(W_io x + b_io + W_ho h + b_ho)
///     c' = f ⊙ c + i ⊙ g                          h' = o ⊙ tanh(c')
///     with proj_size P > 0:                       h' = W_hr (o ⊙ tanh(c'))
///
/// `weight_ih` is [4H × input] with the blocks i, f, g, o stacked, `weight_hh` is [4H × (P or H)],
/// `weight_hr` is [P × H]. h and c start at zero.
enum LSTMCell {
    /// One streaming step in place: `h` (outputSize) and `c` (hiddenSize) become h', c'.
    /// `scratch` holds at least 2·4H + H values. Allocates nothing.
    @inline(__always)
    static func step<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, x: UnsafePointer<T>,
                                    h: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>,
                                    scratch: UnsafeMutablePointer<T>, int8: Int8LayerWeights? = nil) {
        let hs = s.hiddenSize, g4 = s.gateRows
        let gi = scratch, gh = scratch + g4, m = scratch + 2 * g4
        Recurrent.projections(s, w, x: x, h: h, gi: gi, gh: gh, batch: 1, int8: int8)
        activate(gi, gh, hs: hs, cPrev: c, c: c, m: m)
        if let whr = w.weightHR {
            for p in 0..<s.projectionSize { h[p] = 0 }
            if let q = int8?.weightHR, T.self == Float.self {
                q.multiplyAdd(Recurrent.asFloat(UnsafePointer(m)), into: Recurrent.asFloat(h))
            } else {
                Gemm.nt(1, s.projectionSize, hs, m, whr, h)
            }
        } else {
            h.update(from: m, count: hs)
        }
    }

    /// The gate arithmetic shared by the streaming step and the batched forward: `a` holds
    /// W_ih x + b_ih and receives the activations (i, f, g, o); `r` holds W_hh h + b_hh.
    /// c ← f ⊙ cPrev + i ⊙ g (cPrev nil means 0; c may alias cPrev), m ← o ⊙ tanh(c).
    @inline(__always)
    static func activate<T: CellScalar>(_ a: UnsafeMutablePointer<T>, _ r: UnsafePointer<T>, hs: Int,
                                        cPrev: UnsafePointer<T>?, c: UnsafeMutablePointer<T>, m: UnsafeMutablePointer<T>) {
        // The element loops are written 16 lanes at a time: the compiler cannot prove the
        // buffers apart and kept the plain loops scalar. Same arithmetic per element either way.
        let vectors = hs & ~15
        var j = 0
        while j < 4 * vectors {
            Gemm.store16(Gemm.load16(a + j) + Gemm.load16(r + j), a + j)
            j += 16
        }
        for j in j..<(4 * hs) { a[j] += r[j] }
        T.sigmoid(a, count: 2 * hs)
        T.tanh(a + 2 * hs, count: hs)
        T.sigmoid(a + 3 * hs, count: hs)
        j = 0
        if let cPrev {
            while j < vectors {
                let cNew = Gemm.load16(a + hs + j) * Gemm.load16(cPrev + j) + Gemm.load16(a + j) * Gemm.load16(a + 2 * hs + j)
                Gemm.store16(cNew, c + j)
                Gemm.store16(cNew, m + j)
                j += 16
            }
        }
        for j in j..<hs {
            let cNew = a[hs + j] * (cPrev?[j] ?? 0) + a[j] * a[2 * hs + j]
            c[j] = cNew
            m[j] = cNew
        }
        T.tanh(m, count: hs)
        j = 0
        while j < vectors {
            Gemm.store16(Gemm.load16(m + j) * Gemm.load16(a + 3 * hs + j), m + j)
            j += 16
        }
        for j in j..<hs { m[j] *= a[3 * hs + j] }
    }

    /// Batched forward over `cache.steps` time steps of `cache.batch` sequences, keeping what the
    /// backward pass needs. `work` holds at least batch·4H values.
    static func forward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, cache: LayerCache<T>,
                                       work: UnsafeMutablePointer<T>) {
        let hs = s.hiddenSize, g4 = s.gateRows, out = s.outputSize, batch = cache.batch
        Recurrent.inputProjections(s, w, cache: cache)            // cache.gates = W_ih x + b_ih
        let whh = Recurrent.forwardHidden(s, w)
        let whr = w.weightHR.map { StepMatrix($0, k: hs, n: out, transposed: true) }    // W_hrᵀ
        for t in 0..<cache.steps {
            let row = t * batch
            let gh = work
            Recurrent.hiddenProjection(s, w, whh, hPrev: t == 0 ? nil : cache.output + (row - batch) * out,
                                       gh: gh, batch: batch)
            for b in 0..<batch {
                let a = cache.gates + (row + b) * g4, r = gh + b * g4
                let c = cache.aux + (row + b) * hs
                let cPrev: UnsafeMutablePointer<T>? = t == 0 ? nil : cache.aux + (row - batch + b) * hs
                let m = cache.unprojected.map { $0 + (row + b) * hs } ?? cache.output + (row + b) * out
                activate(a, r, hs: hs, cPrev: cPrev, c: c, m: m)
            }
            if let whr, let um = cache.unprojected {
                let h = cache.output + row * out
                h.update(repeating: 0, count: batch * out)
                whr.multiplyAdd(rows: batch, um + row * hs, into: h)    // h = m · W_hrᵀ
            }
        }
    }

    /// Backward through time. `dOutput` [steps·batch × outputSize] is dL/dh_t from above (it is
    /// consumed). Accumulates weight gradients into `g` and dL/dx into `dInput`.
    /// `work` holds at least batch·(3H + outputSize) + H values; `dGates` steps·batch·4H.
    static func backward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, _ g: LayerWeights<T>,
                                        cache: LayerCache<T>, dOutput: UnsafeMutablePointer<T>,
                                        dGates: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>) {
        let hs = s.hiddenSize, g4 = s.gateRows, out = s.outputSize, batch = cache.batch
        let dhNext = work, dcNext = work + batch * out, dm = dcNext + batch * hs
        let tanhC = dm + batch * hs, zeros = tanhC + batch * hs       // c₋₁ = 0
        dhNext.update(repeating: 0, count: batch * out)
        dcNext.update(repeating: 0, count: batch * hs)
        zeros.update(repeating: 0, count: hs)
        let whh = Recurrent.backwardHidden(s, w)
        let whr = w.weightHR.map { StepMatrix($0, k: out, n: hs, transposed: false) }   // W_hr
        for t in stride(from: cache.steps - 1, through: 0, by: -1) {
            let row = t * batch
            let dh = dOutput + row * out
            for k in 0..<(batch * out) { dh[k] += dhNext[k] }
            if let whr {
                dm.update(repeating: 0, count: batch * hs)
                whr.multiplyAdd(rows: batch, dh, into: dm)              // dm = dh · W_hr
            } else {
                dm.update(from: dh, count: batch * hs)
            }
            // tanh(c) of the whole step in one vector pass; the gate loop then has no calls and
            // no branches, so it vectorizes.
            tanhC.update(from: cache.aux + row * hs, count: batch * hs)
            T.tanh(tanhC, count: batch * hs)
            for b in 0..<batch {
                let a = cache.gates + (row + b) * g4, tcb = tanhC + b * hs
                let cPrev = t == 0 ? zeros : cache.aux + (row - batch + b) * hs
                let da = dGates + (row + b) * g4, dmb = dm + b * hs, dcb = dcNext + b * hs
                // 16 lanes at a time (the compiler cannot prove the buffers apart and kept the
                // plain loop scalar), then the same arithmetic for the rest.
                var j = 0
                while j + 16 <= hs {
                    let i = Gemm.load16(a + j), f = Gemm.load16(a + hs + j)
                    let gg = Gemm.load16(a + 2 * hs + j), o = Gemm.load16(a + 3 * hs + j)
                    let tc = Gemm.load16(tcb + j), dmj = Gemm.load16(dmb + j)
                    let dOut = dmj * tc
                    let dc = Gemm.load16(dcb + j) + dmj * o * (1 - tc * tc)
                    Gemm.store16(dc * gg * i * (1 - i), da + j)
                    Gemm.store16(dc * Gemm.load16(cPrev + j) * f * (1 - f), da + hs + j)
                    Gemm.store16(dc * i * (1 - gg * gg), da + 2 * hs + j)
                    Gemm.store16(dOut * o * (1 - o), da + 3 * hs + j)
                    Gemm.store16(dc * f, dcb + j)
                    j += 16
                }
                for j in j..<hs {
                    let i = a[j], f = a[hs + j], gg = a[2 * hs + j], o = a[3 * hs + j]
                    let tc = tcb[j]
                    let dOut = dmb[j] * tc
                    let dc = dcb[j] + dmb[j] * o * (1 - tc * tc)
                    da[j] = dc * gg * i * (1 - i)
                    da[hs + j] = dc * cPrev[j] * f * (1 - f)
                    da[2 * hs + j] = dc * i * (1 - gg * gg)
                    da[3 * hs + j] = dOut * o * (1 - o)
                    dcb[j] = dc * f
                }
            }
            Recurrent.hiddenBackward(s, whh, dHidden: dGates + row * g4, dhNext: dhNext, batch: batch, addToDhNext: false)
        }
        // dOutput now holds dL/dh of every step (the loop added dhNext into it in place).
        if let gwhr = g.weightHR, let um = cache.unprojected {
            Gemm.tn(cache.steps * batch, out, hs, dOutput, um, gwhr)      // dW_hr += Σₜ dhₜᵀ · mₜ
        }
        Recurrent.hiddenWeightGradients(s, g, dHidden: dGates, cache: cache)
        Recurrent.inputBackward(s, w, g, dInputSide: dGates, cache: cache)
    }
}
