import Foundation
import Testing
import TestSupport
import Stream
@testable import hark

/// Issue 20, defect 11: `transcribe` of a long file shows its progress to a person at a terminal,
/// and never writes carriage returns into a pipe or a log.
@Suite("progress of long work", .serialized)
struct ProgressTests {
    static let work = testFolder("hark-progress")

    /// `seconds` of a quiet tone as a 16 kHz WAV.
    static func tone(seconds: Int) throws -> String {
        let path = work.appendingPathComponent("tone-\(seconds).wav").path
        let w = try WAVWriter(path: path)
        let block = (0..<16_000).map { Float(sin(Double($0) * 2 * .pi * 300 / 16_000) * 0.05) }
        for _ in 0..<seconds { try block.withUnsafeBufferPointer { try w.write($0) } }
        try w.finish()
        return path
    }

    /// Runs `hark args` with its stdout and stderr on a pseudo-terminal (util-linux `script`), as a
    /// person at a terminal runs it; returns everything it wrote there.
    static func onTerminal(_ args: [String]) throws -> (status: Int32, output: String) {
        let command = ([CLITests.hark.path] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        return try VirtualAudio.run("script", ["-qefc", command, "/dev/null"])
    }

    @Test("the decision: a terminal and over a minute of audio, nothing else")
    func decision() {
        #expect(ProgressLine.wanted(stderrIsTerminal: true, totalSeconds: 61))
        #expect(!ProgressLine.wanted(stderrIsTerminal: true, totalSeconds: 60))
        #expect(!ProgressLine.wanted(stderrIsTerminal: false, totalSeconds: 3600), "never into a pipe or a file")
        #expect(!ProgressLine.wanted(stderrIsTerminal: true, totalSeconds: nil), "stdin: length unknown")
    }

    @Test("the line: percent, position, speed and time left; redrawn at most every interval")
    func line() {
        var p = ProgressLine(label: "hark transcribe: talk.wav", totalSeconds: 1200, now: 100)
        #expect(p.text(doneSeconds: 504, elapsed: 14.4) == "hark transcribe: talk.wav  42%  8:24 of 20:00  35× real time  0:20 left")
        #expect(p.text(doneSeconds: 0, elapsed: 0) == "hark transcribe: talk.wav  0%  0:00 of 20:00")
        #expect(ProgressLine.clock(3725) == "1:02:05")
        let first = p.update(doneSeconds: 0, now: 100)
        #expect(first?.hasPrefix("\r") == true && first?.hasSuffix("\u{1B}[K") == true)
        #expect(p.update(doneSeconds: 10, now: 100.1) == nil)
        #expect(p.update(doneSeconds: 10, now: 100.3) != nil)
    }

    @Test("transcribe: progress on a terminal for a long file; none for a short one, none into a pipe")
    func transcribe() throws {
        let long = try Self.tone(seconds: 75), short = try Self.tone(seconds: 20)

        let tty = try Self.onTerminal(["transcribe", long])
        #expect(tty.status == 0, "\(tty.output)")
        #expect(tty.output.contains("\rhark transcribe: \(long)  0%  0:00 of 1:15"), "\(tty.output)")
        #expect(tty.output.contains("\r\u{1B}[K"), "the line is erased at the end: \(tty.output)")

        let shortOnTTY = try Self.onTerminal(["transcribe", short])
        #expect(shortOnTTY.status == 0 && !shortOnTTY.output.contains("%"), "\(shortOnTTY.output)")

        let piped = try CLITests.run(["transcribe", long])
        #expect(piped.status == 0, "\(piped.err)")
        #expect(!piped.err.contains("\r") && !piped.err.contains("%"), "progress went into a pipe: \(piped.err)")
    }
}
