import Foundation

extension CompactLanguageModel {
    /// Reads a `.harklm` file. Anything that does not hold together (a short file, an index out of
    /// range, continuations out of order) is an error naming the file, the part and its byte offset.
    public init(path: String) throws(ArpaError) {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw ArpaError(path: path, line: 0, reason: "is a folder, not a language model")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ArpaError(path: path, line: 0, reason: stat(path, &st) == 0 ? "cannot be read" : "does not exist")
        }
        try self.init(bytes: data, name: path)
    }

    public init(bytes data: Data, name: String) throws(ArpaError) {
        var r = Reader(data: data, name: name)
        guard data.count >= Self.magic.count, Array(data.prefix(Self.magic.count)) == Self.magic else {
            throw ArpaError(path: name, line: 0, reason: "does not start with \"HARKLM02\"; not a compact Hark language model (or one of another version: rebuild it with hark lm compile)")
        }
        r.offset = Self.magic.count
        let order = Int(try r.scalar(UInt32.self, "order"))
        guard (1...9).contains(order) else { throw r.fail("order \(order) is not between 1 and 9") }
        var counts: [Int] = []
        for n in 1...order { counts.append(Int(try r.scalar(UInt32.self, "\(n)-gram count"))) }
        guard counts[0] > 0 else { throw r.fail("declares no unigrams") }
        // The tables alone need this many bytes; checked before anything is sized by the counts.
        let tableBytes = (1...order).reduce(0) { sum, n in
            let c = counts[n - 1], pad = { (x: Int) in (x + 3) & ~3 }
            return sum + (n > 1 ? 4 * c : 0) + (n < order ? pad(2 * c + 2 * c) + 4 * (c + 1) : pad(2 * c))
        }
        guard tableBytes <= data.count else {
            throw r.fail("declares \(counts.map(String.init).joined(separator: " / ")) n-grams, more than its \(data.count) bytes hold: truncated?")
        }
        var probValues: [[Float]] = [], backoffValues: [[Float]] = []
        for n in 1...order { probValues.append(try r.floats("\(n)-gram probability values", atMostZero: true)) }
        for n in 1..<order { backoffValues.append(try r.floats("\(n)-gram back-off values", atMostZero: false)) }

        let vocabularyBytes = Int(try r.scalar(UInt32.self, "vocabulary size"))
        let vocabularyStart = r.offset
        let text = try r.bytes(vocabularyBytes, "vocabulary")
        var words: [String] = []
        words.reserveCapacity(counts[0])
        let bad: Int? = text.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            for end in bytes.indices where bytes[end] == 10 {
                guard end > start, let w = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) else {
                    return words.count + 1
                }
                words.append(w)
                start = end + 1
            }
            return nil
        }
        if let bad {
            throw ArpaError(path: name, line: 0, reason: "vocabulary word \(bad) (from byte \(vocabularyStart)) is empty or not UTF-8")
        }
        guard words.count == counts[0], text.last == UInt8(ascii: "\n") else {
            throw ArpaError(path: name, line: 0, reason: "vocabulary at byte \(vocabularyStart) has \(words.count) words, the header declares \(counts[0])")
        }
        r.align()

        var tables: [Table] = []
        for n in 1...order {
            let count = counts[n - 1]
            let word: [Int32] = n == 1 ? [] : try r.array(Int32.self, count, "\(n)-gram words")
            let prob = try r.codes(count, below: probValues[n - 1].count, "\(n)-gram probabilities")
            var backoff: [UInt16] = [], firstChild: [UInt32] = []
            if n < order {
                backoff = try r.codes(count, below: backoffValues[n - 1].count, "\(n)-gram back-offs")
                r.align()
                let at = r.offset
                firstChild = try r.array(UInt32.self, count + 1, "\(n)-gram continuations")
                guard firstChild[0] == 0, Int(firstChild[count]) == counts[n],
                      zip(firstChild, firstChild.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                    throw ArpaError(path: name, line: 0, reason: "\(n)-gram continuations at byte \(at) are out of order or do not cover the \(counts[n]) \(n + 1)-grams")
                }
            }
            r.align()
            tables.append(Table(word: word, prob: prob, backoff: backoff, firstChild: firstChild))
        }
        guard r.offset <= data.count else { throw ArpaError(path: name, line: 0, reason: "ends inside the padding after its last table: truncated?") }
        guard r.offset == data.count else {
            throw ArpaError(path: name, line: 0, reason: "has \(data.count - r.offset) bytes after the last table at byte \(r.offset)")
        }
        // Every word id names a word, and each run of continuations is strictly increasing (binary search needs it).
        for n in 1..<order {
            let parent = tables[n - 1], words = tables[n].word
            for i in 0..<parent.count {
                var previous: Int32 = -1
                for j in Int(parent.firstChild[i])..<Int(parent.firstChild[i + 1]) {
                    let w = words[j]
                    guard w > previous, Int(w) < counts[0] else {
                        throw ArpaError(path: name, line: 0, reason: "\(n + 1)-gram \(j + 1) has word id \(w), out of range or out of order")
                    }
                    previous = w
                }
            }
        }
        self.init(order: order, words: words, tables: tables, probValues: probValues, backoffValues: backoffValues)
        guard index.count == words.count else {
            let twice = Dictionary(grouping: words, by: { $0 }).first { $0.value.count > 1 }!.key
            throw ArpaError(path: name, line: 0, reason: "vocabulary lists '\(twice)' twice")
        }
    }

    /// The file's bytes.
    public func serialized() -> Data {
        var out = Data()
        func put<T: FixedWidthInteger>(_ x: T) { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
        func put(_ xs: [Float]) { put(UInt32(xs.count)); for x in xs { put(x.bitPattern) } }
        func align() { while out.count % 4 != 0 { out.append(0) } }
        out.append(contentsOf: Self.magic)
        put(UInt32(order))
        for t in tables { put(UInt32(t.count)) }
        for v in probValues { put(v) }
        for v in backoffValues { put(v) }
        let text = Data(words.map { $0 + "\n" }.joined().utf8)
        put(UInt32(text.count))
        out.append(text)
        align()
        for (n, t) in tables.enumerated() {
            if n > 0 { for w in t.word { put(w) } }
            for p in t.prob { put(p) }
            if n + 1 < order {
                for b in t.backoff { put(b) }
                align()
                for c in t.firstChild { put(c) }
            }
            align()
        }
        return out
    }

    public func write(to path: String) throws {
        try serialized().write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// A cursor over the file's bytes whose every read checks the length and names what it wanted.
private struct Reader {
    let data: Data
    let name: String
    var offset = 0

    func fail(_ reason: String) -> ArpaError { ArpaError(path: name, line: 0, reason: "at byte \(offset): \(reason)") }

    mutating func bytes(_ count: Int, _ what: String) throws(ArpaError) -> Data {
        guard count >= 0, count <= data.count - offset else {
            throw fail("the file ends before its \(what) (\(count) bytes wanted, \(data.count - offset) left): truncated?")
        }
        let start = data.startIndex + offset
        offset += count
        return data[start..<start + count]
    }

    mutating func array<T: FixedWidthInteger>(_: T.Type, _ count: Int, _ what: String) throws(ArpaError) -> [T] {
        let raw = try bytes(count * MemoryLayout<T>.size, what)
        guard count > 0 else { return [] }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            raw.withUnsafeBytes { src in
                _ = memcpy(buffer.baseAddress!, src.baseAddress!, count * MemoryLayout<T>.size)
            }
            for i in 0..<count { buffer[i] = T(littleEndian: buffer[i]) }
            initialized = count
        }
    }

    mutating func scalar<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws(ArpaError) -> T {
        try array(type, 1, what)[0]
    }

    /// A table of quantized values; probabilities (`atMostZero`) are logs of numbers up to 1.
    mutating func floats(_ what: String, atMostZero: Bool) throws(ArpaError) -> [Float] {
        let at = offset
        let count = Int(try scalar(UInt32.self, "size of the \(what)"))
        guard (1...CompactLanguageModel.levels).contains(count) else {
            throw ArpaError(path: name, line: 0, reason: "\(what) at byte \(at) number \(count), not 1 to \(CompactLanguageModel.levels)")
        }
        let values = try array(UInt32.self, count, what).map(Float.init(bitPattern:))
        guard values.allSatisfy({ atMostZero ? ($0 <= 0) : $0.isFinite }) else {
            throw ArpaError(path: name, line: 0, reason: "\(what) at byte \(at) hold a NaN\(atMostZero ? " or a log above 0" : " or an infinity")")
        }
        return values
    }

    /// `count` 16-bit codes, each an index into a table of `values` entries.
    mutating func codes(_ count: Int, below values: Int, _ what: String) throws(ArpaError) -> [UInt16] {
        let at = offset
        let codes = try array(UInt16.self, count, what)
        if let i = codes.firstIndex(where: { Int($0) >= values }) {
            throw ArpaError(path: name, line: 0, reason: "\(what) at byte \(at): entry \(i + 1) has code \(codes[i]), past the \(values) values")
        }
        return codes
    }

    mutating func align() { offset = (offset + 3) & ~3 }
}
