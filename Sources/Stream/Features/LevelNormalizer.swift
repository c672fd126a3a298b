import Glibc

/// Streaming level normalization of log-mel frames, for recordings far quieter or louder than the
/// speech a model was trained on: one gain for all bands (in the log domain a gain is a shift),
/// zero while the stream's speech level lies inside the training speech's range, so that audio the
/// network already hears well reaches it unchanged. A voice file 30 dB below the training speech (a
/// game's, a distant microphone's) otherwise reaches the network as near-silence and a character
/// network writes nothing for it.
///
/// Per frame: the frame's log energy (log of the summed mel energies) is smoothed over about 30 ms;
/// the speech level follows it up at once and decays by 1 dB a second; the noise floor follows it
/// down at once and rises by 1 dB a second. Once the level stands 15 dB above the floor (there is
/// speech, not only noise), a level below `range.low` is raised to it (at most +30 dB) and one above
/// `range.high` lowered to it (at most −20 dB). Causal, no lookahead, one state per stream: a live
/// stream adapts once to its microphone and keeps its gain across utterances.
///
/// A quiet stretch is raised only once it has lasted 0.4 s (`holdSeconds`), and then over about
/// 0.3 s, so that the quiet consonant before a normal word's vowel is left alone. That costs a quiet
/// stream its first word. With `range.quickStart` (for networks trained with it), until the stream
/// has heard 0.4 s of speech, quiet speech is raised at once, over about 50 ms (`quickRiseSeconds`).
///
/// With `range.lookahead` (frames), a stream's first frames are held until that many have arrived
/// (or the stream ends) and measured together (`prime`): the gain they call for is given to all of
/// them, from the first, and the causal rule carries on from that state. A clip trimmed to start on
/// its first word (a file, a push-to-talk button, a game's voice line) is then heard at the level of
/// the rest of it, not its first half-second at the recording's own level; a live stream pays the
/// lookahead's latency once, when it opens (`FeatureStream` holds the frames).
public struct LevelNormalizer: Sendable {
    public let range: LevelRange
    private let drift: Float
    private let rise: Float
    private let hold: Int
    private let quickRise: Float
    private let primeSpeech: Int
    /// Frames in a row of speech below the range.
    private var quiet = 0
    /// Frames of speech heard so far (counted up to `hold`), for `range.quickStart`.
    private var heard = 0
    private var smoothed: Float = -.infinity
    private var level: Float = -.infinity
    private var floor: Float = .infinity

    public static let smoothing: Float = 0.3
    /// 1 dB per second, in natural-log energy units.
    public static let driftPerSecond: Float = logf(10) / 10
    /// 15 dB between level and floor before any gain.
    public static let speechMargin: Float = 15 * logf(10) / 10
    public static let maxBoost: Float = 30 * logf(10) / 10
    public static let maxCut: Float = 20 * logf(10) / 10
    /// Time constant of a rising gain.
    public static let riseSeconds: Float = 0.3
    /// Speech must stay below the range this long before it is raised.
    public static let holdSeconds: Double = 0.4
    /// Time constant of a rising gain during a stream's first speech, with `range.quickStart`.
    public static let quickRiseSeconds: Float = 0.05
    /// Within the lookahead, speech is a rise of 8 dB between the quietest and loudest smoothed
    /// frames (syllables rise and fall by more in 0.3 s; a steady noise by less).
    public static let primeMargin: Float = 8 * logf(10) / 10
    /// Speech the lookahead must hold before `prime` gives it a gain.
    public static let primeSpeechSeconds: Double = 0.2
    /// Longest lookahead a level range may ask for (1 s).
    public static let maxLookahead = 100

    public init(range: LevelRange, framesPerSecond: Double) {
        self.range = range
        drift = Self.driftPerSecond / Float(framesPerSecond)
        rise = 1 - expf(-1 / (Self.riseSeconds * Float(framesPerSecond)))
        hold = Int((Self.holdSeconds * framesPerSecond).rounded())
        primeSpeech = Int((Self.primeSpeechSeconds * framesPerSecond).rounded())
        quickRise = range.quickStart == true ? 1 - expf(-1 / (Self.quickRiseSeconds * Float(framesPerSecond))) : rise
    }

    /// The normalizer a front end's settings ask for, or nil when they set no level range.
    public init?(_ config: LogMelConfig) {
        guard let range = config.levelRange else { return nil }
        self.init(range: range, framesPerSecond: config.framesPerSecond)
    }

    /// The gain (log-energy shift) applied to the last frame.
    public private(set) var gain: Float = 0

    /// Shifts one frame of `bands` log-mel values in place.
    @inline(__always)
    public mutating func apply(_ frame: UnsafeMutablePointer<Float>, bands: Int) {
        let energy = Self.logEnergy(frame, bands: bands)
        smoothed = smoothed.isFinite ? smoothed + Self.smoothing * (energy - smoothed) : energy
        level = max(smoothed, level - drift)
        floor = min(smoothed, floor + drift)
        var wanted: Float = 0
        let speech = level - floor >= Self.speechMargin
        quiet = speech && level < range.low ? quiet + 1 : 0
        let first = range.quickStart == true && heard < hold
        if speech {
            heard = min(heard + 1, hold)
            // A quiet stretch must last before it is raised: a word's first consonant is quiet too,
            // and the vowel after it brings the level into range.
            if level < range.low, quiet >= hold || first { wanted = min(range.low - level, Self.maxBoost) }
            else if level > range.high { wanted = max(range.high - level, -Self.maxCut) }
        }
        // A gain falls at once (a louder sound is never pushed up) and rises over about 300 ms,
        // so the short climb of each word's onset does not raise it.
        gain = wanted < gain ? wanted : gain + (first ? quickRise : rise) * (wanted - gain)
        if gain != 0 { for b in 0..<bands { frame[b] += gain } }
    }

