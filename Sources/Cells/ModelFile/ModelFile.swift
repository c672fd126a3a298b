import Foundation

/// A Hark model on disk: a safetensors file (https://github.com/huggingface/safetensors) whose
/// tensors are the network's parameters under PyTorch state-dict names and whose `__metadata__`
/// (string → string, as the format requires) holds:
///
/// | key | value |
/// |---|---|
/// | `format` | `"hark"` |
/// | `format_version` | `"1"` |
/// | `architecture` | JSON of `NetworkConfig` (`inputSize`, `stack`, `stride`, `layers`, `outputSize`) |
/// | `normalization` | JSON `{"mean": [...], "std": [...]}`, one pair per input band |
/// | `tokens` | JSON array of the output classes' strings (index 0 is CTC's blank) |
/// | `features` | JSON of the front end's settings (`LogMelConfig`), opaque to Cells |
///
/// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the tensors'
/// little-endian bytes at the header's `data_offsets`. Hark writes F32.
public struct ModelFile: Sendable {
    public static let formatName = "hark"
    public static let version = "1"

    public var network: Network<Float>
    public var tokens: [String]
    /// The front end's settings as JSON; the recognizer decodes it.
    public var features: String?
    /// Any other metadata (training provenance), kept through load and save.
    public var extra: [String: String]
    /// Tensors beside the network's, each shaped like the network tensor it is named after:
    /// a training checkpoint keeps the optimizer's moments here as `optimizer.first.<name>` and
    /// `optimizer.second.<name>`. Empty in a model file.
    public var auxiliary: [String: [Float]]

    public static let auxiliaryPrefixes = ["optimizer.first.", "optimizer.second."]

    public init(network: Network<Float>, tokens: [String], features: String? = nil, extra: [String: String] = [:],
                auxiliary: [String: [Float]] = [:]) {
        self.network = network
        self.tokens = tokens
        self.features = features
        self.extra = extra
        self.auxiliary = auxiliary
    }

    // MARK: Loading

