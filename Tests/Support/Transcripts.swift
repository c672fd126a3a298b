/// How many words a transcript gets wrong: the word-level edit distance (substitutions, insertions
/// and deletions) from the reference. The tests tagged `shippedModelTranscript` hear held-out
/// synthetic voices through the shipped model and allow it one wrong word per utterance (MODEL.md
/// measures its accuracy on hundreds); everything else about the result (how many utterances,
/// their order and times, the output's form) they pin exactly.
public func wordErrors(_ hypothesis: String, _ reference: String) -> Int {
    let h = hypothesis.split(separator: " "), r = reference.split(separator: " ")
    var row = Array(0...r.count)
    for i in 1...max(h.count, 1) where !h.isEmpty {
        var diagonal = row[0]
        row[0] = i
        for j in stride(from: 1, through: r.count, by: 1) {
            let above = row[j]
            row[j] = min(above + 1, row[j - 1] + 1, diagonal + (h[i - 1] == r[j - 1] ? 0 : 1))
            diagonal = above
        }
    }
    return row[r.count]
}

/// Whether each transcript is within `allowed` wrong words of its reference, one for one.
public func closeTranscripts(_ got: [String], _ references: [String], allowed: Int = 1) -> Bool {
    got.count == references.count && zip(got, references).allSatisfy { wordErrors($0, $1) <= allowed }
}
