import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Stream

/// The real ALSA path on virtual devices (shared/TESTING-AUDIO.md); no sound card needed.
/// Serialized: the tests share ALSA's process-wide configuration and one JACK server at a time.
@Suite("ALSA capture", .serialized)
struct AlsaTests {
    init() { _ = Support.alsaConfigured }

    /// A recognizable signal: a counting ramp, so a lost or repeated sample shows.
    static func rampFile(samples count: Int) throws -> (URL, [Int16]) {
        let samples = (0..<count).map { Int16(truncatingIfNeeded: ($0 * 7) % 60_000 - 30_000) }
        let url = Support.tempDir.appendingPathComponent("ramp-\(count).raw")
        try Support.writeRawS16(samples, to: url)
        return (url, samples)
    }

    @Test("the ALSA file device delivers exactly the file's samples, and the same features")
    func fileDeviceExactSamples() throws {
        let (url, samples) = try Self.rampFile(samples: 16_000 * 3 + 123)
        var config = CaptureConfig(device: "vmicfile:IN=\(url.path)")
        config.maxSamples = Int64(samples.count)
        config.ringFull = .waitForReader         // the file device is not paced
        let capture = try AlsaCapture(config)
        #expect(capture.format == .s16)
        #expect(capture.openedName == config.device)
        var got: [Float] = []
        var block = [Float](repeating: 0, count: 1_000)
        while true {
            let n = try block.withUnsafeMutableBufferPointer { try capture.read(into: $0) }
            if n == 0 { break }
            got += block[0..<n]
        }
        let expected = samples.map { Float($0) / 32_768 }
        #expect(got.count == expected.count)
        expectSameSamples(got, expected)
        #expect(capture.losses == CaptureLosses())
        #expect(capture.position == Int64(samples.count))

        // Through the whole front end: streaming features from the device equal batch features
        // of the file's samples.
        let extractor = try LogMelSpectrogram()
        let stream = extractor.makeStream()
        stream.accept(samples: got)
        #expect(stream.framesReady == extractor.frames(of: expected).rows)
        var frame = [Float](repeating: 0, count: extractor.bands)
        let batch = extractor.frames(of: expected)
        for i in stride(from: 0, to: stream.framesReady, by: 37) {
            frame.withUnsafeMutableBufferPointer { stream.frame(i, into: $0) }
            #expect(frame == Array(batch[i]))
        }
    }

