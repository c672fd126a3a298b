// hark-bench: the measurements behind BENCHMARKS.md. Run through scripts/bench (release build).
//   hark-bench features | capture-idle DEVICE | capture-live DEVICE | cells | training [SHAPE [THREADS]] | blas | recognizer MODEL RECORDING WORDS
//            | paced MODEL RECORDING | hour MODEL RECORDING | soak ... | first-frame DEVICE | lm-load VOCABULARY LM [REPEATS]
//            | word-search MODEL VOCABULARY LM RECORDING...
import CBenchSupport
import Glibc
import Decoding
import Recognizer
import Stream

let args = CommandLine.arguments.dropFirst()
guard let what = args.first else {
    print("usage: hark-bench features | capture-idle DEVICE | capture-live DEVICE | cells | training [SHAPE [THREADS]] | blas | recognizer MODEL RECORDING WORDS\n"
          + "                  | paced MODEL RECORDING | hour MODEL RECORDING | soak MODEL KEYWORD.wav OTHER.wav KEYWORD HOURS | first-frame DEVICE")
    exit(2)
}

// The allocation counts below are only meaningful if the interposer is live: prove it.
do {
    let before = Measure.allocations
    let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 16)
    probe.deallocate()
    guard Measure.allocations > before else {
        print("malloc interposer is not active; allocation counts would be meaningless")
        exit(1)
    }
}

switch what {
case "features": FeatureBench.run()
case "capture-idle": CaptureBench.idle(device: args.dropFirst().first ?? "pulse")
case "capture-live": CaptureBench.live(device: args.dropFirst().first ?? "jackmic")
case "cells": CellsBench.run()
case "training":
    // hark-bench training [SHAPE [THREADS]]: THREADS (default 2) splits each minibatch.
    let rest = Array(args.dropFirst())
    guard rest.count < 2 || Int(rest[1]).map({ $0 >= 1 }) == true else {
        print("hark-bench training: THREADS must be a whole number ≥ 1, got \(rest[1])"); exit(64)
    }
    CellsBench.trainingTable(only: rest.first, threads: rest.count > 1 ? Int(rest[1])! : 2)
case "blas": BlasBench.run()
case "recognizer":
    let rest = Array(args.dropFirst())
    guard rest.count == 3 else { print("usage: hark-bench recognizer MODEL RECORDING WORDLIST"); exit(2) }
    do { try RecognizerBench.run(model: rest[0], recording: rest[1], vocabulary: rest[2]) } catch { print("error: \(error)"); exit(1) }
case "paced":
    let rest = Array(args.dropFirst())
    guard rest.count == 2 else { print("usage: hark-bench paced MODEL RECORDING"); exit(2) }
    do {
        Measure.pinToOneCore()
        try RecognizerBench.paced(model: try RecognitionModel(path: rest[0]), config: RecognizerBench.spotting,
                                  speech: try RecognizerBench.audio(rest[1], seconds: 30))
    } catch { print("error: \(error)"); exit(1) }
case "soak":
    let rest = Array(args.dropFirst())
    guard rest.count == 5, let hours = Double(rest[4]) else {
        print("usage: hark-bench soak MODEL KEYWORD.wav OTHER.wav KEYWORD HOURS"); exit(2)
    }
    do { try SoakBench.run(model: rest[0], keywordRecording: rest[1], otherRecording: rest[2], keyword: rest[3], hours: hours) }
    catch { print("error: \(error)"); exit(1) }
case "hour":
    let rest = Array(args.dropFirst())
    guard rest.count == 2 else { print("usage: hark-bench hour MODEL RECORDING"); exit(2) }
    do {
        Measure.pinToOneCore()
        try RecognizerBench.hour(model: try RecognitionModel(path: rest[0]), recording: rest[1],
                                 keywords: [Keyword("okay robot"), Keyword("play music")])
    } catch { print("error: \(error)"); exit(1) }
case "lm-load":
    let rest = Array(args.dropFirst())
    guard rest.count == 2 || rest.count == 3, let repeats = Int(rest.count == 3 ? rest[2] : "7"), repeats > 0 else {
        print("usage: hark-bench lm-load VOCABULARY LM [REPEATS]"); exit(2)
    }
    do { try LanguageModelBench.run(vocabulary: rest[0], languageModel: rest[1], repeats: repeats) } catch { print("error: \(error)"); exit(1) }
case "word-search":
    let rest = Array(args.dropFirst())
    guard rest.count >= 4 else { print("usage: hark-bench word-search MODEL VOCABULARY LM RECORDING..."); exit(2) }
    do { try WordSearchBench.run(model: rest[0], vocabulary: rest[1], languageModel: rest[2], recordings: Array(rest[3...])) }
    catch { print("error: \(error)"); exit(1) }
case "first-frame":
    do { try RecognizerBench.firstFrame(device: args.dropFirst().first ?? "vmicfile:IN=/dev/zero") } catch { print("error: \(error)"); exit(1) }
default:
    print("unknown benchmark \(what)")
    exit(2)
}
