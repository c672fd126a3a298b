"""scripts/spoken_numbers.py: numbers in the language model's text as a speaker says them.
Run: python3 scripts/test_spoken_numbers.py"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spoken_numbers import verbalize  # noqa: E402


class SpokenNumbersTest(unittest.TestCase):
    def test_readings(self):
        cases = {
            "In 1984 he paid $5 for 2 books, 10% off.":
                "In nineteen eighty-four he paid five dollars for two books, ten percent off.",
            "over 9000 items": "over nine thousand items",               # not a year: outside 1100-2099
            "in 2005": "in two thousand and five",
            "1,234 men": "one thousand, two hundred and thirty-four men",
            "the 3rd and 21st": "the third and twenty-first",
            "pi is 3.14": "pi is three point one four",
            "call 5551234 now": "call five five five one two three four now",
            "room 0042": "room zero zero four two",
            "$1 only": "one dollar only",
            "chapter 12: the end.": "chapter twelve: the end.",
        }
        for text, spoken in cases.items():
            self.assertEqual(verbalize(text), spoken, text)

    def test_text_without_numbers_is_unchanged(self):
        self.assertEqual(verbalize("no numbers here."), "no numbers here.")

    def test_digits_without_one_reading_drop_the_sentence(self):
        for text in ["mp3 files", "x86_64 machines", "python 3.11.2 is out", "ipv4 only", "2.5th place"]:
            self.assertIsNone(verbalize(text), text)


if __name__ == "__main__":
    unittest.main()
