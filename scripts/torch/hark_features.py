"""Hark's audio input and log-mel front end in numpy, number for number.

Hark's definition (Sources/Stream/Files/AudioFile.swift, Sources/Stream/Features/*.swift):

audio   libsndfile decodes the file to float32 (integer PCM scaled to [-1, 1)); channels are summed
        in float32 and multiplied by 1/channels; a file at another rate goes through libsoxr's HQ
        resampler to 16 kHz. Here: the `soundfile` package (the same libsndfile) and the `soxr`
        package (the same libsoxr), so the float32 samples are Hark's.
frames  Kaldi's snip-edges arithmetic: frame i covers samples [i*hop, i*hop + window); a frame
        exists only when its last sample does; the tail that makes no whole frame is dropped.
dither  sample p gets dither * int32(splitmix64_mix(p) >> 32) * 2^-31 added, in float32, where p
        is the sample's absolute position (so any chunking gives the same frames).
window  symmetric Hann 0.5 - 0.5 cos(2 pi n / (N - 1)), computed in float64, stored as float32;
        the dithered sample times the window is rounded to float32 (Hark's FFT input).
FFT     zero-padded to fft_size, real FFT by FFTW in single precision, planned FFTW_ESTIMATE
        (deterministic) on fftwf_malloc'ed buffers; power re*re + im*im in float32. Here: the
        same libfftw3f that Hark links, through ctypes, with the same plan, so the spectrum is
        Hark's bit for bit. (`fft="numpy"` uses numpy's float64 FFT instead: closer to the exact
        values, and so up to a few 1e-4 from Hark in the weakest bands of frames with a wide
        dynamic range, where float32 FFT rounding shows.)
mel     HTK mel(f) = 2595 log10(1 + f/700); mel_bands + 2 edges evenly spaced in mel between low_hz
        and high_hz; band b takes bin k (centre k * rate / fft_size) when its mel m lies strictly
        inside (edge b, edge b+2), with weight rising to 1 at edge b+1 and falling after; weights
        computed in float64 and stored as float32; not area-normalized. Each band's energy is
        summed bin by bin in float32 from 0, in bin order, as Hark does.
log     natural log of max(energy, log_floor), rounded to float32 (glibc's logf, which Hark calls,
        is within 0.52 ulp of that: at most 1 ulp apart).

The settings are a model file's `features` metadata (LogMelConfig's JSON): `LogMelConfig.hark()`
is Hark's default.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import json
import math
import os
import threading

import numpy as np


@dataclasses.dataclass(frozen=True)
class LogMelConfig:
    """Sources/Stream/Features/LogMelConfig.swift, field for field (the JSON keys are Hark's)."""
    sampleRate: int = 16000
    windowLength: int = 400
    hopLength: int = 160
    fftSize: int = 512
    melBands: int = 80
    lowHz: float = 20.0
    highHz: float = 8000.0
    logFloor: float = 1e-10
    dither: float = 1.0 / 32768

    def to_json(self) -> str:
        """The model file's `features` value (Hark decodes logFloor and dither as float32)."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> "LogMelConfig":
        d = json.loads(text)
        names = {f.name for f in dataclasses.fields(LogMelConfig)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"feature settings have unknown keys {sorted(unknown)}")
        return LogMelConfig(**d)

    def validate(self) -> None:
        bins = self.fftSize // 2 + 1
        checks = [
            (self.sampleRate > 0, "sampleRate", "must be positive"),
            (self.windowLength > 0, "windowLength", "must be positive"),
            (0 < self.hopLength <= self.windowLength, "hopLength", "must be in 1...windowLength"),
            (self.fftSize >= self.windowLength and self.fftSize % 2 == 0, "fftSize", "must be even and >= windowLength"),
            (0 < self.melBands < bins, "melBands", f"must be in 1..<{bins}"),
            (0 <= self.lowHz < self.highHz <= self.sampleRate / 2, "lowHz/highHz", "need 0 <= lowHz < highHz <= sampleRate/2"),
            (self.logFloor > 0 and math.isfinite(self.logFloor), "logFloor", "must be positive"),
            (self.dither >= 0 and math.isfinite(self.dither), "dither", "must be >= 0"),
        ]
        for ok, field, why in checks:
            if not ok:
                raise ValueError(f"feature setting '{field}' {why}")

    def frame_count(self, samples: int) -> int:
        return 0 if samples < self.windowLength else (samples - self.windowLength) // self.hopLength + 1


class AudioError(Exception):
    pass


def read_audio(path: str, sample_rate: int = 16000) -> np.ndarray:
    """The file as Hark's AudioFileSource reads it: float32 mono at `sample_rate`."""
    import soundfile  # libsndfile, as Hark

    if not os.path.exists(path):
        raise AudioError(f"cannot read audio '{path}': No such file or directory")
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises its own LibsndfileError, RuntimeError or OSError
        raise AudioError(f"cannot read audio '{path}': {e}") from None
    channels = data.shape[1]
    if channels == 1:
        mono = np.ascontiguousarray(data[:, 0])
    else:
        mono = data[:, 0].copy()
        for c in range(1, channels):           # left to right in float32, as Hark sums them
            mono += data[:, c]
        mono *= np.float32(1.0 / channels)
    if not np.all(np.isfinite(mono)):
        bad = int(np.argmin(np.isfinite(mono)))
        raise AudioError(f"audio '{path}': sample {bad} is {mono[bad]}")
    if rate != sample_rate:
        import soxr  # libsoxr, as Hark

        mono = soxr.resample(mono, rate, sample_rate, quality="HQ").astype(np.float32, copy=False)
    return mono


def _mel(hz):
    return 2595.0 * np.log10(1.0 + hz / 700.0)


class FFTW:
    """A single-precision real FFT of size n from the system's libfftw3f, exactly as Hark's
    RealFFTPlan makes and runs it (Sources/Stream/Features/FFTPlan.swift). The plan is made once;
    each thread runs it on buffers of its own (fftwf_malloc'ed, so aligned like the planning ones)."""

    ESTIMATE = 1 << 6
    _planner = threading.Lock()

    def __init__(self, n: int):
        name = ctypes.util.find_library("fftw3f") or "libfftw3f.so.3"
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            raise FFTUnavailable("libfftw3f (FFTW in single precision, the FFT Hark uses) is not installed: "
                                 "apt-get install libfftw3-single3, or use --fft numpy") from None
        lib.fftwf_malloc.restype = ctypes.c_void_p
        lib.fftwf_malloc.argtypes = [ctypes.c_size_t]
        lib.fftwf_plan_dft_r2c_1d.restype = ctypes.c_void_p
        lib.fftwf_plan_dft_r2c_1d.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]
        lib.fftwf_execute_dft_r2c.restype = None
        lib.fftwf_execute_dft_r2c.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self.lib, self.n = lib, n
        self._local = threading.local()
        inp, out = self._buffers()
        with FFTW._planner:                     # FFTW's planner is not thread-safe
            self.plan = lib.fftwf_plan_dft_r2c_1d(n, inp[0], out[0], FFTW.ESTIMATE)
        if not self.plan:
            raise FFTUnavailable(f"FFTW could not plan a real FFT of size {n}")

    def _buffers(self):
        b = getattr(self._local, "buffers", None)
        if b is None:
            def make(count):
                pointer = self.lib.fftwf_malloc(count * 4)
                if not pointer:
                    raise MemoryError("fftwf_malloc failed")
                array = np.ctypeslib.as_array((ctypes.c_float * count).from_address(pointer))
                array[:] = 0
                return pointer, array               # the memory lives as long as the process
            b = self._local.buffers = (make(self.n), make(2 * (self.n // 2 + 1)))
        return b

    def power(self, windows: np.ndarray) -> np.ndarray:
        """(frames, n//2 + 1) float32 power spectra of float32 rows of at most n samples
        (zero-padded to n), each through the plan as Hark runs it."""
        (ip, ia), (op, oa) = self._buffers()
        width = windows.shape[1]
        spectra = np.empty((windows.shape[0], 2 * (self.n // 2 + 1)), dtype=np.float32)
        execute, plan = self.lib.fftwf_execute_dft_r2c, self.plan
        for i in range(windows.shape[0]):
            ia[:width] = windows[i]
            execute(plan, ip, op)
            spectra[i] = oa
        re, im = spectra[:, 0::2], spectra[:, 1::2]
        return re * re + im * im                        # float32, as Hark


class FFTUnavailable(Exception):
    pass


class LogMel:
    """Batch log-mel frames of whole utterances (starting at absolute sample 0)."""

    def __init__(self, config: LogMelConfig = LogMelConfig(), fft: str = "fftw"):
        config.validate()
        self.config = c = config
        if fft not in ("fftw", "numpy"):
            raise ValueError("fft must be 'fftw' or 'numpy'")
        self.fft = FFTW(c.fftSize) if fft == "fftw" else None
        n = c.windowLength
        self.window = (np.ones(1) if n == 1 else 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / (n - 1))).astype(np.float32)
        bins = c.fftSize // 2 + 1
        low, high = _mel(c.lowHz), _mel(c.highHz)
        step = (high - low) / (c.melBands + 1)
        m = _mel(np.arange(bins, dtype=np.float64) * c.sampleRate / c.fftSize)
        fb = np.zeros((c.melBands, bins), dtype=np.float64)
        self.bands: list[tuple[int, np.ndarray]] = []          # (first bin, float32 weights)
        for b in range(c.melBands):
            left = low + b * step
            centre = left + step
            right = centre + step
            inside = (m > left) & (m < right)
            w = np.where(m <= centre, (m - left) / (centre - left), (right - m) / (right - centre))
            fb[b] = np.where(inside, w, 0.0).astype(np.float32)
            k = np.flatnonzero(inside)
            self.bands.append((int(k[0]) if len(k) else 0, w[k].astype(np.float32)))
        self.filterbank = fb                                  # float32 values, held as float64
        self._dither_scale = np.float32(c.dither)
        self._floor32 = np.float32(c.logFloor)

    def dither_noise(self, count: int) -> np.ndarray:
        """The dither Hark adds to samples 0..<count (float32)."""
        z = np.arange(count, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        u = (z >> np.uint64(32)).astype(np.uint32).view(np.int32).astype(np.float32)
        return (self._dither_scale * u) * np.float32(1.0 / 2147483648.0)

    def frames(self, samples: np.ndarray) -> np.ndarray:
        """(frames, melBands) float32 log-mel features of float32 `samples`."""
        c = self.config
        x = np.asarray(samples, dtype=np.float32)
        count = c.frame_count(len(x))
        if count == 0:
            return np.zeros((0, c.melBands), dtype=np.float32)
        used = (count - 1) * c.hopLength + c.windowLength
        x = x[:used]
        if c.dither > 0:
            x = x + self.dither_noise(used)                    # float32 + float32, as Hark
        windows = np.lib.stride_tricks.sliding_window_view(x, c.windowLength)[::c.hopLength]
        out = np.empty((count, c.melBands), dtype=np.float32)
        chunk = 2048                                           # bounded memory for long files
        for start in range(0, count, chunk):
            w = windows[start:start + chunk] * self.window     # float32 product: Hark's FFT input
            if self.fft is not None:
                power = self.fft.power(w)
                energy = np.zeros((w.shape[0], c.melBands), dtype=np.float32)
                for b, (first, weights) in enumerate(self.bands):
                    e = energy[:, b]
                    for j, weight in enumerate(weights):       # Hark's float32 sum, bin by bin
                        e += weight * power[:, first + j]
                energy = np.maximum(energy, self._floor32).astype(np.float64)
            else:
                spectrum = np.fft.rfft(w.astype(np.float64), n=c.fftSize, axis=-1)
                energy = np.maximum((spectrum.real ** 2 + spectrum.imag ** 2) @ self.filterbank.T,
                                    np.float64(self._floor32))
            out[start:start + chunk] = np.log(energy)
        return out
