// hark-bench: the measurements behind BENCHMARKS.md. Run through scripts/bench (release build).
//   hark-bench features | capture-idle DEVICE | capture-live DEVICE | cells | all-offline
import CBenchSupport
import Glibc
import Stream

let args = CommandLine.arguments.dropFirst()
guard let what = args.first else {
    print("usage: hark-bench features | capture-idle DEVICE | capture-live DEVICE | cells")
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
default:
    print("unknown benchmark \(what)")
    exit(2)
}
