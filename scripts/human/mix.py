#!/usr/bin/env python3
"""The training mix: synthetic speech with a band-limited share, plus the human speech oversampled.

    scripts/human/mix.py OUT.jsonl --synthetic CORPUS/train.jsonl --human HUMAN/train.jsonl
                         [--human-times 3] [--human-speeds 1] [--band-limit-share 0.5] [--channel-share 0]
                         [--channel-cache DIR] [--jobs 2] [--seed 4]

The human training speech is 11 kHz audio (its bandwidth ends near 5.5 kHz), the synthetic speech is
16 kHz. So that the network cannot tell them apart by the empty top of the spectrum, a share of the
synthetic utterances (chosen by a hash of their path and the seed) is resampled to 11 025 Hz and back
to 16 kHz by sox's band-limited `rate` effect, the path the game speech takes through libsoxr; the
copies go into `<corpus>/band-limited/`, written once (atomically) and reused. The human clips appear
`--human-times` times each (real speech is scarce: oversampling is the weight it gets in an epoch).
With `--human-speeds 1,0.9,1.1` the k-th copy is played at the k-th speed (cycling), tempo and pitch
together (sox `speed`, back to the clip's own rate), as Kaldi perturbs its training speech: copies of
one voice become three slightly different voices. Those copies go into `<human>/speed-<f>/`, written
once (atomically) and reused.

With `--channel-share S` a share S of the synthetic utterances (another hash) is heard through a
user's channel instead: the people mix's channel stage (`scripts/augment/pipeline.py`: a room of the
simulated bank, a microphone or the telephone band with GSM, a low-bit-rate codec, a level from
whisper-quiet to clipped; noise only where the utterance has none yet, so noise is not stacked), with
the 11 kHz low-pass in the same `--band-limit-share` of them. This gives the 14-hour corpus the rooms
and channels that only the small, slow people mix had. The copies go into `<corpus>/channel-<seed>/`,
written once (atomically) and reused; the room and noise banks are cached in `--channel-cache`.

Every audio path in OUT.jsonl is absolute, so the mix can live anywhere. Prints the hours of each part.
"""
import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import subprocess
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "augment"))
import clips  # noqa: E402

BAND_LIMIT_RATE = 11025


def read_manifest(path):
    """Rows of a JSONL manifest with `audio` made absolute (relative paths are to the manifest's folder)."""
    base = os.path.dirname(os.path.abspath(path))
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                audio = row["audio"]
            except (ValueError, KeyError) as e:
                raise SystemExit(f"mix: {path} line {n}: not a manifest row ({e})")
            row["audio"] = audio if os.path.isabs(audio) else os.path.join(base, audio)
            rows.append(row)
    if not rows:
        raise SystemExit(f"mix: {path} has no rows")
    return rows


