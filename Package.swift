// swift-tools-version: 6.1
//
// Hark: live speech recognition for Linux.
//   ALSA capture thread → lock-free ring → FFTW log-mel frames (Stream)
//   → recurrent network with a streaming step (Cells) → decoder → `hark`.
import PackageDescription

/// Hot numeric code (Stream, Cells) is built for the CPU it is built on: `-target-cpu native`
/// gives the SIMD kernels AVX-512 and FMA, and halves the cells' streaming step (measured, see
/// BENCHMARKS.md). Hark is built from source where it runs; HARK_PORTABLE=1 builds a binary for
/// any CPU of the architecture instead. `-Ounchecked` was measured too and gained nothing beyond
/// run-to-run noise over `-O`, so Swift's checks stay on.
let portable = Context.environment["HARK_PORTABLE"] != nil
let cpuFlags: [String] = portable ? [] : ["-target-cpu", "native"]
let hotLoops: [SwiftSetting] = [
    .unsafeFlags(cpuFlags, .when(configuration: .release)),
]

/// The fuzz targets have no `main` (libFuzzer supplies it), so they exist only in fuzzing builds.
let fuzzing = Context.environment["HARK_FUZZ"] != nil

let package = Package(
    name: "Hark",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hark", targets: ["hark"]),
        .library(name: "Stream", targets: ["Stream"]),
        .library(name: "Cells", targets: ["Cells"]),
        .library(name: "Decoding", targets: ["Decoding"]),
        .library(name: "Recognizer", targets: ["Recognizer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // HDR histograms for `hark latency` percentiles (what latency tools use; no hand-rolled quantiles).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // System libraries. Each is imported by exactly one Swift module (`internal import`).
        .systemLibrary(name: "CAlsa", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        // libsndfile reads every WAV flavour (and FLAC/Ogg/AIFF) so Hark has no hand-written parser.
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        // libsoxr: a real band-limited resampler for files that are not at 16 kHz.
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        // BLIS: the training path's matrix products (chosen over OpenBLAS by measurement, see
        // BENCHMARKS.md "BLAS for training"). No pkg-config file: see the shim.
        .systemLibrary(name: "CBLAS", providers: [.apt(["libblis-dev"])]),
        // espeak-ng's letter-to-sound rules: how a phoneme model spells the words users type
        // (lists, keywords, the dictation vocabulary), the same pronunciations it was trained on.
        .systemLibrary(name: "CEspeak", pkgConfig: "espeak-ng", providers: [.apt(["libespeak-ng-dev"])]),

        // The few things every module shares: one SplitMix64, one @unchecked Sendable box, one logAdd
        // and one CTC lattice with its forward pass (the training loss and the alignment walk it).
        .target(name: "HarkSupport"),
        .target(
            name: "Stream",
            dependencies: ["CAlsa", "CFFTW", "CSndFile", "CSoxr", "HarkSupport"],
            swiftSettings: hotLoops
        ),
        // Cells is optimized in debug builds too: `swift test` trains small networks, which
        // would take minutes unoptimized. Debug info is kept.
        // Decoding: network outputs → tokens and text (token set, greedy CTC, error rates).
        .target(name: "Decoding", dependencies: ["CEspeak", "HarkSupport"]),
        // Training recipes: manifests → features → CTC training with dev evaluation and checkpoints.
        // Recognizer: audio source → features → network → decoders, on its own thread, as events.
        .target(name: "Recognizer", dependencies: ["Stream", "Cells", "Decoding", "HarkSupport"]),
        .target(name: "ModelTraining", dependencies: ["Stream", "Cells", "Decoding", "Recognizer", "HarkSupport"]),
        // `hark latency`'s measurement harness: play, capture, recognize, match, report.
        .target(name: "LatencyHarness", dependencies: ["Stream", "Recognizer", "HarkSupport",
                                                       .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .target(name: "Cells", dependencies: ["CKernels", "CBLAS", "HarkSupport"],
                swiftSettings: hotLoops + [.unsafeFlags(["-O"] + cpuFlags, .when(configuration: .debug))]),
        // The 8-bit matrix-vector product of the streaming step, in C because it needs vector
        // int8 → float widening that Swift's SIMD types do not emit (see its header).
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"] + (portable ? [] : ["-march=native"]))]),
        .executableTarget(
            name: "hark",
            dependencies: [
                "Stream", "Cells", "Decoding", "Recognizer", "ModelTraining", "LatencyHarness", "HarkSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Benchmarks: `swift run -c release hark-bench` (see BENCHMARKS.md).
        // CBenchSupport interposes malloc to count heap allocations on hot paths;
        // CRoofline is the plain C matrix-vector loop the cells are measured against.
        .target(name: "CBenchSupport", dependencies: ["CKernels"]),
        .target(name: "CRoofline", cSettings: [.unsafeFlags(["-O3", "-march=native"])]),
        .executableTarget(
            name: "hark-bench",
            dependencies: ["Stream", "Cells", "Decoding", "Recognizer", "HarkSupport", "CBenchSupport", "CRoofline"]
        ),

        // libFuzzer targets (built only with HARK_FUZZ=1 and -sanitize=fuzzer; see scripts/fuzz).
    ] + (fuzzing ? [
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "FuzzModelFile", dependencies: ["Cells", "CFuzzDriver"]),
        .executableTarget(name: "FuzzAudioFile", dependencies: ["Stream", "CFuzzDriver"]),
        .executableTarget(name: "FuzzLanguageModel", dependencies: ["Decoding", "CFuzzDriver"]),
    ] : []) + [
        .target(name: "TestSupport", dependencies: ["Decoding"], path: "Tests/Support"),
        .testTarget(name: "StreamTests", dependencies: ["Stream", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CellsTests", dependencies: ["Cells", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "DecodingTests", dependencies: ["Decoding", "HarkSupport", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "RecognizerTests", dependencies: ["Recognizer", "Stream", "Decoding", "Cells", "TestSupport"]),
        .testTarget(name: "ModelTrainingTests", dependencies: ["ModelTraining", "Stream", "Cells", "TestSupport"]),
        .testTarget(name: "LatencyHarnessTests", dependencies: ["LatencyHarness"]),
        // Runs the built `hark` binary as a user would.
        .testTarget(name: "HarkTests", dependencies: ["hark", "Stream", "Decoding", "TestSupport"], exclude: ["Fixtures"]),
    ]
)
