import Glibc

/// Raw 16 kHz signed 16-bit little-endian mono PCM from a file descriptor (stdin for `-`).
public final class RawPCMSource: AudioSource {
    public let name: String
    public let sampleRate: Int
    public private(set) var position: Int64 = 0
    public var losses: CaptureLosses { CaptureLosses() }
    private let fd: Int32
    private var bytes: [UInt8]
    private var carry: UInt8? = nil      // odd byte left from the previous read
    private var ended = false
    private let stop = StopFlag()
    /// How long a read waits for input before it looks at `requestStop` again.
    static let pollMilliseconds: Int32 = 50

    public init(fileDescriptor: Int32 = STDIN_FILENO, name: String = "stdin", sampleRate: Int = AudioDefaults.sampleRate,
                blockSamples: Int = 4096) {
        fd = fileDescriptor
        self.name = name
        self.sampleRate = sampleRate
        bytes = [UInt8](repeating: 0, count: blockSamples * 2)
    }

    public func read(into buffer: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard !ended, buffer.count > 0 else { return 0 }
        while true {
            if stop.isSet { ended = true; return 0 }
            // Wait for input a little at a time, so that a stop request ends an idle pipe too.
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Self.pollMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw AudioError.unreadableFile(path: name, message: String(cString: strerror(errno)))
            }
            if ready == 0 { continue }
            let hadCarry = carry != nil
            let room = min(bytes.count, buffer.count * 2) - (hadCarry ? 1 : 0)
            let got = bytes.withUnsafeMutableBytes { raw -> Int in
                if let c = carry { raw[0] = c }
                return Glibc.read(fd, raw.baseAddress! + (hadCarry ? 1 : 0), room)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw AudioError.unreadableFile(path: name, message: String(cString: strerror(errno)))
            }
            if got == 0 { ended = true; return 0 }
            let total = got + (hadCarry ? 1 : 0)
            let n = total / 2
            carry = total % 2 == 1 ? bytes[total - 1] : nil
            if n == 0 { continue }
            for i in 0..<n {
                let v = Int16(bitPattern: UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8)
                buffer[i] = Float(v) * (1 / 32768)
            }
            position += Int64(n)
            return n
        }
    }

    /// Ends the stream at the next read, also one waiting for input.
    public func requestStop() { stop.set() }
}
