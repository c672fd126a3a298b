/// The first `limit` samples of another source, then the end of the stream: `--seconds N` for
/// sources that have no limit of their own (files, stdin). Losses and stop requests pass through.
public final class LimitedSource: AudioSource {
    public let base: AudioSource
    public let limit: Int64
    private var delivered: Int64 = 0

    public init(_ base: AudioSource, samples limit: Int64) {
        precondition(limit >= 0, "a limit is a number of samples")
        self.base = base
        self.limit = limit
    }

    public var sampleRate: Int { base.sampleRate }
    public var name: String { base.name }
    public var position: Int64 { base.position }
    public var losses: CaptureLosses { base.losses }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        let room = Int(min(Int64(buffer.count), limit - delivered))
        guard room > 0 else { return 0 }
        let n = try base.read(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<room]))
        delivered += Int64(n)
        return n
    }

    public func requestStop() { base.requestStop() }
}
