import Foundation

/// A progress line on stderr for long work on a terminal, rewritten in place:
/// `hark transcribe: talk.wav  42%  8:24 of 20:00  35× real time  0:14 left`.
///
/// Shown only to a person (stderr is a terminal) and only for work long enough to wait for; a
/// pipe or a log file never gets the carriage returns.
struct ProgressLine {
    /// Audio shorter than this is transcribed before anyone would wonder.
    static let minimumSeconds: Double = 60

    /// The one decision: a terminal on stderr, and a known length over `minimumSeconds`.
    static func wanted(stderrIsTerminal: Bool, totalSeconds: Double?) -> Bool {
        guard stderrIsTerminal, let totalSeconds else { return false }
        return totalSeconds > minimumSeconds
    }

    let label: String
    let totalSeconds: Double
    /// Seconds of wall-clock time between redraws.
    var interval: Double = 0.25
    private let started: Double
    private var lastDrawn = -Double.infinity

    init(label: String, totalSeconds: Double, now: Double) {
        self.label = label
        self.totalSeconds = totalSeconds
        started = now
    }

    /// The line to draw after `doneSeconds` of audio, or nil when the last one is recent enough.
    mutating func update(doneSeconds: Double, now: Double) -> String? {
        guard now - lastDrawn >= interval else { return nil }
        lastDrawn = now
        return "\r" + text(doneSeconds: doneSeconds, elapsed: now - started) + "\u{1B}[K"
    }

    /// Erases the line, so that what follows starts on a clean one.
    var clear: String { "\r\u{1B}[K" }

    /// The line's words, without the terminal controls.
    func text(doneSeconds: Double, elapsed: Double) -> String {
        let done = min(max(doneSeconds, 0), totalSeconds)
        let percent = Int((100 * done / totalSeconds).rounded(.down))
        var parts = ["\(label)  \(percent)%", "\(Self.clock(done)) of \(Self.clock(totalSeconds))"]
        if elapsed > 0.5 && done > 0 {
            let speed = done / elapsed
            parts.append("\(speed >= 10 ? String(Int(speed.rounded())) : String(format: "%.1f", speed))× real time")
            parts.append("\(Self.clock((totalSeconds - done) / speed)) left")
        }
        return parts.joined(separator: "  ")
    }

    /// m:ss, or h:mm:ss from an hour.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, r) : String(format: "%d:%02d", m, r)
    }
}
