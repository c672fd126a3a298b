import Glibc
import Stream

/// CPU used by the capture thread, read from its own CPU-time clock.
enum CaptureBench {
    /// A device that delivers nothing (a PulseAudio pipe source with no writer): the thread
    /// should sleep in poll and cost nothing.
    static func idle(device: String) {
        let capture = try! AlsaCapture(CaptureConfig(device: device))
        usleep(200_000)
        let c0 = capture.captureThreadCPUSeconds, t0 = Measure.now()
        sleep(5)
        let cpu = capture.captureThreadCPUSeconds - c0, wall = Measure.now() - t0
        capture.requestStop()
        capture.stop()
        print("| capture thread waiting for audio (`\(device)`, no audio arriving) | \(fmt(cpu / wall * 100, 4)) % of one core (\(fmt(cpu * 1e3, 2)) ms CPU in \(fmt(wall, 1)) s) |")
    }

    /// A real-time device delivering audio (JACK dummy at 16 kHz): CPU per second of audio for
    /// the thread that polls, reads, converts and stores into the ring.
    static func live(device: String) {
        let capture = try! AlsaCapture(CaptureConfig(device: device))
        var sink = [Float](repeating: 0, count: 4_096)
        var samples = 0
        let t0 = Measure.now()
        let c0 = capture.captureThreadCPUSeconds
        while Measure.now() - t0 < 5 {
            samples += try! sink.withUnsafeMutableBufferPointer { try capture.read(into: $0) }
        }
        let cpu = capture.captureThreadCPUSeconds - c0, wall = Measure.now() - t0
        capture.stop()
        print("| capture thread receiving real-time audio (`\(device)`, period \(capture.periodSize)) | \(fmt(cpu / wall * 100, 3)) % of one core; \(samples) samples in \(fmt(wall, 1)) s, \(capture.losses.totalSamplesLost) lost |")
    }
}
