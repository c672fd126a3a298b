#!/usr/bin/env python3
"""Compares two models on the same clips, with the noise of the comparison: per category, the error
rate of each and a paired bootstrap 95% interval of the difference, resampling clips.

    hark eval SET.jsonl --model A ... --details a.jsonl
    hark eval SET.jsonl --model B ... --details b.jsonl
    scripts/human/paired.py a.jsonl b.jsonl

A category decoded with a vocabulary (its "constrained" hypothesis is there) is scored by word error
rate of that hypothesis; any other category by the greedy hypothesis's character error rate, the
figures `hark eval` prints; "all (greedy)" is every clip's greedy character error rate (the figure a
training run's dev half picks its epoch by). "lists" pools the vocabulary categories: the mean that MODEL.md's dev rule
reads. The human dev half has 59 numbers clips, so a difference of 5 points there is often noise;
this prints how much.
"""
import argparse
import collections
import json
import random
import sys


def edits(ref, hyp):
    """Levenshtein distance between two sequences."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[:], i
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return row[-1]


def load(path, lists):
    """audio → (category, errors, reference length, greedy character errors, reference characters):
    the errors are words of the constrained hypothesis for a category in `lists`, characters of the
    greedy one otherwise."""
    clips = {}
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    x = json.loads(line)
                    ref, category, greedy = x["reference"], x["category"], x["greedy"]
                    spelled = x.get("spelled", ref)  # a phoneme model's greedy output is scored in phonemes
                    chars = edits(list(spelled), list(greedy))
                    if category in lists:
                        scored = edits(ref.split(), x["constrained"].split()), len(ref.split())
                    else:
                        scored = chars, len(spelled)
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as e:
                    sys.exit(f"paired: {path}:{number}: not a `hark eval --details` line ({e!r})")
                clips[x["audio"]] = (category, *scored, chars, len(spelled))
    except OSError as e:
        sys.exit(f"paired: {path}: {e.strerror}")
    return clips


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="`hark eval --details` of the first model")
    ap.add_argument("b", help="… of the second, on the same manifest")
    ap.add_argument("--lists", default="numbers,commands,digits",
                    help="categories decoded with a word or phrase list (default: %(default)s)")
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.resamples < 100:
        ap.error(f"--resamples must be 100 or more, not {a.resamples}")
    lists = {c for c in a.lists.split(",") if c}
    first, second = load(a.a, lists), load(a.b, lists)
    if first.keys() != second.keys():
        sys.exit(f"paired: {a.a} and {a.b} are not the same clips "
                 f"({len(first.keys() - second.keys())} only in the first, {len(second.keys() - first.keys())} only in the second)")
    rows = collections.defaultdict(list)
    # A rate is errors over the reference's length; the two files must agree on that length per clip
    # (they do for word-scored lists whatever the tokens; a character model's and a phoneme model's
    # references differ in characters, so those rows are not comparable and are not printed as numbers).
    differ = set()
    for audio, (category, errors, length, chars, reference) in first.items():
        rows[category].append((errors, second[audio][1], length))
        rows["all (greedy)"].append((chars, second[audio][3], reference))
        if second[audio][2] != length:
            differ.add(category)
        if second[audio][4] != reference:
            differ.add("all (greedy)")
    pooled = [r for c in sorted(lists) for r in rows.get(c, [])]
    if pooled:
        rows["lists"] = pooled
        if differ & lists:
            differ.add("lists")
    rng = random.Random(a.seed)
    print(f"{'category':12s} {'clips':>5s} {'unit':>5s} {'A':>7s} {'B':>7s} {'B − A':>7s}   95% interval of B − A")
    for category, clips in sorted(rows.items()):
        if category in differ:
            print(f"{category:12s} {len(clips):5d}   not comparable: the references differ in length (other tokens?)")
            continue
        total = sum(r[2] for r in clips) or 1
        diff = 100 * (sum(r[1] for r in clips) - sum(r[0] for r in clips)) / total
        draws = []
        for _ in range(a.resamples):
            sample = [clips[rng.randrange(len(clips))] for _ in clips]
            n = sum(r[2] for r in sample) or 1
            draws.append(100 * (sum(r[1] for r in sample) - sum(r[0] for r in sample)) / n)
        draws.sort()
        low, high = draws[int(0.025 * len(draws))], draws[int(0.975 * len(draws)) - 1]
        unit = "word" if category in lists or category == "lists" else "char"
        print(f"{category:12s} {len(clips):5d} {unit:>5s} {100 * sum(r[0] for r in clips) / total:6.2f}% "
              f"{100 * sum(r[1] for r in clips) / total:6.2f}% {diff:+7.2f}   [{low:+.2f}, {high:+.2f}]")


if __name__ == "__main__":
    main()
