import Cells
import Decoding
import Foundation
import Stream
import Synchronization

/// `hark train`: CTC training of a character model on manifests, with dev evaluation every epoch,
/// atomic checkpoints (weights, optimizer moments and position) every `checkpointInterval` and at
/// every epoch's end, and early stopping. Deterministic for a seed: initialization, batch order
/// (`BatchOrder`, a function of seed and epoch), augmentation (of seed, epoch and utterance) and
/// the trainer are all seeded, so a run resumed from any checkpoint, mid-epoch too, ends with the
/// parameters an uninterrupted one has, bit for bit.
public final class TrainingRun {
    public let config: TrainConfig
    public let output: String
    public var checkpointPath: String { output + ".checkpoint" }
    /// Progress lines (overwritten in place on a terminal) and finished lines.
    public var progress: @Sendable (String) -> Void = { _ in }
    public var log: @Sendable (String) -> Void = { _ in }
    /// Fine-tuning (`hark adapt`): start from this network's weights and keep its normalization
    /// and shape (the config's layer settings are ignored), instead of a fresh initialization.
    public var initialNetwork: Network<Float>?
    /// Extra metadata written into every saved model.
    public var metadata: [String: String] = [:]

    public struct DevResult: Equatable, Sendable {
        public var characters = ErrorCounts()
        public var words = ErrorCounts()
        public var byCategory: [String: (characters: ErrorCounts, words: ErrorCounts)] = [:]
        public static func == (a: DevResult, b: DevResult) -> Bool { a.characters == b.characters && a.words == b.words }
    }

    public struct Summary: Sendable {
        public var epochsRun: Int
        public var bestDevCER: Double?
        public var lastDev: DevResult?
        public var trainHours: Double
        public var seconds: Double
        /// Stopped by `stop` before the last epoch; the checkpoint holds where.
        public var stopped = false
        /// Training audio seen over all sittings (an epoch of the corpus is its hours).
        public var hoursSeen = 0.0
    }

    /// Where a run is: `batch` batches of epoch `epoch + 1` done.
    public struct Position: Equatable, Sendable {
        public var epoch: Int
        public var batch: Int
        public var batches: Int
        public var hoursSeen: Double
    }

    /// Written into every checkpoint. With the parameters and the optimizer's moments it is all a
    /// run's state: the batch order and augmentation are functions of (seed, epoch, position).
    private struct Progress: Codable {
        var epoch: Int            // epochs completed
        var best: Double?
        var badEpochs: Int
        var learningRate: Double?
        /// Batches of epoch `epoch + 1` already trained (a checkpoint taken mid-epoch).
        var batch: Int?
        /// Training frames seen in all epochs.
        var framesSeen: Int?
        /// The unfinished epoch's loss and counts so far, so its line reads as an uninterrupted one's.
        var epochLoss: Double?
        var epochFrames: Int?
        var epochUtterances: Int?
        /// "utterances/frames" of the corpus: a mid-epoch resume needs the same batch order.
        var corpus: String?
    }

    /// A checkpoint is written at least this often (seconds) within an epoch, and at every epoch's end.
    public var checkpointInterval: Double = 600
    /// Called after every batch, on the training thread.
    public var afterBatch: (Position) -> Void = { _ in }
    /// Asks the run to stop after the batch in progress: it writes a checkpoint and returns.
    /// Shareable with any thread (a signal handler's queue).
    public let stop = StopRequest()

    public init(config: TrainConfig, output: String) throws {
        try config.validate()
        self.config = config
        self.output = output
        meanWindow = config.meanWindow > 0 ? config.meanWindow : nil
    }

    /// Level normalization of the front end (`LevelNormalizer`), as the model fine-tuned from has it:
    /// a network learns on the features it will be given.
    public var levelRange: LevelRange?
    /// Streaming mean normalization of the front end (`MeanNormalizer`): the base's when fine-tuning
    /// (set by whoever gives `initialNetwork`), else the config's `meanWindow`.
    public var meanWindow: Int?
    /// Its prior (`MeanPrior`), the base's when fine-tuning.
    public var meanPrior: MeanPrior?

