import Foundation
import Recognizer
import Stream

/// Says on stderr when the audio had gaps: the first one at once (where and how much, with what
/// to do about it), and all of them when the command ends. Recognition goes on across a gap with
/// true times; the user should still know that words there were never heard.
final class LossReport: @unchecked Sendable {
    private let command: String
    private let source: String?
    /// Written on the recognizer's thread, read after it finished (`Recognizer.wait` orders them).
    private var gaps = 0
    private var lostSeconds = 0.0

    /// `source` names the input in the lines when a command reads several.
    init(command: String, source: String? = nil) {
        self.command = command
        self.source = source
    }

    private var prefix: String { "hark \(command): " + (source.map { "\($0): " } ?? "") }

    /// An `.audioLost` event; only the first one is reported at once (called on the recognizer's thread).
    func note(_ loss: AudioLoss) {
        gaps += 1
        lostSeconds += loss.seconds
        guard gaps == 1 else { return }
        Terminal.note(prefix + "lost \(Self.seconds(loss.seconds)) of audio at \(Self.seconds(loss.start)) into the stream "
                      + "(\(loss.samples) samples: recognition fell behind the device, or the device overran). "
                      + "Words there were not heard; times after it stay true. "
                      + "A device fed from a file needs --wait-for-reader.")
    }

    /// The total, when anything was lost.
    func summarize(_ stats: RecognizerStats) {
        guard gaps > 0 else { return }
        let lost = lostSeconds, heard = stats.audioSeconds
        let share = 100 * lost / max(lost + heard, 1e-9)
        Terminal.note(prefix + "\(Self.seconds(lost)) of audio lost in \(gaps) gap\(gaps == 1 ? "" : "s") "
                      + "(\(String(format: "%.0f", share))% of \(Self.seconds(lost + heard)))"
                      + (stats.overruns > 0 ? ", \(stats.overruns) device overrun\(stats.overruns == 1 ? "" : "s")" : ""))
    }

    static func seconds(_ s: Double) -> String { String(format: "%.2f s", s) }
}
