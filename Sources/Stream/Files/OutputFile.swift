import Glibc

/// Where a file Hark writes ends up, decided before any work is done.
///
/// Hark writes every output (a recording, a model, a take) to a temporary file beside the target
/// and renames it into place, so a failure never leaves a half-written file under the name. A
/// rename replaces whatever the name held, so only names a rename may replace are accepted:
///
/// | the name is | Hark |
/// |---|---|
/// | new, in an existing folder | creates the file (mode from the umask) |
/// | a regular file Hark may write | replaces it, keeping its permissions (and owner, as root) |
/// | a symbolic link to a regular file | replaces the file the link points to; the link stays |
/// | a folder, a device, a FIFO, a socket | refuses: a rename would put a file in its place |
/// | a read-only file (no write bit), a dangling link | refuses |
///
/// `check` is the one test; every command that writes a file calls it before it starts (so a
/// recording or a training run is not lost at the end), and the writers call it again just
/// before the rename.
public struct OutputFile: Equatable, Sendable {
    /// The name as given, for messages.
    public let path: String
    /// Where the file really goes: `path` with symbolic links resolved.
    public let resolvedPath: String
    /// The permission bits, owner and group of the file being replaced; nil for a new file.
    public let existing: Existing?

    public struct Existing: Equatable, Sendable {
        public let mode: UInt32
        public let owner: UInt32
        public let group: UInt32
    }

    /// Checks that `path` names a file Hark may write (see the table above); throws a
    /// `OutputFileError` saying why not.
    public static func check(_ path: String) throws(OutputFileError) -> OutputFile {
        func refuse(_ reason: String) -> OutputFileError { OutputFileError(path: path, reason: reason) }
        guard !path.isEmpty else { throw refuse("is an empty name") }
        var st = stat()
        var resolved = path
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
            guard let real = realpath(path, nil) else {
                throw refuse("is a symbolic link to a file that does not exist (\(String(cString: strerror(errno))))")
            }
            resolved = String(cString: real)
            free(real)
        }
        guard stat(resolved, &st) == 0 else {
            guard errno == ENOENT else { throw refuse(String(cString: strerror(errno))) }
            try checkFolder(of: resolved, path: path)
            return OutputFile(path: path, resolvedPath: resolved, existing: nil)
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw refuse("is a folder; give a file name")
        case S_IFCHR, S_IFBLK: throw refuse("is a device, not a regular file; Hark writes only regular files")
        case S_IFIFO: throw refuse("is a FIFO, not a regular file; Hark writes only regular files")
        case S_IFSOCK: throw refuse("is a socket, not a regular file; Hark writes only regular files")
        default: throw refuse("is not a regular file; Hark writes only regular files")
        }
        // Root may write anything, so the write bits are the file's own say.
        guard st.st_mode & 0o222 != 0, access(resolved, W_OK) == 0 else {
            throw refuse("is read-only; make it writable (chmod u+w) or give another name")
        }
        try checkFolder(of: resolved, path: path)
        return OutputFile(path: path, resolvedPath: resolved,
                          existing: Existing(mode: st.st_mode & 0o7777, owner: st.st_uid, group: st.st_gid))
    }

    /// The temporary file's name beside the target: hidden, and unique to this process.
    public var temporaryPath: String {
        let slash = resolvedPath.lastIndex(of: "/")
        let folder = slash.map { String(resolvedPath[...$0]) } ?? ""
        let name = slash.map { String(resolvedPath[resolvedPath.index(after: $0)...]) } ?? resolvedPath
        return folder + ".\(name).partial-\(getpid())"
    }

    /// Moves the finished `temporary` into place with the replaced file's permissions. The target
    /// is checked again first (it may have changed while the file was written); on failure the
    /// temporary file is removed.
    public func replace(with temporary: String) throws(OutputFileError) {
        do throws(OutputFileError) {
            let now = try OutputFile.check(path)
            if let old = now.existing {
                if geteuid() == 0 { _ = chown(temporary, old.owner, old.group) }   // best effort, as root only
                guard chmod(temporary, mode_t(old.mode)) == 0 else {
                    throw OutputFileError(path: path, reason: "cannot keep its permissions (\(String(cString: strerror(errno))))")
                }
            }
            guard rename(temporary, now.resolvedPath) == 0 else {
                throw OutputFileError(path: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` to the temporary file and moves it into place (`replace(with:)`).
    public func write(_ bytes: [UInt8]) throws(OutputFileError) {
        let temporary = temporaryPath
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw OutputFileError(path: path, reason: String(cString: strerror(errno))) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw OutputFileError(path: path, reason: reason)
            }
            offset += n
        }
        guard fsync(fd) == 0 || errno == EINVAL, close(fd) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw OutputFileError(path: path, reason: reason)
        }
        try replace(with: temporary)
    }

    private static func checkFolder(of resolved: String, path: String) throws(OutputFileError) {
        let slash = resolved.lastIndex(of: "/")
        let folder = slash.map { $0 == resolved.startIndex ? "/" : String(resolved[..<$0]) } ?? "."
        var st = stat()
        guard stat(folder, &st) == 0 else {
            throw OutputFileError(path: path, reason: "its folder \(folder) does not exist")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw OutputFileError(path: path, reason: "\(folder) is not a folder") }
        guard access(folder, W_OK | X_OK) == 0 else {
            throw OutputFileError(path: path, reason: "its folder \(folder) is not writable (the file is written beside its name, then renamed)")
        }
    }
}

/// A name Hark will not write to, and why.
public struct OutputFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "cannot write '\(path)': \(reason)" }
}
