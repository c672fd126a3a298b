#!/usr/bin/env python3
"""CPU cost of each stage of the `--mix people` corpus: utterances per second per core.

    scripts/augment/bench_stages.py [--n 40] [--cache /work/data/augment]

Runs every stage on the same N training utterances (flite, espeak-ng and Pico voices saying the
corpus's texts, 16 kHz, as synth.py makes them) in this one process and counts CPU seconds (this
process plus its children, e.g. ffmpeg), so the figures do not depend on how busy the machine is.
"""
import argparse
import os
import random
import resource
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import synth  # noqa: E402
import channel  # noqa: E402
import noise  # noqa: E402
import speakers  # noqa: E402


def cpu():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--cache", default="/work/data/augment")
    ap.add_argument("--checker", action="store_true", help="also time the Whisper check")
    a = ap.parse_args()
    synth.VARIANTS = synth.espeak_variants()
    words, sentences = synth.load_texts()
    utts = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.n):
            rng = random.Random(f"bench/{i}")
            text, category = synth.pick_text(rng, words, sentences, heldout=False)
            voice = [dict(engine="flite", voice="rms"), dict(engine="pico", voice="en-US"),
                     dict(engine="espeak-ng", voice="en-gb+f3", speed=160, pitch=50)][i % 3]
            job = dict(voice, index=i, seed=i, text=text, category=category, audio=f"{i}.wav", augment=False)
            synth.worker((job, tmp, None))
            utts.append((text, synth.read_wav(os.path.join(tmp, f"{i}.wav"))))
    seconds = sum(len(x) for _, x in utts) / 16000
    rirs, _ = channel.rir_bank(a.cache)
    bank = noise.Bank(a.cache)
    stages = {
        "WORLD conversion (f0, VTLP warp, prosody, tempo)": lambda x, r: speakers.apply(x, 16000, speakers.pick(r, 1.0))[0],
        "room (RIR convolution)": lambda x, r: channel.reverberate(x, rirs[r.randrange(len(rirs))]),
        "noise mix (music)": lambda x, r: noise.mix(x, bank.draw(r, "music", len(x)), 10),
        "microphone response": lambda x, r: channel.microphone(x, r)[0],
        "telephone band": lambda x, r: channel.telephone(x),
        "low-pass 5.5 kHz": lambda x, r: channel.lowpass_11k(x),
        "level": lambda x, r: channel.level(x, r)[0],
    }
    stages.update({f"codec {c}": (lambda c: lambda x, r: channel.codec(x, c))(c) for c in channel.CODECS})
    if a.checker:
        import check
        check.model()
        stages["checker (Whisper tiny.en)"] = lambda x, r: check.score(x, "unused")
    with tempfile.TemporaryDirectory() as tmp:
        t = cpu()
        channel.build_rir_bank(os.path.join(tmp, "b.npz"), rooms=4, mics=4, seed=9)
        print(f"room bank: {(cpu() - t) / 4:.2f} CPU s per simulated room of 4 microphones")
    print(f"{a.n} utterances, {seconds:.1f} s of audio ({seconds / a.n:.2f} s each)")
    print("| stage | CPU ms per utterance | utterances/s per core |")
    print("|---|---|---|")
    for name, fn in stages.items():
        r = random.Random(1)
        t = cpu()
        for _, x in utts:
            fn(x, r)
        per = (cpu() - t) / a.n
        print(f"| {name} | {1000 * per:.1f} | {1 / per:.1f} |")


if __name__ == "__main__":
    main()
