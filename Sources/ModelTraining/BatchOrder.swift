import Cells

/// Which utterances train together, and in what order, in one epoch: a pure function of the
/// utterances' lengths, the batch size, the seed and the epoch, so a run resumed mid-epoch finds
/// the batch where it stopped by position alone.
///
/// Utterances are sorted by length (ties by index) and cut into buckets of `bucketBatches`
/// batches; each epoch shuffles every bucket's members, cuts it into batches (similar lengths, so
/// little padding, but not the same companions every epoch) and shuffles the batches.
public enum BatchOrder {
    public static let bucketBatches = 32

    public static func batches(lengths: [Int], batchSize: Int, seed: UInt64, epoch: Int) -> [[Int]] {
        let sorted = lengths.indices.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        let bucket = max(batchSize, 1) * bucketBatches
        var rng = SeededGenerator(seed: seed &* 1_000_003 &+ UInt64(epoch))
        var batches: [[Int]] = []
        batches.reserveCapacity((lengths.count + batchSize - 1) / max(batchSize, 1))
        for start in stride(from: 0, to: sorted.count, by: bucket) {
            let members = sorted[start..<min(start + bucket, sorted.count)].shuffled(using: &rng)
            for b in stride(from: 0, to: members.count, by: batchSize) {
                batches.append(Array(members[b..<min(b + batchSize, members.count)]))
            }
        }
        batches.shuffle(using: &rng)
        return batches
    }
}
