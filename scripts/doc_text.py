#!/usr/bin/env python3
"""Prose from the installed packages' documentation, for false-alarm tests only.

    scripts/doc_text.py > data/doc-text.txt
    scripts/synth.py OUT --keyword "okay robot" --negative-text data/doc-text.txt --only kw-test

The held-out pool that kw-dev/kw-test draw their other speech from is small (about 260 sentences,
plus words and commands), so a false alarm on one phrase repeats in every sample that holds it.
This gives tens of thousands of different sentences instead: README, NEWS, *.txt and *.md files
under /usr/share/doc (compressed or not; copyright files left out, as they repeat the licences
the corpus trains on), split into sentences, normalized as synth.py normalizes text, 4–14 words,
without code, paths or addresses, and at most a quarter digits or single letters. synth.py drops
any that is training text. The list depends on the packages installed, so record its size with
any result. Sorted, so the same packages give the same file.
"""
import glob
import gzip
import importlib.util
import os
import re
import sys

spec = importlib.util.spec_from_file_location("synth", os.path.join(os.path.dirname(os.path.abspath(__file__)), "synth.py"))
synth = importlib.util.module_from_spec(spec)
spec.loader.exec_module(synth)

DIGITS = set(synth.DIGITS)
texts = set()
for path in glob.glob("/usr/share/doc/**/*", recursive=True):
    name = os.path.basename(path)
    if not os.path.isfile(path) or "copyright" in path or not re.search(r"(README|NEWS|\.txt|\.md)(\.gz)?$", name):
        continue
    try:
        raw = gzip.open(path, "rt", errors="ignore").read() if name.endswith(".gz") else open(path, errors="ignore").read()
    except OSError:
        continue
    for sentence in re.split(r"[.!?;:\n]\s", raw):
        if re.search(r"[/@_=<>{}\\|#*`$]|https?|\w\.\w", sentence):
            continue
        text = synth.normalize(sentence)
        words = text.split()
        if 4 <= len(words) <= 14 and len(text) <= 90 and sum(w in DIGITS or len(w) == 1 for w in words) <= len(words) / 4:
            texts.add(text)
if not texts:
    sys.exit("doc_text: no prose found under /usr/share/doc")
sys.stdout.write("\n".join(sorted(texts)) + "\n")
print(f"doc_text: {len(texts)} sentences", file=sys.stderr)
