#!/usr/bin/env python3
"""Checks scripts/synth.py end to end on a tiny corpus: manifests well formed, audio readable and
of the stated length, dev texts held out of training, and two runs with one seed byte-identical.
Prints 'synth checks: N passed, M failed' and exits non-zero on any failure."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'✔' if ok else '✘'} {name}{'' if ok else ': ' + detail}")


def synth(out):
    subprocess.run([sys.executable, os.path.join(HERE, "synth.py"), out, "--hours", "0.02", "--dev", "8", "--seed", "7"],
                   check=True, stderr=subprocess.DEVNULL)
    return {s: [json.loads(l) for l in open(os.path.join(out, f"{s}.jsonl"))] for s in ["train", "dev"]}


def digest(out, rows):
    return hashlib.sha1(b"".join(open(os.path.join(out, r["audio"]), "rb").read() for r in rows)).hexdigest()


with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
    ma, mb = synth(a), synth(b)
    check("train and dev manifests have utterances", len(ma["train"]) > 20 and len(ma["dev"]) == 8)
    keys = {"audio", "text", "category", "engine", "voice", "seconds", "augment"}
    check("every line has every field", all(set(r) == keys for s in ma.values() for r in s))
    lengths_ok = True
    for r in ma["train"] + ma["dev"]:
        with wave.open(os.path.join(a, r["audio"])) as w:
            lengths_ok &= w.getframerate() == 16000 and w.getnchannels() == 1 and abs(w.getnframes() / 16000 - r["seconds"]) < 0.01
    check("audio is 16 kHz mono and as long as the manifest says", lengths_ok)
    check("dev is flite awb only and clean", all(r["engine"] == "flite" and r["voice"] == "awb" and r["augment"] == "" for r in ma["dev"]))
    check("no dev text appears in train", not ({r["text"] for r in ma["dev"] if r["category"] != "digits"} & {r["text"] for r in ma["train"]}))
    check("the same seed gives the same manifests", ma == mb)
    check("the same seed gives the same audio bytes", digest(a, ma["train"]) == digest(b, mb["train"]))

passed = sum(results)
print(f"synth checks: {passed} passed, {len(results) - passed} failed")
sys.exit(0 if passed == len(results) else 1)
