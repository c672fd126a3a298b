import Foundation
import Glibc
import Stream
import Testing
import TestSupport

/// Issue 7's faults, injected into real devices: PulseAudio stopped under a live capture (with
/// and without --reconnect), JACK overruns from a stalled process, SIGINT in mid-sentence.
@Suite("faults on live devices", .serialized)
struct FaultTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let digits = repo.appendingPathComponent("share/vocab/digits.txt").path

    /// The digits fixture as raw S16_LE, split at `at` seconds.
    static func speech(splitAt at: Double) throws -> (Data, Data) {
        let samples = try AudioFileSource(path: repo.appendingPathComponent("Tests/HarkTests/Fixtures/digits.wav").path).readAll()
        var data = Data()
        for s in samples { withUnsafeBytes(of: Int16((s * 32_767).rounded()).littleEndian) { data.append(contentsOf: $0) } }
        let cut = Int(at * 16_000) * 2
        return (data.prefix(cut), data.dropFirst(cut))
    }

    /// Writes raw audio into the pulse pipe in real time (10 ms blocks), as a microphone would deliver it.
    static func play(_ data: Data, into pipe: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pipe))
        defer { try? handle.close() }
        var offset = data.startIndex
        while offset < data.endIndex {
            let end = min(offset + 320, data.endIndex)
            try handle.write(contentsOf: data[offset..<end])
            offset = end
            usleep(10_000)
        }
    }

    static func finals(_ out: String) -> [[String: Any]] {
        out.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
            .filter { $0["type"] as? String == "final" }
    }

    /// `hark listen --json` on `pulse`'s source, fed the digits up to `at` seconds: mid-utterance,
    /// no pause has ended it yet.
    static func listenMidUtterance(_ pulse: PulseServer, splitAt at: Double) throws -> CLITests.Running {
        let (first, _) = try speech(splitAt: at)
        let run = try CLITests.start(["listen", "--device", "pulse", "--words", digits, "--json"], env: pulse.environment)
        usleep(500_000)
        try play(first, into: pulse.pipePath)
        return run
    }

    @Test("the device disappears: the last final result is printed, then an error naming the device, exit 1")
    func deviceLost() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        let run = try Self.listenMidUtterance(pulse, splitAt: 2.2)
        pulse.kill()
        let r = run.finish(timeout: 30)
        #expect(r.status == 1, "\(r.err)")
        #expect(Self.finals(r.out).count == 1, "the utterance in progress is finalized: \(r.out)")
        #expect(r.err.contains("'pulse'") && r.err.contains("failed during capture"), "\(r.err)")
    }

    @Test("--reconnect: the device comes back and recognition resumes, times counting the gap")
    func reconnect() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        let (first, second) = try Self.speech(splitAt: 2.5)
        let seconds = Double(first.count + second.count) / 32_000
        let run = try CLITests.start(["listen", "--device", "pulse", "--reconnect", "--seconds", String(seconds - 0.05),
                                  "--words", Self.digits, "--json"], env: pulse.environment)
        usleep(500_000)
        try Self.play(first, into: pulse.pipePath)
        pulse.kill()
        usleep(1_000_000)
        try pulse.start()
        usleep(1_500_000)                                  // the first retry waits 0.5 s, the next 1 s
        try Self.play(second, into: pulse.pipePath)
        let r = run.finish(timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        #expect(r.err.contains("reconnecting") && r.err.contains("reconnected after"), "\(r.err)")
        let finals = Self.finals(r.out)
        #expect(finals.count == 2, "\(r.out)")
        if finals.count == 2 {
            let end = finals[0]["end"] as? Double ?? 0, start = finals[1]["start"] as? Double ?? 0
            #expect(end < 2.6 && start - end > 2, "the gap without a device is counted in the times: \(end) → \(start)")
        }
    }

    @Test("overruns: a stalled capture thread loses audio; it is counted in --stats and recognition goes on")
    func overruns() throws {
        let jack = try JackServer(rate: 16_000, period: 320)
        defer { jack.stop() }
        let conf = VirtualAudio.folder.appendingPathComponent("jack.conf")
        try "pcm.jackmic { type jack capture_ports { 0 system:capture_1 } }".write(to: conf, atomically: true, encoding: .utf8)
        // The capture thread stalls for 0.7 s one second in (more than twice the 40 ms buffer).
        let run = try CLITests.start(["spot", "--device", "jackmic", "--keyword", "okay robot", "--stats", "0.3"],
                                 env: jack.environment.merging(["ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf:\(conf.path)",
                                                                "HARK_TEST_STALL_CAPTURE": "1.0:0.7"]) { $1 })
        usleep(4_000_000)
        kill(run.process.processIdentifier, SIGTERM)
        let r = run.finish(timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        let stats = r.err.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        let last = stats.last ?? [:]
        #expect((last["overruns"] as? Int ?? 0) >= 1, "\(r.err)")
        #expect((last["samplesLost"] as? Int ?? 0) > 8_000, "a 0.7 s stall loses about 11 000 samples: \(r.err)")
        // Recognition went on: audio kept coming after the first status line that shows the overrun.
        let firstAfter = stats.first { ($0["overruns"] as? Int ?? 0) >= 1 }
        #expect((last["audioSeconds"] as? Double ?? 0) > (firstAfter?["audioSeconds"] as? Double ?? .infinity), "\(r.err)")
    }

    static func statsLines(_ err: String) -> [[String: Any]] {
        err.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
            .filter { $0["type"] as? String == "stats" }
    }

    /// `hark spot --stats 0.25` on JACK's device; stderr is read as it comes, with the time of each line.
    final class Daemon: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var lines: [(time: Double, text: String)] = []
        private let done = DispatchSemaphore(value: 0)

        init(_ jack: JackServer, extra: [String]) throws {
            let conf = VirtualAudio.folder.appendingPathComponent("jack.conf")
            try "pcm.jackmic { type jack capture_ports { 0 system:capture_1 } }".write(to: conf, atomically: true, encoding: .utf8)
            process.executableURL = CLITests.hark
            process.arguments = ["spot", "--device", "jackmic", "--keyword", "okay robot", "--stats", "0.25"] + extra
            process.environment = ProcessInfo.processInfo.environment
                .merging(jack.environment.merging(["ALSA_CONFIG_PATH": "/usr/share/alsa/alsa.conf:\(conf.path)"]) { $1 }) { $1 }
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            Thread { [self] in
                var pending = Data()
                while case let chunk = err.fileHandleForReading.availableData, !chunk.isEmpty {
                    pending += chunk
                    while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                        pending = Data(pending[(nl + 1)...])
                        lock.withLock { lines.append((MonotonicClock.now(), line)) }
                    }
                }
                done.signal()
            }.start()
        }

        func since(_ t: Double) -> [String] { lock.withLock { lines.filter { $0.time >= t }.map(\.text) } }
        var all: String { lock.withLock { lines.map(\.text).joined(separator: "\n") } }

        /// Waits up to `timeout` for the exit; nil if still running (then it is killed).
        func exit(within timeout: Double) -> Int32? {
            let deadline = MonotonicClock.now() + timeout
            while process.isRunning && MonotonicClock.now() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate(); process.waitUntilExit(); done.wait(); return nil }
            process.waitUntilExit()
            done.wait()
            return process.terminationStatus
        }
    }

    @Test("the JACK server dies under spot: status lines go on, then an error naming the device and exit 1, within seconds")
    func jackDies() throws {
        let jack = try JackServer(rate: 16_000, period: 320)
        defer { jack.stop() }
        let daemon = try Daemon(jack, extra: ["--device-timeout", "2"])
        usleep(2_000_000)
        #expect(Self.statsLines(daemon.all).count >= 4, "\(daemon.all)")
        jack.kill()
        let killed = MonotonicClock.now()
        let status = daemon.exit(within: 2 + 4)
        let err = daemon.all
        #expect(status == 1, "exited \(String(describing: status)) (nil: still running \(MonotonicClock.now() - killed) s after the server died): \(err)")
        #expect(err.contains("hark spot: audio device 'jackmic' failed during capture") && err.contains("no audio for"), "\(err)")
        // A supervisor kept hearing from the daemon while the device was silent.
        #expect(Self.statsLines(daemon.since(killed + 0.3).joined(separator: "\n")).count >= 4, "\(err)")
    }

    @Test("--reconnect: the JACK server dies and comes back; status lines go on throughout and audio resumes")
    func jackReconnects() throws {
        let jack = try JackServer(rate: 16_000, period: 320)
        defer { jack.stop() }
        let daemon = try Daemon(jack, extra: ["--device-timeout", "1", "--reconnect"])
        usleep(1_500_000)
        jack.kill()
        let killed = MonotonicClock.now()
        usleep(3_500_000)
        let duringOutage = Self.statsLines(daemon.since(killed + 0.3).joined(separator: "\n"))
        #expect(duringOutage.count >= 8, "status lines while the server was gone: \(daemon.all)")
        #expect(daemon.all.contains("failed during capture") && daemon.all.contains("reconnecting"), "\(daemon.all)")
        let before = duringOutage.last?["audioSeconds"] as? Double ?? .infinity
        try jack.start()
        // Retries come 0.5, 1, 2, 4 s apart: the next is at most 4 s away.
        let deadline = MonotonicClock.now() + 8
        while !daemon.all.contains("reconnected after") && MonotonicClock.now() < deadline { usleep(100_000) }
        usleep(1_000_000)
        kill(daemon.process.processIdentifier, SIGTERM)
        let status = daemon.exit(within: 10)
        let err = daemon.all
        #expect(status == 0, "\(err)")
        #expect(err.contains("reconnected after"), "\(err)")
        let last = Self.statsLines(err).last ?? [:]
        #expect((last["audioSeconds"] as? Double ?? 0) > before + 0.5, "audio came again after the reconnect: \(err)")
        #expect((last["samplesLost"] as? Int ?? 0) > 16_000, "the outage is counted as lost audio: \(err)")
    }

    @Test("SIGINT in mid-sentence: the final result is flushed and the exit is 0")
    func interrupt() throws {
        let pulse = try PulseServer()
        defer { pulse.stop() }
        let run = try Self.listenMidUtterance(pulse, splitAt: 2.0)
        kill(run.process.processIdentifier, SIGINT)
        let r = run.finish(timeout: 30)
        #expect(r.status == 0, "\(r.err)")
        #expect(Self.finals(r.out).count == 1, "\(r.out)")
    }

    @Test("a full disk (file-size limit) while recording: an error naming the file, and no file left looking complete")
    func fullDisk() throws {
        let folder = VirtualAudio.folder.appendingPathComponent("full-disk")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let out = folder.appendingPathComponent("take.wav").path
        let input = Self.repo.appendingPathComponent("Tests/HarkTests/Fixtures/digits.wav").path   // 170 KB
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "ulimit -f 32; exec \"$0\" record \"$1\" --file \"$2\"", CLITests.hark.path, out, input]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 1, "\(p.terminationReason.rawValue) \(message)")
        #expect(message.contains(out), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "a partial file was left behind")
    }
}
