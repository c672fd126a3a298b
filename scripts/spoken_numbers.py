"""Numbers in written English as a speaker says them, for the language model's text (issue 19).

  verbalize("In 1984 he paid $5 for 2 books, 10% off.")
    → "In nineteen eighty-four he paid five dollars for two books, ten percent off."

Text says "7" where a speaker says "seven": a language model estimated on text with its numbers
dropped has never seen "three seven nine two" or "page forty two", and dictation writes "nine to"
for "nine two". PyPI `num2words` (a maintained library: cardinals, ordinals, years) does the
spelling; this module only decides which reading a written number has:

  1,234 and 42        cardinals ("one thousand, two hundred and thirty-four", "forty-two")
  1984, 2019          years, for four digits from 1100 to 2099 ("nineteen eighty-four")
  3rd, 21st           ordinals ("third", "twenty-first")
  3.14                "three point one four"
  0042, 5551234       digit by digit when a leading zero or more than six digits says the string
                      is a code, not an amount ("zero zero four two")
  $5, 10%             "five dollars", "ten percent"

A digit left attached to letters ("mp3", "x86_64", "ipv4") has no one reading: `verbalize` returns
None and the caller drops the sentence, as it dropped every sentence with a digit before.
"""
import re

from num2words import num2words

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# A number standing alone: not inside a word, an identifier or a dotted version ("3.11.2").
NUMBER = re.compile(r"(?<![\w.])(\$)?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th)?(%)?(?![\w%]|\.\d)")


def say(match):
    dollars, whole, fraction, ordinal, percent = match.groups()
    plain = whole.replace(",", "")
    if ordinal:
        if fraction:
            return None
        words = num2words(int(plain), to="ordinal")
    elif fraction is not None:
        words = num2words(int(plain)) + " point " + " ".join(DIGITS[int(d)] for d in fraction)
    elif "," not in whole and (len(plain) > 6 or (len(plain) > 1 and plain.startswith("0"))):
        words = " ".join(DIGITS[int(d)] for d in plain)
    elif "," not in whole and len(plain) == 4 and 1100 <= int(plain) <= 2099 and not (dollars or percent):
        words = num2words(int(plain), to="year")
    else:
        words = num2words(int(plain))
    if dollars:
        words += " dollar" if plain == "1" and fraction is None else " dollars"
    if percent:
        words += " percent"
    return words


def verbalize(text):
    """`text` with every standalone number in words; None when a digit has no one reading."""
    unreadable = False

    def replace(match):
        nonlocal unreadable
        words = say(match)
        if words is None:
            unreadable = True
            return match.group(0)
        return words

    out = NUMBER.sub(replace, text)
    if unreadable or re.search(r"\d", out):
        return None
    return out
