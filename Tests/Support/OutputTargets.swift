import Foundation
import Glibc

/// A name that a writer of output files must refuse (writing a temporary file and renaming it over
/// the name would destroy what is there), made fresh for one test, and how to tell that it is
/// untouched afterwards.
public struct RefusedTarget: Sendable {
    /// What it is, for messages: "FIFO", "device node", ...
    public let kind: String
    public let path: String
    /// A word the refusal's message must contain.
    public let mentions: String
    private let check: @Sendable () -> Bool

    /// Whether the name still holds what it held when it was made.
    public var unchanged: Bool { check() }

    init(_ kind: String, _ path: String, mentions: String, unchanged: @escaping @Sendable () -> Bool) {
        self.kind = kind
        self.path = path
        self.mentions = mentions
        self.check = unchanged
    }
}

private func fileType(_ path: String) -> mode_t? {
    var st = stat()
    return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
}

/// Every kind of name a writer must refuse, made in `folder` under names starting with `prefix`:
/// a device node (a copy of /dev/null's numbers, 1:3, made with mknod; only where the tests may
/// make one, that is as root), a FIFO, a Unix socket, a folder, a read-only file, a symbolic link
/// to nothing, and a file in a folder that does not exist.
public func refusedTargets(in folder: URL, prefix: String) throws -> [RefusedTarget] {
    func path(_ name: String) -> String {
        let p = folder.appendingPathComponent("\(prefix)-\(name)").path
        if fileType(p) != nil { _ = try? FileManager.default.removeItem(atPath: p) }
        return p
    }
    var targets: [RefusedTarget] = []

    let node = path("node")
    if mknod(node, S_IFCHR | 0o644, 0x103) == 0 {
        targets.append(RefusedTarget("device node", node, mentions: "device") { fileType(node) == S_IFCHR })
    }

    let fifo = path("fifo")
    guard mkfifo(fifo, 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    targets.append(RefusedTarget("FIFO", fifo, mentions: "FIFO") { fileType(fifo) == S_IFIFO })

    let socketPath = path("socket")
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(socketPath.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes + [0])
    }
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    close(fd)
    if bound == 0 {
        targets.append(RefusedTarget("socket", socketPath, mentions: "socket") { fileType(socketPath) == S_IFSOCK })
    }

    let dir = path("folder")
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
    targets.append(RefusedTarget("folder", dir, mentions: "folder") {
        fileType(dir) == S_IFDIR && (try? FileManager.default.contentsOfDirectory(atPath: dir))?.isEmpty == true
    })

    let readOnly = path("read-only")
    let original = Data("keep me\n".utf8)
    try original.write(to: URL(fileURLWithPath: readOnly))
    chmod(readOnly, 0o444)
    targets.append(RefusedTarget("read-only file", readOnly, mentions: "read-only") {
        var st = stat()
        return stat(readOnly, &st) == 0 && st.st_mode & 0o777 == 0o444 && FileManager.default.contents(atPath: readOnly) == original
    })

    let dangling = path("dangling")
    let nowhere = folder.appendingPathComponent("\(prefix)-nowhere").path
    try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: nowhere)
    targets.append(RefusedTarget("symbolic link to nothing", dangling, mentions: "symbolic link") {
        fileType(dangling) == S_IFLNK && fileType(nowhere) == nil
    })

    let orphan = folder.appendingPathComponent("\(prefix)-no-such-folder/out").path
    targets.append(RefusedTarget("file in a missing folder", orphan, mentions: "does not exist") { fileType(orphan) == nil })
    return targets
}

/// The permission bits of `path` (links followed).
public func permissions(_ path: String) -> mode_t {
    var st = stat()
    return stat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
}

/// Whether `path` itself is a symbolic link.
public func isSymbolicLink(_ path: String) -> Bool { fileType(path) == S_IFLNK }
