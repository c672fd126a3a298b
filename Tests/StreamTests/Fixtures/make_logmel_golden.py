#!/usr/bin/env python3
"""Independent reference for Hark's log-mel front end (numpy, float64).

Writes logmel_input.f32 (little-endian float32 samples) and logmel_expected.f32 (frames x bands,
float32) plus logmel_golden.json (settings and shapes). It follows the definition written in
Sources/Stream/Features/LogMelSpectrogram.swift and MelFilterbank.swift, not Hark's code:
snip-edges framing, symmetric Hann window, zero-padded real FFT, power spectrum, HTK-mel triangles
weighted in the mel domain at bin centres, natural log of max(energy, floor). No dither.

Run: python3 make_logmel_golden.py   (numpy only)
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SR, WIN, HOP, NFFT, BANDS, LOW, HIGH, FLOOR = 16000, 400, 160, 512, 80, 20.0, 8000.0, 1e-10


def mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def filterbank():
    lo, hi = mel(LOW), mel(HIGH)
    step = (hi - lo) / (BANDS + 1)
    bins = mel(np.arange(NFFT // 2 + 1) * SR / NFFT)
    fb = np.zeros((BANDS, NFFT // 2 + 1))
    for b in range(BANDS):
        left, centre, right = lo + b * step, lo + (b + 1) * step, lo + (b + 2) * step
        rise = (bins - left) / (centre - left)
        fall = (right - bins) / (right - centre)
        w = np.where(bins <= centre, rise, fall)
        fb[b] = np.where((bins > left) & (bins < right), w, 0.0)
    return fb


def logmel(x):
    n = 1 + (len(x) - WIN) // HOP if len(x) >= WIN else 0
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / (WIN - 1))
    fb = filterbank()
    out = np.zeros((n, BANDS))
    for i in range(n):
        frame = x[i * HOP:i * HOP + WIN].astype(np.float64) * window
        spec = np.fft.rfft(frame, NFFT)
        power = spec.real ** 2 + spec.imag ** 2
        out[i] = np.log(np.maximum(fb @ power, FLOOR))
    return out


def main():
    rng = np.random.default_rng(20261126)
    t = np.arange(int(0.6 * SR)) / SR
    # Broadband test signal: a chirp, two tones and noise, so every band has energy.
    x = (0.3 * np.sin(2 * np.pi * (100 * t + 3000 * t * t))
         + 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 5000 * t)
         + 0.05 * rng.standard_normal(len(t)))
    x = x.astype(np.float32)  # Hark reads float32; the reference starts from the same values
    feats = logmel(x.astype(np.float64))
    x.astype("<f4").tofile(os.path.join(HERE, "logmel_input.f32"))
    feats.astype("<f4").tofile(os.path.join(HERE, "logmel_expected.f32"))
    with open(os.path.join(HERE, "logmel_golden.json"), "w") as f:
        json.dump({"samples": len(x), "frames": feats.shape[0], "bands": BANDS, "sampleRate": SR,
                   "windowLength": WIN, "hopLength": HOP, "fftSize": NFFT, "lowHz": LOW,
                   "highHz": HIGH, "logFloor": FLOOR, "dither": 0.0}, f, indent=1)
    print(f"{feats.shape[0]} frames x {BANDS} bands from {len(x)} samples")


if __name__ == "__main__":
    main()
