// libFuzzer target: the model-file reader must reject any byte string with a ModelError, never
// crash, hang or leak. Build and run with scripts/fuzz.
import Cells
import CFuzzDriver
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(bytes: data, count: size)
    if let model = try? ModelFile.decode(bytes, path: "fuzz-input") {
        // Whatever loads must also run and round-trip.
        let frames = [Float](repeating: 0.5, count: model.network.config.inputSize * model.network.config.stack)
        _ = model.network.forward(frames: frames)
        _ = try? ModelFile.decode(model.encode(), path: "fuzz-roundtrip")
    }
    return 0
}

/// SwiftPM's entry symbol for this executable; hands control to libFuzzer's driver.
@_cdecl("FuzzModelFile_main")
public func fuzzEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzModelFile(data!, size) }
}
