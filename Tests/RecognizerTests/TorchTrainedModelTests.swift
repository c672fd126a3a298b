import Cells
import Foundation
import Stream
import Testing
@testable import Recognizer

/// Models trained by the PyTorch path (scripts/torch/train.py) load in Hark, and Hark computes
/// what PyTorch did: the same log-mel features from the same audio files (resampled and downmixed
/// ones included) and the same log-posteriors from the same features.
///
/// scripts/torch/test_torch_path.py trains the models and writes the fixture (PyTorch's features
/// and outputs); scripts/test runs it first and names it in HARK_TORCH_FIXTURE. Without torch the
/// test is skipped; a named fixture that is missing is a failure.
@Suite("PyTorch-trained models")
struct TorchTrainedModelTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let named = ProcessInfo.processInfo.environment["HARK_TORCH_FIXTURE"].flatMap { $0.isEmpty ? nil : $0 }
    static let fixture: String? = named
        ?? [repo.appendingPathComponent(".build-torch/fixture/fixture.json").path].first { FileManager.default.fileExists(atPath: $0) }

    static func floats(_ folder: URL, _ name: String) throws -> [Float] {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test("features within 1e-4 of PyTorch's, log-posteriors within 1e-5 (LSTM+projection, GRU, RNN, DDP-trained)",
          .enabled(if: fixture != nil, "no fixture: scripts/torch/test_torch_path.py writes it (scripts/test runs it)"))
    func torchModels() throws {
        let path = try #require(Self.fixture)
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("HARK_TORCH_FIXTURE names '\(path)', which does not exist")
            return
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        let featureTolerance = Float(root["featureTolerance"] as! Double), outputTolerance = Float(root["outputTolerance"] as! Double)
        let utterances = root["utterances"] as! [[String: Any]]
        let models = root["models"] as! [[String: Any]]
        #expect(utterances.count >= 4 && models.count >= 4)

        // Hark's features of each file, against PyTorch's.
        let front = try LogMelSpectrogram(LogMelConfig())
        var torchFeatures: [[Float]] = []
        var worstFeature: Float = 0
        for u in utterances {
            let audio = u["audio"] as! String
            let expected = try Self.floats(folder, u["features"] as! String)
            let mine = front.frames(of: try AudioFileSource(path: audio).readAll())
            #expect(mine.rows == u["frames"] as! Int, "\(audio): \(mine.rows) frames, PyTorch's front end made \(u["frames"]!)")
            let d = Self.maxDifference(mine.values, expected)
            #expect(mine.values.count == expected.count && d < featureTolerance, "\(audio): features differ by \(d)")
            worstFeature = max(worstFeature, d)
            torchFeatures.append(expected)
        }

        // Each model through Hark's streaming network (the file's own weights), on PyTorch's features.
        var worstOutput: Float = 0
        for m in models {
            let name = m["name"] as! String
            let model = try RecognitionModel(path: m["path"] as! String)
            #expect(model.features == LogMelConfig(), "\(name): front-end settings")
            let width = m["width"] as! Int
            #expect(model.network.config.outputWidth == width && model.tokens.count == width)
            for (i, output) in (m["outputs"] as! [String]).enumerated() {
                let expected = try Self.floats(folder, output)
                let steps = (m["steps"] as! [Int])[i]
                let mine = model.network.forward(frames: torchFeatures[i])
                #expect(mine.count == steps * width, "\(name), utterance \(i): \(mine.count / width) steps, PyTorch made \(steps)")
                let d = Self.maxDifference(mine, expected)
                #expect(mine.count == expected.count && d < outputTolerance, "\(name), utterance \(i): log-posteriors differ by \(d)")
                worstOutput = max(worstOutput, d)
            }
        }
        print("PyTorch-trained models: \(models.count) models on \(utterances.count) utterances; "
              + "features max |Hark − PyTorch| \(worstFeature), log-posteriors max |Hark − PyTorch| \(worstOutput)")
    }
}
