"""Tests of the FOTAQ extractor against the Debian package's queen.1c.

    python3 -m pytest scripts/human/test_fotaq.py     (or: python3 scripts/human/test_fotaq.py)

Skipped when `flight-of-the-amazon-queen` is not installed, or mpg123 is missing for
the audio test. The clip texts checked here are clips whose audio Whisper tiny.en
transcribed to the same words (checker.py).
"""

import os
import shutil
import sys
import tempfile
import unittest
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fotaq  # noqa: E402
from textnorm_games import normalize  # noqa: E402

HAVE_GAME = os.path.exists(fotaq.DEFAULT_DATA)
SKIP_GAME = "flight-of-the-amazon-queen is not installed (%s missing): apt-get install " \
            "flight-of-the-amazon-queen" % fotaq.DEFAULT_DATA


class SegmentsAndNormalizer(unittest.TestCase):
    def test_segments_follow_the_games_numbering(self):
        # a leading command makes an empty first segment: the text is clip 2
        self.assertEqual(fotaq.split_segments("*FRHey Sparky...*15"), [(1, ""), (2, "Hey Sparky...")])
        # *XY carries coordinates; *GD/*GM are counted but not spoken
        self.assertEqual(fotaq.split_segments("Hello.*XY00(237,112)Bye*GDnow"),
                         [(1, "Hello."), (3, "now")])
        self.assertEqual(fotaq.split_segments("No command"), [(1, "No command")])

    def test_clip_names(self):
        self.assertEqual(fotaq.clip_name("%2d%4XP" % (2, 1), 2), "020001P2")
        self.assertEqual(fotaq.clip_name("%2d%4XJ" % (37, 0xff), 1), "3700FFJ1")
        self.assertEqual(fotaq.clip_name("%2dSSSSJ" % 67, 3), "67SSSSJ3")
        self.assertEqual(fotaq.clip_name("C1A__01", 10), "C1A__01A")

    def test_normalizer_on_game_text(self):
        cases = {
            "You couldn't pilot your way out of a paper bag.":
                "you couldn't pilot your way out of a paper bag",
            "There's a label that reads:": "there's a label that reads",
            '"Antidote for Super Soldier Serum" ': "antidote for super soldier serum",
            "Whoah! Now that's what I call UGLY!": "whoah now that's what i call ugly",
            "It can reach speeds of up to 100 miles an hour,":
                "it can reach speeds of up to one hundred miles an hour",
            "It's one hundred percent pure dehydrated beef!":
                "it's one hundred percent pure dehydrated beef",
            "Mary-Lou and I took a day trip": "mary lou and i took a day trip",
            "Hey Sparky...": "hey sparky",
            "Gosh, it's a left handed can opener": "gosh it's a left handed can opener",
            "'Til the cows come home, Mr. King": "'til the cows come home mister king",
            "Room 25, the 3rd floor": "room twenty five the third floor",
        }
        for raw, want in cases.items():
            self.assertEqual(normalize(raw), (want, None), raw)
        for raw in ("Back in 1934 we", "It weighs 2.5 tons", "...", "*", "(sigh)"):
            self.assertIsNone(normalize(raw)[0], raw)


@unittest.skipUnless(HAVE_GAME, SKIP_GAME)
class QueenData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.res = fotaq.QueenResources()

    def test_table(self):
        self.assertEqual(self.res.version, "CEM10")
        self.assertEqual(self.res.compression, 1)  # MP3
        self.assertEqual(len(self.res.entries), 7671)
        self.assertEqual(len(self.res.names(".SB")), 6745)
        self.assertEqual(self.res.entries["020001P2.SB"], (1, 161106, 7001))
        self.assertEqual(self.res.read("020001P2.SB")[:2], b"\xff\xe3")  # MPEG frame, no header

    def test_clip_texts(self):
        cat = fotaq.catalog(self.res)
        # lines whose recordings Whisper tiny.en transcribed word for word
        self.assertEqual(cat["02001FP2"], [("Or you could end up in SERIOUS trouble.",
                                            "anderson", "AND1.DOG")])
        self.assertEqual(cat["050007J1"], [("How did you do that disappearing trick before?",
                                            "joe", "APE3.DOG")])
        self.assertEqual(cat["JOE00411"], [("I don't see anything special", "joe", "QUEEN2.JAS")])
        self.assertEqual(cat["C1A__012"], [("Hey Sparky...", "joe", "C1A.CUT")])
        named = {c[:-3] for c in self.res.names(".SB")} & set(cat)
        self.assertEqual(len(named), 6587)

    @unittest.skipUnless(shutil.which("mpg123"), "mpg123 is not installed: apt-get install mpg123")
    def test_one_clip_end_to_end(self):
        pcm, rate = fotaq.decode_mp3(self.res.read("020001P2.SB"))
        self.assertEqual(rate, 11025)
        self.assertEqual(len(pcm), 2 * 38592)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "clip.wav")
            fotaq.write_wav(path, pcm, fotaq.REAL_RATE)
            with wave.open(path, "rb") as w:
                self.assertEqual((w.getnchannels(), w.getsampwidth(), w.getframerate()), (1, 2, 11840))
                self.assertEqual(w.getnframes(), 38592)
            self.assertAlmostEqual(fotaq.wav_duration(path), 38592 / 11840)


    @unittest.skipUnless(shutil.which("mpg123"), "mpg123 is not installed: apt-get install mpg123")
    def test_extract_writes_a_manifest(self):
        with tempfile.TemporaryDirectory() as tmp:
            fotaq.extract(tmp, limit=40, log=lambda *_: None)
            rows = [line for line in open(os.path.join(tmp, "fotaq", "all.jsonl"))]
            self.assertGreater(len(rows), 0)
            self.assertLessEqual(len(rows), 40)


if __name__ == "__main__":
    unittest.main()
