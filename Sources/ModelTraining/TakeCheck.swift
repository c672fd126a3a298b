import Foundation

/// Whether an enrollment take (`hark enroll`) is fit to adapt a model on: trims the silence around
/// the speech and rejects takes that clipped, hold no speech, are too quiet or too short. Works on
/// 16 kHz mono samples in 10 ms frames.
public enum TakeCheck: Equatable, Sendable {
    /// The take's speech, with 150 ms kept on each side.
    case good([Float])
    /// Why it is not kept, in words for the person recording.
    case bad(String)

    /// Trims silence (10 ms frames more than 15 dB above the take's noise floor, with 150 ms kept
    /// on each side) and rejects clipped, silent or too quiet takes.
    public static func check(_ audio: [Float]) -> TakeCheck {
        let frame = 160
        let energies = stride(from: 0, to: audio.count - frame + 1, by: frame).map { start -> Float in
            var e: Float = 0
            for i in start..<(start + frame) { e += audio[i] * audio[i] }
            return 10 * log10(e / Float(frame) + 1e-12)
        }
        guard !energies.isEmpty else { return .bad("no audio") }
        let peak = audio.map(abs).max() ?? 0
        if peak >= 0.999 { return .bad("it clipped (peak at full scale): speak softer or move back") }
        let floor = energies.sorted()[energies.count / 5]
        let gate = max(floor + 15, -55)
        guard let first = energies.firstIndex(where: { $0 > gate }), let last = energies.lastIndex(where: { $0 > gate }) else {
            return .bad("no speech heard")
        }
        let loudest = energies.max() ?? -120
        if loudest < -40 { return .bad(String(format: "too quiet (loudest 10 ms at %.0f dBFS): speak up or move closer", loudest)) }
        if last - first < 15 { return .bad("too short to be the phrase") }
        let start = max(0, (first - 15) * frame), end = min(audio.count, (last + 16) * frame)
        return .good(Array(audio[start..<end]))
    }

    static let digitWords: Set<String> = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "oh"]

    /// The manifest category of a take's text: "digits" when every word is a digit, else
    /// "keyword" for a keyword's takes and "commands" for phrases.
    public static func category(of text: String, keyword: Bool) -> String {
        text.split(separator: " ").allSatisfy { digitWords.contains(String($0)) } ? "digits" : (keyword ? "keyword" : "commands")
    }
}
