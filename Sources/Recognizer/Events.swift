import Decoding
import Foundation

/// A word with its place in the stream: seconds since the stream began (sample counters, with
/// samples the device lost counted in, so times stay true after an overrun).
public struct Word: Equatable, Sendable, Codable {
    public var text: String
    public var start: Double
    public var end: Double
    public var confidence: Double
}

/// The text of one utterance. A partial one may still change, except its first
/// `stableCharacters`; a final one never changes.
public struct Transcript: Equatable, Sendable, Codable {
    public var text: String
    public var stableCharacters: Int
    public var words: [Word]
    public var start: Double
    public var end: Double
    /// Mean word confidence (0–1), 0 when there are no words.
    public var confidence: Double
}

public struct KeywordEvent: Equatable, Sendable, Codable {
    public var keyword: String
    public var score: Double
    public var start: Double
    /// Stream time of the audio heard when the keyword became certain (the score crossed the
    /// threshold): the hit fires then, which can be up to about 150 ms before the keyword's last
    /// sound has ended (its last letter already outscoring everything else).
    public var end: Double
    /// When the event was produced (Unix time, seconds).
    public var wallClock: Double
}

/// Health of a running recognizer, for `--stats` lines and monitoring.
public struct RecognizerStats: Equatable, Sendable, Codable {
    /// Seconds of audio processed.
    public var audioSeconds: Double = 0
    /// CPU seconds the recognizer thread used (features, network, decoders, reading).
    public var cpuSeconds: Double = 0
    /// Device overruns the source recovered from (its `CaptureLosses`).
    public var overruns: Int = 0
    /// Samples lost between the blocks the recognizer was given (overruns, a full ring, a device
    /// that went away), and in how many gaps.
    public var samplesLost: Int64 = 0
    public var gaps: Int = 0
    public var utterances: Int = 0
    public var keywordHits: Int = 0
    /// Network state resets at endpoints and idle periods.
    public var resets: Int = 0
    /// Wall-clock seconds spent in the front end, the network and the decoders (`CLOCK_MONOTONIC`).
    public var featureSeconds: Double = 0
    public var networkSeconds: Double = 0
    public var decoderSeconds: Double = 0
    /// cpuSeconds / audioSeconds.
    public var realTimeFactor: Double { audioSeconds > 0 ? cpuSeconds / audioSeconds : 0 }
}

/// Audio the source lost between two blocks: the recognizer heard nothing there.
public struct AudioLoss: Equatable, Sendable, Codable {
    /// Stream time (seconds) where the gap begins: the end of the audio before it.
    public var start: Double
    public var samples: Int64
    /// Seconds of audio lost.
    public var seconds: Double

    public init(start: Double, samples: Int64, sampleRate: Int) {
        self.start = start
        self.samples = samples
        seconds = Double(samples) / Double(sampleRate)
    }
}

public enum RecognitionEvent: Equatable, Sendable {
    case partial(Transcript)
    case final(Transcript)
    case keyword(KeywordEvent)
    case stats(RecognizerStats)
    /// The source lost audio here; utterances around the gap are separate, their times true.
    case audioLost(AudioLoss)
}
