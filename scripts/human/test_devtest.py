#!/usr/bin/env python3
"""Tests of the human dev/test set builder: file name -> text rules, the normalizer, the speaker split.

    python3 -m pytest scripts/human/test_devtest.py      (or: python3 scripts/human/test_devtest.py)

The tests on the packages' own files skip when the packages are neither installed nor unpacked under
/work/data/pkgs; the split test reads a built OUT_DIR/devtest (HUMAN_DEVTEST, default
/work/data/human/devtest) and skips without one.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import devtest  # noqa: E402

BUILT = os.environ.get("HUMAN_DEVTEST", "/work/data/human/devtest")


class Normalize(unittest.TestCase):
    def test_case_punctuation_spaces(self):
        self.assertEqual(devtest.normalize("  Research   Completed! "), "research completed")
        self.assertEqual(devtest.normalize("Fire-At-Will"), "fire at will")
        self.assertEqual(devtest.normalize("\u201cSource of power surge.\u201d"), "source of power surge")

    def test_apostrophes_kept_inside_words_only(self):
        self.assertEqual(devtest.normalize("I'm the leader"), "i'm the leader")
        self.assertEqual(devtest.normalize("'quoted'"), "quoted")

    def test_numbers_as_words(self):
        self.assertEqual(devtest.normalize("10 Minutes Remaining"), "ten minutes remaining")
        self.assertEqual(devtest.normalize("5min"), "five min")
        self.assertEqual(devtest.normalize("LZ2"), "lz two")
        self.assertEqual(devtest.normalize("48"), "forty eight")
        self.assertEqual(devtest.normalize("115"), "one hundred fifteen")
        self.assertEqual(devtest.normalize("Cleanse & Destroy"), "cleanse and destroy")

    def test_output_alphabet(self):
        for t in ("Go Go Go!", "Warning! System Failure Imminent", "A l'eau", "LZ#2", "3 Pungs"):
            self.assertRegex(devtest.normalize(t), r"^[a-z']+( [a-z']+)*$")

    def test_spoken_game_labels(self):
        self.assertEqual(devtest.spoken("LZ 1"), "l z one")
        self.assertEqual(devtest.spoken("Enemy VTOLs Detected"), "enemy v tols detected")
        self.assertEqual(devtest.spoken("proceed to LZ#2."), "proceed to l z number two")
        self.assertEqual(devtest.spoken("Artefact Recovered"), "artifact recovered")

    def test_checker_agreement(self):
        self.assertTrue(devtest.agrees("circle three", "Circle 3."))
        self.assertTrue(devtest.agrees("re arming", "Re-arming."))
        self.assertTrue(devtest.agrees("okay", "OK"))
        self.assertFalse(devtest.agrees("bamboo two", "bamboo tube."))


class FileNameRules(unittest.TestCase):
    def test_kajongg_codes(self):
        k = devtest.kajongg_text
        self.assertEqual(k("b4"), "bamboo four")
        self.assertEqual(k("s8"), "circle eight")
        self.assertEqual(k("c5"), "character five")
        self.assertEqual(k("we"), "east")
        self.assertEqual(k("wn"), "north")
        self.assertEqual(k("db"), "blue dragon")
        self.assertEqual(k("dr"), "red dragon")
        self.assertEqual(k("nochoice"), "no choice")
        self.assertEqual(k("mahjongg"), "mah jongg")
        self.assertEqual(k("violatesoriginalcall"), "violates original call")
        with self.assertRaises(KeyError):
            k("x1")

    def test_ktuberling_theme_prefix(self):
        self.assertEqual(devtest.ktuberling_word("broccolli"), "broccoli")
        self.assertEqual(devtest.ktuberling_word("cheese"), "cheese")

    def test_openarena_names(self):
        self.assertEqual(devtest.OA_FEEDBACK["takenlead"], "you have taken the lead")
        self.assertEqual(devtest.OA_ROTT["illcoverbase"], "i'll cover the base")

    def test_fixes_and_drops_are_disjoint(self):
        self.assertFalse(set(devtest.FIXES) & set(devtest.DROPS))
        self.assertEqual(devtest.FIXES["warzone2100/memressp_cmndrvoc_3.wav"][0], "group three")

    def test_category(self):
        c = devtest.Clip("kajongg", "female1_s3", "circle three", "tiles", "kajongg-female1")
        self.assertEqual(devtest.category(c, "circle three"), "numbers")
        self.assertEqual(devtest.category(c, devtest.KEYWORD + " three"), "keyword")
        w = devtest.Clip("warzone2100", "memressp_research_pcv357", "Research Completed", None, "wz-announcer")
        self.assertEqual(devtest.category(w, "research completed"), "commands")
        t = devtest.Clip("tuxpaint", "animals_frog_desc", "A frog.", None, "tuxpaint-desc")
        self.assertEqual(devtest.category(t, "a frog"), "words")


@unittest.skipUnless(devtest.find_pkg("kajongg", "usr/share/kajongg/voices"), "kajongg not installed or unpacked")
class KajonggPackage(unittest.TestCase):
    def test_every_voice_file_has_a_text(self):
        clips = devtest.kajongg_clips()
        self.assertEqual(len(clips), 168)
        self.assertEqual({c.speaker for c in clips}, {f"kajongg-{v}" for v in ("female1", "female2", "male1", "male2")})


@unittest.skipUnless(devtest.find_pkg("warzone2100-data", "usr/share/games/warzone2100/base.wz"), "warzone2100-data missing")
class WarzonePackage(unittest.TestCase):
    def test_labels_from_audio_cfg(self):
        clips = {c.name: c for c in devtest.warzone_clips()}
        self.assertEqual(clips["memressp_research_pcv357"].label, "Research Completed")
        self.assertEqual(clips["memressp_cmndrvoc_com037"].label, "Route Obstructed")
        self.assertNotIn("sfx_weapons_rocket", clips)
        self.assertFalse(any(n.startswith("tutorial") for n in clips))


class SplitRules(unittest.TestCase):
    def test_problems_found(self):
        row = lambda s, c: {"speaker": s, "category": c, "text": "x", "duration": 1.0}
        halves = {"dev": [row("a", c) for c in devtest.CATEGORIES], "test": [row("b", c) for c in devtest.CATEGORIES]}
        self.assertEqual(devtest.split_problems(halves), [])
        halves["test"].append(row("a", "words"))
        halves["dev"] = [r for r in halves["dev"] if r["category"] != "keyword"]
        p = devtest.split_problems(halves)
        self.assertEqual(len(p), 2, p)

    def test_every_speaker_has_one_half(self):
        self.assertTrue(set(devtest.SPEAKER_HALF.values()) <= {"dev", "test"})
        dev = {(g, s) for g, ss in devtest.HELDOUT["dev"].items() for s in ss}
        test = {(g, s) for g, ss in devtest.HELDOUT["test"].items() for s in ss}
        self.assertFalse(dev & test)


@unittest.skipUnless(os.path.exists(os.path.join(BUILT, "dev.jsonl")) and os.path.exists(os.path.join(BUILT, "test.jsonl")),
                     f"no built set in {BUILT}")
class BuiltSplit(unittest.TestCase):
    def setUp(self):
        self.halves = {h: [json.loads(l) for l in open(os.path.join(BUILT, f"{h}.jsonl"))] for h in ("dev", "test")}

    def test_no_speaker_in_both_every_category_in_each(self):
        self.assertEqual(devtest.split_problems(self.halves), [])

    def test_entries(self):
        for rows in self.halves.values():
            for r in rows:
                self.assertRegex(r["text"], r"^[a-z']+( [a-z']+)*$", r)
                self.assertIn(r["category"], devtest.CATEGORIES)
                self.assertIn(r["label_check"], ("agree", "label-kept", "fixed", "unchecked"))
                self.assertTrue(os.path.exists(os.path.join(BUILT, r["audio"])), r["audio"])
                self.assertNotIn(r["audio"], devtest.DROPS)

    def test_heldout_speakers_file(self):
        held = json.load(open(os.path.join(BUILT, "heldout_speakers.json")))
        self.assertEqual(set(held) - {"by_half"}, {"bass", "fotaq", "drascula"})


if __name__ == "__main__":
    unittest.main()
