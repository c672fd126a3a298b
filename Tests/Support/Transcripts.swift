import Decoding

/// How many words a transcript gets wrong: the word error count `hark eval` reports
/// (`ErrorCounts.words`: substitutions, insertions and deletions). The tests tagged
/// `shippedModelTranscript` hear held-out synthetic voices through the shipped model and allow it
/// one wrong word per utterance (MODEL.md measures its accuracy on hundreds); everything else about
/// the result (how many utterances, their order and times, the output's form) they pin exactly.
public func wordErrors(_ hypothesis: String, _ reference: String) -> Int {
    ErrorCounts.words(reference: reference, hypothesis: hypothesis).errors
}

/// Whether each transcript is within `allowed` wrong words of its reference, one for one.
public func closeTranscripts(_ got: [String], _ references: [String], allowed: Int = 1) -> Bool {
    got.count == references.count && zip(got, references).allSatisfy { wordErrors($0, $1) <= allowed }
}
