/// The parts every cell shares: the input- and hidden-side affine maps and their gradients, and
/// dispatch on the cell kind.
enum Recurrent {
    /// gi = W_ih x + b_ih and gh = W_hh h + b_hh for `batch` rows (the streaming step uses 1),
    /// with the 8-bit copies of the weights when the step is given them (`Float` only).
    @inline(__always)
    static func projections<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, x: UnsafePointer<T>,
                                           h: UnsafePointer<T>, gi: UnsafeMutablePointer<T>,
                                           gh: UnsafeMutablePointer<T>, batch: Int, int8: Int8LayerWeights? = nil) {
        let rows = s.gateRows
        gi.update(repeating: 0, count: batch * rows)
        gh.update(repeating: 0, count: batch * rows)
        if let int8, batch == 1, T.self == Float.self {
            int8.weightIH.multiplyAdd(asFloat(x), into: asFloat(gi))
            int8.weightHH.multiplyAdd(asFloat(h), into: asFloat(gh))
        } else {
            Gemm.nt(batch, rows, s.inputSize, x, w.weightIH, gi)
            Gemm.nt(batch, rows, s.outputSize, h, w.weightHH, gh)
        }
        for b in 0..<batch {
            for r in 0..<rows {
                gi[b * rows + r] += w.biasIH[r]
                gh[b * rows + r] += w.biasHH[r]
            }
        }
    }

    /// cache.gates = W_ih x + b_ih for every step and sequence at once (one large product).
    static func inputProjections<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, cache: LayerCache<T>) {
        let rows = s.gateRows, n = cache.steps * cache.batch
        for i in 0..<n { (cache.gates + i * rows).update(from: w.biasIH, count: rows) }
        Gemm.nt(n, rows, s.inputSize, cache.input, w.weightIH, cache.gates)
    }

    /// gh = W_hh hPrev + b_hh for `batch` rows; hPrev nil means h = 0. `weightHH` is
    /// `forwardHidden(s, w)`, made once per pass.
    static func hiddenProjection<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, _ weightHH: StepMatrix<T>,
                                                hPrev: UnsafePointer<T>?, gh: UnsafeMutablePointer<T>, batch: Int) {
        let rows = s.gateRows
        for b in 0..<batch { (gh + b * rows).update(from: w.biasHH, count: rows) }
        if let hPrev { weightHH.multiplyAdd(rows: batch, hPrev, into: gh) }
    }

    /// W_hhᵀ [outputSize × gateRows], the B of the forward step's h · W_hhᵀ.
    static func forwardHidden<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>) -> StepMatrix<T> {
        StepMatrix(w.weightHH, k: s.outputSize, n: s.gateRows, transposed: true)
    }

    /// W_hh [gateRows × outputSize], the B of the backward step's dgh · W_hh.
    static func backwardHidden<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>) -> StepMatrix<T> {
        StepMatrix(w.weightHH, k: s.gateRows, n: s.outputSize, transposed: false)
    }

    /// Given dL/d(gh) for one step, dL/dhPrev = dgh · W_hh into `dhNext` (replacing it, or adding
    /// to it when the cell has a direct h → h' path). `weightHH` is `backwardHidden(s, w)`. The
    /// weight side waits for the whole sequence (`hiddenWeightGradients`).
    static func hiddenBackward<T: CellScalar>(_ s: LayerSpec, _ weightHH: StepMatrix<T>, dHidden: UnsafePointer<T>,
                                              dhNext: UnsafeMutablePointer<T>, batch: Int, addToDhNext: Bool) {
        if !addToDhNext { dhNext.update(repeating: 0, count: batch * s.outputSize) }
        weightHH.multiplyAdd(rows: batch, dHidden, into: dhNext)
    }

    /// After the time loop: dW_hh += Σₜ dghₜᵀ · hₜ₋₁ and db_hh += Σₜ dghₜ, with `dHidden` holding
    /// dL/d(gh) of every step [steps·batch × gateRows]. One product over all steps, not one per
    /// step: a per-step product has only `batch` rows to sum over and spends its time reading and
    /// writing all of dW_hh (measured: 2× the whole training step, BENCHMARKS.md).
    static func hiddenWeightGradients<T: CellScalar>(_ s: LayerSpec, _ g: LayerWeights<T>, dHidden: UnsafePointer<T>,
                                                     cache: LayerCache<T>) {
        let rows = s.gateRows, batch = cache.batch, n = cache.steps * batch
        // Step t's hPrev is output row block t − 1; step 0's is zero and adds nothing.
        if cache.steps > 1 {
            Gemm.tn(n - batch, rows, s.outputSize, dHidden + batch * rows, cache.output, g.weightHH)
        }
        Gemm.addColumnSums(dHidden, rows: n, width: rows, into: g.biasHH)
    }

    /// After the time loop: dW_ih += dGᵀ·X, db_ih += Σ dG, and dL/dX += dG·W_ih (into the
    /// cache's input-gradient buffer, which the caller supplies through `cache.dInput`).
    static func inputBackward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, _ g: LayerWeights<T>,
                                             dInputSide: UnsafePointer<T>, cache: LayerCache<T>) {
        let rows = s.gateRows, n = cache.steps * cache.batch
        Gemm.tn(n, rows, s.inputSize, dInputSide, cache.input, g.weightIH)
        Gemm.addColumnSums(dInputSide, rows: n, width: rows, into: g.biasIH)
        if let dInput = cache.dInput { Gemm.nn(n, rows, s.inputSize, dInputSide, w.weightIH, dInput) }
    }

    // MARK: Dispatch

    /// Scratch a streaming step needs, in values.
    static func stepScratch(_ s: LayerSpec) -> Int { 2 * s.gateRows + s.hiddenSize }

    @inline(__always)
    static func step<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, x: UnsafePointer<T>,
                                    h: UnsafeMutablePointer<T>, c: UnsafeMutablePointer<T>,
                                    scratch: UnsafeMutablePointer<T>, int8: Int8LayerWeights? = nil) {
        switch s.kind {
        case .lstm: LSTMCell.step(s, w, x: x, h: h, c: c, scratch: scratch, int8: int8)
        case .gru: GRUCell.step(s, w, x: x, h: h, scratch: scratch, int8: int8)
        case .rnn: RNNCell.step(s, w, x: x, h: h, scratch: scratch, int8: int8)
        }
    }

    /// The same memory seen as `Float` (callers check `T.self == Float.self` first).
    @inline(__always)
    static func asFloat<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    @inline(__always)
    static func asFloat<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// Work space for the batched passes, in values (per layer, for `batch` sequences).
    static func work(_ s: LayerSpec, batch: Int) -> Int { batch * (2 * s.gateRows + 2 * s.hiddenSize + s.outputSize) }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func forward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, cache: LayerCache<T>,
                                       work: UnsafeMutablePointer<T>) {
        switch s.kind {
        case .lstm: LSTMCell.forward(s, w, cache: cache, work: work)
        case .gru: GRUCell.forward(s, w, cache: cache, work: work)
        case .rnn: RNNCell.forward(s, w, cache: cache, work: work)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func backward<T: CellScalar>(_ s: LayerSpec, _ w: LayerWeights<T>, _ g: LayerWeights<T>,
                                        cache: LayerCache<T>, dOutput: UnsafeMutablePointer<T>,
                                        dGates: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>) {
        switch s.kind {
        case .lstm: LSTMCell.backward(s, w, g, cache: cache, dOutput: dOutput, dGates: dGates, work: work)
        case .gru: GRUCell.backward(s, w, g, cache: cache, dOutput: dOutput, dGates: dGates, work: work)
        case .rnn: RNNCell.backward(s, w, g, cache: cache, dOutput: dOutput, dGates: dGates, work: work)
        }
    }
}
