import Foundation
import Synchronization
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

    @Test("losses keep their place: a span never crosses a gap and starts at its absolute position")
    func gapsKeepPositions() {
        let ring = SampleRing(minimumCapacity: 8)
        func write(_ from: Int, _ count: Int) -> Int {
            (from..<(from + count)).map(Float.init).withUnsafeBufferPointer { ring.write($0) }
        }
        func read(_ max: Int) -> (start: Int64, values: [Float]) {
            var b = [Float](repeating: -1, count: max)
            let span = b.withUnsafeMutableBufferPointer { ring.readSpan(into: $0) }
            return (span.start, Array(b[0..<span.count]))
        }
        #expect(write(0, 6) == 6)
        #expect(write(6, 5) == 2)                // full: 8, 9, 10 dropped
        ring.recordLoss(4)                       // then the device loses 11...14
        #expect(write(15, 3) == 0)               // still full: 15, 16, 17 dropped
        var r = read(5)
        #expect(r.start == 0 && r.values == [0, 1, 2, 3, 4])
        #expect(write(18, 2) == 2)               // the gap (8...17) is logged in front of 18
        r = read(10)
        #expect(r.start == 5 && r.values == [5, 6, 7], "stops in front of the gap")
        r = read(10)
        #expect(r.start == 18 && r.values == [18, 19])
        #expect(ring.readPosition == 20)
        #expect(ring.dropped == 6)
        // A loss at the very end, published when capture ends.
        ring.recordLoss(3)
        ring.flushLoss()
        r = read(10)
        #expect(r.values.isEmpty && r.start == 23 && ring.readPosition == 23)
    }

    @Test("two threads with drops: every span's samples are its own positions (the producer writes each sample's index)")
    func concurrentSpansKeepPositions() {
        let ring = SampleRing(minimumCapacity: 512)
        let total = 400_000
        let deviceLost = Atomic<Int>(0)
        let producer = Thread {
            var rng = SplitMix64(seed: 3)
            var block = [Float](repeating: 0, count: 700)
            var next = 0
            while next < total {
                let n = min(Int(rng.next() % 700) + 1, total - next)
                if rng.next() % 97 == 0 {            // a device loss: these positions never reach the ring
                    ring.recordLoss(n)
                    deviceLost.add(n, ordering: .relaxed)
                    next += n
                    continue
                }
                for i in 0..<n { block[i] = Float(next + i) }
                block.withUnsafeBufferPointer { _ = ring.write(UnsafeBufferPointer(rebasing: $0[0..<n])) }
                next += n
                if rng.next() % 64 == 0 { sched_yield() }
            }
            ring.flushLoss()
        }
        producer.stackSize = 1 << 20
        producer.start()
        var rng = SplitMix64(seed: 4)
        var buffer = [Float](repeating: 0, count: 900)
        var wrong = 0, spans = 0, received = 0
        while ring.readPosition < Int64(total) {
            let want = Int(rng.next() % 900) + 1
            let span = buffer.withUnsafeMutableBufferPointer { ring.readSpan(into: UnsafeMutableBufferPointer(rebasing: $0[0..<want])) }
            for i in 0..<span.count where buffer[i] != Float(span.start + Int64(i)) { wrong += 1 }
            if span.count == 0 { sched_yield() } else { spans += 1 }
            received += span.count
        }
        #expect(wrong == 0)
        #expect(spans > 0 && received + ring.dropped + deviceLost.load(ordering: .relaxed) == total)
        #expect(ring.readPosition == Int64(total))
    }
}
