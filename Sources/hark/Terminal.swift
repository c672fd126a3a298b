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
///
/// A real handler, not a dispatch signal source: on Linux a dispatch source reads the signal
/// from a signalfd, which sees it only if every thread blocks it, and threads that libraries
/// start (espeak-ng's, the PulseAudio plugin's) do not. Such a thread took SIGINT, SIG_IGN
/// discarded it, and `listen` ran on. A handler runs on whichever thread takes the signal.
final class StopSignals: @unchecked Sendable {
    private final class Flag: Sendable { let value = Atomic<Bool>(false) }
    private let signalled = Flag()
    private var id = 0

    /// Whether SIGINT or SIGTERM has arrived (set on the signal thread, read by the command's loop).
    var received: Bool { signalled.value.load(ordering: .acquiring) }

    /// Stops `source` on the first signal.
    convenience init(stopping source: AudioSource) {
        let box = UncheckedSendable(source)
        self.init { box.value.requestStop() }
    }

    /// `onStop` runs on Hark's signal thread, once per signal, while this object lives.
    init(onStop: @escaping @Sendable () -> Void) {
        id = SignalForwarding.shared.add { [signalled] in
            signalled.value.store(true, ordering: .releasing)
            onStop()
        }
    }

    deinit { SignalForwarding.shared.remove(id) }

    /// Unblocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts; call
    /// it first in `main`. A process inherits its parent's signal mask, and a parent that starts
    /// Hark from a thread-pool thread (libdispatch's threads block nearly every signal; Swift's
    /// test runner and Foundation's `Process` are such parents) hands over both signals blocked:
    /// they would stay pending, and neither Ctrl-C nor a service manager's stop would reach Hark.
    static func unblockInEveryThread() {
        var set = sigset_t()
        sigemptyset(&set)
        for sig in SignalForwarding.signals { sigaddset(&set, sig) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

/// The write end of the pipe that the signal handler writes each signal into; set once, before
/// the handler is installed, and only read afterwards (the handler may read nothing else).
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

/// The process's SIGINT and SIGTERM handling while any `StopSignals` lives: the handler writes
/// the signal's number into a pipe (the only async-signal-safe thing it does), and a thread
/// reads the pipe and calls every registered action. With none registered, the signals get back
/// the disposition the process started with (the default, or SIG_IGN in a shell's background job).
private final class SignalForwarding: Sendable {
    static let shared = SignalForwarding()
    static let signals = [SIGINT, SIGTERM]
    private struct State {
        var next = 1
        var byID: [Int: @Sendable () -> Void] = [:]
        /// The dispositions replaced by the handler, restored when the last action is removed.
        var replaced: [sigaction] = []
    }
    private let actions = Mutex(State())

    private init() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { fatalError("hark: cannot make the signal pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }          // not inherited by --exec's commands
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)   // a full pipe drops a signal, never blocks the handler
        signalPipeWriteEnd = fds[1]
        let readEnd = fds[0]
        let thread = Thread { [self] in
            var byte: UInt8 = 0
            while true {
                let n = read(readEnd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                for action in actions.withLock({ $0.byID.sorted { $0.key < $1.key }.map(\.value) }) { action() }
            }
        }
        thread.start()
    }

    func add(_ action: @escaping @Sendable () -> Void) -> Int {
        actions.withLock { state in
            let id = state.next
            state.next += 1
            if state.byID.isEmpty {
                var action = sigaction()
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART          // the interrupted thread's system call goes on
                action.__sigaction_handler.sa_handler = forwardSignal
                state.replaced = Self.signals.map { sig in
                    var old = sigaction()
                    sigaction(sig, &action, &old)
                    return old
                }
            }
            state.byID[id] = action
            return id
        }
    }

    func remove(_ id: Int) {
        actions.withLock { state in
            guard state.byID.removeValue(forKey: id) != nil, state.byID.isEmpty else { return }
            for (sig, var old) in zip(Self.signals, state.replaced) { sigaction(sig, &old, nil) }
        }
    }
}

/// The signal handler: one byte into the pipe, errno kept.
private func forwardSignal(_ sig: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: sig)
    _ = write(signalPipeWriteEnd, &byte, 1)
    errno = saved
}

