/// Word and character error rates: Levenshtein distance between reference and hypothesis
/// (substitutions + deletions + insertions), divided by the reference length.
public struct ErrorCounts: Equatable, Sendable {
    public var errors: Int = 0
    public var referenceLength: Int = 0

    public init(errors: Int = 0, referenceLength: Int = 0) {
        self.errors = errors
        self.referenceLength = referenceLength
    }

    /// errors / reference length (0 when both are empty; infinite for insertions into nothing).
    public var rate: Double {
        referenceLength > 0 ? Double(errors) / Double(referenceLength) : (errors == 0 ? 0 : .infinity)
    }

    public static func + (a: ErrorCounts, b: ErrorCounts) -> ErrorCounts {
        ErrorCounts(errors: a.errors + b.errors, referenceLength: a.referenceLength + b.referenceLength)
    }

    public static func words(reference: String, hypothesis: String) -> ErrorCounts {
        let r = reference.split(separator: " ").map(String.init), h = hypothesis.split(separator: " ").map(String.init)
        return ErrorCounts(errors: editDistance(r, h), referenceLength: r.count)
    }

    public static func characters(reference: String, hypothesis: String) -> ErrorCounts {
        ErrorCounts(errors: editDistance(Array(reference), Array(hypothesis)), referenceLength: reference.count)
    }
}

/// Levenshtein distance with unit costs, O(|a|·|b|) time and O(|b|) memory.
public func editDistance<E: Equatable>(_ a: [E], _ b: [E]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
