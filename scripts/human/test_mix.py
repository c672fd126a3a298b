#!/usr/bin/env python3
"""Tests of scripts/human/mix.py's speed perturbation on a small clip made here (needs sox).

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


if __name__ == "__main__":
    unittest.main()
