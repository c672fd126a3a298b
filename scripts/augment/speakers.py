"""More speakers than voices: WORLD voice conversion, vocal-tract-length perturbation, tempo, prosody.

`convert` analyses an utterance with WORLD (PyPI `pyworld`: dio + stonemask for F0, cheaptrick for
the spectral envelope, d4c for aperiodicity), changes each part on its own and resynthesizes:
  f0        F0 scaled by this ratio (voice pitch; formants stay)
  prosody   the F0 contour's spread around its mean log-F0 scaled by this factor (flatter or livelier
            intonation; the mean stays)
  warp      the spectral envelope warped along frequency by this factor, piecewise-linear as in
            vocal-tract-length perturbation (Jaitly & Hinton 2013): warp > 1 moves formants up (a
            shorter vocal tract), < 1 down; the frequencies above 4.8 kHz are mapped so the band edge stays
  tempo     frames resampled in time: duration / tempo, pitch and formants unchanged

A speaker is a base voice (engine + voice) with one conversion parameter set. The parameter sets
form a grid (`CONVERSIONS`): a seeded RNG picks one per utterance, and the speaker id in the
manifest names the base voice and the grid cell, so a corpus can be split by speaker. Tempo varies
per utterance around the speaker's own rate (people do not speak at one rate).
"""
import itertools

import numpy as np

F0_RATIOS = (0.70, 0.78, 0.86, 0.93, 1.0, 1.08, 1.17, 1.27, 1.38, 1.5)
WARPS = (0.86, 0.90, 0.94, 1.0, 1.05, 1.10, 1.15)
PROSODY = (0.6, 1.0, 1.5)
SPEAKER_TEMPO = (0.9, 1.0, 1.1)
# Every cell but the identity: 10 x 7 x 3 x 3 - 1 = 629 conversions per base voice.
CONVERSIONS = [c for c in itertools.product(F0_RATIOS, WARPS, PROSODY, SPEAKER_TEMPO) if c != (1.0, 1.0, 1.0, 1.0)]
FRAME_MS = 5.0


def conversion_name(index):
    f0, warp, prosody, tempo = CONVERSIONS[index]
    return f"wc{index:03d}(f0={f0:.2f},vtl={warp:.2f},pr={prosody:.1f},tempo={tempo:.1f})"


def vtlp_map(freqs, warp, rate, boundary=4800.0):
    """Where each output frequency reads the input envelope: the piecewise-linear VTLP map f -> f/warp
    below a boundary, then linear to the Nyquist frequency (which maps to itself)."""
    nyq = rate / 2
    knee = boundary * min(warp, 1.0)
    out = np.where(freqs <= knee, freqs / warp,
                   knee / warp + (freqs - knee) * (nyq - knee / warp) / (nyq - knee))
    return np.clip(out, 0, nyq)


def warp_envelope(sp, warp, rate):
    """The spectral envelope (frames x bins, power) read at the VTLP-mapped frequencies."""
    if warp == 1.0:
        return sp
    bins = sp.shape[1]
    freqs = np.linspace(0, rate / 2, bins)
    src = vtlp_map(freqs, warp, rate) / (rate / 2) * (bins - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, bins - 1)
    frac = src - lo
    # interpolate in log power, which keeps formant peaks peaky
    log_sp = np.log(np.maximum(sp, 1e-16))
    return np.exp(log_sp[:, lo] * (1 - frac) + log_sp[:, hi] * frac)


def analyse(x, rate):
    import pyworld
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pyworld.dio(x, rate, frame_period=FRAME_MS, f0_floor=60.0, f0_ceil=600.0)
    f0 = pyworld.stonemask(x, f0, t, rate)
    sp = pyworld.cheaptrick(x, f0, t, rate)
    ap = pyworld.d4c(x, f0, t, rate)
    return f0, sp, ap


def f0_of(x, rate):
    """F0 per 5 ms frame (0 where unvoiced), by dio + stonemask."""
    import pyworld
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pyworld.dio(x, rate, frame_period=FRAME_MS, f0_floor=60.0, f0_ceil=600.0)
    return pyworld.stonemask(x, f0, t, rate)


def convert(x, rate, f0=1.0, warp=1.0, prosody=1.0, tempo=1.0):
    """WORLD resynthesis of `x` with F0 scaled by `f0`, its spread around the mean scaled by
    `prosody`, the envelope VTLP-warped by `warp` and the duration divided by `tempo`. The output
    has the input's RMS level."""
    import pyworld
    if len(x) < rate // 20:
        return np.asarray(x, dtype=np.float64)
    pitch, sp, ap = analyse(x, rate)
    voiced = pitch > 0
    if voiced.any():
        logf = np.log(pitch[voiced])
        mean = logf.mean()
        pitch = pitch.copy()
        pitch[voiced] = np.exp(mean + prosody * (logf - mean)) * f0
        pitch = np.clip(pitch, 0, rate / 2 - 1)
    sp = warp_envelope(sp, warp, rate)
    if tempo != 1.0:
        n = max(2, int(round(len(pitch) / tempo)))
        src = np.linspace(0, len(pitch) - 1, n)
        near = np.round(src).astype(int)
        # F0: nearest frame (keeps voiced/unvoiced decisions crisp); envelopes: nearest frame too
        pitch, sp, ap = pitch[near], sp[near], ap[near]
    y = pyworld.synthesize(np.ascontiguousarray(pitch), np.ascontiguousarray(sp), np.ascontiguousarray(ap),
                           rate, frame_period=FRAME_MS)
    rms_in = np.sqrt(np.mean(np.square(x)) + 1e-20)
    rms_out = np.sqrt(np.mean(np.square(y)) + 1e-20)
    return y * (rms_in / rms_out)


def pick(rng, share):
    """A conversion for one utterance: None (the base voice as it is) with probability 1 - share,
    else (index into CONVERSIONS, per-utterance tempo jitter 0.92-1.08)."""
    if rng.random() >= share:
        return None
    return rng.randrange(len(CONVERSIONS)), rng.uniform(0.92, 1.08)


def apply(x, rate, choice):
    """Applies `pick`'s choice; returns samples and the manifest's description."""
    if choice is None:
        return x, ""
    index, jitter = choice
    f0, warp, prosody, tempo = CONVERSIONS[index]
    y = convert(x, rate, f0=f0, warp=warp, prosody=prosody, tempo=tempo * jitter)
    return y, f"{conversion_name(index)} tempo*{jitter:.2f}"
