import Foundation
import Synchronization

/// A live source that survives its device going away: when a read fails, it reopens the device
/// with exponential back-off (0.5 s doubling to 8 s) until it opens again or a stop is requested,
/// and goes on. The time without a device is counted as samples lost, so stream times stay true.
public final class ReconnectingSource: AudioSource, @unchecked Sendable {
    public let name: String
    public let sampleRate: Int
    private let open: () throws -> AudioSource
    private let report: (String) -> Void
    private let lock = NSLock()
    private var guarded: AudioSource?
    /// The open device, if any; read by `requestStop` from other threads, hence the lock.
    private var current: AudioSource? {
        get { lock.withLock { guarded } }
        set { lock.withLock { guarded = newValue } }
    }
    private var earlier = CaptureLosses()       // losses of the sources before the current one
    private var gapSamples: Int64 = 0
    /// Stream position where the current device's clock starts: the positions the devices before
    /// it reached, plus the time without a device.
    private var offset: Int64 = 0
    private let stopRequested = Atomic<Bool>(false)

    /// `open` makes a new device source; `report` gets one line per loss and recovery.
    public init(name: String, sampleRate: Int = AudioDefaults.sampleRate, open: @escaping () throws -> AudioSource,
                report: @escaping (String) -> Void) throws {
        self.name = name
        self.sampleRate = sampleRate
        self.open = open
        self.report = report
        guarded = try open()                     // the first open must work: a wrong name is a user error
    }

    /// The current device's position on the stream's clock: a device that went away and the time
    /// until the next one opened count as lost samples.
    public var position: Int64 { offset + (current?.position ?? 0) }

    public var losses: CaptureLosses {
        var l = earlier
        if let c = current?.losses { l.add(c) }
        l.samplesLostInDevice += gapSamples
        return l
    }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        while true {
            if let c = current {
                do {
                    return try c.read(into: buffer)
                } catch {
                    if stopRequested.load(ordering: .acquiring) { return 0 }
                    report("\(name): \(error); reconnecting")
                    earlier.add(c.losses)
                    offset += c.position
                    current = nil
                }
            }
            let lostAt = MonotonicClock.now()
            var wait = 0.5
            while current == nil {
                // Sleep in small steps so that a stop request ends the wait promptly.
                let until = MonotonicClock.now() + wait
                while MonotonicClock.now() < until {
                    if stopRequested.load(ordering: .acquiring) { return 0 }
                    usleep(50_000)
                }
                do {
                    let s = try open()
                    current = s
                    let gap = MonotonicClock.now() - lostAt
                    gapSamples += Int64(gap * Double(sampleRate))
                    offset += Int64(gap * Double(sampleRate))
                    report("\(name): reconnected after \((gap * 10).rounded() / 10) s")
                } catch {
                    wait = min(wait * 2, 8)
                }
            }
        }
    }

    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        current?.requestStop()
    }
}
