#!/usr/bin/env python3
"""How human does each training voice sound? The Whisper tiny.en checker's word error rate per voice
group, and the sampling weights `--mix people` draws voices with.

    scripts/augment/voice_wer.py [--n 30] [--n-kokoro 20] [--jobs 2] [--seed 1] [--out voice_weights.json]

Every group says the same N training texts (digits, commands, words, sentences in the corpus's mix),
clean, at 16 kHz, as scripts/synth.py makes them; the checker transcribes each utterance. Per group it
reports the corpus WER (also with each utterance's errors capped at its word count: one hallucinated
loop must not outweigh a voice's other utterances), the share of multi-word utterances with WER > 0.5
(what `--check-wer 0.5` would drop: the check skips single words, which tiny.en gets wrong without
context whoever says them),
and the CPU seconds per utterance of synthesis and of the check. The weight of a group is
exp(-WER / 0.15): a voice the recognizer understands as well as tiny.en understands people
(WER ~0.05) weighs ~0.7, one with WER 0.3 weighs 0.14, one with 0.6 weighs 0.02. The JSON it writes
is what pipeline.py reads; it prints the table for MODEL.md. The weight uses the capped WER.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import synth  # noqa: E402
import pipeline  # noqa: E402
import voices  # noqa: E402

GROUPS = ([f"espeak-ng:{a}" for a in synth.ACCENTS] + [f"flite:{v}" for v in synth.FLITE_TRAIN]
          + [f"festival:{v}" for v in synth.FESTIVAL_TRAIN]
          + [f"kokoro:{s}/{a}" for s in voices.KOKORO_STYLES for a in voices.KOKORO_ACCENTS]
          + [f"kokoro:blend/{a}" for a in voices.KOKORO_ACCENTS] + [f"pico:{v}" for v in voices.PICO_VOICES])


def cpu():
    """CPU seconds of this process and its finished children (espeak-ng, flite, sox run as children)."""
    import resource
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def weight(wer):
    return round(math.exp(-wer / 0.15), 4)


def measure(args):
    group, texts, seed, variants, tmp = args
    import check
    synth.VARIANTS = variants
    tmp = tempfile.mkdtemp(dir=tmp)        # festival's files are named by index: one folder per group
    rows = []
    jobs = []
    for i, (text, category) in enumerate(texts):
        rng = random.Random(f"{seed}/voice-wer/{group}/{i}")
        job = dict(pipeline.pick_voice(rng, [group], pipeline.np.ones(1), variants), index=i, seed=rng.randrange(1 << 62),
                   text=text, category=category, audio=f"{group.replace(':', '_').replace('/', '_')}-{i:03d}.wav",
                   augment=False)
        jobs.append(job)
    if group.startswith("festival:"):
        t = cpu()
        synth.festival_batch(jobs, tmp)         # one festival process for the group: its time is shared out
        fest_s = (cpu() - t) / len(jobs)
    else:
        fest_s = 0.0
    check.model()
    for job in jobs:
        t0 = cpu()
        try:
            synth.worker((job, tmp, None))
        except subprocess.CalledProcessError as e:
            print(f"voice_wer: {group}: {job['text']!r} failed: {e}", file=sys.stderr)
            continue
        t1 = cpu()
        samples = synth.read_wav(os.path.join(tmp, job["audio"]))
        wer, heard = check.score(samples, job["text"])
        t2 = cpu()
        rows.append({"group": group, "voice": job["voice"], "text": job["text"], "heard": heard, "wer": wer,
                     "words": len(job["text"].split()), "seconds": len(samples) / 16000,
                     "synth_cpu": t1 - t0 + fest_s, "check_cpu": t2 - t1})
        os.unlink(os.path.join(tmp, job["audio"]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=30, help="utterances per group")
    ap.add_argument("--n-kokoro", type=int, default=20, help="utterances per Kokoro group (slow: ~1.5 s each)")
    ap.add_argument("--groups", help="comma-separated subset of the groups")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=pipeline.WEIGHTS)
    ap.add_argument("--rows", default="/work/data/augment/voice_wer_rows.jsonl",
                    help="every utterance's transcript, appended per group as it finishes; a rerun skips the groups "
                         "already there (delete it to measure again)")
    a = ap.parse_args()
    groups = a.groups.split(",") if a.groups else GROUPS
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        ap.error(f"unknown groups {unknown}; known: {GROUPS}")
    synth.HAVE_FESTIVAL = True
    variants = synth.espeak_variants()
    words, sentences = synth.load_texts()
    n_max = max(a.n, a.n_kokoro)
    texts = []
    for i in range(n_max):
        rng = random.Random(f"{a.seed}/voice-wer-text/{i}")
        texts.append(synth.pick_text(rng, words, sentences, heldout=False))
    all_rows = []
    if os.path.exists(a.rows):
        all_rows = [r for r in map(json.loads, open(a.rows)) if r["group"] in groups]
    done = {r["group"] for r in all_rows}
    os.makedirs(os.path.dirname(os.path.abspath(a.rows)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, mp.Pool(a.jobs) as pool, open(a.rows, "a") as out:
        tasks = [(g, texts[:a.n_kokoro if g.startswith("kokoro") else a.n], a.seed, variants, tmp)
                 for g in groups if g not in done]
        tasks.sort(key=lambda t: not t[0].startswith("kokoro"))         # the slow ones first
        for rows in pool.imap_unordered(measure, tasks):
            for r in rows:
                out.write(json.dumps(r) + "\n")
            out.flush()
            all_rows += rows
            print(f"voice_wer: {rows[0]['group'] if rows else '?'} done", file=sys.stderr)
    result = {}
    print("| voice group | utterances | checker WER | WER, each utterance capped at 1 | multi-word utterances with WER > 0.5 "
          "| synth CPU s/utt | check CPU s/utt | weight |")
    print("|---|---|---|---|---|---|---|---|")
    for g in groups:
        rows = [r for r in all_rows if r["group"] == g]
        words = sum(r["words"] for r in rows)
        raw = sum(r["wer"] * r["words"] for r in rows) / words
        # a hallucinated loop ("four four four ...") is one utterance lost, not 50 words
        wer = sum(min(r["wer"], 1.0) * r["words"] for r in rows) / words
        multi = [r for r in rows if r["words"] >= 2]
        bad = sum(r["wer"] > 0.5 for r in multi) / max(1, len(multi))
        synth_s = sum(r["synth_cpu"] for r in rows) / len(rows)
        check_s = sum(r["check_cpu"] for r in rows) / len(rows)
        result[g] = {"utterances": len(rows), "words": words, "wer_raw": round(raw, 4), "wer": round(wer, 4),
                     "multiword_over_half": round(bad, 4),
                     "synth_cpu_s": round(synth_s, 4), "check_cpu_s": round(check_s, 4),
                     "audio_s": round(sum(r["seconds"] for r in rows) / len(rows), 3), "weight": weight(wer)}
        print(f"| {g} | {len(rows)} | {100 * raw:.1f}% | {100 * wer:.1f}% | {100 * bad:.0f}% of {len(multi)} | "
              f"{synth_s:.3f} | {check_s:.3f} | "
              f"{result[g]['weight']:.3f} |")
    if a.groups and os.path.exists(a.out):      # a subset updates the groups it measured
        old = json.load(open(a.out))["groups"]
        old.update(result)
        result = old
    with open(a.out + ".partial", "w") as f:
        json.dump({"measured_by": "scripts/augment/voice_wer.py", "seed": a.seed, "weight": "exp(-WER / 0.15)",
                   "groups": result}, f, indent=1, sort_keys=True)
    os.replace(a.out + ".partial", a.out)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
