#!/usr/bin/env python3
"""Text for Hark's word language model, and its vocabulary (run by scripts/build-lm).

  lm_corpus.py OUT_DIR VOCAB_FILE [--words N]

Writes VOCAB_FILE: the N most frequent English words of PyPI `wordfreq` (its `top_n_list('en')`,
counted over subtitles, news, books, Wikipedia and web text) that Hark's character model can spell
(a–z and apostrophe after lowercasing and stripping accents), one per line, most frequent first.

Writes into OUT_DIR, from English text that Debian packages carry (each source named in MODEL.md):
  train.txt    one sentence per line, lowercase, words outside the vocabulary as <unk>
  heldout.txt  the same for every 20th document of each source (never in train.txt)
  sources.tsv  per source: package, raw bytes read, documents, sentences and words kept (train / held out)

Numbers are written out as a speaker says them (scripts/spoken_numbers.py, with PyPI `num2words`:
"in 1984" → "in nineteen eighty-four", "$5" → "five dollars"); a sentence with a digit that has no
one reading ("mp3", "3.11.2") is dropped. A sentence is kept when it has at least 3 words, and at
most 1 word in 10 outside wordfreq's 150 000 most frequent
spellable words (this drops code, tables and pronunciation keys from the documentation sources).
Sentences seen before (fortune files repeat each other) are dropped, so held-out text does not
also sit in the training text. A fortune sentence that holds a piece which scripts/synth.py holds
out for its spoken dev and test sets (synth.py's own split and hash; it reads the fortunes and the
licences) is dropped from the training text too, so the language model has never read a sentence
the recognizer is measured on.
"""
import glob
import gzip
import html
import os
import re
import subprocess
import sys
import unicodedata

from wordfreq import top_n_list

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from synth import held_out as synth_held_out, normalize as synth_normalize   # noqa: E402
from spoken_numbers import verbalize   # noqa: E402

HOLD_OUT_EVERY = 20
WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n")


def spellable(word):
    return re.fullmatch(r"[a-z]+(?:'[a-z]+)*", word) is not None


def fold(text):
    """Lowercase, curly apostrophes straight, accents stripped (café → cafe)."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def spoken_in_tests(raw):
    """Whether `raw` holds a sentence scripts/synth.py may speak in dev or test: its pieces are cut
    at the same marks (punctuation or a line end before white space) and kept by the same rule."""
    for piece in re.split(r"[.!?;:\n]\s", raw):
        piece = synth_normalize(piece)
        if 3 <= len(piece.split()) <= 14 and len(piece) <= 90 and synth_held_out(piece):
            return True
    return False


def words_of(sentence):
    return WORD.findall(fold(sentence).replace("-", " "))


# ---- sources: each yields documents (strings) ----

def kjv():
    out = subprocess.run(["bible", "-l200", "Ge1:1-Re22:21"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if re.fullmatch(r"\s*[A-Za-z0-9 ]+\s+\d+\s*", line):           # a book and chapter heading: "Genesis 1"
            continue
        line = re.sub(r"^\s*\d+\s+", "", line)                          # the verse number: "  1 In the beginning ..."
        if line.strip():
            yield line


def fortunes():
    for path in sorted(glob.glob("/usr/share/games/fortunes/*")):
        if path.endswith((".dat", ".u8")) or "ascii-art" in path or path.endswith("/art"):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            yield from f.read().split("\n%\n")


def dictd(name):
    with gzip.open(f"/usr/share/dictd/{name}.dict.dz", "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    for entry in re.split(r"\n\s*\n", text):
        entry = re.sub(r"\\[^\\\n]*\\", " ", entry)          # gcide pronunciations: \Ab"a*cus\
        entry = re.sub(r"\[[^\]]*\]", " ", entry)             # etymologies: [L. abacus ...]
        entry = entry.replace("{", "").replace("}", "")       # italics marks
        yield entry


def python_docs():
    for path in sorted(glob.glob("/usr/share/doc/python3.11/html/_sources/**/*.rst.txt", recursive=True)):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for para in re.split(r"\n\s*\n", text):
            if para.startswith((" ", "\t", "..", ">>>", "=", "-", "*")):   # code, directives, headings
                continue
            yield re.sub(r":[a-z:]+:`([^`<]*)(<[^>]*>)?`", r"\1", para).replace("`", "")


def debian_reference():
    for path in sorted(glob.glob("/usr/share/debian-reference/*.en.html")):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        text = re.sub(r"<pre.*?</pre>", " ", text, flags=re.S)
        for para in re.findall(r"<p>(.*?)</p>", text, flags=re.S):
            yield html.unescape(re.sub(r"<[^>]+>", " ", para))


SOURCES = [
    ("fortunes", "fortunes, fortunes-min", fortunes),
    ("kjv", "bible-kjv-text (read with bible-kjv)", kjv),
    ("gcide", "dict-gcide", lambda: dictd("gcide")),
    ("devil", "dict-devil", lambda: dictd("devil")),
    ("python-doc", "python3.11-doc", python_docs),
    ("debian-reference", "debian-reference-en", debian_reference),
]


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: lm_corpus.py OUT_DIR VOCAB_FILE [--words N]")
    out_dir, vocab_path = sys.argv[1], sys.argv[2]
    size = int(sys.argv[sys.argv.index("--words") + 1]) if "--words" in sys.argv else 64000

    vocab_set = set()
    vocab = []                       # most frequent first; folding can make two entries one
    for w in top_n_list("en", 200000):
        w = fold(w)
        if spellable(w) and w not in vocab_set:
            vocab_set.add(w)
            vocab.append(w)
    known = set(vocab[:150000])
    vocab = vocab[:size]
    in_vocab = set(vocab)
    with open(vocab_path, "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in vocab))

    seen = set()
    with open(f"{out_dir}/train.txt", "w") as train, open(f"{out_dir}/heldout.txt", "w") as held, \
         open(f"{out_dir}/sources.tsv", "w") as report:
        report.write("source\tpackage\tdocuments\tsentences_train\twords_train\tsentences_heldout\twords_heldout"
                     "\tsentences_dropped_as_speech_tests\tsentences_with_numbers_written_out\n")
        for name, package, read in SOURCES:
            docs = 0
            counts = {False: [0, 0], True: [0, 0]}
            dropped = 0
            spoken = 0
            for i, doc in enumerate(read()):
                docs += 1
                heldout = i % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1
                for sentence in SENTENCE_END.split(doc):
                    written = verbalize(sentence)
                    if written is None:
                        continue
                    words = words_of(written)
                    if len(words) < 3 or sum(w not in known for w in words) * 10 > len(words):
                        continue
                    key = " ".join(words)
                    if key in seen:
                        continue
                    seen.add(key)
                    if name == "fortunes" and not heldout and spoken_in_tests(sentence):
                        dropped += 1
                        continue
                    spoken += written != sentence
                    line = " ".join(w if w in in_vocab else "<unk>" for w in words)
                    (held if heldout else train).write(line + "\n")
                    counts[heldout][0] += 1
                    counts[heldout][1] += len(words)
            report.write(f"{name}\t{package}\t{docs}\t{counts[False][0]}\t{counts[False][1]}\t"
                         f"{counts[True][0]}\t{counts[True][1]}\t{dropped}\t{spoken}\n")
            print(f"lm_corpus: {name}: {docs} documents, {counts[False][1]} words train, "
                  f"{counts[True][1]} held out, {dropped} sentences dropped as speech test text, "
                  f"{spoken} kept with their numbers written out", file=sys.stderr)


if __name__ == "__main__":
    main()
