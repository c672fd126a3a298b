"""scripts/textnorm.py against the fixture Swift's TokenSet.normalize is tested on
(Tests/DecodingTests/Fixtures/normalization.json): the two normalizations agree.
Run: python3 -m pytest scripts/test_textnorm.py"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from textnorm import normalize  # noqa: E402

FIXTURE = os.path.join(HERE, "..", "Tests", "DecodingTests", "Fixtures", "normalization.json")


class TextNormTest(unittest.TestCase):
    def test_fixture(self):
        with open(FIXTURE, encoding="utf-8") as f:
            cases = json.load(f)
        self.assertGreaterEqual(len(cases), 30)
        for case in cases:
            self.assertEqual(normalize(case["input"]), case["expected"], ascii(case["input"]))

    def test_differs_from_builtins_where_swift_does(self):
        self.assertEqual(normalize("\u039f\u0394\u039f\u03a3"), "\u03bf\u03b4\u03bf\u03c3")  # no final ς
        self.assertEqual(normalize("a\u001cb"), "a\u001cb")                                     # not White_Space
        self.assertEqual(normalize("a \u0301b"), "a b")                                         # one Character

    def test_synth_steps_before_it(self):
        import synth
        self.assertEqual(synth.normalize("Don\u2019t STOP at Room 101!\r\n"), "don't stop at room one zero one")
        self.assertEqual(synth.normalize("Caf\u00e9\tCR\u00c8ME \u212a"), "caf cr me k")
        for case in json.load(open(FIXTURE, encoding="utf-8")):
            out = synth.normalize(case["input"])
            self.assertEqual(normalize(out), out)                  # already normal: Swift reads it as is
            self.assertRegex(out, r"^[a-z' ]*$")


if __name__ == "__main__":
    unittest.main()
