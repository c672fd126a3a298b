import Foundation
import Glibc
import Stream
import Testing
import TestSupport

/// SIGINT and SIGTERM stop every command within a second, whatever its input is doing, and the
/// command finishes its output: the last final line, the transcript so far, the WAV.
@Suite("signals stop every input", .serialized)
struct SignalTests {
    static let work = testFolder("hark-signals")

    /// What stdin does while the signal comes.
    enum Feed: String, CaseIterable {
        /// Never runs dry and never waits: /dev/zero.
        case endless
        /// The digits up to 2.2 s (mid-utterance), then open and silent.
        case idleAfterSpeech
    }

    /// Each command, and the stderr line it writes once it reads its input (nil: none; it takes
    /// the signal while it loads, too).
    static func commands() -> [(String, [String], ready: String?)] {
        [("listen", ["listen", "--file", "-"], "listening to"),
         ("spot", ["spot", "--file", "-", "--keyword", "okay robot"], "spotting"),
         ("features", ["features", "--file", "-"], nil),
         ("record", ["record", work.appendingPathComponent("signalled.wav").path, "--file", "-"], "recording from"),
         ("transcribe", ["transcribe", "-"], nil)]
    }

    /// Dictation's first start on a fresh machine pronounces the 64 000 words of the vocabulary
    /// with espeak-ng (seconds in a debug build; later starts read the cache), and `transcribe`
    /// has no ready line to wait for. One start here, so that each command below is reading its
    /// input when the signal comes.
    static func warmPronunciationCache() throws {
        let p = Process()
        p.executableURL = CLITests.hark
        p.arguments = ["transcribe", "-"]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
    }

    struct Outcome { var status: Int32; var secondsToExit: Double; var out: String; var err: String }

    static func run(_ args: [String], ready: String?, feed: Feed, signal: Int32) throws -> Outcome {
        let p = Process()
        p.executableURL = CLITests.hark
        p.arguments = args
        // stderr goes to a file, read while the command runs to see its ready line.
        let errPath = work.appendingPathComponent("stderr-\(args[0]).txt").path
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        defer { try? err.close() }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = err
        var keepOpen: Pipe?
        switch feed {
        case .endless:
            p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/zero"))
        case .idleAfterSpeech:
            // The feeding write fails with EPIPE, not SIGPIPE for the test process, if the command
            // is gone before it has read everything.
            Glibc.signal(SIGPIPE, SIG_IGN)
            let input = Pipe()
            p.standardInput = input
            keepOpen = input
            let (speech, _) = try FaultTests.speech(splitAt: 2.2)
            DispatchQueue.global().async { try? input.fileHandleForWriting.write(contentsOf: speech) }
        }
        try p.run()
        let running = CLITests.Running(p, out: out, err: nil)
        // The input being read: 1.5 s after the ready line, else 5 s after the start (transcribe
        // loads dictation in about 2 s in a debug build under CI's load). A signal
        // while the model loads ends the process by its default action, which is not what is
        // tested here, and the speech fed must have been heard before the signal comes.
        if let ready {
            let started = Date()
            while Date().timeIntervalSince(started) < 60,
                  !(String(data: FileManager.default.contents(atPath: errPath) ?? Data(), encoding: .utf8) ?? "").contains(ready) {
                usleep(50_000)
            }
            usleep(1_500_000)
        } else {
            usleep(5_000_000)
        }
        let sent = Date()
        kill(p.processIdentifier, signal)
        while p.isRunning && Date().timeIntervalSince(sent) < 10 { usleep(5_000) }
        let seconds = Date().timeIntervalSince(sent)
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        let r = running.finish()
        try keepOpen?.fileHandleForWriting.close()
        let errText = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        return Outcome(status: r.status, secondsToExit: seconds, out: r.out, err: errText)
    }

    @Test("each command on stdin that never ends, and on stdin that waits, stops within 1 s of SIGINT or SIGTERM and finishes its output")
    func everyInput() throws {
        try Self.warmPronunciationCache()
        var n = 0
        for (command, args, ready) in Self.commands() {
            for feed in Feed.allCases {
                let signal = n % 2 == 0 ? SIGINT : SIGTERM
                n += 1
                let name = "\(command) on \(feed.rawValue) stdin, signal \(signal)"
                let r = try Self.run(args, ready: ready, feed: feed, signal: signal)
                #expect(r.secondsToExit < 1, "\(name): exited \(r.secondsToExit) s after the signal")
                #expect(r.status == 0, "\(name): exit \(r.status): \(r.err)")
                guard feed == .idleAfterSpeech else { continue }
                switch command {
                case "listen", "transcribe":
                    // The utterance in progress when the signal came is finalized and printed.
                    #expect(r.out.split(separator: "\n").contains { !$0.trimmingCharacters(in: .whitespaces).isEmpty },
                            "\(name): the last final was not printed: \(r.out)")
                case "record":
                    #expect(try AudioFileSource(path: args[1]).readAll().count == Int(2.2 * 16_000), "\(name)")
                case "features":
                    #expect(r.err.contains("from 2.2 s of audio"), "\(name): \(r.err)")
                default: break
                }
            }
        }
    }
}