    /// Keeps the front end of the model fine-tuned from (level range, mean normalization and its
    /// prior): a network learns on the features it will be given.
    public func keepFrontEnd(of features: LogMelConfig) {
        levelRange = features.levelRange
        meanWindow = features.meanWindow
        meanPrior = features.meanPrior
    }

    /// The front end training uses: Hark's defaults with the config's bands (and `levelRange`,
    /// `meanWindow`).
    public var featureConfig: LogMelConfig {
        var f = LogMelConfig()
        f.melBands = config.bands
        f.levelRange = levelRange
        f.meanWindow = meanWindow
        f.meanPrior = meanPrior
        return f
    }

    /// Trains on `train`'s features computed into memory (small corpora, `hark adapt`).
    public func run(train: [ManifestEntry], dev: [ManifestEntry]?, resume: Bool) throws -> Summary {
        let report = progress
        let trainSet = try FeatureSet.compute(train, tokens: try config.tokenSet(), features: try LogMelSpectrogram(featureConfig),
                                              threads: config.threads) { done, total in
            if done % 50 == 0 || done == total { report("features: train \(done)/\(total)") }
        }
        return try run(corpus: trainSet, dev: dev, resume: resume)
    }

    /// Trains on any corpus (a `FeatureCache` for one larger than memory); the dev set's features
    /// are computed into memory.
    public func run(corpus trainSet: some TrainingCorpus, dev: [ManifestEntry]?, resume: Bool) throws -> Summary {
        let start = Date()
        let tokens = try config.tokenSet()
        let featureConfig = self.featureConfig
        let extractor = try LogMelSpectrogram(featureConfig)
        let framesPerHour = Double(featureConfig.sampleRate) / Double(featureConfig.hopLength) * 3600
        let trainHours = Double(trainSet.totalFrames) / framesPerHour
        let report = progress
        let devSet = try dev.map {
            try FeatureSet.compute($0, tokens: tokens, features: extractor, threads: config.threads) { done, total in
                if done % 50 == 0 || done == total { report("features: dev \(done)/\(total)") }
            }
        }
        log(String(format: "train: %d utterances, %.2f h; dev: %d utterances", trainSet.count, trainHours,
                   devSet?.utterances.count ?? 0))

        let network: Network<Float>
        let netConfig: NetworkConfig
        let norm: (mean: [Float], std: [Float])
        if let initial = initialNetwork {
            guard initial.config.outputSize == tokens.count else {
                throw TrainConfigError(key: "tokens", reason: "must be the starting model's \(initial.config.outputSize - 1) tokens after the blank, not \(tokens.count - 1)")
            }
            netConfig = initial.config
            norm = (initial.mean, initial.std)
            network = try initial.with(parameters: initial.parameters.copy())
        } else {
            norm = trainSet.normalization()
            netConfig = NetworkConfig(kind: config.kind, inputSize: config.bands, stack: config.stack, stride: config.stride,
                                      hiddenSize: config.hidden, layers: config.layers, projectionSize: config.projection,
                                      outputSize: tokens.count)
            network = try Network<Float>(config: netConfig, mean: norm.mean, std: norm.std)
            network.initialize(seed: config.seed)
        }
        var options = TrainingOptions()
        options.optimizer = .adam(learningRate: config.learningRate)
        options.clipNorm = config.clipNorm
        options.threads = config.threads
        let trainer = Trainer(network: network, options: options)
        let featuresJSON = try ModelMetadata.json(featureConfig)
        let configJSON = try ModelMetadata.json(config)
        let corpusName = "\(trainSet.count)/\(trainSet.totalFrames)"
        // A phoneme model carries its pronunciation, so run-time text is spelled as training's was.
        let spellingMetadata = try tokens.pronunciation.map { ["pronunciation": try ModelMetadata.json($0)] } ?? [:]

        var state = Progress(epoch: 0, best: nil, badEpochs: 0, learningRate: config.learningRate, corpus: corpusName)
        if resume, FileManager.default.fileExists(atPath: checkpointPath) {
            let saved = try ModelFile.load(path: checkpointPath)
            // Any setting may change on resume except those that shape the network or its training
            // path; epochs and patience may grow.
            var savedConfig = (try? JSONDecoder().decode(TrainConfig.self, from: Data((saved.extra["train_config"] ?? "").utf8)))
            savedConfig?.epochs = config.epochs
            savedConfig?.patience = config.patience
            guard saved.network.config == netConfig, savedConfig == config else {
                throw TrainConfigError(key: "--resume", reason: "checkpoint '\(checkpointPath)' was made with other settings")
            }
            state = try JSONDecoder().decode(Progress.self, from: Data((saved.extra["progress"] ?? "{}").utf8))
            if (state.batch ?? 0) > 0, state.corpus != corpusName {
                throw TrainConfigError(key: "--resume", reason: "checkpoint '\(checkpointPath)' stopped mid-epoch on another training set (utterances/frames \(state.corpus ?? "?"), now \(corpusName)); its batch order is not this one's")
            }
            state.corpus = corpusName
            network.parameters.values.update(from: saved.network.parameters.values, count: network.parameters.count)
            let steps = Int(saved.extra["optimizer_steps"] ?? "0") ?? 0
            trainer.restoreOptimizerState(saved.auxiliary, steps: steps)
            log(String(format: "resuming at epoch %d, batch %d (%.2f h of audio seen; best dev CER %@)", state.epoch + 1,
                       state.batch ?? 0, Double(state.framesSeen ?? 0) / framesPerHour,
                       state.best.map { String(format: "%.2f%%", 100 * $0) } ?? "–"))
        } else if resume {
            log("no checkpoint at \(checkpointPath); starting afresh")
        }

        func saveCheckpoint() throws {
            let opt = trainer.optimizerState()
            try ModelFile(network: network, tokens: tokens.tokens, features: featuresJSON,
                          extra: ["train_config": configJSON, "progress": try ModelMetadata.json(state), "optimizer_steps": "\(opt.steps)"]
                            .merging(spellingMetadata) { $1 },
                          auxiliary: opt.tensors).save(path: checkpointPath)
        }
        var summary = Summary(epochsRun: 0, bestDevCER: state.best, trainHours: trainHours, seconds: 0)
        func finished(stopped: Bool) -> Summary {
            summary.bestDevCER = state.best
            summary.seconds = Date().timeIntervalSince(start)
            summary.stopped = stopped
            summary.hoursSeen = Double(state.framesSeen ?? 0) / framesPerHour
            return summary
        }

        let lengths = (0..<trainSet.count).map { trainSet.frameCount($0) }
        var lastCheckpoint = Date()
        let t0 = Date()
        var framesThisSitting = 0
        while state.epoch < config.epochs {
            let epoch = state.epoch + 1
            let batches = BatchOrder.batches(lengths: lengths, batchSize: config.batchSize, seed: config.seed, epoch: epoch)
            var lastReport = Date.distantPast
            trainer.learningRate = state.learningRate ?? config.learningRate
            for i in (state.batch ?? 0)..<batches.count {
                let batch = batches[i].map { index -> (frames: [Float], target: [Int]) in
                    (specAugment(trainSet.frames(index), frames: trainSet.frameCount(index), mean: norm.mean, epoch: epoch, index: index),
                     trainSet.labels(index))
                }
                let r = trainer.step(batch: batch, loss: CTCLoss<Float>())
                state.batch = i + 1
                state.epochLoss = (state.epochLoss ?? 0) + r.loss * Double(batch.count)
                state.epochFrames = (state.epochFrames ?? 0) + r.frames
                state.epochUtterances = (state.epochUtterances ?? 0) + batch.count
                state.framesSeen = (state.framesSeen ?? 0) + r.frames
                framesThisSitting += r.frames
                let position = Position(epoch: state.epoch, batch: i + 1, batches: batches.count,
                                        hoursSeen: Double(state.framesSeen ?? 0) / framesPerHour)
                if Date().timeIntervalSince(lastReport) > 2 || i == batches.count - 1 {
                    let rate = Double(framesThisSitting) / max(Date().timeIntervalSince(t0), 1e-9)
                    let remaining = Double(trainSet.totalFrames - (state.epochFrames ?? 0)) / rate
                        + Double(config.epochs - epoch) * Double(trainSet.totalFrames) / rate
                    progress(String(format: "epoch %d/%d  batch %d/%d  loss %.3f  %.2f h seen  %.0f frames/s  ETA %@",
                                    epoch, config.epochs, i + 1, batches.count,
                                    (state.epochLoss ?? 0) / Double(max(state.epochUtterances ?? 0, 1)),
                                    position.hoursSeen, rate, formatDuration(remaining)))
                    lastReport = Date()
                }
                afterBatch(position)
                let stopping = stop.isRequested
                if i + 1 < batches.count, stopping || Date().timeIntervalSince(lastCheckpoint) >= checkpointInterval {
                    try saveCheckpoint()
                    lastCheckpoint = Date()
                    if stopping {
                        log(String(format: "stopped at epoch %d, batch %d/%d (%.2f h of audio seen); --resume continues from %@",
                                   epoch, i + 1, batches.count, position.hoursSeen, checkpointPath))
                        return finished(stopped: true)
                    }
                }
            }
            summary.epochsRun += 1
            state.epoch = epoch
            var line = String(format: "epoch %d: train loss %.3f per utterance", epoch,
                              (state.epochLoss ?? 0) / Double(max(trainSet.count, 1)))
            state.batch = nil
            state.epochLoss = nil
            state.epochFrames = nil
            state.epochUtterances = nil
            var improved = true
            if let devSet {
                let d = evaluate(network, devSet, tokens: tokens)
                summary.lastDev = d
                line += String(format: "; dev CER %.2f%% WER %.2f%%", 100 * d.characters.rate, 100 * d.words.rate)
                improved = state.best.map { d.characters.rate < $0 } ?? true
                if improved { state.best = d.characters.rate; state.badEpochs = 0 } else { state.badEpochs += 1 }
                if !improved && config.halveOnPlateau {
                    state.learningRate = (state.learningRate ?? config.learningRate) / 2
                    line += String(format: "; learning rate → %.2g", state.learningRate!)
                }
            }
            if improved {
                try ModelFile(network: network, tokens: tokens.tokens, features: featuresJSON,
                              extra: ["trained_by": "hark train", "train_config": configJSON, "epoch": "\(epoch)"]
                                .merging(metadata) { $1 }.merging(spellingMetadata) { $1 }).save(path: output)
                line += " → saved \(output)"
            }
            try saveCheckpoint()
            lastCheckpoint = Date()
            log(line)
            if state.badEpochs >= config.patience {
                log("stopping early: dev CER has not improved for \(config.patience) epochs")
                break
            }
            if stop.isRequested, state.epoch < config.epochs {
                log(String(format: "stopped after epoch %d (%.2f h of audio seen); --resume continues from %@", epoch,
                           Double(state.framesSeen ?? 0) / framesPerHour, checkpointPath))
                return finished(stopped: true)
            }
        }
        return finished(stopped: false)
    }

