import Foundation
import Testing
@testable import Stream

@Suite("Sample ring")
struct RingTests {
    /// Every capacity (1…16) × every start position (crossing the wrap point twice, plus a start
    /// near 2^40 to exercise large counters) × every write count × every read count: contents come
    /// out in order, counts and the drop counter are exact.
    @Test("every capacity × start × count layout")
    func everyLayout() {
        for capacity in [1, 2, 4, 8, 16] {
            let starts = Array(0...(2 * capacity + 1)) + [1 << 40, (1 << 40) + capacity - 1]
            for start in starts {
                for writeCount in 0...(capacity + 2) {
                    for readCount in 0...(capacity + 2) {
                        let ring = SampleRing(minimumCapacity: capacity, startingAt: start)
                        // Pre-fill and drain once so the data region itself starts mid-buffer.
                        let pre = [Float](repeating: -1, count: start % (capacity + 1))
                        pre.withUnsafeBufferPointer { _ = ring.write($0) }
                        var sink = [Float](repeating: 0, count: capacity + 3)
                        _ = sink.withUnsafeMutableBufferPointer { ring.read(into: $0) }
                        let base = ring.written
                        let input = (0..<writeCount).map { Float($0 + 1) }
                        let stored = input.withUnsafeBufferPointer { ring.write($0) }
                        #expect(stored == min(writeCount, capacity))
                        #expect(ring.dropped == writeCount - stored)
                        #expect(ring.written == base + stored)
                        var out = [Float](repeating: 0, count: readCount)
                        let got = out.withUnsafeMutableBufferPointer { ring.read(into: $0) }
                        #expect(got == min(readCount, stored))
                        #expect(Array(out[0..<got]) == Array(input[0..<got]),
                                "capacity \(capacity) start \(start) write \(writeCount) read \(readCount)")
                        #expect(ring.read == base + got)
                        #expect(ring.available == stored - got)
                    }
                }
            }
        }
    }

    @Test("capacity rounds up to a power of two")
    func capacityRounding() {
        #expect(SampleRing(minimumCapacity: 1).capacity == 1)
        #expect(SampleRing(minimumCapacity: 3).capacity == 4)
        #expect(SampleRing(minimumCapacity: 1_000).capacity == 1_024)
        #expect(SampleRing(minimumCapacity: 32_000).capacity == 32_768)
    }

    /// A producer thread writes a counting sequence in random block sizes while the consumer reads
    /// in other random sizes. Whatever was stored must come out exactly once, in order; whatever
    /// was not stored must be counted in `dropped`. Run under ThreadSanitizer in CI.
    @Test("two threads: every stored sample arrives once, in order; drops are counted")
    func twoThreadStress() async throws {
        let total = 2_000_000
        let ring = SampleRing(minimumCapacity: 1_024)
        let producer = Thread {
            var rng = SplitMix64(seed: 1)
            var block = [Float](repeating: 0, count: 700)
            var next = 0
            while next < total {
                let n = min(Int(rng.next() % 700) + 1, total - next)
                for i in 0..<n { block[i] = Float(next + i) }
                block.withUnsafeBufferPointer { _ = ring.write(UnsafeBufferPointer(rebasing: $0[0..<n])) }
                next += n
                if rng.next() % 64 == 0 { sched_yield() }
            }
        }
        producer.stackSize = 1 << 20
        producer.start()
        var rng = SplitMix64(seed: 2)
        var buffer = [Float](repeating: 0, count: 900)
        var last: Float = -1
        var received = 0
        var outOfOrder = 0
        while received + ring.dropped < total || ring.available > 0 {
            let want = Int(rng.next() % 900) + 1
            let n = buffer.withUnsafeMutableBufferPointer { ring.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<want])) }
            for i in 0..<n {
                if buffer[i] <= last { outOfOrder += 1 }
                last = buffer[i]
            }
            received += n
            if n == 0 { sched_yield() }
        }
        #expect(outOfOrder == 0)
        #expect(received + ring.dropped == total)
        #expect(ring.read == received)
    }
}
