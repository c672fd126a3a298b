"""Channels and rooms like a user's: simulated rooms, microphone and telephone responses, low-bit-rate
codecs, levels from whisper-quiet to clipped, and the 11 kHz low-pass of the human training speech.

Every function takes and returns float samples at `rate` (16 kHz in the corpus) and keeps the length,
so the label timing and the manifest's `seconds` stay true.

Rooms: `build_rir_bank` simulates shoebox rooms with PyPI `pyroomacoustics` (image source method,
absorption from a drawn RT60 by Sabine's formula, hybrid image sources + ray tracing, air absorption), several microphones per room at
drawn distances from the talker, and caches the impulse responses in one .npz (built once, reused by
every run with the same size and seed).
"""
import os
import subprocess
import tempfile

import numpy as np
from scipy import signal

RATE = 16000


# ---------------------------------------------------------------- rooms

def build_rir_bank(path, rooms=300, mics=4, seed=1, rate=RATE, log=None):
    """Simulates `rooms` rooms with `mics` microphones each and saves the impulse responses (float32,
    each starting at its direct-path arrival minus 2.5 ms) with their RT60, room size and distance."""
    import pyroomacoustics as pra
    rng = np.random.default_rng(seed)
    rirs, meta = [], []
    for r in range(rooms):
        dims = np.array([rng.uniform(2.5, 12), rng.uniform(2.5, 9), rng.uniform(2.3, 4.5)])
        rt60 = rng.uniform(0.1, 1.0)
        while True:
            try:
                absorption, _order = pra.inverse_sabine(rt60, dims)
                break
            except ValueError:      # too dry for a room this large: the driest it can be, near enough
                rt60 += 0.05
        # image sources up to order 3, ray tracing for the tail (pure image sources up to the order
        # Sabine asks for take minutes per room at RT60 1 s; capped, they cut the tail short)
        room = pra.ShoeBox(dims, fs=rate, materials=pra.Material(absorption), max_order=3, ray_tracing=True,
                           air_absorption=True)
        room.set_ray_tracing()
        src = np.array([rng.uniform(0.5, dims[0] - 0.5), rng.uniform(0.5, dims[1] - 0.5), rng.uniform(1.1, 1.9)])
        room.add_source(src)
        positions, distances = [], []
        for _ in range(mics):
            for _try in range(100):
                d = np.exp(rng.uniform(np.log(0.2), np.log(5.0)))      # 0.2-5 m, as many near as far
                direction = rng.normal(size=3)
                direction[2] *= 0.3
                direction /= np.linalg.norm(direction)
                pos = src + d * direction
                if np.all(pos > 0.1) and np.all(pos < dims - 0.1):
                    break
            positions.append(pos)
            distances.append(float(np.linalg.norm(pos - src)))
        room.add_microphone_array(np.array(positions).T)
        room.compute_rir()
        for m in range(mics):
            h = np.asarray(room.rir[m][0], dtype=np.float64)
            start = max(0, int(np.argmax(np.abs(h))) - int(0.0025 * rate))
            h = h[start:start + int(1.2 * rate)]
            rirs.append(h.astype(np.float32))
            meta.append((rt60, pra.experimental.measure_rt60(h, fs=rate), distances[m], *dims))
        if log and (r + 1) % 25 == 0:
            log(f"rir bank: {r + 1}/{rooms} rooms")
    lengths = np.array([len(h) for h in rirs])
    flat = np.concatenate(rirs)
    tmp = path + ".partial.npz"
    np.savez(tmp, flat=flat, lengths=lengths, meta=np.array(meta, dtype=np.float32), rate=rate)
    os.replace(tmp, path)
    return load_rir_bank(path)


def load_rir_bank(path):
    """A list of impulse responses and an array of (asked RT60, measured RT60, distance, room x, y, z)
    per response."""
    with np.load(path) as z:
        flat, lengths, meta = z["flat"], z["lengths"], z["meta"]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return [flat[offsets[i]:offsets[i + 1]].astype(np.float64) for i in range(len(lengths))], meta


