"""Tests of the Drascula extractor against the Debian package's English data.

    python3 -m pytest scripts/human/test_drascula.py   (or: python3 scripts/human/test_drascula.py)

Skipped when `drascula` is not installed. The clip texts checked here are clips
whose audio Whisper tiny.en transcribed to the same words (checker.py).
"""

import os
import sys
import tempfile
import unittest
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drascula  # noqa: E402
import checker  # noqa: E402
from textnorm_games import normalize  # noqa: E402

DAT = os.path.join(drascula.DEFAULT_GAME, "drascula.dat")
HAVE_GAME = os.path.exists(DAT)
SKIP_GAME = "drascula is not installed (%s missing): apt-get install drascula" % DAT


class Normalizer(unittest.TestCase):
    def test_drascula_subtitles(self):
        cases = {
            "YOUUU...SKELETONNNN..!!!": "youuu skeletonnnn",
            "AHHH,,,EXCUS....": "ahhh excus",
            "WELL, NO, I DONT UNDERSTAND TAXES": "well no i don't understand taxes",
            "HI THERE DOOR, I'M GOING TO MAKE YOU A DOOR-FRAME":
                "hi there door i'm going to make you a door frame",
            "OK. ROOM 512. UPSTAIRS.": "okay room five hundred twelve upstairs",
            "BEST BURGERS ON THIS SIDE OF THE DANUBE, ONLY 325!":
                "best burgers on this side of the danube only three hundred twenty five",
            "I HOPE SOMEONE F...(WHISTLE) YOU": "i hope someone f you",
            "WEARS A TOUPE\u00c9  HE SURE IS DRASCULA!": "wears a toupee he sure is drascula",
            'IT SAYS "PLEASE, DO NOT THROW FOOD TO THE PIANIST"':
                "it says please do not throw food to the pianist",
            "A PERIOD OF 28 DAYS": "a period of twenty eight days",
        }
        for raw, want in cases.items():
            self.assertEqual(normalize(raw), (want, None), raw)
        self.assertEqual(normalize("OMELETTE, 1.00. FRIED FISH, 0.80"), (None, "decimal or time"))
        self.assertEqual(normalize("TRANSILVANIA, 1993"), (None, "year-like number"))

    def test_checker_wer(self):
        self.assertEqual(checker.wer("a b c d", "a b c d"), 0.0)
        self.assertEqual(checker.wer("a b c d", "a x c"), 0.5)
        self.assertEqual(checker.wer("a b", "a b c d"), 1.0)
        self.assertEqual(checker.checker_normalize("In 1993, we won!"), "in 1993 we won")


@unittest.skipUnless(HAVE_GAME, SKIP_GAME)
class DrasculaData(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.arrays = drascula.read_texts(DAT)

    def test_text_arrays(self):
        sizes = {k: len(v[drascula.ENGLISH]) for k, v in self.arrays.items()}
        self.assertEqual(sizes["text"], 501)
        self.assertEqual(sizes["textd"], 84)
        self.assertEqual(sizes["textvb"], 63)
        self.assertEqual(len(self.arrays["text"]), 6)  # languages
        self.assertEqual(self.arrays["text"][0][1], "THAT'S THE SECOND BIGGEST DOOR I'VE SEEN IN MY LIFE")

    def test_clip_texts(self):
        # recordings that Whisper tiny.en transcribed word for word
        known = {
            "4": ("I HAVEN'T OPENED IT", "hacker"),
            "6": ("HI THERE DOOR, I'M GOING TO MAKE YOU A DOOR-FRAME", "hacker"),
            "12": ("HI WINDOW, ARE YOU DOING ANYTHING TONIGHT?", "hacker"),
        }
        for clip, want in known.items():
            self.assertEqual(drascula.clip_text(clip, self.arrays), want, clip)
        self.assertEqual(drascula.clip_text("D68", self.arrays), ("HI THERE FOREIGNER", "blind_man"))
        self.assertEqual(drascula.clip_text("S1", self.arrays), (None, "sound effect"))
        self.assertEqual(drascula.clip_text("20", self.arrays), (None, "no text for this index"))
        files = drascula.speech_files(drascula.DEFAULT_GAME)
        speech = [f for f in files if not f.startswith("S")]
        self.assertEqual(len(speech), 768)
        self.assertEqual(sum(drascula.clip_text(f, self.arrays)[0] is not None for f in speech), 742)

    def test_one_clip_end_to_end(self):
        path = os.path.join(drascula.DEFAULT_GAME, "4.ALS")
        data = open(path, "rb").read()
        self.assertEqual(len(data), 16597)
        pcm = drascula.als_to_pcm16(data)
        self.assertEqual(len(pcm), 2 * (16597 - 32 - 64))
        self.assertEqual(pcm[:4], b"\x00\x00\x00\x00")  # 0x80 is silence
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "4.wav")
            drascula.write_wav(out, pcm, drascula.RATE)
            with wave.open(out, "rb") as w:
                self.assertEqual((w.getnchannels(), w.getsampwidth(), w.getframerate()), (1, 2, 11025))
                self.assertEqual(w.getnframes(), 16501)


if __name__ == "__main__":
    unittest.main()
