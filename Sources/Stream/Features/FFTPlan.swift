internal import CFFTW
import Synchronization

/// FFTW's planner is not thread-safe (only `fftwf_execute*` is): every plan is made under this lock.
private let fftwPlannerLock = Mutex<Void>(())

/// Memory from `fftwf_malloc`, aligned as FFTW's SIMD code wants. One owner; `deinit` frees it.
final class FFTBuffer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int) {
        guard let raw = fftwf_malloc(count * MemoryLayout<Float>.stride) else {
            fatalError("fftwf_malloc(\(count) floats) failed: out of memory")
        }
        pointer = raw.bindMemory(to: Float.self, capacity: count)
        pointer.initialize(repeating: 0, count: count)
        self.count = count
    }

    deinit { fftwf_free(pointer) }
}

/// A real-to-complex FFT of size `n`, planned once. The plan is immutable and may execute on any
/// thread with any `FFTBuffer` pair (fftwf_malloc'ed, so aligned like the planning arrays).
final class RealFFTPlan: @unchecked Sendable {
    let size: Int
    private let plan: fftwf_plan

    init(size: Int) {
        self.size = size
        let input = FFTBuffer(count: size)
        let output = FFTBuffer(count: 2 * (size / 2 + 1))
        // FFTW_ESTIMATE: planning is instant and deterministic, so every process computes
        // identical features (a measured plan may differ from run to run in its last bits).
        let p = fftwPlannerLock.withLock { _ in
            hark_fftwf_plan_r2c(Int32(size), input.pointer, output.pointer, UInt32(FFTW_ESTIMATE))
        }
        guard let p else { fatalError("FFTW could not plan a real FFT of size \(size)") }
        plan = p
    }

    deinit { fftwPlannerLock.withLock { _ in fftwf_destroy_plan(plan) } }

    /// `output` receives `size/2 + 1` interleaved (re, im) pairs.
    @inline(__always)
    func execute(input: FFTBuffer, output: FFTBuffer) {
        hark_fftwf_execute_r2c(plan, input.pointer, output.pointer)
    }
}
