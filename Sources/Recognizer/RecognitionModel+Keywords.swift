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
        try saving(to: out) { file in
            file.extra.merge(["keyword_thresholds": try Self.json(thresholds),
                              "keyword_scoring": try Self.json(scoring.mapValues(\.rawValue))]) { $1 }
        }
    }

    /// Writes this model to `out` with the front end's level normalization set to `range` (nil: off);
    /// the network and everything else in the file are kept.
    public func savingLevelRange(_ range: LevelRange?, to out: String) throws {
        var features = self.features
        features.levelRange = range
        try saving(to: out) { file in file.features = try Self.json(features) }
    }

    /// Writes this model to `out` with the front end's mean-normalization prior set to `prior` (nil:
    /// none); the network and everything else in the file are kept.
    public func savingMeanPrior(_ prior: MeanPrior?, to out: String) throws {
        var features = self.features
        features.meanPrior = prior
        try features.validate()
        try saving(to: out) { file in file.features = try Self.json(features) }
    }

    /// Writes this model's file to `out` with `change` made to it: its network, tokens and every
    /// field `change` leaves alone kept as they are, and no optimizer moments (`out` is a model
    /// file, even when this one was read from a training checkpoint).
    private func saving(to out: String, _ change: (inout ModelFile) throws -> Void) throws {
        var file = try ModelFile.load(path: path)
        try change(&file)
        file.auxiliary = [:]
        try file.save(path: out)
    }

    /// Metadata as JSON with sorted keys (a file's bytes do not depend on dictionary order).
    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
