import Foundation
import Glibc
import Testing
import TestSupport
@testable import Stream

/// `requestStop` ends every source's stream promptly, whatever the source is doing: delivering
/// without end, or waiting for input that never comes.
@Suite("Stopping sources")
struct StopTests {
    /// Reads `source` on another thread until it ends; stops it after `after` seconds and
    /// returns how long the end took to come after the stop.
    static func secondsToStop(_ source: AudioSource, after: Double = 0.3) throws -> Double {
        let ended = StopFlag()
        let box = UncheckedBox(source)
        let reader = Thread {
            let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1_600)
            defer { block.deallocate() }
            while ((try? box.value.read(into: block)) ?? 0) > 0 {}
            ended.set()
        }
        reader.start()
        usleep(useconds_t(after * 1e6))
        #expect(!ended.isSet, "\(source.name) ended before it was stopped")
        let stopped = Date()
        source.requestStop()
        while !ended.isSet && Date().timeIntervalSince(stopped) < 5 { usleep(1_000) }
        return Date().timeIntervalSince(stopped)
    }

    @Test("raw PCM from a pipe that never runs dry")
    func endlessPipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writeEnd = fds[1]
        let writer = Thread {
            let zeros = [UInt8](repeating: 0, count: 65_536)
            while zeros.withUnsafeBytes({ write(writeEnd, $0.baseAddress, $0.count) }) > 0 {}
        }
        writer.start()
        let source = RawPCMSource(fileDescriptor: fds[0], name: "endless pipe")
        #expect(try Self.secondsToStop(source) < 0.5)
        // Both ends stay open: the writer blocks on the full pipe (closing the read end would
        // raise SIGPIPE in the test process).
    }

    @Test("raw PCM from a pipe that stays open and silent")
    func idlePipe() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let source = RawPCMSource(fileDescriptor: fds[0], name: "idle pipe")
        #expect(try Self.secondsToStop(source) < 0.5)
    }

    @Test("a file and a synthetic signal end at the next read")
    func fileAndSynthetic() throws {
        let path = Support.tempDir.appendingPathComponent("stop-tone.wav")
        try Support.sox(path, ["-r", "16000", "-c", "1", "-b", "16"], synth: ["3", "sine", "440"])
        let block = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1_600)
        defer { block.deallocate() }
        for source: AudioSource in [try AudioFileSource(path: path.path), SyntheticSource(.noise(amplitude: 0.1, seed: 1), seconds: 1e6)] {
            #expect(try source.read(into: block) > 0)
            source.requestStop()
            #expect(try source.read(into: block) == 0, "\(source.name)")
            #expect(try source.read(into: block) == 0, "\(source.name)")
        }
    }
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
