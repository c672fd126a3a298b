import CBenchSupport

/// The BLAS choice for training: each candidate library on the products one training thread
/// makes (half of a 16-utterance minibatch: 8 rows per time step, 800 rows per layer), timed
/// on the thread's CPU time so that other processes on the machine do not enter the figures.
enum BlasBench {
    struct Product {
        let what: String
        let transA: Bool, transB: Bool
        let m: Int, n: Int, k: Int
        /// Made once per time step (100 steps in a 3 s utterance), not once per minibatch.
        var perStep: Bool { m == 8 }
    }

    static let products: [Product] = [
        Product(what: "LSTM 2×256: W_hh·h per step", transA: false, transB: true, m: 8, n: 1024, k: 256),
        Product(what: "LSTM 2×256: dh = dG·W_hh per step", transA: false, transB: false, m: 8, n: 256, k: 1024),
        Product(what: "LSTM 2×256: W_ih·x, all steps", transA: false, transB: true, m: 800, n: 1024, k: 240),
        Product(what: "LSTM 2×256: dW_hh = dGᵀ·h, all steps", transA: true, transB: false, m: 1024, n: 256, k: 792),
        Product(what: "LSTM 2×256: dX = dG·W_ih, all steps", transA: false, transB: false, m: 800, n: 240, k: 1024),
        Product(what: "LSTM 3×512: W_hh·h per step", transA: false, transB: true, m: 8, n: 2048, k: 512),
        Product(what: "LSTM 3×512: dh = dG·W_hh per step", transA: false, transB: false, m: 8, n: 512, k: 2048),
        Product(what: "LSTM 3×512: W_ih·x, all steps", transA: false, transB: true, m: 800, n: 2048, k: 512),
        Product(what: "LSTM 3×512: dW_hh = dGᵀ·h, all steps", transA: true, transB: false, m: 2048, n: 512, k: 792),
    ]

    static let libraries = [("BLIS 0.9 (libblis.so.4)", "libblis.so.4"),
                            ("OpenBLAS 0.3.21 (libopenblas.so.0)", "libopenblas.so.0")]

    static func run() {
        Measure.pinToOneCore()
        let opened = libraries.map { (name: $0.0, handle: hark_blas_open($0.1)) }
        for l in opened where l.handle == nil { print("(\(l.name) could not be loaded: install its Debian -dev package)") }
        let present = opened.filter { $0.handle != nil }
        print("| product (m × n × k) | " + present.map { "\($0.name), GFLOP/s" }.joined(separator: " | ")
              + " | fastest | Hark's per-step kernel (B packed once per pass), GFLOP/s |")
        print("|---|" + String(repeating: "---|", count: present.count + 2))
        var totals = [Double](repeating: 0, count: present.count)
        for p in products {
            let flops = 2.0 * Double(p.m * p.n * p.k)
            let seconds = present.map { hark_blas_time_sgemm($0.handle, p.transA ? 1 : 0, p.transB ? 1 : 0,
                                                            Int32(p.m), Int32(p.n), Int32(p.k), 0.3) }
            for (i, s) in seconds.enumerated() { totals[i] += s * (p.perStep ? 100 : 1) }
            let best = seconds.indices.min { seconds[$0] < seconds[$1] }!
            // The trainer runs the per-step products in its own kernel (StepMatrix) when built
            // with AVX-512; the large ones stay on the library.
            let kernel = p.perStep ? hark_small_m_time(Int32(p.m), Int32(p.n), Int32(p.k), p.transB ? 1 : 0, 0.3) : -1
            print("| \(p.what) (\(p.m) × \(p.n) × \(p.k)) | " + seconds.map { fmt(flops / $0 / 1e9, 1) }.joined(separator: " | ")
                  + " | \(present[best].name.split(separator: " ").first!) | \(kernel > 0 ? fmt(flops / kernel / 1e9, 1) : "–") |")
        }
        print()
        print("Sum over the table, per-step products counted 100 times (a 3 s minibatch): "
              + zip(present, totals).map { "\($0.name.split(separator: " ").first!) \(fmt($1 * 1e3, 1)) ms" }.joined(separator: ", "))
    }
}