    /// The speech level of a recording's frames as the normalizer tracks it (the highest smoothed
    /// frame log energy), for measuring the range a training corpus covers (`hark model level`).
    public static func speechLevel(of frames: FeatureMatrix) -> Float {
        var smoothed = -Float.infinity, top = -Float.infinity
        frames.values.withUnsafeBufferPointer { v in
            for r in 0..<frames.rows {
                let e = logEnergy(v.baseAddress! + r * frames.cols, bands: frames.cols)
                smoothed = smoothed.isFinite ? smoothed + smoothing * (e - smoothed) : e
                top = max(top, smoothed)
            }
        }
        return top
    }

    /// Log of the summed mel energies of one frame of log-mel values.
    @inline(__always)
    public static func logEnergy(_ frame: UnsafePointer<Float>, bands: Int) -> Float {
        var top = frame[0]
        for b in 1..<bands where frame[b] > top { top = frame[b] }
        var sum: Float = 0
        for b in 0..<bands { sum += expf(frame[b] - top) }
        return top + logf(sum)
    }

    /// Frames a new stream holds back for `prime` (0: none).
    public var lookahead: Int { range.lookahead ?? 0 }

    /// Normalizes a stream's first `count` frames (the lookahead, or fewer when the stream ended
    /// sooner) as one block: tracks their level and floor as `apply` would, then gives every one of
    /// them the gain their speech calls for (raised to the range, or lowered to it) at once. The
    /// state afterwards is that of a stream that has heard them at that gain, so `apply` goes on
    /// from it (a raise is not dropped because the 0.4 s hold has not yet passed). Call it once, on
    /// a new stream, before any `apply`.
    public mutating func prime(_ frames: UnsafeMutablePointer<Float>, count: Int, bands: Int) {
        var speechFrames = 0, speech = false
        for f in 0..<count {
            let energy = Self.logEnergy(frames + f * bands, bands: bands)
            smoothed = smoothed.isFinite ? smoothed + Self.smoothing * (energy - smoothed) : energy
            level = max(smoothed, level - drift)
            floor = min(smoothed, floor + drift)
            speech = level - floor >= Self.primeMargin
            if speech { speechFrames += 1 }
        }
        var wanted: Float = 0
        // Judged on at least `primeSpeechSeconds` of speech: speech that begins late in the lookahead
        // may be the quiet consonant before a vowel, which the causal rule leaves alone.
        if speech, speechFrames >= primeSpeech {
            if level < range.low { wanted = min(range.low - level, Self.maxBoost) }
            else if level > range.high { wanted = max(range.high - level, -Self.maxCut) }
            // A clip that starts on its first word has no silence to show the floor: the syllables'
            // rise and fall within the lookahead marks it as speech; the causal rule takes the floor
            // to be a speech margin below, until quieter frames show where it is.
            floor = min(floor, level - Self.speechMargin)
        }
        heard = min(speechFrames, hold)
        quiet = wanted > 0 ? hold : 0
        gain = wanted
        if gain != 0 { for i in 0..<(count * bands) { frames[i] += gain } }
    }

    /// A whole recording from its start, as a stream hears it: `prime` over the lookahead, then
    /// `apply` frame by frame (the batch path and training's level augmentation).
    public mutating func normalize(_ frames: UnsafeMutablePointer<Float>, count: Int, bands: Int) {
        let first = min(lookahead, count)
        if first > 0 { prime(frames, count: first, bands: bands) }
        for f in first..<count { apply(frames + f * bands, bands: bands) }
    }

    /// Back to the state of a new stream.
    public mutating func reset() {
        smoothed = -.infinity
        level = -.infinity
        floor = .infinity
        gain = 0
        quiet = 0
        heard = 0
    }
}

/// The speech levels a model was trained on (smoothed peak log energy of its training utterances,
/// 10th and 90th percentile), which `LevelNormalizer` leaves alone.
public struct LevelRange: Equatable, Codable, Sendable {
    public var low: Float
    public var high: Float
    /// Raise a stream's first quiet speech at once (`LevelNormalizer`); nil or false (models from
    /// before it existed): wait 0.4 s as for any quiet stretch.
    public var quickStart: Bool?
    /// Frames a new stream holds back and measures together before releasing the first
    /// (`LevelNormalizer.prime`); nil or 0: none, every frame is normalized as it arrives.
    public var lookahead: Int?
    public init(low: Float, high: Float, quickStart: Bool? = nil, lookahead: Int? = nil) {
        self.low = low; self.high = high; self.quickStart = quickStart; self.lookahead = lookahead
    }
}
