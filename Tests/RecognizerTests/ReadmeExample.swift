import Recognizer
import Stream
import Testing

/// The README's library example, compiled as written (the loop runs on a file instead of a microphone).
func readmeExample(_ makeSource: () throws -> AudioSource) async throws {
    func AlsaCapture(_ c: CaptureConfig) throws -> AudioSource { try makeSource() }
    
    let model = try RecognitionModel.shipped()
    let recognizer = try Recognizer(model: model, config: RecognizerConfig(keywords: [model.keyword("okay robot")]))
    for try await event in recognizer.events(from: try AlsaCapture(CaptureConfig(device: "default"))) {
        switch event {
        case let .final(t): print(t.text, t.words.map { "\($0.text)@\($0.start)" })
        case let .keyword(k): print("heard", k.keyword, k.score)
        default: break                        // partials, lost audio, stats
        }
    }
}

@Test("the README's library example runs as written (on the digits fixture instead of a microphone)")
func readmeExampleRuns() async throws {
    try await readmeExample { try AudioFileSource(path: RecognizerTests.repo.appendingPathComponent("Tests/HarkTests/Fixtures/digits.wav").path) }
}
