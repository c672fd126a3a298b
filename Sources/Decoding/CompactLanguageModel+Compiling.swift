import Foundation

extension CompactLanguageModel {
    /// Compiles an ARPA model into the compact form, same word ids.
    ///
    /// A pruned ARPA file may list an n-gram whose context (its first n − 1 words) was pruned
    /// away; the trie needs that context as an entry, so it is added with the probability the ARPA
    /// model gives it by back-off and a back-off weight of 0 (ln 1), which leaves every score as it was.
    public init(arpa: ArpaLanguageModel) {
        var words = [String](repeating: "", count: arpa.vocabulary.count)
        for (w, id) in arpa.vocabulary { words[Int(id)] = w }

        var byOrder = [[[Int32]: (logProb: Float, backoff: Float)]](repeating: [:], count: arpa.order)
        for (key, value) in arpa.grams { byOrder[key.count - 1][key] = value }
        for n in stride(from: arpa.order, through: 2, by: -1) {
            for key in byOrder[n - 1].keys {
                let context = Array(key.dropLast())
                if byOrder[n - 2][context] == nil {
                    byOrder[n - 2][context] = (arpa.logProb(context.last!, context: context.dropLast()), 0)
                }
            }
        }

        // Sorting each order by its word ids puts every entry's continuations, sorted by word,
        // in one run of the next order, in the order of their contexts.
        let sorted: [[[Int32]]] = byOrder.enumerated().map { n, grams in
            n == 0 ? (0..<Int32(words.count)).map { [$0] } : grams.keys.sorted { $0.lexicographicallyPrecedes($1) }
        }
        var probValues: [[Float]] = [], backoffValues: [[Float]] = []
        var tables: [Table] = []
        for n in 0..<arpa.order {
            let keys = sorted[n]
            let entries = keys.map { byOrder[n][$0] ?? (ArpaLanguageModel.unknownFloor, 0) }
            let probs = Quantizer(entries.map(\.logProb), levels: Self.levels)
            probValues.append(probs.values)
            var table = Table(word: n == 0 ? [] : keys.map { $0.last! }, prob: entries.map { probs.code($0.logProb) },
                              backoff: [], firstChild: [])
            if n + 1 < arpa.order {
                let backoffs = Quantizer(entries.map(\.backoff), levels: Self.levels)
                backoffValues.append(backoffs.values)
                table.backoff = entries.map { backoffs.code($0.backoff) }
                // Continuations of entry i: the next order's keys whose first n + 1 words are keys[i].
                var position: [[Int32]: Int] = [:]
                position.reserveCapacity(keys.count)
                for (i, k) in keys.enumerated() { position[k] = i }
                var childCount = [UInt32](repeating: 0, count: keys.count)
                for k in sorted[n + 1] { childCount[position[Array(k.dropLast())]!] += 1 }
                var first = [UInt32](repeating: 0, count: keys.count + 1)
                for i in 0..<keys.count { first[i + 1] = first[i] + childCount[i] }
                table.firstChild = first
            }
            tables.append(table)
        }
        self.init(order: arpa.order, words: words, tables: tables, probValues: probValues, backoffValues: backoffValues)
    }
}

/// Maps floats to 16-bit codes: exactly when there are at most `levels` distinct values, else to
/// the mean of each of `levels` bins holding equal numbers of the values (sorted), the nearest bin.
struct Quantizer {
    let values: [Float]
    private let bounds: [Float]   // midpoints between neighbouring values
    private let exact: [Float: UInt16]?

    init(_ data: [Float], levels: Int) {
        let distinct = Array(Set(data)).sorted()
        var values: [Float]
        if distinct.count <= levels {
            values = distinct
            exact = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, UInt16($0)) })
        } else {
            exact = nil
            let all = data.sorted()
            values = (0..<levels).compactMap { b -> Float? in
                let lo = all.count * b / levels, hi = all.count * (b + 1) / levels
                guard hi > lo else { return nil }
                return Float(all[lo..<hi].reduce(0.0) { $0 + Double($1) } / Double(hi - lo))
            }
            values = Array(Set(values)).sorted()
        }
        if values.isEmpty { values = [0] }
        self.values = values
        bounds = zip(values, values.dropFirst()).map { a, b in a == -.infinity ? -.greatestFiniteMagnitude : (a + b) / 2 }
    }

    func code(_ x: Float) -> UInt16 {
        if let exact, let c = exact[x] { return c }
        var lo = 0, hi = bounds.count          // first bound above x
        while lo < hi {
            let mid = (lo + hi) >> 1
            if bounds[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return UInt16(lo)
    }
}
