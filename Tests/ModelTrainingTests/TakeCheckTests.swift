import Foundation
import Testing
@testable import ModelTraining

@Suite("Enrollment take checks")
struct TakeCheckTests {
    /// `seconds` of a 300 Hz tone at `amplitude` between `before` and `after` seconds of faint noise.
    static func take(before: Double = 0.5, seconds: Double = 0.6, after: Double = 0.5, amplitude: Float = 0.3) -> [Float] {
        var seed: UInt64 = 1
        func noise() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return (Float(seed >> 40) / Float(1 << 24) - 0.5) * 2e-4
        }
        let quiet = { (s: Double) in (0..<Int(s * 16_000)).map { _ in noise() } }
        let tone = (0..<Int(seconds * 16_000)).map { amplitude * sinf(2 * .pi * 300 * Float($0) / 16_000) + noise() }
        return quiet(before) + tone + quiet(after)
    }

    @Test("a good take is trimmed to its speech with 150 ms on each side")
    func trims() {
        guard case let .good(speech) = TakeCheck.check(Self.take()) else { Issue.record("not kept"); return }
        let seconds = Double(speech.count) / 16_000
        #expect(abs(seconds - (0.6 + 0.3)) <= 0.03, "\(seconds) s")
    }

    @Test("clipped, silent, too quiet and too short takes are refused, each saying why")
    func refusals() {
        func reason(_ audio: [Float]) -> String { if case let .bad(r) = TakeCheck.check(audio) { r } else { "kept" } }
        #expect(reason(Self.take(amplitude: 1)).contains("clipped"))
        #expect(reason([Float](repeating: 0, count: 32_000)).contains("no speech"))
        #expect(reason(Self.take(amplitude: 0.005)).contains("too quiet"))
        #expect(reason(Self.take(seconds: 0.1)).contains("too short"))
        #expect(reason([0.1, 0.2]) == "no audio")
    }

    @Test("a take's category: digits when every word is one, else keyword or commands")
    func categories() {
        #expect(TakeCheck.category(of: "four two oh", keyword: false) == "digits")
        #expect(TakeCheck.category(of: "okay robot", keyword: true) == "keyword")
        #expect(TakeCheck.category(of: "lights on", keyword: false) == "commands")
    }
}
