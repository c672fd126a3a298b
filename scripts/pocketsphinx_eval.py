#!/usr/bin/env python3
"""PocketSphinx 5 (PyPI `pocketsphinx`, its bundled en-US model) on a Hark manifest: the peer that
issue 4 measures Hark against, on the same audio.

    pip install pocketsphinx
    scripts/pocketsphinx_eval.py data/corpus/dev.jsonl [--limit N]

Modes: its language model on every utterance; a digit grammar (JSGF) on the digit strings; the
command list (the same file Hark's --phrases gets) as a grammar on the commands; with --keyword, its
keyphrase search on every utterance (recall on utterances holding the keyword, false alarms per
hour on the rest, as `hark eval` counts them; --kws-threshold A,B,C sweeps the threshold); with
--numbers WORDS.txt, a grammar of those words in any sequence on the 'numbers' category. Clips below
16 kHz are resampled to it. Prints CER/WER per category and mode, and the
real-time factor (decoding time / audio time, one core), as a markdown table.
"""
import argparse
import json
import os
import time
import wave

import numpy as np
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


def read_pcm16k(path):
    """The WAV's samples as 16-bit PCM at 16 kHz (PocketSphinx's model rate): clips recorded at a lower
    rate (the human sets keep 8, 11.025 and 22.05 kHz clips as they are) are resampled here."""
    with wave.open(path) as w:
        rate, n = w.getframerate(), w.getnframes()
        x = np.frombuffer(w.readframes(n), dtype="<i2")
        if w.getnchannels() > 1:
            x = x.reshape(-1, w.getnchannels()).mean(axis=1).astype("<i2")
    if rate != 16000:
        from scipy.signal import resample_poly
        g = np.gcd(rate, 16000)
        x = np.clip(resample_poly(x.astype(np.float64), 16000 // g, rate // g), -32768, 32767).astype("<i2")
    return x.tobytes(), n / rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--commands", default=os.path.join(os.path.dirname(__file__), "..", "share", "vocab", "commands.txt"))
    ap.add_argument("--keyword", help="keyphrase to spot in every utterance")
    ap.add_argument("--kws-threshold", default="1e-20",
                    help="PocketSphinx's keyphrase threshold; several, comma-separated, give one line each "
                         "(a sweep: choose the threshold on dev, report it on test)")
    ap.add_argument("--numbers", help="word list (one a line): its words in any sequence as a grammar on the "
                                      "'numbers' category, as Hark's --words does")
    ap.add_argument("--no-transcribe", action="store_true", help="keyword mode only")
    ap.add_argument("--lm-every", type=int, default=1,
                    help="language-model mode on every Nth utterance only (a systematic sample, when CPU is short: "
                         "it costs about 1 s per second of audio); the grammar and keyword modes still see all")
    ap.add_argument("--tail-padding", type=float, default=0.5,
                    help="seconds of silence appended to every utterance, as `hark eval` and the recognizer do "
                         "(without it PocketSphinx's keyphrase search misses keywords that end an utterance)")
    a = ap.parse_args()
    base = os.path.dirname(os.path.abspath(a.manifest))
    rows = [json.loads(l) for l in open(a.manifest)][: a.limit]
    thresholds = [float(t) for t in a.kws_threshold.split(",")]
    d = Decoder(samprate=16000, loglevel="FATAL")
    # A grammar may only use words in PocketSphinx's dictionary.
    all_commands = sorted({l.split("#")[0].strip() for l in open(a.commands)} - {""})
    commands = [c for c in all_commands if all(d.lookup_word(w) for w in c.split())]
    if len(commands) < len(all_commands):
        print(f"commands outside PocketSphinx's dictionary (decoded with its language model only): "
              f"{sorted(set(all_commands) - set(commands))}\n")
    d.add_jsgf_string("digits", "#JSGF V1.0;\ngrammar digits;\npublic <d> = ( " + " | ".join(DIGITS) + " )+ ;\n")
    if commands:
        d.add_jsgf_string("commands", "#JSGF V1.0;\ngrammar commands;\npublic <c> = " + " | ".join(f"( {c} )" for c in commands) + " ;\n")
    number_words = []
    if a.numbers:
        all_numbers = sorted({l.split("#")[0].strip() for l in open(a.numbers)} - {""})
        number_words = [w for w in all_numbers if d.lookup_word(w)]
        if len(number_words) < len(all_numbers):
            print(f"number words outside PocketSphinx's dictionary (left out of its grammar): "
                  f"{sorted(set(all_numbers) - set(number_words))}\n")
        d.add_jsgf_string("numbers", "#JSGF V1.0;\ngrammar numbers;\npublic <n> = ( " + " | ".join(number_words) + " )+ ;\n")
    lm_search = d.current_search()
    if a.keyword:
        for i, t in enumerate(thresholds):
            d.config["kws_threshold"] = t
            d.add_keyphrase(f"keyword{i}", a.keyword)
    kws = [{"occurrences": 0, "detected": 0, "false": 0, "other_seconds": 0.0, "seconds": 0.0, "time": 0.0} for _ in thresholds]
    stats = {}                 # (category, mode) -> [char errors, chars, word errors, words, seconds, decode time]
    for index, r in enumerate(rows):
        path = r["audio"] if r["audio"].startswith("/") else os.path.join(base, r["audio"])
        pcm, seconds = read_pcm16k(path)
        pcm += bytes(2 * int(a.tail_padding * 16000))
        for i, kw in enumerate(kws if a.keyword else []):
            d.activate_search(f"keyword{i}")
            t = time.process_time()
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            kw["time"] += time.process_time() - t
            kw["seconds"] += seconds
            hits = sum(1 for seg in (d.seg() or []) if seg.word.split("(")[0] == a.keyword)
            present = f" {' '.join(r['text'].split())} ".count(f" {a.keyword} ")
            kw["occurrences"] += present
            kw["detected"] += min(hits, present)
            kw["false"] += max(0, hits - present)
            if present == 0:
                kw["other_seconds"] += seconds
        if a.no_transcribe:
            continue
        modes = [("language model", lm_search)] if index % a.lm_every == 0 else []
        if r["category"] == "digits":
            modes.append(("digit grammar", "digits"))
        if r["category"] == "commands" and r["text"] in commands:
            modes.append(("command grammar", "commands"))
        if r["category"] == "numbers" and number_words:
            modes.append(("number grammar", "numbers"))
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
    print(f"PocketSphinx on {a.manifest} ({len(rows)} utterances"
          + (f"; language model on every {a.lm_every}th" if a.lm_every > 1 else "") + ")\n")
    print("| category | mode | CER | WER | real-time factor |\n|---|---|---|---|---|")
    for (category, mode), s in sorted(stats.items()):
        print(f"| {category} | {mode} | {100 * s[0] / max(s[1], 1):.1f}% | {100 * s[2] / max(s[3], 1):.1f}% | {s[5] / s[4]:.3f} |")
    if a.keyword:
        print()
    for t, kw in zip(thresholds, kws if a.keyword else []):
        hours = kw["other_seconds"] / 3600
        print(f"keyphrase '{a.keyword}' threshold {t:g}: recall {kw['detected']}/{kw['occurrences']}"
              f" = {100 * kw['detected'] / max(kw['occurrences'], 1):.1f}%, false alarms {kw['false']} in {hours:.2f} h"
              f" = {kw['false'] / max(hours, 1e-9):.2f} per hour, real-time factor {kw['time'] / max(kw['seconds'], 1e-9):.3f}")


if __name__ == "__main__":
    main()
