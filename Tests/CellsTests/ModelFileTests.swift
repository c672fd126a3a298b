import Foundation
import Testing
import TestSupport
@testable import Cells

@Suite("Model file")
struct ModelFileTests {
    static func sample() throws -> ModelFile {
        var rng = SeededGenerator(seed: 21)
        let config = NetworkConfig(kind: .lstm, inputSize: 6, stack: 3, stride: 3, hiddenSize: 10, layers: 2,
                                   projectionSize: 4, outputSize: 5)
        let mean: [Float] = randomValues(6, scale: 1, rng: &rng)
        let std = (0..<6).map { _ in Float(rng.uniform(0.5, 2)) }
        let net = try Network<Float>(config: config, mean: mean, std: std)
        net.initialize(seed: 2)
        return ModelFile(network: net, tokens: ["<blank>", "a", "b", "c", " "], features: #"{"melBands":6}"#,
                         extra: ["trained_by": "tests"])
    }

    static let dir = testFolder("hark-model-tests")

    @Test("save → load gives the same network, metadata and outputs")
    func roundTrip() throws {
        let model = try Self.sample()
        let path = Self.dir.appendingPathComponent("m.safetensors").path
        try model.save(path: path)
        let back = try ModelFile.load(path: path)
        #expect(back.tokens == model.tokens)
        #expect(back.features == model.features)
        #expect(back.extra == ["trained_by": "tests"])
        #expect(back.network.config == model.network.config)
        #expect(back.network.mean == model.network.mean && back.network.std == model.network.std)
        var rng = SeededGenerator(seed: 4)
        let frames: [Float] = randomValues(60 * 6, scale: 2, rng: &rng)
        #expect(back.network.forward(frames: frames) == model.network.forward(frames: frames))
        // Saving over an existing file replaces it; no temporary file is left behind.
        try model.save(path: path)
        // (Its own file's only: the suite's other tests save into the same folder at the same time.)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Self.dir.path).filter { $0.hasPrefix(".m.safetensors.partial") }
        #expect(leftovers.isEmpty)
    }

    @Test("a network written by PyTorch (safetensors.torch.save_file) loads and gives PyTorch's outputs")
    func pytorchExport() throws {
        let model = try ModelFile.load(path: Fixtures.url("pytorch_export.safetensors").path)
        let expected = try Fixtures.json("pytorch_export_expected.json")
        let frames = (expected["frames"] as! [Double]).map { Float($0) }
        let want = expected["logprobs"] as! [Double]
        let got = model.network.forward(frames: frames)
        #expect(got.count == want.count)
        #expect(maxRelativeError(got, want) < 1e-5)
        #expect(model.tokens == ["_", "a", "b", "c", " "])
    }

