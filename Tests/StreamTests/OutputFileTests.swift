import Foundation
import Glibc
import Testing
import TestSupport
@testable import Stream

/// A file Hark writes replaces only what a rename may replace (`OutputFile`).
@Suite("Output files")
struct OutputFileTests {
    static let dir = testFolder("hark-output-files")

    static func tone() -> [Float] { (0..<1_600).map { Float(sin(Double($0) * 0.2) * 0.3) } }

    static func record(_ path: String) throws {
        let w = try WAVWriter(path: path)
        try tone().withUnsafeBufferPointer { try w.write($0) }
        try w.finish()
    }

    @Test("devices, FIFOs, sockets, folders, read-only files and dangling links are refused and left as they were")
    func refused() throws {
        // A folder of its own: the suite's other tests write into Self.dir at the same time, and
        // their files in progress (".private.wav.partial-PID") are not this test's leftovers.
        let dir = Self.dir.appendingPathComponent("refused")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let targets = try refusedTargets(in: dir, prefix: "wav")
        #expect(targets.count >= 6)
        for t in targets {
            #expect { _ = try OutputFile.check(t.path) } throws: { "\($0)".contains(t.path) && "\($0)".contains(t.mentions) }
            #expect { try Self.record(t.path) } throws: { "\($0)".contains(t.path) && "\($0)".contains(t.mentions) }
            #expect { try OutputFile(path: t.path, resolvedPath: t.path, existing: nil).write([1, 2, 3]) } throws: { _ in true }
            #expect(t.unchanged, "\(t.kind) \(t.path) was changed")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("a file replaced keeps its permissions; a new one gets the umask's")
    func keepsMode() throws {
        let path = Self.dir.appendingPathComponent("private.wav").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        try Self.record(path)
        #expect(permissions(path) == 0o600)
        #expect(try AudioFileSource(path: path).readAll().count == 1_600)
        try OutputFile.check(path).write(Array("text\n".utf8))
        #expect(permissions(path) == 0o600 && FileManager.default.contents(atPath: path) == Data("text\n".utf8))

        let fresh = Self.dir.appendingPathComponent("fresh.wav").path
        let mask = umask(0o022); umask(mask)
        try Self.record(fresh)
        #expect(permissions(fresh) == 0o666 & ~mask)
    }

    @Test("through a symbolic link the file it points to is replaced, and the link stays")
    func followsLinks() throws {
        let real = Self.dir.appendingPathComponent("real.wav").path
        let link = Self.dir.appendingPathComponent("link.wav").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: real))
        chmod(real, 0o640)
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        try Self.record(link)
        #expect(isSymbolicLink(link))
        #expect(permissions(real) == 0o640)
        #expect(try AudioFileSource(path: real).readAll().count == 1_600)
    }
}