def rir_bank(cache_dir, rooms=300, mics=4, seed=1, log=None):
    """The cached bank for these settings, simulated once if it is missing."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"rirs-{rooms}x{mics}-seed{seed}.npz")
    if os.path.exists(path):
        return load_rir_bank(path)
    return build_rir_bank(path, rooms=rooms, mics=mics, seed=seed, log=log)


def reverberate(x, h):
    """`x` heard through impulse response `h`: same length, aligned to the direct path (h starts there),
    at the level the direct path would give (h scaled so its strongest tap is 1), clipped to ±1 never:
    the level stage after this decides the level."""
    h = h / (np.max(np.abs(h)) + 1e-12)
    y = signal.fftconvolve(x, h)[:len(x)]
    return y


# ---------------------------------------------------------------- microphones and telephones

def _peaking(f0, gain_db, q, rate):
    a = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * f0 / rate
    alpha = np.sin(w0) / (2 * q)
    b = [1 + alpha * a, -2 * np.cos(w0), 1 - alpha * a]
    den = [1 + alpha / a, -2 * np.cos(w0), 1 - alpha / a]
    return np.array(b) / den[0], np.array(den) / den[0]


def microphone(x, rng, rate=RATE):
    """A drawn cheap-microphone response: high-pass at 60-300 Hz, a presence peak or dip of ±8 dB at
    1.5-6 kHz, a second broad resonance of ±6 dB at 300-1500 Hz, and a roll-off at 5-7.9 kHz.
    Returns samples and a description."""
    hp = rng.uniform(60, 300)
    pk_f, pk_g = rng.uniform(1500, 6000), rng.uniform(-8, 8)
    lo_f, lo_g = rng.uniform(300, 1500), rng.uniform(-6, 6)
    top = rng.uniform(5000, 7900)
    y = signal.sosfilt(signal.butter(2, hp, "highpass", fs=rate, output="sos"), x)
    for f, g, q in [(pk_f, pk_g, 1.2), (lo_f, lo_g, 0.7)]:
        b, a = _peaking(f, g, q, rate)
        y = signal.lfilter(b, a, y)
    y = signal.sosfilt(signal.butter(2, top, "lowpass", fs=rate, output="sos"), y)
    return y, f"mic(hp={hp:.0f},pk={pk_f:.0f}:{pk_g:+.0f}dB,res={lo_f:.0f}:{lo_g:+.0f}dB,lp={top:.0f})"


def telephone(x, rate=RATE, low=300.0, high=3400.0):
    """The telephone band: 300-3400 Hz, 4th-order band-pass."""
    sos = signal.butter(4, [low, high], "bandpass", fs=rate, output="sos")
    return signal.sosfilt(sos, x)


# ---------------------------------------------------------------- codecs

# name: (ffmpeg encoder arguments, container format, the rate the codec runs at); GSM goes through sox,
# whose own GSM 06.10 codec starts in milliseconds where ffmpeg takes ~0.3 s of CPU to start
CODECS = {
    "gsm": (None, "gsm", 8000),
    "g722": (["-c:a", "g722"], "g722", 16000),
    "opus6k": (["-c:a", "libopus", "-b:a", "6k", "-application", "voip"], "ogg", 16000),
    "opus12k": (["-c:a", "libopus", "-b:a", "12k", "-application", "voip"], "ogg", 16000),
    "mp3-16k": (["-c:a", "libmp3lame", "-b:a", "16k"], "mp3", 16000),
    "mp3-24k": (["-c:a", "libmp3lame", "-b:a", "24k"], "mp3", 16000),
}


def codec(x, name, rate=RATE):
    """`x` encoded with codec `name` (CODECS) by ffmpeg (GSM: sox) and decoded back to `rate`, trimmed or padded
    to the input's length after removing the codec's delay (found by cross-correlation, ≤ 50 ms)."""
    if name not in CODECS:
        raise ValueError(f"unknown codec {name!r} (one of {', '.join(CODECS)})")
    enc, fmt, codec_rate = CODECS[name]
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        coded = os.path.join(tmp, "coded." + fmt)
        base = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
        if enc is None:
            raw = ["-t", "s16", "-r", str(rate), "-c", "1"]
            subprocess.run(["sox", *raw, "-", "-r", str(codec_rate), coded], input=pcm, check=True, capture_output=True)
            out = subprocess.run(["sox", coded, *raw, "-"], check=True, capture_output=True).stdout
        else:
            subprocess.run(base + ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0", "-ar", str(codec_rate)]
                           + enc + ["-f", fmt, coded], input=pcm, check=True, capture_output=True)
            out = subprocess.run(base + ["-i", coded, "-f", "s16le", "-ar", str(rate), "-ac", "1", "pipe:1"],
                                 check=True, capture_output=True).stdout
    y = np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768
    lag = _delay(x, y, int(0.05 * rate))
    y = y[lag:]
    return np.concatenate([y, np.zeros(max(0, len(x) - len(y)))])[:len(x)]


def _delay(x, y, max_lag):
    """The lag (0..max_lag samples) at which y best matches x."""
    n = min(len(x), len(y) - max_lag, 4 * RATE)
    if n <= 0:
        return 0
    best = max(range(max_lag + 1), key=lambda k: float(np.dot(x[:n], y[k:k + n])))
    return best


# ---------------------------------------------------------------- level and bandwidth

def level(x, rng):
    """A speaking level from whisper-quiet to clipped: RMS from -55 to -12 dBFS (triangular, most
    likely -28), or in 8% of utterances driven 3-15 dB past full scale and hard-clipped. Returns
    samples and a description."""
    rms = np.sqrt(np.mean(np.square(x)) + 1e-20)
    if rng.random() < 0.08:
        peak = np.max(np.abs(x)) + 1e-12
        over = rng.uniform(3, 15)
        return np.clip(x / peak * 10 ** (over / 20), -1, 1), f"clipped=+{over:.0f}dB"
    target = rng.triangular(-55, -12, -28)       # most near a normal -28 dBFS, tails to both ends
    y = x * (10 ** (target / 20) / rms)
    peak = np.max(np.abs(y))
    if peak > 1:            # a loud target on a peaky signal: keep it below full scale
        y /= peak
    return y, f"level={target:.0f}dBFS"


_LOWPASS = signal.firwin(401, 5350, fs=RATE, window=("kaiser", 9.0))


def lowpass_11k(x, rate=RATE):
    """What the human training speech went through: resampled to 11 025 Hz and back, then a sharp
    linear-phase low-pass (flat to ~5.2 kHz, < -60 dB past 5.6 kHz), so nothing is left above its
    5.5 kHz band edge (the resampler's own filter leaves -23 dB there)."""
    if rate != RATE:
        raise ValueError("lowpass_11k works at 16 kHz")
    down = signal.resample_poly(x, 441, 640)       # 16000 * 441 / 640 = 11025
    y = signal.resample_poly(down, 640, 441)
    y = np.concatenate([y, np.zeros(max(0, len(x) - len(y)))])[:len(x)]
    half = len(_LOWPASS) // 2
    return signal.fftconvolve(y, _LOWPASS)[half:half + len(x)]


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x)) + 1e-20))
