import Glibc

/// Triangular mel filters over FFT power bins, stored sparsely: band `b` covers bins
/// `firstBin[b] ..< firstBin[b] + weights[b].count`.
///
/// Mel scale: HTK's `mel(f) = 2595 · log10(1 + f/700)`. Band edges are `melBands + 2` points
/// evenly spaced in mel between `lowHz` and `highHz`; band `b` rises from edge `b` to edge `b+1` and
/// falls to edge `b+2`, with weights computed in the mel domain at each bin's centre frequency
/// `k · sampleRate / fftSize` (as Kaldi's `MelBanks`). Filters are not area-normalized.
public struct MelFilterbank: Sendable {
    public let bands: Int
    public let firstBin: [Int]
    public let weights: [[Float]]

    public static func mel(_ hz: Double) -> Double { 2595 * log10(1 + hz / 700) }

    public init(_ config: LogMelConfig) {
        bands = config.melBands
        let lowMel = Self.mel(config.lowHz), highMel = Self.mel(config.highHz)
        let step = (highMel - lowMel) / Double(bands + 1)
        var first: [Int] = [], all: [[Float]] = []
        for b in 0..<bands {
            let left = lowMel + Double(b) * step, centre = left + step, right = centre + step
            var start = -1
            var w: [Float] = []
            for k in 0..<config.fftBins {
                let m = Self.mel(Double(k) * Double(config.sampleRate) / Double(config.fftSize))
                guard m > left && m < right else { continue }
                let weight = m <= centre ? (m - left) / (centre - left) : (right - m) / (right - centre)
                if start < 0 { start = k }
                // Bins inside one triangle are contiguous, so a gap cannot occur here.
                w.append(Float(weight))
            }
            first.append(max(start, 0))
            all.append(w)
        }
        firstBin = first
        weights = all
    }
}
