#!/usr/bin/env python3
"""Writes a word bigram language model in ARPA format from example sentences, for `--lm`.

    scripts/make_arpa.py SENTENCES.txt > model.arpa

One sentence per line (`#` comments). Absolute discounting (D = 0.5) with back-off to unigrams
interpolated with a uniform floor, so every word of the text can follow every other at some
cost. For real vocabularies use an LM toolkit (KenLM's lmplz, SRILM); Hark reads their ARPA files.
"""
import collections
import math
import sys

D = 0.5
lines = [l.split("#")[0].split() for l in open(sys.argv[1], encoding="utf-8")]
sentences = [["<s>"] + l + ["</s>"] for l in lines if l]
uni = collections.Counter(w for s in sentences for w in s[1:])
bi = collections.Counter((a, b) for s in sentences for a, b in zip(s, s[1:]))
vocab = sorted(set(uni) | {"<s>"})
total = sum(uni.values())
p_uni = {w: 0.9 * uni[w] / total + 0.1 / len(vocab) for w in vocab}
p_uni["<s>"] = 0.1 / len(vocab)
follow = collections.defaultdict(list)
for (a, b), c in bi.items():
    follow[a].append((b, c))
out = ["\\data\\", f"ngram 1={len(vocab)}", f"ngram 2={len(bi)}", "", "\\1-grams:"]
backoff = {}
for a in vocab:
    seen = follow.get(a, [])
    n = sum(c for _, c in seen)
    if n == 0:
        backoff[a] = 0.0
        continue
    left = D * len(seen) / n                       # probability mass freed by discounting
    rest = 1 - sum(p_uni[b] for b, _ in seen)
    backoff[a] = math.log10(left / rest)
for w in vocab:
    out.append(f"{math.log10(p_uni[w]):.5f}\t{w}" + (f"\t{backoff[w]:.5f}" if w != "</s>" else ""))
out += ["", "\\2-grams:"]
for (a, b), c in sorted(bi.items()):
    n = sum(x for _, x in follow[a])
    out.append(f"{math.log10((c - D) / n + D * len(follow[a]) / n * p_uni[b]):.5f}\t{a} {b}")
out += ["", "\\end\\"]
print("\n".join(out))
