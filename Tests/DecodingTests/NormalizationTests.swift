import Foundation
import Testing
@testable import Decoding

/// Swift's normalization and the Python scripts' (scripts/textnorm.py) must agree: the scripts make
/// the transcripts and keyword lists that Swift encodes. Both test the same fixture of tricky strings.
@Suite("Text normalization")
struct NormalizationTests {
    struct Case: Decodable { var input: String; var expected: String }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/normalization.json")

    @Test("TokenSet.normalize gives the fixture's answers (the ones scripts/textnorm.py gives)")
    func fixtureCases() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.fixture))
        #expect(cases.count >= 30)
        for c in cases {
            let got = TokenSet.normalize(c.input)
            #expect(got == c.expected, "\(c.input.unicodeScalars.map { String($0.value, radix: 16) }): got \(got.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }
}
