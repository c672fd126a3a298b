#!/usr/bin/env python3
"""PocketSphinx 5 (PyPI `pocketsphinx`, its bundled en-US model) on a Hark manifest: the peer that
issue 4 measures Hark against, on the same audio.

    pip install pocketsphinx
    scripts/pocketsphinx_eval.py data/corpus/dev.jsonl [--limit N]

Modes: its language model on every utterance; a digit grammar (JSGF) on the digit strings; the
command list as a grammar on the commands. Prints CER/WER per category and mode, and the real-time
factor (decoding time / audio time, one core), as a markdown table.
"""
import argparse
import json
import os
import time
import wave

from pocketsphinx import Decoder

DIGITS = "zero one two three four five six seven eight nine".split()


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    base = os.path.dirname(os.path.abspath(a.manifest))
    rows = [json.loads(l) for l in open(a.manifest)][: a.limit]
    d = Decoder(samprate=16000, loglevel="FATAL")
    # A grammar may only use words in PocketSphinx's dictionary.
    all_commands = sorted({r["text"] for r in rows if r["category"] == "commands"})
    commands = [c for c in all_commands if all(d.lookup_word(w) for w in c.split())]
    if len(commands) < len(all_commands):
        print(f"commands outside PocketSphinx's dictionary (decoded with its language model only): "
              f"{sorted(set(all_commands) - set(commands))}\n")
    d.add_jsgf_string("digits", "#JSGF V1.0;\ngrammar digits;\npublic <d> = ( " + " | ".join(DIGITS) + " )+ ;\n")
    if commands:
        d.add_jsgf_string("commands", "#JSGF V1.0;\ngrammar commands;\npublic <c> = " + " | ".join(f"( {c} )" for c in commands) + " ;\n")
    lm_search = d.current_search()
    stats = {}                 # (category, mode) -> [char errors, chars, word errors, words, seconds, decode time]
    for r in rows:
        path = r["audio"] if r["audio"].startswith("/") else os.path.join(base, r["audio"])
        with wave.open(path) as w:
            pcm = w.readframes(w.getnframes())
            seconds = w.getnframes() / w.getframerate()
        modes = [("language model", lm_search)]
        if r["category"] == "digits":
            modes.append(("digit grammar", "digits"))
        if r["category"] == "commands" and r["text"] in commands:
            modes.append(("command grammar", "commands"))
        for mode, search in modes:
            d.activate_search(search)
            t = time.process_time()
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            elapsed = time.process_time() - t
            hyp = d.hyp().hypstr if d.hyp() else ""
            hyp = " ".join(w.split("(")[0] for w in hyp.split())
            s = stats.setdefault((r["category"], mode), [0, 0, 0, 0, 0.0, 0.0])
            s[0] += edit_distance(list(r["text"]), list(hyp)); s[1] += len(r["text"])
            s[2] += edit_distance(r["text"].split(), hyp.split()); s[3] += len(r["text"].split())
            s[4] += seconds; s[5] += elapsed
    print(f"PocketSphinx on {a.manifest} ({len(rows)} utterances)\n")
    print("| category | mode | CER | WER | real-time factor |\n|---|---|---|---|---|")
    for (category, mode), s in sorted(stats.items()):
        print(f"| {category} | {mode} | {100 * s[0] / max(s[1], 1):.1f}% | {100 * s[2] / max(s[3], 1):.1f}% | {s[5] / s[4]:.3f} |")


if __name__ == "__main__":
    main()