    /// Each damaged file gives its own error, naming the file and the field or tensor.
    @Test("corrupt, truncated, wrong-version and mismatched files give specific errors")
    func damagedFiles() throws {
        let good = try Self.sample().encode()
        let headerLength = Int(good.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = try JSONSerialization.jsonObject(with: good.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let body = good.subdata(in: (8 + headerLength)..<good.count)

        func file(_ header: [String: Any], body: Data) -> Data {
            let json = try! JSONSerialization.data(withJSONObject: header)
            var d = Data()
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { d.append(contentsOf: $0) }
            return d + json + body
        }
        func expectError(_ data: Data, _ what: String, _ match: (ModelError) -> Bool) {
            let path = Self.dir.appendingPathComponent("bad.safetensors").path
            FileManager.default.createFile(atPath: path, contents: data)
            do {
                _ = try ModelFile.load(path: path)
                Issue.record("\(what): loaded without error")
            } catch {
                #expect(match(error), "\(what): got \(error)")
                #expect("\(error)".contains(path), "\(what): message does not name the file: \(error)")
            }
        }
        var meta = header["__metadata__"] as! [String: String]

        expectError(Data([1, 2, 3]), "shorter than the length field") { if case .truncated = $0 { true } else { false } }
        expectError(good.prefix(good.count - 10), "truncated data") {
            if case let .truncated(_, detail) = $0 { detail.contains("output.bias") } else { false }
        }
        expectError(good.prefix(40), "truncated header") { if case .truncated = $0 { true } else { false } }
        var garbage = good
        garbage.replaceSubrange(8..<20, with: Data("not json at!".utf8))
        expectError(garbage, "corrupt header") { if case .corrupt = $0 { true } else { false } }
        expectError(Data(repeating: 0xff, count: 64), "huge header length") { if case .corrupt = $0 { true } else { false } }

        meta["format_version"] = "99"
        header["__metadata__"] = meta
        expectError(file(header, body: body), "wrong version") {
            if case let .unsupportedVersion(_, found, _) = $0 { found == "99" } else { false }
        }
        meta["format_version"] = "1"

        var h = header
        h["__metadata__"] = meta
        h["rnn.weight_hr_l1"] = nil
        expectError(file(h, body: body), "missing tensor") {
            if case let .missingTensor(_, name) = $0 { name == "rnn.weight_hr_l1" } else { false }
        }
        h = header
        h["__metadata__"] = meta
        h["rnn.extra"] = ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]
        expectError(file(h, body: body), "unexpected tensor") {
            if case let .unexpectedTensor(_, name) = $0 { name == "rnn.extra" } else { false }
        }
        h = header
        h["__metadata__"] = meta
        var entry = h["output.weight"] as! [String: Any]
        entry["shape"] = [4, 5]
        h["output.weight"] = entry
        expectError(file(h, body: body), "wrong shape") {
            if case let .wrongShape(_, name, expected, found) = $0 { name == "output.weight" && expected == [5, 4] && found == [4, 5] } else { false }
        }
        h = header
        h["__metadata__"] = meta
        entry = h["output.bias"] as! [String: Any]
        entry["dtype"] = "BF16"
        h["output.bias"] = entry
        expectError(file(h, body: body), "wrong dtype") {
            if case let .wrongDtype(_, name, found) = $0 { name == "output.bias" && found == "BF16" } else { false }
        }
        var m2 = meta
        m2["tokens"] = #"["a","b"]"#
        h = header
        h["__metadata__"] = m2
        expectError(file(h, body: body), "token count") {
            if case let .badMetadata(_, field, _) = $0 { field == "tokens" } else { false }
        }
        m2 = meta
        m2["architecture"] = #"{"inputSize": 6}"#
        h["__metadata__"] = m2
        expectError(file(h, body: body), "architecture") {
            if case let .badMetadata(_, field, reason) = $0 { field == "architecture" && reason.contains("stack") } else { false }
        }
        m2 = meta
        m2["format"] = nil
        h["__metadata__"] = m2
        expectError(file(h, body: body), "not a Hark model") {
            if case let .badMetadata(_, field, _) = $0 { field == "format" } else { false }
        }
        var nan = body
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { nan.replaceSubrange(8..<12, with: $0) }
        h = header
        h["__metadata__"] = meta
        expectError(file(h, body: nan), "NaN weight") {
            if case let .corrupt(_, detail) = $0 { detail.contains("nan") } else { false }
        }
        #expect { _ = try ModelFile.load(path: "/nonexistent/model.safetensors") } throws: {
            if case .unreadable = $0 as? ModelError { "\($0)".contains("/nonexistent/model.safetensors") } else { false }
        }
        #expect { try Self.sample().save(path: "/nonexistent-dir/m.safetensors") } throws: {
            if case .unwritable = $0 as? ModelError { true } else { false }
        }
    }

    @Test("save refuses what a rename would destroy, keeps a replaced file's permissions, and writes through links")
    func saveTargets() throws {
        let model = try Self.sample()
        // A folder of its own: the suite's other tests save into Self.dir at the same time, and their
        // files in progress are not this test's leftovers (under ASan the window was wide enough to see one).
        let dir = Self.dir.appendingPathComponent("save-targets")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for t in try refusedTargets(in: dir, prefix: "model") {
            #expect { try model.save(path: t.path) } throws: { "\($0)".contains(t.path) && "\($0)".contains(t.mentions) }
            #expect(t.unchanged, "\(t.kind) \(t.path) was changed")
        }
        let real = dir.appendingPathComponent("private.safetensors").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: real))
        chmod(real, 0o600)
        try model.save(path: real)
        #expect(permissions(real) == 0o600)
        let link = dir.appendingPathComponent("link.safetensors").path
        try? FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        try model.save(path: link)
        #expect(isSymbolicLink(link) && permissions(real) == 0o600)
        #expect(try ModelFile.load(path: real).tokens == model.tokens)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
