#!/usr/bin/env python3
"""Tests of scripts/human/paired.py on small --details files written here.

    python3 -m pytest scripts/human/test_paired.py      (or: python3 scripts/human/test_paired.py)
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import paired  # noqa: E402


def details(path, rows):
    with open(path, "w") as f:
        for audio, category, reference, greedy, constrained in rows:
            f.write(json.dumps({"audio": audio, "category": category, "reference": reference,
                                "greedy": greedy, "constrained": constrained, "hits": "", "peaks": ""}) + "\n")


class Paired(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.a, self.b = (os.path.join(self.dir.name, n) for n in ("a.jsonl", "b.jsonl"))

    def tearDown(self):
        self.dir.cleanup()

    def run_paired(self, *args):
        return subprocess.run([sys.executable, os.path.join(HERE, "paired.py"), *args],
                              capture_output=True, text=True)

    def test_edits(self):
        self.assertEqual(paired.edits("kitten", "sitting"), 3)
        self.assertEqual(paired.edits("one two".split(), "one".split()), 1)
        self.assertEqual(paired.edits([], "abc"), 3)

    def test_lists_by_words_others_by_characters(self):
        details(self.a, [("1.wav", "numbers", "group one", "grup on", "group one"),
                         ("2.wav", "sentences", "hello", "hallo", "")])
        clips = paired.load(self.a, {"numbers"})
        self.assertEqual(clips["1.wav"], ("numbers", 0, 2, 2, 9))
        self.assertEqual(clips["2.wav"], ("sentences", 1, 5, 1, 5))

    def test_report_and_interval(self):
        rows = [(f"{i}.wav", "numbers", "one two", "", "one two") for i in range(20)]
        details(self.a, rows)
        details(self.b, [(a, c, r, g, "one" if i < 10 else h) for i, (a, c, r, g, h) in enumerate(rows)])
        out = self.run_paired(self.a, self.b)
        self.assertEqual(out.returncode, 0, out.stderr)
        line = next(l for l in out.stdout.splitlines() if l.startswith("numbers"))
        # B loses one word of two in half the clips: 10 of 40 words, +25 points; every resample of
        # 20 clips drawn from them loses between 0 and 20 of 40.
        self.assertIn("0.00%  25.00%  +25.00", line)
        low, high = (float(x) for x in line.split("[")[1].rstrip("]").split(","))
        self.assertTrue(0 < low < 25 < high <= 50, line)

    def test_other_tokens_not_compared_by_characters(self):
        # A character model and a phoneme model: the word lists compare (same words), the
        # character rates do not (the references differ in length).
        details(self.a, [("1.wav", "numbers", "group one", "grup", "group one"),
                         ("2.wav", "sentences", "hello there", "helo", "")])
        details(self.b, [("1.wav", "numbers", "ɡɹup wʌn", "ɡɹu", "ɡɹup wʌn"),
                         ("2.wav", "sentences", "hɛlo ðɛɹ", "hɛlo", "")])
        out = self.run_paired(self.a, self.b)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = {l.split()[0]: l for l in out.stdout.splitlines()[1:]}
        self.assertIn("0.00%   0.00%   +0.00", rows["numbers"])
        self.assertIn("+0.00", rows["lists"])
        self.assertIn("not comparable", rows["sentences"])
        self.assertIn("not comparable", rows["all"])

    def test_different_clips_named(self):
        details(self.a, [("1.wav", "numbers", "one", "", "one")])
        details(self.b, [("2.wav", "numbers", "one", "", "one")])
        out = self.run_paired(self.a, self.b)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("not the same clips", out.stderr)

    def test_bad_line_named(self):
        details(self.a, [("1.wav", "numbers", "one", "", "one")])
        with open(self.b, "w") as f:
            f.write("{}\n")
        out = self.run_paired(self.a, self.b)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(f"{self.b}:1:", out.stderr)


if __name__ == "__main__":
    unittest.main()
