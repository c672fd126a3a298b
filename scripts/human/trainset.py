#!/usr/bin/env python3
"""The human training set: every extracted adventure-game line except the held-out characters.

    scripts/human/trainset.py [OUT_DIR]          (default /work/data/human)

Reads what the extractors wrote (bass/all.jsonl, fotaq/all.jsonl, drascula/train.jsonl: Drascula's
lines that agree with the checker) and devtest/heldout_speakers.json (devtest.py build), and writes
OUT_DIR/train.jsonl with audio paths relative to OUT_DIR, one line per clip, and a summary of hours
per source and speaker. Refuses to write a set that shares a speaker or a clip with dev/test.
"""
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clips  # noqa: E402

SOURCES = {"bass": "all.jsonl", "fotaq": "all.jsonl", "drascula": "train.jsonl"}
KEEP = ("text", "category", "source", "speaker", "duration")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build(out_dir):
    held_path = os.path.join(out_dir, "devtest", "heldout_speakers.json")
    if not os.path.exists(held_path):
        raise SystemExit(f"{held_path} is missing: run scripts/human/devtest.py build {out_dir} first")
    held = json.load(open(held_path))
    devtest_speakers = set()
    for half in ("dev", "test"):
        for r in read_jsonl(os.path.join(out_dir, "devtest", f"{half}.jsonl")):
            devtest_speakers.add((r["source"], r["speaker"]))
    rows, dropped = [], collections.Counter()
    for source, name in SOURCES.items():
        path = os.path.join(out_dir, source, name)
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: run scripts/human/{source}.py extract {out_dir} first")
        for r in read_jsonl(path):
            if r["speaker"] in held.get(source, []):
                dropped[f"{source}: held-out {r['speaker']}"] += 1
                continue
            if (source, r["speaker"]) in devtest_speakers:
                raise SystemExit(f"{source} speaker {r['speaker']} is in dev/test but not in {held_path}")
            rows.append({"audio": os.path.join(source, r["audio"])} | {k: r[k] for k in KEEP})
    return rows, dropped


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "/work/data/human"
    rows, dropped = build(out_dir)
    clips.write_jsonl(os.path.join(out_dir, "train.jsonl"), rows, ensure_ascii=True)
    hours = collections.Counter()
    for r in rows:
        hours[r["source"]] += r["duration"] / 3600
    print(f"{out_dir}/train.jsonl: {len(rows)} clips, {sum(hours.values()):.2f} h "
          f"({', '.join(f'{s} {h:.2f} h' for s, h in sorted(hours.items()))}), "
          f"{len({(r['source'], r['speaker']) for r in rows})} named speakers or 'unknown' groups")
    for k, v in sorted(dropped.items()):
        print(f"  left out: {k}: {v} clips")


if __name__ == "__main__":
    main()
