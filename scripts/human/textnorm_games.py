"""Text normalization for the game-speech manifests (FOTAQ, Drascula).

The target alphabet is Hark's: lowercase a-z, apostrophe and single spaces.
`normalize(text)` returns `(normalized, None)` or `(None, reason)` when the text
cannot be turned into that alphabet without guessing how it was spoken; the
extractors drop those clips and count the reasons.
"""

import re
import unicodedata

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
        "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
        "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
        "eighty", "ninety"]
ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                 "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}

# Abbreviations whose spoken form is not in doubt in these games' dialogue.
ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "dr": "doctor", "ok": "okay",
                 "vs": "versus"}
# Abbreviations that could be read more than one way: the clip is dropped.
AMBIGUOUS_ABBREVIATIONS = {"st", "no", "co", "ft", "lb", "lbs", "oz", "etc"}
LEADING_ELISIONS = {"'em", "'cause", "'til", "'n", "'bout", "'round"}


# Contractions written without their apostrophe ("I DONT KNOW"); only those that
# are not also ordinary words ("its", "lets", "were", "ill" stay as they are).
MISSING_APOSTROPHE = {w.replace("'", ""): w for w in (
    "don't", "doesn't", "didn't", "isn't", "wasn't", "aren't", "weren't", "haven't",
    "hasn't", "hadn't", "couldn't", "wouldn't", "shouldn't", "can't", "won't", "i'm",
    "i've", "you're", "you've", "they're", "they've", "that's", "what's", "there's",
    "who's", "i'd", "you'd", "we've", "ain't")}


class Ambiguous(Exception):
    pass


def number_words(n):
    """Cardinal number in words, e.g. 125 -> 'one hundred twenty five'."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    for size, word in ((10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")):
        if n >= size:
            rest = n % size
            return number_words(n // size) + " " + word + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError(n)


def ordinal_words(n):
    words = number_words(n).split()
    last = words[-1]
    if last in ORDINAL_WORDS:
        words[-1] = ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _number_token(tok):
    """Spoken form of one token holding digits, or raise Ambiguous."""
    m = re.fullmatch(r"\$(\d+)", tok)
    if m:
        n = int(m.group(1))
        return number_words(n) + (" dollar" if n == 1 else " dollars")
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", tok)
    if m:
        return ordinal_words(int(m.group(1)))
    m = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(%?)", tok)
    if m:
        digits = m.group(1).replace(",", "")
        n = int(digits)
        if len(digits) > 1 and digits.startswith("0"):
            raise Ambiguous("number with leading zero")
        if "," not in m.group(1) and 1000 <= n <= 2099 and not m.group(2):
            # year-like: "1949" is said "nineteen forty nine", not "one thousand ..."
            raise Ambiguous("year-like number")
        if n > 10 ** 9:
            raise Ambiguous("huge number")
        return number_words(n) + (" percent" if m.group(2) else "")
    m = re.fullmatch(r"(\d+)s", tok)  # "the 1920s"
    if m:
        raise Ambiguous("decade")
    raise Ambiguous("number in an unusual form")


def strip_stage_directions(text):
    """Remove bracketed asides such as '(sigh)' or '[laughs]' that are not read out."""
    return re.sub(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|<[^>]*>", " ", text)


def normalize(text):
    """Return (normalized, None) or (None, reason)."""
    if text is None:
        return None, "no text"
    t = unicodedata.normalize("NFKC", text)
    t = t.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    t = t.replace("\u201c", '"').replace("\u201d", '"')
    t = strip_stage_directions(t)
    if re.search(r"[()\[\]{}<>]", t):
        return None, "unbalanced brackets"
    # accents: café -> cafe (the games' English text rarely has them)
    t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = t.replace("&", " and ")
    # decimal numbers, times and phone-like numbers have several spoken forms
    if re.search(r"\d[.:]\d", t):
        return None, "decimal or time"
    # split into tokens on whitespace and the separators that are never inside a word
    t = re.sub(r"[-\u2013\u2014_/\\]+", " ", t)
    # "YOU...SKELETON", "AHHH,,,EXCUSE": punctuation between words separates them
    # (a comma between digits, as in 1,000, does not)
    t = re.sub(r"(?<![\d\s])[.,!?;:]+(?=\w)|(?<=\w)[.,!?;:]+(?=[^\W\d])", " ", t)
    out = []
    try:
        for raw in t.split():
            tok = raw.strip("\".,!?;:*#~^=+|").lower()
            ends_with_period = raw.rstrip("\"',!?;:").endswith(".")
            if re.search(r"\d", tok):
                out.append(_number_token(tok.strip("'")))
                continue
            word = re.sub(r"[^a-z']", "", tok)
            word = re.sub(r"'{2,}", "'", word)
            # quotes around words: keep only elisions ('em, goin') as apostrophes
            if word.startswith("'") and word not in LEADING_ELISIONS:
                word = word.lstrip("'")
            if word.endswith("'") and not word.endswith("in'"):
                word = word.rstrip("'")
            if not word.strip("'"):
                continue
            if word in MISSING_APOSTROPHE:
                word = MISSING_APOSTROPHE[word]
            if word in ABBREVIATIONS and (ends_with_period or word == "ok"):
                word = ABBREVIATIONS[word]
            elif word in AMBIGUOUS_ABBREVIATIONS and ends_with_period and word != "no":
                raise Ambiguous("abbreviation")
            out.append(word)
    except Ambiguous as e:
        return None, str(e)
    norm = " ".join(out)
    norm = re.sub(r" +", " ", norm).strip()
    if not re.search(r"[a-z]", norm):
        return None, "empty after normalization"
    assert re.fullmatch(r"[a-z' ]+", norm), norm
    return norm, None
