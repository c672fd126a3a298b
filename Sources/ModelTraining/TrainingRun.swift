import Cells
import Decoding
import Foundation
import Stream

/// `hark train`: CTC training of a character model on manifests, with dev evaluation every epoch,
/// atomic checkpoints (weights and optimizer moments) that resume exactly, and early stopping.
/// Deterministic for a seed: initialization, batch order (a function of seed and epoch) and the
/// trainer are all seeded, so a resumed run equals an uninterrupted one.
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
    }

    private struct Progress: Codable {
        var epoch: Int            // epochs completed
        var best: Double?
        var badEpochs: Int
        var learningRate: Double?
    }

    public init(config: TrainConfig, output: String) throws {
        try config.validate()
        self.config = config
        self.output = output
    }

    public func run(train: [ManifestEntry], dev: [ManifestEntry]?, resume: Bool) throws -> Summary {
        let start = Date()
        let tokens = try config.tokenSet()
        var featureConfig = LogMelConfig()
        featureConfig.melBands = config.bands
        let extractor = try LogMelSpectrogram(featureConfig)
        let report = progress
        let trainSet = try FeatureSet.compute(train, tokens: tokens, features: extractor, threads: config.threads) { done, total in
            if done % 50 == 0 || done == total { report("features: train \(done)/\(total)") }
        }
        let devSet = try dev.map {
            try FeatureSet.compute($0, tokens: tokens, features: extractor, threads: config.threads) { done, total in
                if done % 50 == 0 || done == total { report("features: dev \(done)/\(total)") }
            }
        }
        log(String(format: "train: %d utterances, %.2f h; dev: %d utterances", trainSet.utterances.count, trainSet.hours,
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

        var state = Progress(epoch: 0, best: nil, badEpochs: 0, learningRate: config.learningRate)
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
            network.parameters.values.update(from: saved.network.parameters.values, count: network.parameters.count)
            let steps = Int(saved.extra["optimizer_steps"] ?? "0") ?? 0
            trainer.restoreOptimizerState(saved.auxiliary, steps: steps)
            state = try JSONDecoder().decode(Progress.self, from: Data((saved.extra["progress"] ?? "{}").utf8))
            log("resuming after epoch \(state.epoch) (best dev CER \(state.best.map { String(format: "%.2f%%", 100 * $0) } ?? "–"))")
        }

        // Length-sorted batches; their order is shuffled per epoch from (seed, epoch).
        let order = trainSet.utterances.indices.sorted { trainSet.utterances[$0].frameCount < trainSet.utterances[$1].frameCount }
        let batches = stride(from: 0, to: order.count, by: config.batchSize).map { Array(order[$0..<min($0 + config.batchSize, order.count)]) }
        var lastDev: DevResult?
        var epochsRun = 0
        while state.epoch < config.epochs {
            let epoch = state.epoch + 1
            var rng = SeededGenerator(seed: config.seed &* 1_000_003 &+ UInt64(epoch))
            let shuffled = batches.shuffled(using: &rng)
            let t0 = Date()
            var lossSum = 0.0, frames = 0, seen = 0, lastReport = Date.distantPast
            trainer.learningRate = state.learningRate ?? config.learningRate
            for (i, b) in shuffled.enumerated() {
                let batch = b.map { index -> (frames: [Float], target: [Int]) in
                    let u = trainSet.utterances[index]
                    return (specAugment(u.frames, frames: u.frameCount, mean: norm.mean, epoch: epoch, index: index), u.labels)
                }
                let r = trainer.step(batch: batch, loss: CTCLoss<Float>())
                lossSum += r.loss * Double(batch.count)
                frames += r.frames
                seen += batch.count
                if Date().timeIntervalSince(lastReport) > 2 || i == shuffled.count - 1 {
                    let elapsed = Date().timeIntervalSince(t0)
                    let rate = Double(frames) / max(elapsed, 1e-9)
                    let remaining = Double(trainSet.totalFrames - frames) / rate
                        + Double(config.epochs - epoch) * Double(trainSet.totalFrames) / rate
                    progress(String(format: "epoch %d/%d  batch %d/%d  loss %.3f  %.0f frames/s  ETA %@",
                                    epoch, config.epochs, i + 1, shuffled.count, lossSum / Double(seen),
                                    rate, formatDuration(remaining)))
                    lastReport = Date()
                }
            }
            epochsRun += 1
            state.epoch = epoch
            var line = String(format: "epoch %d: train loss %.3f per utterance", epoch, lossSum / Double(trainSet.utterances.count))
            var improved = true
            if let devSet {
                let d = evaluate(network, devSet, tokens: tokens)
                lastDev = d
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
                                .merging(metadata) { $1 }).save(path: output)
                line += " → saved \(output)"
            }
            let opt = trainer.optimizerState()
            let progressJSON = try ModelMetadata.json(state)
            try ModelFile(network: network, tokens: tokens.tokens, features: featuresJSON,
                          extra: ["train_config": configJSON, "progress": progressJSON, "optimizer_steps": "\(opt.steps)"],
                          auxiliary: opt.tensors).save(path: checkpointPath)
            log(line)
            if state.badEpochs >= config.patience {
                log("stopping early: dev CER has not improved for \(config.patience) epochs")
                break
            }
        }
        return Summary(epochsRun: epochsRun, bestDevCER: state.best, lastDev: lastDev, trainHours: trainSet.hours,
                       seconds: Date().timeIntervalSince(start))
    }

    /// SpecAugment and random equalization for utterance `index` in `epoch`: drawn from (seed,
    /// epoch, index), so the same run always sees the same masks (and a resumed run the ones it
    /// would have seen). The equalizer's draws come after the masks', so a config without it sees
    /// the masks it always did.
    func specAugment(_ x: [Float], frames n: Int, mean: [Float], epoch: Int, index: Int) -> [Float] {
        guard config.frequencyMasks + config.timeMasks > 0 || config.randomEQ > 0, n > 0 else { return x }
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
        if config.randomEQ > 0 {
            func uniform(_ r: Double) -> Double { (Double(rng.next() >> 11) / Double(1 << 53) * 2 - 1) * r }
            let tilt = uniform(config.randomEQ), ripple = uniform(config.randomEQ / 2)
            let halfCycles = Double(1 + rng.next() % 3), phase = uniform(Double.pi)
            let gain = (0..<bands).map { b -> Float in
                let u = bands > 1 ? Double(b) / Double(bands - 1) : 0.5
                return Float(tilt * (2 * u - 1) + ripple * cos(Double.pi * halfCycles * u + phase))
            }
            for f in 0..<n { for b in 0..<bands { y[f * bands + b] += gain[b] } }
        }
        return y
    }

    /// Greedy decoding of every dev utterance (batched forward passes), CER and WER per category.
    public func evaluate(_ network: Network<Float>, _ set: FeatureSet, tokens: TokenSet) -> DevResult {
        var result = DevResult()
        set.forEachOutput(of: network) { u, steps, row in
            var decoder = GreedyCTCDecoder()
            for s in 0..<steps { decoder.accept(logProbs: row(s)) }
            let reference = TokenSet.normalize(u.entry.text), hypothesis = tokens.decode(decoder.labels)
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
