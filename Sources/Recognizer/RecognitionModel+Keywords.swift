import Cells
import Decoding
import Foundation
import Stream

extension RecognitionModel {
    /// Writes a copy of this model's file to `out` with `keywords` as its tuned keywords, in place
    /// of any tuned before for the same text: each threshold and scoring goes where `init(path:)`
    /// reads them (`keyword_thresholds`, `keyword_scoring`) and `keyword(_:)` finds them. The
    /// network, tokens, front end and every other metadata field are kept.
    public func savingTunedKeywords(_ keywords: [Keyword], to out: String) throws {
        var thresholds = keywordThresholds, scoring = keywordScoring
        for k in keywords {
            thresholds[k.text] = k.threshold
            scoring[k.text] = k.scoring
        }
        let file = try ModelFile.load(path: path)
        try ModelFile(network: file.network, tokens: file.tokens, features: file.features,
                      extra: file.extra.merging(["keyword_thresholds": try Self.json(thresholds),
                                                 "keyword_scoring": try Self.json(scoring.mapValues(\.rawValue))]) { $1 })
            .save(path: out)
    }

    /// Writes this model to `out` with the front end's level normalization set to `range` (nil: off);
    /// the network and everything else in the file are kept.
    public func savingLevelRange(_ range: LevelRange?, to out: String) throws {
        let file = try ModelFile.load(path: path)
        var features = self.features
        features.levelRange = range
        try ModelFile(network: file.network, tokens: file.tokens, features: try Self.json(features), extra: file.extra).save(path: out)
    }

    /// Metadata as JSON with sorted keys (a file's bytes do not depend on dictionary order).
    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