    @Test("a missing device is a typed error naming it")
    func missingDevice() {
        #expect { _ = try AlsaCapture(CaptureConfig(device: "hw:7")) } throws: { error in
            guard case let .noSuchDevice(device, message) = error as? AudioError else { return false }
            return device == "hw:7" && !message.isEmpty
        }
        #expect { _ = try AlsaCapture(CaptureConfig(device: "no_such_pcm_name")) } throws: {
            if case .noSuchDevice = $0 as? AudioError { return true } else { return false }
        }
    }

    @Test("a missing infile for the file device is reported at open")
    func missingInfile() {
        #expect { _ = try AlsaCapture(CaptureConfig(device: "vmicfile:IN=/nonexistent/in.raw")) } throws: {
            "\($0)".contains("/nonexistent/in.raw")
        }
    }

    @Test("PulseAudio device with no server running: serverNotRunning")
    func serverDown() {
        let saved = ProcessInfo.processInfo.environment["PULSE_SERVER"]
        setenv("PULSE_SERVER", "unix:\(Support.tempDir.path)/no-pulse-here", 1)
        defer { if let saved { setenv("PULSE_SERVER", saved, 1) } else { unsetenv("PULSE_SERVER") } }
        #expect { _ = try AlsaCapture(CaptureConfig(device: "pulse")) } throws: { error in
            guard case let .serverNotRunning(device, message) = error as? AudioError else { return false }
            return device == "pulse" && message.lowercased().contains("refused")
        }
    }

    @Test("JACK: real-time capture, plug conversion, unsupported parameters, and overrun recovery")
    func jack() throws {
        let jack = try JackServer(rate: 16_000, period: 320)
        defer { jack.stop() }

        // The JACK device offers FLOAT_LE only; Hark takes it as is.
        var config = CaptureConfig(device: "jackmic")
        config.maxSamples = 3_200
        do {
            let capture = try AlsaCapture(config)
            #expect(capture.format == .float32)
            #expect(capture.openedName == "jackmic")
            #expect(try capture.readAll().count == 3_200)
        }

        // A rate the device does not have: refused when conversion is off ...
        var other = CaptureConfig(device: "jackmic")
        other.sampleRate = 8_000
        other.allowPlugConversion = false
        #expect { _ = try AlsaCapture(other) } throws: { error in
            guard case let .unsupportedParameters(device, detail, _) = error as? AudioError else { return false }
            return device == "jackmic" && detail.contains("8000 Hz")
        }
        // ... and opened through ALSA's plug layer, transparently, when it is on (the default).
        other.allowPlugConversion = true
        other.maxSamples = 1_600
        do {
            let capture = try AlsaCapture(other)
            #expect(capture.openedName.hasPrefix("plug:"))
            #expect(try capture.readAll().count == 1_600)
        }

        // Overrun: the capture thread stalls for much more than twice the buffer time (a
        // descheduled thread), the device overruns (-EPIPE), capture recovers, counts it,
        // estimates the loss, and goes on delivering audio.
        var stalling = CaptureConfig(device: "jackmic")
        stalling.maxSamples = 16_000
        let stallSeconds = 0.5
        let once = Once()
        stalling.periodObserver = { written, _ in
            if written >= 3_200 && once.first() { usleep(UInt32(stallSeconds * 1e6)) }
        }
        let capture = try AlsaCapture(stalling)
        let bufferTime = Double(capture.bufferSize) / 16_000
        #expect(stallSeconds > 2 * bufferTime)
        let got = try capture.readAll()
        #expect(got.count == 16_000, "capture went on after the overrun")
        let losses = capture.losses
        #expect(losses.overruns >= 1)
        // About the stall's worth of audio was lost (the estimate comes from the clock).
        #expect(losses.samplesLostInDevice > Int64(0.5 * stallSeconds * 16_000))
        #expect(losses.samplesLostInDevice < Int64(2 * stallSeconds * 16_000))
        #expect(losses.samplesDroppedInRing == 0)
    }

    @Test("JACK dies under a live capture: the samples captured before, then a device error within the stall timeout")
    func jackServerDies() throws {
        let jack = try JackServer(rate: 16_000, period: 320)
        defer { jack.stop() }
        var config = CaptureConfig(device: "jackmic")
        config.stallTimeout = 1.5
        let capture = try AlsaCapture(config)
        var block = [Float](repeating: 0, count: 1_600)
        var got = 0
        while got < 8_000 { got += try block.withUnsafeMutableBufferPointer { try capture.read(into: $0) } }

        // The plugin's device stays RUNNING and its descriptor never wakes again: without the
        // watchdog this read blocked for ever.
        jack.kill()
        let killed = MonotonicClock.now()
        let error = #expect(throws: AudioError.self) {
            while try block.withUnsafeMutableBufferPointer({ try capture.read(into: $0) }) > 0 {}
        }
        let waited = MonotonicClock.now() - killed
        #expect(waited < 1.5 + 1.5, "the loss was reported \(waited) s after the server died")
        guard case let .deviceFailed(device, operation, message)? = error else {
            Issue.record("expected deviceFailed, got \(String(describing: error))")
            return
        }
        #expect(device == "jackmic" && operation == "capture")
        #expect(message.contains("no audio for") && message.contains("RUNNING"), "\(message)")
        // Ended for good: a later read returns 0, as after any failure.
        #expect(try block.withUnsafeMutableBufferPointer { try capture.read(into: $0) } == 0)
    }

    @Test("the watchdog: what each device state calls for when a wait brings no audio")
    func watchdogDecisions() {
        typealias W = CaptureWatchdog
        // Within the timeout a running device is left alone; a prepared one is started.
        #expect(W.action(state: .running, idleSeconds: 4.9, timeout: 5) == .wait)
        #expect(W.action(state: .prepared, idleSeconds: 0.2, timeout: 5) == .start)
        // Overrun and suspend that did not wake the poll are recovered like the read's errors.
        #expect(W.action(state: .xrun, idleSeconds: 0.3, timeout: 5) == .recover(overrun: true))
        #expect(W.action(state: .suspended, idleSeconds: 60, timeout: 5) == .recover(overrun: false))
        // Gone at once when the driver says so, whatever the timeout.
        guard case .lost = W.action(state: .disconnected, idleSeconds: 0, timeout: nil) else {
            Issue.record("a disconnected device must be lost"); return
        }
        // Silent for the whole timeout in any state that is not an error: lost, saying how long.
        for state: W.DeviceState in [.running, .prepared, .other("PAUSED")] {
            guard case let .lost(why) = W.action(state: state, idleSeconds: 5, timeout: 5) else {
                Issue.record("\(state) silent for 5 s must be lost"); continue
            }
            #expect(why.contains("no audio for 5.0 s") && why.contains(W.name(of: state)), "\(why)")
        }
        // No timeout: wait for ever (a pipe source that pauses).
        #expect(W.action(state: .running, idleSeconds: 1e6, timeout: nil) == .wait)
    }

    @Test("a consumer slower than the ring: the ring drops the newest audio and counts it")
    func ringOverflowCounted() throws {
        let (url, samples) = try Self.rampFile(samples: 40_000)
        var config = CaptureConfig(device: "vmicfile:IN=\(url.path)")
        config.maxSamples = Int64(samples.count)
        config.ringSeconds = 0.1                // 1 600 samples → 2 048 after rounding
        let capture = try AlsaCapture(config)
        usleep(300_000)                          // the file device runs far ahead of us
        let got = try capture.readAll()
        let losses = capture.losses
        #expect(losses.samplesDroppedInRing > 0)
        #expect(Int64(got.count) + losses.samplesDroppedInRing == Int64(samples.count))
        // What arrived is the gap-free start of the stream; the drop is at the end of the ring.
        let expected = samples.map { Float($0) / 32_768 }
        expectSameSamples(Array(got.prefix(capture.ring.capacity)), Array(expected.prefix(capture.ring.capacity)))
    }

    @Test("waitForReader: a file-fed device never drops audio for a slow reader")
    func waitForReaderKeepsEverything() throws {
        let (url, samples) = try Self.rampFile(samples: 40_000)
        var config = CaptureConfig(device: "vmicfile:IN=\(url.path)")
        config.maxSamples = Int64(samples.count)
        config.ringSeconds = 0.1
        config.ringFull = .waitForReader
        let capture = try AlsaCapture(config)
        usleep(200_000)
        let got = try capture.readAll(chunk: 100)
        #expect(capture.losses == CaptureLosses())
        expectSameSamples(got, samples.map { Float($0) / 32_768 })
    }

    @Test("PulseAudio pipe source: real-time capture of exactly what was written; the idle thread sleeps")
    func pulsePipe() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        var config = CaptureConfig(device: "pulse")
        config.maxSamples = 8_000
        let capture = try AlsaCapture(config)

        // No writer yet: the capture thread must sleep in poll, not spin (it once did, at 100%).
        let c0 = capture.captureThreadCPUSeconds
        usleep(1_000_000)
        let idleShare = capture.captureThreadCPUSeconds - c0
        #expect(idleShare < 0.05, "capture thread used \(idleShare) s of CPU in 1 s of silence")

        // Now write a ramp into the pipe in 10 ms pieces; capture returns it sample for sample.
        let samples = (0..<8_000).map { Int16(truncatingIfNeeded: $0 * 5 - 20_000) }
        let pipePath = pulse.pipePath
        let writer = Thread {
            guard let fd = FileHandle(forWritingAtPath: pipePath) else { return }
            for start in stride(from: 0, to: samples.count, by: 160) {
                let piece = samples[start..<min(start + 160, samples.count)]
                fd.write(piece.withUnsafeBytes { Data($0) })
                usleep(10_000)
            }
            // PulseAudio keeps reading the pipe; keep it open until capture is done.
            usleep(500_000)
            try? fd.close()
        }
        writer.start()
        let got = try capture.readAll(chunk: 256)
        #expect(got.count == 8_000)
        expectSameSamples(got, samples.map { Float($0) / 32_768 })
        #expect(capture.losses == CaptureLosses())
    }

    /// A busy device cannot be produced without hardware (the virtual devices are never busy),
    /// so this checks the mapping every open error goes through.
    @Test("open errors map to their typed cases: busy, server down, no such device")
    func openErrorMapping() {
        let map = Alsa.openError(device: "hw:1")
        func kind(_ errno: Int32) -> String {
            switch map(-errno, Alsa.message(-errno)) {
            case .deviceBusy: "busy"
            case .serverNotRunning: "server"
            case .noSuchDevice: "missing"
            default: "other"
            }
        }
        #expect(kind(EBUSY) == "busy" && kind(EAGAIN) == "busy")
        #expect(kind(ECONNREFUSED) == "server")
        #expect(kind(ENOENT) == "missing" && kind(ENODEV) == "missing")
        #expect(kind(EIO) == "other")
        #expect("\(map(-EBUSY, Alsa.message(-EBUSY)))".contains("hw:1") && "\(map(-EBUSY, Alsa.message(-EBUSY)))".contains("busy"))
        // Every error in opening sends the user to the same list; a failure in use does not.
        for code in [ENOENT, ENODEV, ECONNREFUSED, EBUSY, EAGAIN, EIO] {
            #expect("\(map(-code, Alsa.message(-code)))".hasSuffix(AudioError.seeDevices), "\(map(-code, Alsa.message(-code)))")
        }
        #expect("\(AudioError.unsupportedParameters(device: "x", detail: "mono", message: "m"))".hasSuffix(AudioError.seeDevices))
        #expect(!"\(AudioError.deviceFailed(device: "x", operation: "capture", message: "m"))".contains("hark devices"))
    }

    @Test("the listing marks plugin types (they wrap another PCM) and cards; the defaults and a card's names are devices")
    func listingKinds() {
        let devices = CaptureDevice.all()
        for name in ["lavrate", "speexrate", "samplerate", "upmix", "vdownmix", "speex"] {
            if let d = devices.first(where: { $0.name == name }) { #expect(d.isPluginType, "\(name)") }
        }
        for name in ["pulse", "jack", "oss", "default"] {
            if let d = devices.first(where: { $0.name == name }) { #expect(!d.isPluginType, "\(name)") }
        }
        #expect(CaptureDevice.cardArgument(of: "plughw:CARD=PCH,DEV=0") == "PCH")
        #expect(CaptureDevice.cardArgument(of: "dsnoop:DEV=1,CARD=USB") == "USB")
        #expect(CaptureDevice.cardArgument(of: "pulse") == nil)
        // The JACK plugin's ENOENT with no server is a server that is not running.
        #expect(Alsa.pcmType("jackmic") == "jack" && Alsa.pcmType("no_such_pcm_name") == nil)
    }

    @Test("capture devices are listed")
    func listing() {
        let devices = CaptureDevice.all()
        // The virtual devices have no hint entries, but ALSA always lists at least "default"
        // when alsa-plugins (pulse/jack) are installed.
        #expect(devices.allSatisfy { !$0.name.isEmpty })
        #expect(devices.contains { $0.name == "default" || $0.name == "pulse" || $0.name == "jack" })
    }
}

/// True the first time `first()` is called, from any thread.
final class Once: Sendable {
    private let done = Atomic<Bool>(false)
    func first() -> Bool { !done.exchange(true, ordering: .relaxed) }
}
