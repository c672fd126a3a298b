#!/usr/bin/env python3
"""The PyTorch training path, tested on the CPU in a few minutes (scripts/test runs it).

Makes a tiny manifest (two of HarkTests' speech fixtures and three espeak-ng utterances: 22.05 kHz
mono, 22.05 kHz stereo with different channels, 16 kHz), trains on it for a few steps with
scripts/torch/train.py (an LSTM with projection, a GRU, an Elman RNN, and the LSTM again with two
processes under torchrun), and checks here:

- the numpy front end against Hark's log-mel golden fixture (Tests/StreamTests/Fixtures);
- two processes x batch 2 take the same steps as one process x batch 4 (the sharding and the
  gradient averaging are right), with a short last batch filled out by stand-ins of weight 0;
- a run stopped and resumed from its checkpoint ends where an uninterrupted one does;
- each written model file holds exactly the trained weights and normalization;
- the network on a padded batch gives each utterance's own outputs.

Then it writes the fixture for Hark's side (`--out`, default .build-torch/fixture/fixture.json):
every utterance's audio path and PyTorch's features, and every model's path and PyTorch's
log-posteriors on those features. Tests/RecognizerTests/TorchTrainedModelTests.swift loads each
model in Hark and checks Hark's features (within 1e-4) and Hark's network outputs (within 1e-5)
against them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from hark_features import LogMel, LogMelConfig, read_audio  # noqa: E402
from hark_model import HarkNet, load_model  # noqa: E402

UTTERANCES = [  # (file, text, category, how it is made)
    ("digits.wav", "four two seven one nine zero three", "digits", "fixture"),
    ("keyword.wav", "okay robot play music", "commands", "fixture"),
    ("lights.wav", "turn on the lights", "commands", "espeak 22050 mono"),
    ("stereo.wav", "seven eight nine", "digits", "espeak 22050 stereo"),
    ("hello.wav", "hello world", "words", "espeak 16000"),
]

results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, bool(ok), detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


def sh(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def make_data(folder: str) -> str:
    fixtures = os.path.join(REPO, "Tests/HarkTests/Fixtures")
    for tool in ("espeak-ng", "sox"):
        if not shutil.which(tool):
            sys.exit(f"test_torch_path: {tool} is needed (scripts/setup --tests installs it)")
    for name, text, _, how in UTTERANCES:
        path = os.path.join(folder, name)
        if how == "fixture":
            shutil.copy(os.path.join(fixtures, name), path)
        elif how == "espeak 22050 mono":
            sh(["espeak-ng", "-v", "en-us", "-s", "170", "-w", path, text])
        elif how == "espeak 22050 stereo":
            a, b = path + ".a.wav", path + ".b.wav"
            sh(["espeak-ng", "-v", "en-us", "-w", a, text])
            sh(["espeak-ng", "-v", "en-us+f3", "-w", b, text])
            sh(["sox", "-M", a, b, path])            # two different channels, padded to one length
            os.remove(a)
            os.remove(b)
        else:
            raw = path + ".raw.wav"
            sh(["espeak-ng", "-v", "en", "-w", raw, text])
            sh(["sox", raw, "-r", "16000", "-c", "1", "-b", "16", path])
            os.remove(raw)
    manifest = os.path.join(folder, "train.jsonl")
    with open(manifest, "w") as f:
        for name, text, category, _ in UTTERANCES:
            f.write(json.dumps({"audio": name, "text": text, "category": category}) + "\n")
    return manifest


def train(python, manifest, out, *options, processes=1, cache=None):
    script = os.path.join(HERE, "train.py")
    base = ["--train", manifest, "--out", out, "--cpu", "--progress-seconds", "0", "--threads", "1"]
    if cache:
        base += ["--cache", cache]
    if processes == 1:
        cmd = [python, script] + base + list(options)
    else:
        cmd = [python, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", script] \
            + base + list(options)
    t0 = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    seconds = time.time() - t0
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        raise SystemExit(f"test_torch_path: training failed: {' '.join(cmd)}")
    last = [l for l in proc.stderr.splitlines() if l.strip()][-2:]
    print(f"     {os.path.basename(out)} ({processes} process{'es' if processes > 1 else ''}, {seconds:.1f} s): "
          + " | ".join(last), flush=True)
    return torch.load(out + ".pt", map_location="cpu", weights_only=False)


def max_difference(a: dict, b: dict) -> float:
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def net_from_checkpoint(ckpt) -> HarkNet:
    cfg = json.loads(ckpt["config"])
    net = HarkNet(cfg["kind"], cfg["bands"], cfg["stack"], cfg["stride"], cfg["hidden"], cfg["layers"],
                  cfg["projection"], len(ckpt["tokens"]))
    net.load_state_dict(ckpt["model"])
    return net.eval()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(REPO, ".build-torch/fixture/fixture.json"))
    args = p.parse_args()
    folder = os.path.dirname(os.path.abspath(args.out))
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    python = sys.executable
    t_start = time.time()

    # 1. The front end against Hark's golden log-mel frames (no dither).
    g = os.path.join(REPO, "Tests/StreamTests/Fixtures")
    with open(os.path.join(g, "logmel_golden.json")) as f:
        meta = json.load(f)
    x = np.fromfile(os.path.join(g, "logmel_input.f32"), dtype="<f4")
    expected = np.fromfile(os.path.join(g, "logmel_expected.f32"), dtype="<f4").reshape(meta["frames"], meta["bands"])
    for fft in ("fftw", "numpy"):
        got = LogMel(LogMelConfig(dither=0.0), fft=fft).frames(x)
        d = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
        check(f"front end ({fft} FFT) equals the golden log-mel frames (float64 reference)", d < 1e-4,
              f"max |difference| {d:.2e}")

    manifest = make_data(folder)
    cache = os.path.join(folder, "cache")
    tiny = ["--epochs", "2", "--batch-size", "2"]
    lstm = tiny + ["--kind", "lstm", "--layers", "2", "--hidden", "24", "--projection", "12"]

    # 2. The models the fixture carries.
    models = {
        "lstm": train(python, manifest, os.path.join(folder, "lstm.safetensors"), *lstm, "--max-steps", "3", cache=cache),
        "gru": train(python, manifest, os.path.join(folder, "gru.safetensors"), *tiny, "--kind", "gru",
                     "--layers", "2", "--hidden", "16", "--max-steps", "2", cache=cache),
    }
    with open(os.path.join(folder, "rnn.json"), "w") as f:     # another stacking, through --config
        json.dump({"kind": "rnn", "layers": 1, "hidden": 20, "stack": 4, "stride": 2, "frequencyMasks": 0,
                   "timeMasks": 0, "randomEQ": 0.5}, f)
    models["rnn"] = train(python, manifest, os.path.join(folder, "rnn.safetensors"), *tiny, "--config",
                          os.path.join(folder, "rnn.json"), "--max-steps", "2", cache=cache)

    # 3. DDP: 2 processes x 2 utterances per step are 1 process x 4. Five utterances make a last
    # global batch of one, which the second process fills out with a stand-in of weight 0.
    ddp_options = ["--epochs", "1", "--kind", "lstm", "--layers", "2", "--hidden", "24", "--projection", "12"]
    models["lstm-ddp"] = train(python, manifest, os.path.join(folder, "lstm-ddp.safetensors"), *ddp_options,
                               "--batch-size", "2", processes=2)
    single = train(python, manifest, os.path.join(folder, "lstm-single.safetensors"), *ddp_options,
                   "--batch-size", "4", cache=cache)
    shards = sorted(n for n in os.listdir(os.path.join(folder, "lstm-ddp.safetensors.features", os.listdir(
        os.path.join(folder, "lstm-ddp.safetensors.features"))[0])) if n.endswith(".json"))
    check("two processes computed a feature shard each", shards == ["shard-0-of-2.json", "shard-1-of-2.json"], str(shards))
    d = max_difference(models["lstm-ddp"]["model"], single["model"])
    steps = (models["lstm-ddp"]["state"]["steps"], single["state"]["steps"])
    check("2 processes x batch 2 train the weights 1 process x batch 4 does", d < 1e-5 and steps == (2, 2),
          f"max |difference| {d:.2e} after {steps[0]} steps")

    # 4. Checkpoint and resume: 1 step, then resumed to 3, ends where 3 in a row did.
    part = os.path.join(folder, "lstm-resumed.safetensors")
    train(python, manifest, part, *lstm, "--max-steps", "1", cache=cache)
    resumed = train(python, manifest, part, *lstm, "--max-steps", "3", "--resume", cache=cache)
    d = max_difference(resumed["model"], models["lstm"]["model"])
    dm = max(float((a - b).abs().max()) for a, b in zip(
        [t for s in resumed["optimizer"]["state"].values() for t in (s["exp_avg"], s["exp_avg_sq"])],
        [t for s in models["lstm"]["optimizer"]["state"].values() for t in (s["exp_avg"], s["exp_avg_sq"])]))
    check("a resumed run ends where an uninterrupted one does", d < 1e-6 and dm < 1e-6 and resumed["state"]["steps"] == 3,
          f"weights {d:.2e}, Adam moments {dm:.2e}")

    # 5. The fixture: PyTorch's features and, per model, PyTorch's outputs on them.
    frontend = LogMel(LogMelConfig())
    fallback = LogMel(LogMelConfig(), fft="numpy")
    fixture = {"featureTolerance": 1e-4, "outputTolerance": 1e-5, "utterances": [], "models": []}
    feats = []
    worst_fallback = 0.0
    for i, (name, *_rest) in enumerate(UTTERANCES):
        audio = os.path.join(folder, name)
        samples = read_audio(audio)
        m = frontend.frames(samples)
        worst_fallback = max(worst_fallback, float(np.abs(fallback.frames(samples) - m).max()))
        feats.append(m)
        m.astype("<f4").tofile(os.path.join(folder, f"features-{i}.f32"))
        fixture["utterances"].append({"audio": audio, "frames": int(m.shape[0]), "features": f"features-{i}.f32"})
    check("the float64 FFT fallback is within 1e-3 of the FFTW features", worst_fallback < 1e-3,
          f"max |difference| {worst_fallback:.2e}")
    for name, ckpt in models.items():
        net = net_from_checkpoint(ckpt)
        path = os.path.join(folder, f"{name}.safetensors")
        written, _, features_json, extra = load_model(path)
        d = max_difference(written.state_dict(), net.state_dict())
        check(f"{name}: the model file holds the trained weights and normalization", d == 0 and
              LogMelConfig.from_json(features_json) == LogMelConfig(), f"max |difference| {d:.2e}")
        entry = {"name": name, "path": path, "outputs": [], "steps": []}
        with torch.no_grad():
            batch = torch.zeros(len(feats), max(f.shape[0] for f in feats), feats[0].shape[1])
            for i, f in enumerate(feats):
                batch[i, :f.shape[0]] = torch.from_numpy(f)
            padded = net(batch)
            worst = 0.0
            for i, f in enumerate(feats):
                out = net(torch.from_numpy(f).unsqueeze(0))[0]
                worst = max(worst, float((padded[i, :out.shape[0]] - out).abs().max()))
                out.numpy().astype("<f4").tofile(os.path.join(folder, f"{name}-out-{i}.f32"))
                entry["outputs"].append(f"{name}-out-{i}.f32")
                entry["steps"].append(int(out.shape[0]))
        check(f"{name}: padded batch gives each utterance's own outputs", worst < 1e-5, f"max |difference| {worst:.2e}")
        entry["width"] = net.outputs
        fixture["models"].append(entry)
    with open(args.out, "w") as f:
        json.dump(fixture, f, indent=1)
    print(f"     fixture for Hark's side: {args.out} ({len(fixture['models'])} models, "
          f"{len(fixture['utterances'])} utterances); {time.time() - t_start:.0f} s in all")
    failed = sum(1 for _, ok, _ in results if not ok)
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
