#!/usr/bin/env python3
"""Tests of scripts/human/mix.py's speed perturbation and channel copies on small clips made here
(needs sox, numpy and scipy).

    python3 -m pytest scripts/human/test_mix.py      (or: python3 scripts/human/test_mix.py)
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import mix  # noqa: E402


def tone(path, seconds, rate=11025, hz=440.0):
    """A 16-bit mono sine: one clip of game-like speech rate."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(n)))


def soxi(flag, path):
    return subprocess.run(["soxi", flag, path], check=True, capture_output=True, text=True).stdout.strip()


class SpeedPerturbation(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        os.makedirs(os.path.join(d, "game", "wav"))
        tone(os.path.join(d, "game", "wav", "a.wav"), 1.0)
        self.manifest = os.path.join(d, "game", "train.jsonl")
        with open(self.manifest, "w") as f:
            f.write(json.dumps({"audio": "wav/a.wav", "text": "a", "duration": 1.0}) + "\n")

    def tearDown(self):
        self.dir.cleanup()

    def test_copies_at_each_speed(self):
        human = mix.read_manifest(self.manifest)
        rows = mix.perturbed(human, self.manifest, 3, [1, 0.9, 1.1], jobs=1)
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[0]["audio"], human[0]["audio"], "speed 1 is the clip itself")
        for row, f in zip(rows[1:], (0.9, 1.1)):
            self.assertTrue(row["audio"].endswith(os.path.join(f"speed-{f:g}", "wav", "a.wav")), row["audio"])
            self.assertIn(f"speed={f:g}", row["augment"])
            # Played f times as fast: 1/f seconds long, at the clip's own rate, and the tone moves to 440·f Hz.
            self.assertAlmostEqual(float(soxi("-D", row["audio"])), 1 / f, delta=0.01)
            self.assertAlmostEqual(row["duration"], 1 / f, delta=1e-3)
            self.assertEqual(soxi("-r", row["audio"]), "11025")
            stat = subprocess.run(["sox", row["audio"], "-n", "stat", "-freq"], capture_output=True, text=True).stderr
            self.assertIn("Rough   frequency", stat)
            hz = float(stat.split("Rough   frequency:")[1].split()[0])
            self.assertAlmostEqual(hz, 440 * f, delta=15)
        # Made once: a second mix reuses the copies (same file, not rewritten).
        mtime = os.path.getmtime(rows[1]["audio"])
        again = mix.perturbed(human, self.manifest, 3, [1, 0.9, 1.1], jobs=1)
        self.assertEqual([r["audio"] for r in again], [r["audio"] for r in rows])
        self.assertEqual(os.path.getmtime(rows[1]["audio"]), mtime)

    def test_more_copies_than_speeds_cycle(self):
        human = mix.read_manifest(self.manifest)
        rows = mix.perturbed(human, self.manifest, 4, [1, 1.1], jobs=1)
        self.assertEqual([r.get("augment", "") for r in rows], ["", "speed=1.1", "", "speed=1.1"])

    def test_bad_speeds_are_named(self):
        for text, words in (("1,fast", "factors separated by commas"), ("1,3", "outside 0.5...2")):
            with self.assertRaises(SystemExit) as e:
                mix.speeds(text)
            self.assertIn(words, str(e.exception))


class FakeNoise:
    """The noise bank's interface, drawing white noise (the real bank is built from installed packages)."""

    def draw(self, rng, kind, n):
        import numpy as np
        return np.random.default_rng(rng.randrange(1 << 30)).normal(0, 0.1, n)


class ChannelCopies(unittest.TestCase):
    def setUp(self):
        import pipeline
        self.dir = tempfile.TemporaryDirectory()
        self.src = os.path.join(self.dir.name, "u1.wav")
        tone(self.src, 1.0, rate=16000)
        # A short room and the fake noise stand in for the cached banks (simulating 300 rooms takes minutes).
        self.saved = dict(pipeline._BANKS)
        pipeline._BANKS.update(rirs=[[1.0, 0.0, 0.5, 0.25]], noise=FakeNoise(), babble=[])

    def tearDown(self):
        import pipeline
        pipeline._BANKS.clear()
        pipeline._BANKS.update(self.saved)
        self.dir.cleanup()

    def test_same_length_described_and_made_once(self):
        dst = os.path.join(self.dir.name, "out", "u1.wav")
        os.makedirs(os.path.dirname(dst))
        job = (self.src, dst, 4, {"cache": self.dir.name, "lowpass_share": 0.5, "noise_share": 0.7})
        path, desc = mix.through_channel(job)
        self.assertEqual(path, dst)
        self.assertEqual(soxi("-s", dst), "16000", "the copy keeps every sample (label timing)")
        self.assertEqual(soxi("-r", dst), "16000")
        self.assertRegex(desc, r"(level=-?\d+dBFS|clipped=\+\d+dB)$", "the level stage always runs, last")
        self.assertNotEqual(open(dst, "rb").read(), open(self.src, "rb").read())
        # The same seed and file name draw the same channel; a second call reuses the copy.
        mtime = os.path.getmtime(dst)
        self.assertEqual(mix.through_channel(job), (dst, desc))
        self.assertEqual(os.path.getmtime(dst), mtime)
        other = os.path.join(self.dir.name, "out", "u1-seed5.wav")
        self.assertNotEqual(mix.through_channel((self.src, other, 5, job[3]))[1], desc,
                            "another seed draws another channel")

    def test_no_noise_is_added_where_the_utterance_has_some(self):
        for seed in range(12):
            dst = os.path.join(self.dir.name, f"n{seed}.wav")
            _, desc = mix.through_channel((self.src, dst, seed, {"cache": self.dir.name, "noise_share": 0.0}))
            self.assertNotRegex(desc, r"(music|babble|colored|themes)@", desc)

    def test_share_is_checked(self):
        manifest = os.path.join(self.dir.name, "train.jsonl")
        with open(manifest, "w") as f:
            f.write(json.dumps({"audio": "u1.wav", "text": "a", "duration": 1.0}) + "\n")
        r = subprocess.run([sys.executable, os.path.join(HERE, "mix.py"), os.path.join(self.dir.name, "o.jsonl"),
                            "--synthetic", manifest, "--human", manifest, "--channel-share", "1.5"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--channel-share must be in 0...1, not 1.5", r.stderr)


if __name__ == "__main__":
    unittest.main()