    /// SpecAugment, random equalization, level and onset augmentation for utterance `index` in
    /// `epoch`: drawn from (seed, epoch, index), so the same run always sees the same masks (and a
    /// resumed run the ones it would have seen). The equalizer's draws come after the masks', the
    /// level's after the equalizer's and the onset's last, so a config without them sees the masks it
    /// always did. Onset augmentation returns fewer frames (the leading silence cut).
    func specAugment(_ x: [Float], frames n: Int, mean: [Float], epoch: Int, index: Int) -> [Float] {
        guard config.frequencyMasks + config.timeMasks > 0 || config.randomEQ > 0 || config.quietShare > 0 || config.onsetShare > 0, n > 0
        else { return x }
        var rng = SeededGenerator(seed: config.seed &* 0x9E37_79B9 &+ UInt64(epoch) &* 1_000_003 &+ UInt64(index))
        var y = x
        let bands = config.bands
        for _ in 0..<config.frequencyMasks where config.frequencyMaskWidth > 0 {
            let width = Int(rng.next() % UInt64(config.frequencyMaskWidth + 1))
            let start = Int(rng.next() % UInt64(bands - width + 1))
            for f in 0..<n { for b in start..<(start + width) { y[f * bands + b] = mean[b] } }
        }
        let maxTime = Int(Double(n) * config.timeMaskFraction)
        for _ in 0..<config.timeMasks where maxTime > 0 {
            let width = Int(rng.next() % UInt64(maxTime + 1))
            let start = Int(rng.next() % UInt64(n - width + 1))
            for f in start..<(start + width) { for b in 0..<bands { y[f * bands + b] = mean[b] } }
        }
        func unit() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }          // uniform in [0, 1)
        if config.randomEQ > 0 {
            func uniform(_ r: Double) -> Double { (unit() * 2 - 1) * r }
            let tilt = uniform(config.randomEQ), ripple = uniform(config.randomEQ / 2)
            let halfCycles = Double(1 + rng.next() % 3), phase = uniform(Double.pi)
            let gain = (0..<bands).map { b -> Float in
                let u = bands > 1 ? Double(b) / Double(bands - 1) : 0.5
                return Float(tilt * (2 * u - 1) + ripple * cos(Double.pi * halfCycles * u + phase))
            }
            for f in 0..<n { for b in 0..<bands { y[f * bands + b] += gain[b] } }
        }
        // With mean normalization in the front end a gain cancels (the cached features are already
        // normalized), so there is nothing for level augmentation to do.
        if config.quietShare > 0, meanWindow == nil {
            let draw = unit(), dB = unit() * config.quietDB
            if draw < config.quietShare {
                // A gain of −dB is a shift of every log-mel value (natural-log energy units); the
                // front end's normalizer then sees the quiet stream from its first frame.
                let shift = Float(-dB * Foundation.log(10.0) / 10)
                for i in 0..<(n * bands) { y[i] += shift }
                if var level = LevelNormalizer(featureConfig) {
                    y.withUnsafeMutableBufferPointer { v in level.normalize(v.baseAddress!, count: n, bands: bands) }
                }
            }
        }
        if config.onsetShare > 0 {
            let draw = unit(), keep = Int(rng.next() % 4)
            if draw < config.onsetShare {
                // The first frame within 20 dB of the loudest is speech (measured before the masks);
                // keep `keep` frames before it.
                let energy = x.withUnsafeBufferPointer { v in
                    (0..<n).map { f in LevelNormalizer.logEnergy(v.baseAddress! + f * bands, bands: bands) }
                }
                let loudest = energy.max()!, speech = energy.firstIndex { $0 >= loudest - 20 * Float(Foundation.log(10.0)) / 10 }!
                let cut = max(0, speech - keep)
                if cut > 0 { y.removeFirst(cut * bands) }
            }
        }
        return y
    }

    /// Greedy decoding of every dev utterance (batched forward passes), CER and WER per category.
    public func evaluate(_ network: Network<Float>, _ set: FeatureSet, tokens: TokenSet) -> DevResult {
        var result = DevResult()
        set.forEachOutput(of: network) { u, steps, row in
            var decoder = GreedyCTCDecoder()
            for s in 0..<steps { decoder.accept(logProbs: row(s)) }
            let reference = (try? tokens.spelling(of: u.entry.text)) ?? TokenSet.normalize(u.entry.text)
            let hypothesis = tokens.decode(decoder.labels)
            let c = ErrorCounts.characters(reference: reference, hypothesis: hypothesis)
            let w = ErrorCounts.words(reference: reference, hypothesis: hypothesis)
            result.characters = result.characters + c
            result.words = result.words + w
            let old = result.byCategory[u.entry.category] ?? (ErrorCounts(), ErrorCounts())
            result.byCategory[u.entry.category] = (old.characters + c, old.words + w)
        }
        return result
    }
}

/// A flag any thread may raise; the training loop reads it between batches.
public final class StopRequest: Sendable {
    private let flag = Atomic<Int>(0)
    public init() {}
    /// Raises the flag; returns how many times it has been raised, this time included.
    @discardableResult
    public func request() -> Int { flag.add(1, ordering: .relaxed).newValue }
    public var isRequested: Bool { flag.load(ordering: .relaxed) > 0 }
}

func formatDuration(_ s: Double) -> String {
    guard s.isFinite else { return "–" }
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
}

/// JSON for a model file's metadata, keys sorted: the same training run writes the same bytes.
public enum ModelMetadata {
    public static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
