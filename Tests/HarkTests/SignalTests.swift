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

    static func commands() -> [(String, [String])] {
        [("listen", ["listen", "--file", "-"]),
         ("spot", ["spot", "--file", "-", "--keyword", "okay robot"]),
         ("features", ["features", "--file", "-"]),
         ("record", ["record", work.appendingPathComponent("signalled.wav").path, "--file", "-"]),
         ("transcribe", ["transcribe", "-"])]
    }

    struct Outcome { var status: Int32; var secondsToExit: Double; var out: String; var err: String }

    static func run(_ args: [String], feed: Feed, signal: Int32) throws -> Outcome {
        let p = Process()
        p.executableURL = CLITests.hark
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        var keepOpen: Pipe?
        switch feed {
        case .endless:
            p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/zero"))
        case .idleAfterSpeech:
            let input = Pipe()
            p.standardInput = input
            keepOpen = input
            let (speech, _) = try FaultTests.speech(splitAt: 2.2)
            DispatchQueue.global().async { try? input.fileHandleForWriting.write(contentsOf: speech) }
        }
        try p.run()
        let running = CLITests.Running(p, out: out, err: err)
        usleep(2_500_000)                          // the model loaded, the input being read
        let sent = Date()
        kill(p.processIdentifier, signal)
        while p.isRunning && Date().timeIntervalSince(sent) < 10 { usleep(5_000) }
        let seconds = Date().timeIntervalSince(sent)
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        let r = running.finish()
        try keepOpen?.fileHandleForWriting.close()
        return Outcome(status: r.status, secondsToExit: seconds, out: r.out, err: r.err)
    }

    @Test("each command on stdin that never ends, and on stdin that waits, stops within 1 s of SIGINT or SIGTERM and finishes its output")
    func everyInput() throws {
        var n = 0
        for (command, args) in Self.commands() {
            for feed in Feed.allCases {
                let signal = n % 2 == 0 ? SIGINT : SIGTERM
                n += 1
                let name = "\(command) on \(feed.rawValue) stdin, signal \(signal)"
                let r = try Self.run(args, feed: feed, signal: signal)
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
