"""Hark's one text normalization, for the Python scripts: exactly Swift's `TokenSet.normalize`
(Sources/Decoding/TokenSet.swift), which every transcript, keyword and vocabulary word goes
through before it is spelled in tokens.

The rule: lowercase, then split at whitespace, then join the pieces with one space (so runs of
whitespace become one space and the ends are trimmed). Three places where Python's built-ins
differ from Swift's, and how this module follows Swift:

- Lowercasing is per character, without context: Swift's `lowercased()` maps each scalar alone,
  so a final capital sigma becomes σ, where Python's `str.lower()` gives ς at the end of a word.
- Whitespace is Unicode's White_Space property (Swift's `isWhitespace`), not `str.isspace()`,
  which also counts the ASCII separators U+001C–U+001F.
- Swift splits a string of Characters (extended grapheme clusters): a space followed by a
  combining mark (or a joiner, or a spacing mark) is one Character, whitespace as a whole, and is
  dropped with its marks. Control characters (tab, newline, CR LF, U+0085, U+2028, U+2029) never
  take marks, so the marks after them stay.

Tests/DecodingTests/Fixtures/normalization.json holds tricky strings with Swift's answers; the
Swift suite (DecodingTests) and scripts/test_textnorm.py both check them.
"""

import unicodedata

# Unicode's White_Space property (PropList.txt), which Swift's Character.isWhitespace tests.
WHITE_SPACE = frozenset(
    [chr(c) for c in range(0x09, 0x0E)] + [" ", "\u0085", "\u00a0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)] + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"])
# White_Space characters that are grapheme Controls: a cluster never extends past them.
CONTROLS = frozenset([chr(c) for c in range(0x09, 0x0E)] + ["\u0085", "\u2028", "\u2029"])


def _extends(c):
    """Whether `c` joins the grapheme cluster before it (Grapheme_Cluster_Break Extend, ZWJ or
    SpacingMark): combining and enclosing marks, spacing marks, the joiners, emoji modifiers, tags,
    the halfwidth kana sound marks."""
    cp = ord(c)
    return (unicodedata.category(c) in ("Mn", "Me", "Mc") or c in "\u200c\u200d\uff9e\uff9f"
            or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F)


def normalize(text):
    """TokenSet.normalize: lowercase, runs of whitespace as one space, trimmed."""
    lowered = "".join(c.lower() for c in text)
    words, word, i = [], [], 0
    while i < len(lowered):
        c = lowered[i]
        i += 1
        if c in WHITE_SPACE:
            if c not in CONTROLS:
                while i < len(lowered) and _extends(lowered[i]):
                    i += 1
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(c)
    if word:
        words.append("".join(word))
    return " ".join(words)
