import Foundation

/// A folder for this test process's files, named `<name>-<pid>`, created now and removed when the
/// process exits (it is per process, so nothing else uses it).
public func testFolder(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    TestFolders.register(dir.path)
    return dir
}

private enum TestFolders {
    nonisolated(unsafe) static var paths: [String] = []
    static let lock = NSLock()

    static func register(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        if paths.isEmpty {
            atexit {
                for p in TestFolders.paths { try? FileManager.default.removeItem(atPath: p) }
            }
        }
        paths.append(path)
    }
}
