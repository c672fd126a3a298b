// libFuzzer target: the audio-file reader (libsndfile + downmix + libsoxr) must turn any byte
// string into samples or an AudioError, never crash or hang. Build and run with scripts/fuzz.
import CFuzzDriver
import Foundation
import Glibc
import Stream

private let path = "/tmp/hark-fuzz-audio-\(getpid()).wav"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudioFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size))
    guard let source = try? AudioFileSource(path: path) else { return 0 }
    var block = [Float](repeating: 0, count: 4096)
    var total = 0
    // Bounded: a header may claim hours of audio; 10 s at 16 kHz is plenty to exercise decoding.
    while total < 160_000 {
        guard let n = try? block.withUnsafeMutableBufferPointer({ try source.read(into: $0) }), n > 0 else { break }
        precondition(block[0..<n].allSatisfy(\.isFinite), "non-finite sample passed the reader")
        total += n
    }
    return 0
}

/// SwiftPM's entry symbol for this executable; hands control to libFuzzer's driver.
@_cdecl("FuzzAudioFile_main")
public func fuzzEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    atexit { unlink(path) }
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzAudioFile(data!, size) }
}