    /// Reads and checks a model file. Every failure names the file and the field or tensor at fault.
    public static func load(path: String) throws(ModelError) -> ModelFile {
        let data: Data
        var st = stat()
        guard stat(path, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw .unreadable(path: path, reason: "is a folder, not a model file") }
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw .unreadable(path: path, reason: Self.reason(error))
        }
        return try decode(data, path: path)
    }

    public static func decode(_ data: Data, path: String) throws(ModelError) -> ModelFile {
        guard data.count >= 8 else {
            throw .truncated(path: path, detail: "\(data.count) bytes, less than the 8-byte header length")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= 100_000_000 else {
            throw .corrupt(path: path, detail: "header length \(headerLength) is implausible (not a safetensors file?)")
        }
        guard UInt64(data.count) - 8 >= headerLength else {
            throw .truncated(path: path, detail: "header needs \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerLength)))
        guard let header = (try? JSONSerialization.jsonObject(with: headerBytes)) as? [String: Any] else {
            throw .corrupt(path: path, detail: "header is not a JSON object")
        }
        let body = data.subdata(in: (data.startIndex + 8 + Int(headerLength))..<data.endIndex)

        // Metadata.
        guard let meta = header["__metadata__"] as? [String: String] else {
            throw .badMetadata(path: path, field: "__metadata__", reason: "is missing or not a map of strings")
        }
        guard meta["format"] == formatName else {
            throw .badMetadata(path: path, field: "format", reason: "is \(meta["format"].map { "'\($0)'" } ?? "missing"), expected '\(formatName)'")
        }
        guard let version = meta["format_version"] else {
            throw .badMetadata(path: path, field: "format_version", reason: "is missing")
        }
        guard version == Self.version else {
            throw .unsupportedVersion(path: path, found: version, supported: Self.version)
        }
        let config: NetworkConfig = try decodeField(meta, "architecture", path: path)
        do { try config.validate() } catch {
            throw .badMetadata(path: path, field: "architecture", reason: "is invalid: \(error)")
        }
        let norm: Normalization = try decodeField(meta, "normalization", path: path)
        guard norm.mean.count == config.inputSize, norm.std.count == config.inputSize else {
            throw .badMetadata(path: path, field: "normalization",
                               reason: "has \(norm.mean.count) means and \(norm.std.count) deviations; the architecture has \(config.inputSize) inputs")
        }
        guard norm.std.allSatisfy({ $0 > 0 && $0.isFinite }), norm.mean.allSatisfy(\.isFinite) else {
            throw .badMetadata(path: path, field: "normalization", reason: "needs finite means and positive deviations")
        }
        let tokens: [String] = try decodeField(meta, "tokens", path: path)
        if config.outputSize > 0 && tokens.count != config.outputSize {
            throw .badMetadata(path: path, field: "tokens", reason: "lists \(tokens.count) tokens; the network has \(config.outputSize) outputs")
        }

        // Tensors.
        let store = ParameterStore<Float>(tensors: config.tensors)
        let expected = Set(store.specs.map(\.name))
        var ranges: [(Int, Int, String)] = []
        var auxiliary: [String: [Float]] = [:]
        for name in header.keys.sorted() where name != "__metadata__" && !expected.contains(name) {
            guard let prefix = auxiliaryPrefixes.first(where: { name.hasPrefix($0) }),
                  let spec = store.spec(String(name.dropFirst(prefix.count))) else {
                throw .unexpectedTensor(path: path, name: name)
            }
            let t = try readTensor(header, name: name, shape: spec.shape, body: body, path: path)
            auxiliary[name] = t.values
            ranges.append((t.range.lowerBound, t.range.upperBound, name))
        }
        for spec in store.specs {
            let t = try readTensor(header, name: spec.name, shape: spec.shape, body: body, path: path)
            store.set(spec.name, t.values)
            ranges.append((t.range.lowerBound, t.range.upperBound, spec.name))
        }
        ranges.sort { $0.0 < $1.0 }
        for (a, b) in zip(ranges, ranges.dropFirst()) where b.0 < a.1 {
            throw .corrupt(path: path, detail: "tensors '\(a.2)' and '\(b.2)' overlap")
        }
        let network: Network<Float>
        do { network = try Network(config: config, parameters: store, mean: norm.mean, std: norm.std) } catch {
            throw .badMetadata(path: path, field: "architecture", reason: "\(error)")
        }
        var extra = meta
        for k in ["format", "format_version", "architecture", "normalization", "tokens", "features"] { extra[k] = nil }
        return ModelFile(network: network, tokens: tokens, features: meta["features"], extra: extra, auxiliary: auxiliary)
    }

    /// One F32 tensor's values and byte range, after checking its dtype, shape and place in the data.
    private static func readTensor(_ header: [String: Any], name: String, shape expected: [Int], body: Data,
                                   path: String) throws(ModelError) -> (values: [Float], range: Range<Int>) {
        guard let entry = header[name] as? [String: Any] else { throw .missingTensor(path: path, name: name) }
        let dtype = entry["dtype"] as? String ?? "?"
        guard dtype == "F32" else { throw .wrongDtype(path: path, name: name, found: dtype) }
        let shape = (entry["shape"] as? [Int]) ?? []
        guard shape == expected else { throw .wrongShape(path: path, name: name, expected: expected, found: shape) }
        let count = expected.reduce(1, *)
        guard let offsets = entry["data_offsets"] as? [Int], offsets.count == 2, offsets[0] >= 0,
              offsets[1] - offsets[0] == count * 4 else {
            throw .corrupt(path: path, detail: "tensor '\(name)' has bad data_offsets")
        }
        guard offsets[1] <= body.count else {
            throw .truncated(path: path, detail: "tensor '\(name)' ends at byte \(offsets[1]) of the data, which has \(body.count)")
        }
        let values = body.withUnsafeBytes { raw in
            (0..<count).map { i in
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offsets[0] + 4 * i, as: UInt32.self)))
            }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .corrupt(path: path, detail: "tensor '\(name)' holds \(values[bad]) at index \(bad)")
        }
        return (values, offsets[0]..<offsets[1])
    }

    private struct Normalization: Codable {
        var mean: [Float]
        var std: [Float]
    }

    private static func decodeField<V: Decodable>(_ meta: [String: String], _ field: String, path: String) throws(ModelError) -> V {
        guard let text = meta[field] else { throw .badMetadata(path: path, field: field, reason: "is missing") }
        do { return try JSONDecoder().decode(V.self, from: Data(text.utf8)) } catch {
            throw .badMetadata(path: path, field: field, reason: "is not valid: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: "missing key '\(key.stringValue)'"
        case let .typeMismatch(_, c)?, let .valueNotFound(_, c)?: "wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        case let .dataCorrupted(c)?: c.debugDescription
        default: "\(error)"
        }
    }

    // MARK: Saving

    /// The file's bytes.
    public func encode() -> Data {
        var meta = extra
        meta["format"] = Self.formatName
        meta["format_version"] = Self.version
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        meta["architecture"] = String(decoding: try! encoder.encode(network.config), as: UTF8.self)
        meta["normalization"] = String(decoding: try! encoder.encode(Normalization(mean: network.mean, std: network.std)), as: UTF8.self)
        meta["tokens"] = String(decoding: try! encoder.encode(tokens), as: UTF8.self)
        if let features { meta["features"] = features }

        var header: [String: Any] = ["__metadata__": meta]
        let store = network.parameters
        for spec in store.specs {
            header[spec.name] = ["dtype": "F32", "shape": spec.shape, "data_offsets": [spec.offset * 4, (spec.offset + spec.count) * 4]]
        }
        var offset = store.count * 4
        let extraNames = auxiliary.keys.sorted()
        for name in extraNames {
            let base = Self.auxiliaryPrefixes.reduce(name) { $0.hasPrefix($1) ? String($0.dropFirst($1.count)) : $0 }
            let shape = store.spec(base)?.shape ?? [auxiliary[name]!.count]
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + auxiliary[name]!.count * 4]]
            offset += auxiliary[name]!.count * 4
        }
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }       // pad so the data is 8-byte aligned
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for i in 0..<store.count { withUnsafeBytes(of: store.values[i].bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        for name in extraNames {
            for v in auxiliary[name]! { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        }
        return out
    }

    /// Writes atomically: to a temporary file beside `path`, then renamed into place, so a
    /// failure (full disk, say) never leaves a half-written model under the name. Only a name a
    /// rename may replace is written, by the rules of Stream's `OutputFile` (Cells does not depend
    /// on Stream, so they are restated in `replacementTarget`): a new file, or a regular writable
    /// file, whose permissions are kept; through a symbolic link, the file it points to.
    public func save(path: String) throws(ModelError) {
        let (target, mode) = try Self.replacementTarget(path)
        let url = URL(fileURLWithPath: target)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        do {
            try encode().write(to: temporary)
            if let mode, chmod(temporary.path, mode) != 0 {
                throw ModelError.unwritable(path: path, reason: "cannot keep its permissions (\(String(cString: strerror(errno))))")
            }
            guard rename(temporary.path, target) == 0 else {
                throw ModelError.unwritable(path: path, reason: String(cString: strerror(errno)))
            }
        } catch let error as ModelError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .unwritable(path: path, reason: Self.reason(error))
        }
    }

    /// A Foundation file error as the system's own words (strerror), not "NSCocoaErrorDomain error 256".
    static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return ns.localizedFailureReason ?? "\(error)"
    }

    /// Where `save(path:)` may write: `path` with links resolved, and the permission bits of the
    /// file it replaces (nil for a new file). A folder, device, FIFO, socket, read-only file or
    /// dangling link is refused.
    static func replacementTarget(_ path: String) throws(ModelError) -> (path: String, mode: mode_t?) {
        func refuse(_ reason: String) -> ModelError { .unwritable(path: path, reason: reason) }
        var st = stat()
        var target = path
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
            guard let real = realpath(path, nil) else { throw refuse("is a symbolic link to a file that does not exist") }
            target = String(cString: real)
            free(real)
        }
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
        guard stat(target, &st) == 0 else {
            guard errno == ENOENT else { throw refuse(String(cString: strerror(errno))) }
            var dir = stat()
            guard stat(folder, &dir) == 0, (dir.st_mode & S_IFMT) == S_IFDIR else { throw refuse("its folder \(folder) does not exist") }
            return (target, nil)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw refuse("is a folder; give a file name")
        default: throw refuse("is not a regular file (a device, FIFO or socket); Hark writes only regular files")
        }
        guard st.st_mode & 0o222 != 0, access(target, W_OK) == 0 else {
            throw refuse("is read-only; make it writable (chmod u+w) or give another name")
        }
        return (target, st.st_mode & 0o7777)
    }
}
