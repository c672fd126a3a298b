"""Tests for scripts/human/bass.py.

    python3 -m pytest scripts/human/test_bass.py     (or: python3 scripts/human/test_bass.py)

Tests that read the game skip when the Debian package beneath-a-steel-sky is
not installed.  The expected sizes, checksums and strings below were observed
on its v0.0372 data (sky.dnr: 5097 entries) and the strings read by eye.
"""

import hashlib
import json
import os
import struct
import sys
import tempfile
import unittest
import wave

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bass  # noqa: E402

HAVE_GAME = all(os.path.exists(os.path.join(bass.DATA_DIR, f)) for f in ("sky.dsk", "sky.dnr"))
NEED_GAME = unittest.skipUnless(
    HAVE_GAME, "beneath-a-steel-sky is not installed (apt-get install beneath-a-steel-sky)")


def sha256(b):
    return hashlib.sha256(b).hexdigest()


@NEED_GAME
class DiskAndRNC(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.disk = bass.Disk()

    @classmethod
    def tearDownClass(cls):
        cls.disk.close()

    def test_directory(self):
        self.assertEqual(self.disk.version_entries, 5097)     # CD v0.0372
        speech = bass.speech_files(self.disk)
        self.assertEqual(len(speech), 3491)
        self.assertEqual(speech[0], (50007, 0, 7))

    def test_rnc_one_block(self):
        raw = self.disk.raw(50007)
        self.assertEqual(len(raw), 9764)
        self.assertEqual(raw[22:26], b"RNC\x01")
        unpacked, packed, crc_out, crc_in = struct.unpack(">IIHH", raw[26:38])
        self.assertEqual((unpacked, packed, crc_out, crc_in), (12607, 9724, 54405, 51161))
        body = bass.rnc_unpack(raw[22:])
        self.assertEqual(len(body), 12607)
        self.assertEqual(bass.crc16(body), 54405)
        data = self.disk.load(50007)
        self.assertEqual(len(data), 12629)
        self.assertEqual(sha256(data),
                         "b39c0387c53e207f246085cbbedee65fe56630749c0976518dc1b0e4e1779ed6")

    def test_rnc_five_blocks(self):
        raw = self.disk.raw(51272)
        self.assertEqual(raw[22 + 17], 5)
        data = self.disk.load(51272)
        self.assertEqual(len(data), 54560)
        self.assertEqual(sha256(data),
                         "fd54e60e362df68dac75f628763df51a5ba25d2a4bc1371b4be5b5350a3278c0")

    def test_rnc_detects_corruption(self):
        raw = bytearray(self.disk.raw(50007)[22:])
        raw[500] ^= 0x10
        with self.assertRaises(bass.RNCError):
            bass.rnc_unpack(bytes(raw))

    def test_crc16_arc(self):
        # CRC-16/ARC check value
        self.assertEqual(bass.crc16(b"123456789"), 0xBB3D)


@NEED_GAME
class Text(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with bass.Disk() as disk:
            cls.s0 = bass.TextSection(disk.load(60600))
            cls.s1 = bass.TextSection(disk.load(60601))
            cls.s7 = bass.TextSection(disk.load(60607))

    def test_first_lines_of_60600(self):
        got = [self.s0.text(i) for i in range(1, 12)]
        self.assertEqual(got, ["Foster", "Hobbins", "Joey", "Man", "Metal bar",
                               "Circuit board", "I had to INSPECT it.", "Wrench",
                               "ID Card", "Dark glasses", "Hey!"])

    def test_later_lines(self):
        self.assertEqual(self.s0.text(20), "They're a BREEDIN' ground for MICRO-ORGASMS!")
        self.assertEqual(self.s1.text(2), "Weren't you told? ROUTINE INSPECTION.")
        self.assertEqual(self.s7.text(0), "(c)Revolution 1993")

    def test_line_counts(self):
        self.assertEqual(len(self.s0), 565)
        self.assertEqual(len(self.s1), 485)
        with self.assertRaises(IndexError):
            self.s0.text(565)

    def test_speech_mapping(self):
        self.assertEqual(bass.speech_file(0, 7), 50007)
        self.assertEqual(bass.speech_file(1, 400), 51000)
        self.assertEqual(bass.text_of_speech_file(51000), (1, 400))
        self.assertEqual(bass.text_of_speech_file(55230), (7, 0))
        self.assertIsNone(bass.text_of_speech_file(49999))


@NEED_GAME
class Speakers(unittest.TestCase):
    def test_constant_speakers(self):
        names = bass.compact_names()
        self.assertEqual((names[1], names[3], names[0x4039]), ("joey", "foster", "danielle"))
        sp = bass.load_speakers()
        self.assertEqual(len(sp), 266)
        self.assertEqual(sp[bass.text_of_speech_file(50800)], "bass_jobsworth")  # "What YOU want?"
        self.assertEqual(sp[bass.text_of_speech_file(51693)], "bass_joey")   # "Why did you do THAT, Foster?"
        self.assertNotIn(bass.text_of_speech_file(50007), sp)


class Normalize(unittest.TestCase):
    def n(self, s):
        return bass.normalize(s)

    def drop(self, s):
        with self.assertRaises(bass.Drop) as cm:
            bass.normalize(s)
        return cm.exception.reason

    def test_case_and_punctuation(self):
        self.assertEqual(self.n("Weren't you told? ROUTINE INSPECTION."),
                         "weren't you told routine inspection")
        self.assertEqual(self.n("...with me own SPECIAL relish!"), "with me own special relish")
        self.assertEqual(self.n("I don't know - it's just a piece of metal."),
                         "i don't know it's just a piece of metal")

    def test_hyphens_and_letters(self):
        self.assertEqual(self.n("They're a BREEDIN' ground for MICRO-ORGASMS!"),
                         "they're a breedin' ground for micro orgasms")
        self.assertEqual(self.n("Apart from D-LINCS, you mean?"), "apart from d lincs you mean")
        self.assertEqual(self.n("Foster! H-Help!"), "foster h help")
        self.assertEqual(self.n("`G. LAMB'. It's that Supervisor's apartment."),
                         "g lamb it's that supervisor's apartment")

    def test_quotes_versus_elisions(self):
        self.assertEqual(self.n("Do you know a guy called `Overmann'?"),
                         "do you know a guy called overmann")
        self.assertEqual(self.n("Why is she called `BOUNCING' Babs?"),
                         "why is she called bouncing babs")
        self.assertEqual(self.n("...and it WON'T work 'til Security SAY SO!"),
                         "and it won't work 'til security say so")
        self.assertEqual(self.n("I don't know NOTHIN' about ROBOTICS!"),
                         "i don't know nothin' about robotics")
        self.assertEqual(self.n("D'you want this circuit board?"), "d'you want this circuit board")

    def test_numbers(self):
        self.assertEqual(self.n("It's a 30 millimetre wrench..."), "it's a thirty millimetre wrench")
        self.assertEqual(self.n("25"), "twenty five")
        self.assertEqual(self.n("In 1999."), "in nineteen ninety nine")
        self.assertEqual(self.n("1905 2005 2024 300 101"),
                         "nineteen oh five two thousand and five twenty twenty four "
                         "three hundred one hundred and one")
        self.assertEqual(self.drop("1000000 credits"), "number_unsure")
        self.assertEqual(self.n("WD40! This stuff is ALWAYS useful!"),
                         "w d forty this stuff is always useful")
        self.assertEqual(bass.number_words(12345), "twelve thousand three hundred and forty five")
        self.assertEqual(self.drop("`...requisition form SOS23.'"), "number_unsure")
        self.assertEqual(self.drop("It costs 3.50"), "number_unsure")
        self.assertEqual(self.drop("the 3rd floor"), "number_unsure")
        self.assertEqual(self.drop("100%"), "number_unsure")

    def test_abbreviations(self):
        self.assertEqual(self.n("Oh, no. The service is UNIQUE to Dr BURKE."),
                         "oh no the service is unique to doctor burke")
        self.assertEqual(self.n("That's Mrs PIERMONT, and she's a PIG!"),
                         "that's missus piermont and she's a pig")
        self.assertEqual(self.n("Oh, by the way, Mr. Hobbins..."), "oh by the way mister hobbins")
        self.assertEqual(self.n("Mrs Piermont's GRIEVANCE"), "missus piermont's grievance")
        self.assertEqual(self.drop("Central, High Green, Museum, and ST JAMES..."),
                         "ambiguous_abbreviation")
        self.assertEqual(self.n("Stop! MR. Storm"), "stop mister storm")

    def test_stage_directions(self):
        self.assertEqual(self.n("Foster! (zzzt) H-Help!"), "foster h help")
        self.assertEqual(self.n("[coughs] Hello *sigh* there"), "hello there")
        self.assertEqual(self.drop("(zzzt)"), "no_words")
        self.assertEqual(self.drop("?"), "no_words")
        self.assertEqual(self.drop("oh (no"), "unbalanced_brackets")

    def test_output_alphabet(self):
        import re
        for s in ["M'n ooh mmpf gommun-gog m'n?", "Hello, DAH-LING!", "`Welcome to LINC.'"]:
            self.assertRegex(self.n(s), r"^[a-z']+( [a-z']+)*$")
            self.assertFalse(re.search(r"(^| )'|'( |$)", self.n(s).replace("m'n", "")))


@NEED_GAME
class EndToEnd(unittest.TestCase):
    def test_clip_to_wav(self):
        with bass.Disk() as disk, tempfile.TemporaryDirectory() as tmp:
            pcm8 = bass.speech_pcm8(disk, 50007)
            self.assertEqual(len(pcm8), 12629 - 22 - 64)
            self.assertEqual(bass.speech_samples_expected(disk, 50007), 12543)
            path = os.path.join(tmp, "c.wav")
            bass.write_wav(path, bass.pcm8_to_pcm16(pcm8), bass.SAMPLE_RATE)
            with wave.open(path, "rb") as w:
                self.assertEqual((w.getnchannels(), w.getsampwidth(), w.getframerate()),
                                 (1, 2, 11025))
                self.assertEqual(w.getnframes(), 12543)
                frames = w.readframes(w.getnframes())
            self.assertEqual(sha256(frames),
                             "8908fac3a55cac365ac2efe7820b1c92a23fabe48f58957b07daafdc3e622bdc")
            samples = struct.unpack("<%dh" % 12543, frames)
            self.assertEqual([s // 256 + 128 for s in samples[:200]], list(pcm8[:200]))
            db, peak, _ = bass.pcm8_stats(pcm8)
            self.assertAlmostEqual(db, -11.65, places=2)

    def test_extract_three_clips_twice(self):
        with tempfile.TemporaryDirectory() as tmp:
            s1 = bass.extract(tmp, limit=3, log=None)
            s2 = bass.extract(tmp, limit=3, log=None)
            self.assertEqual((s1["clips"], s1["decoded"]), (3, 3))
            self.assertEqual((s2["clips"], s2["decoded"], s2["reused"]), (3, 0, 3))
            with open(os.path.join(tmp, "bass", "all.jsonl")) as f:
                rows = [json.loads(l) for l in f]
            self.assertEqual(rows[0]["audio"], "wav/bass_50007.wav")
            self.assertEqual(rows[0]["text"], "i had to inspect it")
            self.assertEqual(rows[0]["raw_text"], "I had to INSPECT it.")
            self.assertEqual(rows[0]["duration"], round(12543 / 11025, 4))
            self.assertEqual(set(rows[0]), {"audio", "text", "raw_text", "category", "source",
                                            "speaker", "section", "duration"})
            for r in rows:
                p = os.path.join(tmp, "bass", r["audio"])
                with wave.open(p, "rb") as w:
                    self.assertAlmostEqual(w.getnframes() / 11025, r["duration"], places=3)


if __name__ == "__main__":
    unittest.main()
