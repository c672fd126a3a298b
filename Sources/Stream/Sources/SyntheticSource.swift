import HarkSupport
import Glibc

/// A generated signal of fixed length, for tests and benchmarks that need no device or file.
public final class SyntheticSource: AudioSource {
    public enum Signal: Sendable {
        case silence
        case tone(hertz: Double, amplitude: Float)
        /// Uniform white noise from a seeded generator: the same seed gives the same samples.
        case noise(amplitude: Float, seed: UInt64)
    }

    public let name: String
    public let sampleRate: Int
    public let signal: Signal
    public let length: Int64
    public private(set) var position: Int64 = 0
    public var losses: CaptureLosses { CaptureLosses() }
    private var rng: SplitMix64
    private let stop = StopFlag()

    public func requestStop() { stop.set() }

    public init(_ signal: Signal, seconds: Double, sampleRate: Int = AudioDefaults.sampleRate) {
        self.signal = signal
        self.sampleRate = sampleRate
        length = Int64((seconds * Double(sampleRate)).rounded())
        name = "synthetic \(signal)"
        if case let .noise(_, seed) = signal { rng = SplitMix64(seed: seed) } else { rng = SplitMix64(seed: 0) }
    }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        let n = Int(min(Int64(buffer.count), length - position))
        guard n > 0, !stop.isSet else { return 0 }
        switch signal {
        case .silence:
            for i in 0..<n { buffer[i] = 0 }
        case let .tone(hz, amplitude):
            let w = 2 * Double.pi * hz / Double(sampleRate)
            for i in 0..<n { buffer[i] = amplitude * Float(sin(w * Double(position + Int64(i)))) }
        case let .noise(amplitude, _):
            for i in 0..<n { buffer[i] = amplitude * rng.nextSignedUnitFloat() }
        }
        position += Int64(n)
        return n
    }
}

/// The generator of synthetic noise and dither (one SplitMix64 for all of Hark).
public typealias SplitMix64 = HarkSupport.SplitMix64
