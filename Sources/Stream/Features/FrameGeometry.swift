/// The frame arithmetic shared by the batch and streaming feature paths (Kaldi's `snip_edges`
/// convention): frame `i` covers samples `[i·hop, i·hop + window)`, so it exists exactly when its
/// last sample has arrived, and no frame ever reaches past the audio.
public struct FrameGeometry: Equatable, Sendable {
    public var windowLength: Int
    public var hopLength: Int

    public init(windowLength: Int, hopLength: Int) {
        precondition(windowLength > 0 && hopLength > 0 && hopLength <= windowLength,
                     "need 0 < hop <= window")
        self.windowLength = windowLength
        self.hopLength = hopLength
    }

    /// Frames whose every sample lies within the first `samples` samples.
    @inline(__always)
    public func frameCount(samples: Int64) -> Int {
        samples < Int64(windowLength) ? 0 : Int((samples - Int64(windowLength)) / Int64(hopLength)) + 1
    }

    /// Absolute index of the first sample of frame `i`.
    @inline(__always)
    public func firstSample(ofFrame i: Int) -> Int64 { Int64(i) * Int64(hopLength) }

    /// Absolute index one past the last sample of frame `i`: the sample whose arrival makes it ready.
    @inline(__always)
    public func endSample(ofFrame i: Int) -> Int64 { firstSample(ofFrame: i) + Int64(windowLength) }
}
