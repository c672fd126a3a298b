#!/usr/bin/env python3
"""Rewrites manifests, word lists and keywords into phonemes, for the phoneme-vs-character
comparison of MODEL.md ("Why characters").

    scripts/phonemize.py OUT_DIR --manifest data/corpus14/train.jsonl ... \
        [--list share/vocab/digits.txt ...] [--keyword "okay robot"]

Every word gets one pronunciation, espeak-ng's en-us one (`espeak-ng -x`, stress marks dropped),
looked up word by word so that a word list and a transcript spell a word the same way. Each espeak
phoneme becomes one character, so Hark's character machinery (TokenSet, CTC, the beam search's word
and phrase lists, the keyword spotter) runs on phonemes unchanged, and word error rates stay word
error rates (a word is its pronunciation; homophones count as the same word, which favours the
phoneme model slightly on open vocabulary).

The first manifest should be the training set: its phoneme counts fix the mapping.
Writes OUT_DIR/<name>.jsonl for every manifest (audio paths absolute, "text" in phoneme characters,
"words" the original text), OUT_DIR/<name> for every list, OUT_DIR/train-config.json (the token set,
for `hark train --config`), OUT_DIR/phonemes.tsv (espeak symbol, character, count) and
OUT_DIR/keywords.txt.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

from textnorm import normalize

# Characters that lowercasing leaves alone (TokenSet normalizes text to lowercase), readable ones
# first. The most frequent phonemes get the first ones.
POOL = list("abcdefghijklmnopqrstuvwxyz") + list("æðŋɑɐɒɔəɛɜɪʊʌʃʒθɹɾʔçɣɫɬɲʎʝ") + list("0123456789")


# espeak's allophones and variants folded into one phoneme each (a ~45-phoneme set, like CMUdict's);
# "_" (a pause inside roman numerals) and ";" (palatalization) are dropped.
FOLD = {"@2": "@", "@5": "@", "@-": "@", "I#": "I", "I2": "I", "t#": "t", "t2": "t", "?": "t", "i@3": "i@",
        "aI3": "aI@", "a#": "a", "aa": "a", "O2": "0", "r-": "r", "n-": "n", "o": "oU", "A~": "A:", "O~": "0",
        "_": "", "_:": "", "_!": "", "_|": "", ";": ""}


def pronounce(words):
    """espeak-ng pronunciations, one list of symbols per word, in chunks so a line always maps to
    its word (checked)."""
    result = {}
    words = sorted(words)
    for start in range(0, len(words), 400):
        chunk = words[start:start + 400]
        out = subprocess.run(["espeak-ng", "-v", "en-us", "-q", "-x", "--sep= "],
                             input="\n".join(chunk) + "\n", capture_output=True, text=True, check=True).stdout
        lines = [l for l in out.split("\n") if l.strip()]
        if len(lines) != len(chunk):  # a word espeak split into clauses: one call each
            lines = [subprocess.run(["espeak-ng", "-v", "en-us", "-q", "-x", "--sep= ", w], capture_output=True,
                                    text=True, check=True).stdout.replace("\n", " ") for w in chunk]
        for w, line in zip(chunk, lines):
            symbols = [FOLD.get(s, s) for s in (s.replace("'", "").replace(",", "") for s in line.split())]
            result[w] = [s for s in symbols if s]
            if not result[w] and any(c.isalnum() for c in w):
                sys.exit(f"phonemize: espeak-ng gave no phonemes for '{w}'")
    return result


def lines(path, option):
    """The lines of an input file, or an exit that names the option and the file."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        sys.exit(f"phonemize: {option} {path}: {e.strerror if isinstance(e, OSError) else 'not UTF-8 text'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--manifest", action="append", default=[])
    ap.add_argument("--list", action="append", default=[])
    ap.add_argument("--keyword", action="append", default=[])
    ap.add_argument("--mapping", help="phonemes.tsv of an earlier run: reuse its phoneme → character mapping")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    manifests = {}
    for m in a.manifest:
        base = os.path.dirname(os.path.abspath(m))
        try:
            rows = [json.loads(l) for l in lines(m, "--manifest") if l.strip()]
        except json.JSONDecodeError as e:
            sys.exit(f"phonemize: --manifest {m}:{e.lineno}: not JSON")
        for r in rows:
            if not r["audio"].startswith("/"):
                r["audio"] = os.path.join(base, r["audio"])
        manifests[m] = rows
    lists = {l: [normalize(x.split("#")[0]) for x in lines(l, "--list")] for l in a.list}
    lists = {l: [x for x in xs if x] for l, xs in lists.items()}
    texts = [normalize(r["text"]) for rows in manifests.values() for r in rows]
    texts += [x for xs in lists.values() for x in xs] + [normalize(k) for k in a.keyword]
    words = {w for t in texts for w in t.split()}
    lexicon = pronounce(words)

    # The first manifest (the training set) alone orders the phonemes, so the phoneme → character
    # mapping, and with it the token set, is the same whatever other manifests come along: a test
    # set phonemized later matches a model trained on an earlier run.
    counts = collections.Counter()
    for r in manifests[a.manifest[0]] if a.manifest else []:
        for w in normalize(r["text"]).split():
            counts.update(lexicon[w])
    symbols = [s for s, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    symbols += sorted({s for t in texts for w in t.split() for s in lexicon[w]} - set(symbols))
    if a.mapping:  # an earlier run's mapping, so that new sets match a model already trained
        mapped = [l.split("\t") for l in lines(a.mapping, "--mapping")][1:]
        known = [r[0] for r in mapped]
        missing = sorted(set(symbols) - set(known))
        if missing:
            sys.exit(f"phonemize: {a.mapping} has no character for the phonemes {' '.join(missing)}")
        counts = collections.Counter({s: counts[s] for s in known})
        symbols = known
    if len(symbols) > len(POOL) and not a.mapping:
        sys.exit(f"phonemize: {len(symbols)} phonemes, only {len(POOL)} characters to map them to")
    char = {r[0]: r[1] for r in mapped} if a.mapping else dict(zip(symbols, POOL))

    def spell(text):  # a "word" espeak does not pronounce (a lone apostrophe) is dropped
        return " ".join("".join(char[s] for s in lexicon[w]) for w in normalize(text).split() if lexicon[w])

    for m, rows in manifests.items():
        with open(os.path.join(a.out, os.path.basename(m)), "w") as f:
            for r in rows:
                r["words"] = r["text"]
                r["text"] = spell(r["text"])
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    for l, xs in lists.items():
        with open(os.path.join(a.out, os.path.basename(l)), "w") as f:
            f.writelines(spell(x) + "\n" for x in xs)
    with open(os.path.join(a.out, "keywords.txt"), "w") as f:
        f.writelines(spell(k) + "\n" for k in a.keyword)
    with open(os.path.join(a.out, "phonemes.tsv"), "w") as f:
        f.write("espeak\tcharacter\tcount\n")
        f.writelines(f"{s}\t{char[s]}\t{counts[s]}\n" for s in symbols)
    with open(os.path.join(a.out, "train-config.json"), "w") as f:
        json.dump({"tokens": [" "] + [char[s] for s in symbols]}, f, ensure_ascii=False)
    print(f"phonemize: {len(words)} words, {len(symbols)} phonemes; wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
