import Foundation
import Glibc

/// Virtual capture devices for tests on machines without a sound card (shared/TESTING-AUDIO.md).
public enum VirtualAudio {
    public static let folder = testFolder("hark-virtual-audio")

    /// Runs a program and returns its exit status; stdout/stderr are captured for messages.
    @discardableResult
    public static func run(_ tool: String, _ args: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [tool] + args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A JACK server with the dummy backend, for real-time capture and real overruns.
///
/// The server is named after this test process (`JACK_DEFAULT_SERVER`, set here for the process
/// and every child it starts, `hark` included), so a JACK server of another program or another
/// checkout's tests on the same machine is never touched nor confused with this one.
public final class JackServer {
    public private(set) var process = Process()
    /// The server's name; ALSA's jack plugin and `jack_lsp` find it through JACK_DEFAULT_SERVER.
    public static let name = "hark-test-\(getpid())"
    /// What a child process needs to reach the server (also set in this process).
    public let environment = ["JACK_DEFAULT_SERVER": JackServer.name, "JACK_NO_AUDIO_RESERVATION": "1"]
    /// One server at a time per test process: two suites running in parallel would share the
    /// name. Held from init to stop().
    private static let exclusive = DispatchSemaphore(value: 1)
    private var holding = true
    private let arguments: [String]

    public init(rate: Int = 16_000, period: Int = 320, captureChannels: Int = 1) throws {
        Self.exclusive.wait()
        arguments = ["jackd", "-n", Self.name, "--no-realtime", "-d", "dummy", "-r", "\(rate)", "-p", "\(period)",
                     "-C", "\(captureChannels)", "-P", "1"]
        for (k, v) in environment { setenv(k, v, 1) }
        do { try start() } catch {
            stop()
            throw error
        }
    }

    /// Starts the server (again, after `kill()`: same name, same ports).
    public func start() throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if try VirtualAudio.run("jack_lsp", [], environment: environment).output.contains("system:capture_1") { return }
            usleep(50_000)
        }
        throw JackError.notReady
    }

    public enum JackError: Error { case notReady }

    /// Stops the server under its clients, as a crash would look to them (SIGTERM and SIGKILL
    /// leave ALSA's jack device in the same state; SIGTERM also frees JACK's shared memory).
    public func kill() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    public func stop() {
        if process.isRunning {
            kill()
            usleep(200_000)
        }
        // A client whose server died under it (the tests that kill the server) cannot remove its
        // semaphore; they are this server's alone, by name.
        let shm = "/dev/shm"
        for file in (try? FileManager.default.contentsOfDirectory(atPath: shm)) ?? []
        where file.hasPrefix("jack_sem.") && file.contains("_\(Self.name)_") {
            try? FileManager.default.removeItem(atPath: shm + "/" + file)
        }
        if holding { holding = false; Self.exclusive.signal() }
    }
}

/// A private PulseAudio server whose only source is a pipe (`module-pipe-source`): whatever is
/// written into `pipePath` as S16_LE 16 kHz mono comes out of ALSA device "pulse", in real time.
public final class PulseServer {
    public let dir: URL
    public var pipePath: String { dir.appendingPathComponent("fifomic.pipe").path }
    private var saved: [String: String?] = [:]
    /// The variables a client needs to reach this server (set in this process too).
    public private(set) var environment: [String: String] = [:]

    /// One private server at a time per test process: ALSA's pulse plugin finds the server through
    /// process-wide environment variables, so two suites with servers of their own would talk to
    /// each other's. Held from init to stop().
    private static let exclusive = DispatchSemaphore(value: 1)
    private var holding = false

    public init() throws {
        Self.exclusive.wait()
        holding = true
        // Tests write into the server's pipe from this process, and some kill the server meanwhile
        // (a device that goes away): a write then fails with EPIPE instead of SIGPIPE ending the
        // whole test process (it did once, under load).
        signal(SIGPIPE, SIG_IGN)
        dir = VirtualAudio.folder.appendingPathComponent("pulse-\(UInt32.random(in: 0...UInt32.max))")
        for sub in ["run", "state", "config"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let script = """
        load-module module-native-protocol-unix auth-anonymous=1
        load-module module-pipe-source source_name=fifomic file=\(dir.path)/fifomic.pipe format=s16le rate=16000 channels=1
        set-default-source fifomic
        """
        try script.write(to: dir.appendingPathComponent("vmic.pa"), atomically: true, encoding: .utf8)
        let env = ["PULSE_RUNTIME_PATH": dir.appendingPathComponent("run").path,
                   "PULSE_STATE_PATH": dir.appendingPathComponent("state").path,
                   "PULSE_CONFIG_PATH": dir.appendingPathComponent("config").path,
                   "PULSE_SERVER": "unix:\(dir.path)/run/native"]
        environment = env
        for (k, v) in env {
            saved[k] = ProcessInfo.processInfo.environment[k]
            setenv(k, v, 1)
        }
        do { try start() } catch {
            stop()                                   // environment back, and the next server may start
            throw error
        }
    }

    public enum PulseError: Error { case notStarted(String) }

    /// Starts the daemon (again, after `kill()`: same socket, same pipe).
    public func start() throws {
        let r = try VirtualAudio.run("pulseaudio", ["--daemonize=yes", "--use-pid-file=yes", "--exit-idle-time=-1",
                                                    "--disallow-exit", "-n", "-F", dir.appendingPathComponent("vmic.pa").path],
                                     environment: environment)
        guard r.status == 0 else { throw PulseError.notStarted(r.output) }
        for _ in 0..<100 {
            if try VirtualAudio.run("pactl", ["info"], environment: environment).status == 0 { return }
            usleep(50_000)
        }
        throw PulseError.notStarted("pactl info never answered")
    }

    /// Stops the daemon as a crash or unplugging would look to clients; the environment stays.
    public func kill() {
        if let pid = try? String(contentsOf: dir.appendingPathComponent("run/pid"), encoding: .utf8),
           let p = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines)) {
            Glibc.kill(p, SIGTERM)
            for _ in 0..<60 where Glibc.kill(p, 0) == 0 { usleep(50_000) }
        }
    }

    public func stop() {
        kill()
        for (k, v) in saved {
            if let v { setenv(k, v, 1) } else { unsetenv(k) }
        }
        if holding { holding = false; Self.exclusive.signal() }
    }
}
