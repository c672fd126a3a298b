import HarkSupport
import Dispatch
import Foundation
import Glibc
import Stream
import Synchronization

/// Terminal and process plumbing shared by the commands.
enum Terminal {
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes a diagnostic line to stderr.
    static func note(_ text: String) { write(stderrLine: text + "\n") }

    /// Writes text to stderr as it is (no newline added), unbuffered.
    static func write(stderrLine text: String) { write(text, to: STDERR_FILENO) }

    /// Writes a result line to stdout at once (unbuffered, so pipes see events as they happen).
    /// Returns false when stdout is gone (closed pipe, full disk).
    @discardableResult
    static func emit(_ line: String) -> Bool { write(line + "\n", to: STDOUT_FILENO) }

    @discardableResult
    static func write(stdout text: String) -> Bool { write(text, to: STDOUT_FILENO) }

    @discardableResult
    private static func write(_ text: String, to fd: Int32) -> Bool {
        var t = text
        return t.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
    }

    /// A one-line level meter for stderr: `▕████▁▁▁▏ -23 dBFS`.
    static func meter(rms: Float, peak: Float, width: Int = 30) -> String {
        let db = 20 * log10(max(rms, 1e-6))
        let filled = Int(((db + 60) / 60 * Float(width)).rounded()).clamped(to: 0...width)
        let bar = String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled)
        let clip = peak >= 0.999 ? " CLIP" : ""
        return "▕\(bar)▏ " + String(format: "%.1f", db) + " dBFS\(clip)"
    }
}

extension Comparable {
    func clamped(to range: ClosedRange<Self>) -> Self { min(max(self, range.lowerBound), range.upperBound) }
}

/// SIGINT and SIGTERM end the current command cleanly: the source is asked to stop, the loop
/// drains what was captured, and the command finishes its output (file, last line) normally.
final class StopSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let signalled = Atomic<Bool>(false)

    /// Whether SIGINT or SIGTERM has arrived (set on the signal queue, read by the command's loop).
    var received: Bool { signalled.load(ordering: .acquiring) }

    /// Stops `source` on the first signal.
    convenience init(stopping source: AudioSource) {
        let box = UncheckedSendable(source)
        self.init { box.value.requestStop() }
    }

    init(onStop: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [unowned self] in
                self.signalled.store(true, ordering: .releasing)
                onStop()
            }
            s.resume()
            sources.append(s)
        }
    }
}