def chosen(path, seed, share):
    """True for about `share` of all paths, the same ones for the same seed on every machine."""
    digest = hashlib.sha256(f"{seed}:{os.path.basename(path)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def band_limit(job):
    """Writes `dst`, `src` through 11 025 Hz and back to 16 kHz, unless it exists already."""
    src, dst = job
    if os.path.exists(dst):
        return
    tmp = dst + ".tmp.wav"
    subprocess.run(["sox", "-V1", src, "-b", "16", tmp, "rate", "-h", str(BAND_LIMIT_RATE), "rate", "-h", "16000"],
                   check=True)
    os.replace(tmp, dst)


def read_wav16(path):
    """Float samples of a 16-bit mono WAV, and its rate."""
    with wave.open(path) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SystemExit(f"mix: {path}: not 16-bit mono")
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
        return x, w.getframerate()


def through_channel(job):
    """Writes `dst`: `src` through a channel drawn from (seed, file name), unless it exists already.
    Returns the channel's description (read back from a sidecar when the copy was made before)."""
    src, dst, seed, opts = job
    note = dst + ".txt"
    if os.path.exists(dst) and os.path.exists(note):
        return dst, open(note).read()
    import pipeline
    x, rate = read_wav16(src)
    if rate != 16000:
        raise SystemExit(f"mix: {src}: the channel stage works at 16 kHz, not {rate} Hz")
    rng = random.Random(f"{seed}/channel/{os.path.basename(src)}")
    y, desc = pipeline.channel_stage(rng, x, opts)
    # The level stage keeps y inside ±1 (clipped utterances are clipped there).
    clips.write_wav(dst, np.round(np.clip(y, -1, 32767 / 32768) * 32768).astype("<i2").tobytes(), rate)
    with open(note + ".tmp", "w") as f:
        f.write(desc)
    os.replace(note + ".tmp", note)
    return dst, desc


def change_speed(job):
    """Writes `dst`, `src` played `factor` times as fast (tempo and pitch), unless it exists already."""
    src, dst, factor = job
    if os.path.exists(dst):
        return
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = dst + ".tmp.wav"
    rate = subprocess.run(["soxi", "-r", src], check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["sox", "-V1", src, "-b", "16", tmp, "speed", str(factor), "rate", "-h", rate], check=True)
    os.replace(tmp, dst)


def speeds(text):
    """'1,0.9,1.1' -> [1.0, 0.9, 1.1], each in 0.5...2."""
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise SystemExit(f"mix: --human-speeds takes factors separated by commas, not '{text}'")
    for v in values:
        if not 0.5 <= v <= 2:
            raise SystemExit(f"mix: --human-speeds: {v} is outside 0.5...2")
    return values


def perturbed(human, human_manifest, times, factors, jobs):
    """`times` copies of the human rows, the k-th at speed factors[k % len(factors)]."""
    base = os.path.dirname(os.path.abspath(human_manifest))
    rows, work = [], []
    for k in range(times):
        f = factors[k % len(factors)]
        for row in human:
            row = dict(row)
            if f != 1:
                rel = os.path.relpath(row["audio"], base)
                dst = os.path.join(base, f"speed-{f:g}", rel if not rel.startswith("..") else os.path.basename(rel))
                work.append((row["audio"], dst, f))
                row["audio"] = dst
                row["augment"] = (row.get("augment", "") + f" speed={f:g}").strip()
                if "duration" in row:
                    row["duration"] = round(float(row["duration"]) / f, 4)
            rows.append(row)
    todo = list(dict.fromkeys(work))            # copies at a speed that recurs are made once
    with mp.Pool(jobs) as pool:
        for i, _ in enumerate(pool.imap_unordered(change_speed, todo, chunksize=32), 1):
            if i % 2000 == 0:
                print(f"mix: speed-perturbed {i}/{len(todo)}", file=sys.stderr)
    return rows


def channeled(synthetic, a):
    """Puts `--channel-share` of the synthetic rows through the channel stage (in place: their audio
    becomes the copy, `channel` says which channel)."""
    if a.channel_share <= 0:
        return
    corpus = os.path.dirname(os.path.abspath(a.synthetic))
    out_dir = os.path.join(corpus, f"channel-{a.seed}")
    os.makedirs(out_dir, exist_ok=True)
    cache = a.channel_cache or os.path.join(os.path.dirname(corpus), "augment")
    jobs, picked = [], []
    for row in synthetic:
        if chosen(row["audio"], f"channel/{a.seed}", a.channel_share):
            noisy = "snr=" in row.get("augment", "")
            opts = {"cache": cache, "lowpass_share": a.band_limit_share, "noise_share": 0.0 if noisy else 0.7}
            jobs.append((row["audio"], os.path.join(out_dir, os.path.basename(row["audio"])), a.seed, opts))
            picked.append(row)
    with mp.Pool(a.jobs) as pool:
        for i, (row, (dst, desc)) in enumerate(zip(picked, pool.imap(through_channel, jobs, chunksize=16)), 1):
            row["audio"], row["channel"] = dst, desc
            if "lowpass=5.5k" in desc:
                row["augment"] = (row.get("augment", "") + " band-limit=11025").strip()
            if i % 2000 == 0:
                print(f"mix: through a channel {i}/{len(jobs)}", file=sys.stderr)


def seconds(row):
    return float(row.get("seconds", row.get("duration", 0.0)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--synthetic", required=True)
    p.add_argument("--human", required=True)
    p.add_argument("--human-times", type=int, default=3)
    p.add_argument("--human-speeds", default="1")
    p.add_argument("--band-limit-share", type=float, default=0.5)
    p.add_argument("--channel-share", type=float, default=0.0)
    p.add_argument("--channel-cache", help="the room and noise banks' folder [CORPUS/../augment]")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=4)
    a = p.parse_args()
    if not 0 <= a.band_limit_share <= 1:
        raise SystemExit(f"mix: --band-limit-share must be in 0...1, not {a.band_limit_share}")
    if not 0 <= a.channel_share <= 1:
        raise SystemExit(f"mix: --channel-share must be in 0...1, not {a.channel_share}")
    if not 0 <= a.human_times <= 100:
        raise SystemExit(f"mix: --human-times must be in 0...100, not {a.human_times}")

    factors = speeds(a.human_speeds)
    synthetic = read_manifest(a.synthetic)
    human = read_manifest(a.human)
    out_dir = os.path.join(os.path.dirname(os.path.abspath(a.synthetic)), "band-limited")
    os.makedirs(out_dir, exist_ok=True)
    channeled(synthetic, a)
    jobs = []
    for row in synthetic:
        if "channel" in row:
            continue
        if chosen(row["audio"], a.seed, a.band_limit_share):
            dst = os.path.join(out_dir, os.path.basename(row["audio"]))
            jobs.append((row["audio"], dst))
            row["audio"] = dst
            row["augment"] = (row.get("augment", "") + f" band-limit={BAND_LIMIT_RATE}").strip()
    with mp.Pool(a.jobs) as pool:
        for i, _ in enumerate(pool.imap_unordered(band_limit, jobs, chunksize=32), 1):
            if i % 2000 == 0:
                print(f"mix: band-limited {i}/{len(jobs)}", file=sys.stderr)
    copies = perturbed(human, a.human, a.human_times, factors, a.jobs)
    rows = synthetic + copies
    clips.write_jsonl(a.out, rows)
    hs = sum(map(seconds, synthetic)) / 3600
    hb = sum(seconds(r) for r in synthetic if "band-limit" in r.get("augment", "")) / 3600
    hh = sum(map(seconds, human)) / 3600
    hc = sum(map(seconds, copies)) / 3600
    hch = sum(seconds(r) for r in synthetic if "channel" in r) / 3600
    at = "" if factors == [1] else " at speeds " + ", ".join(f"{f:g}" for f in factors[:a.human_times])
    print(f"{a.out}: {len(rows)} rows; synthetic {hs:.2f} h ({hb:.2f} h band-limited to "
          f"{BAND_LIMIT_RATE // 2} Hz, {hch:.2f} h through a channel), human {hh:.2f} h × {a.human_times}{at} = {hc:.2f} h")


if __name__ == "__main__":
    main()
