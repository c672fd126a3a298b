#!/usr/bin/env python3
"""Trains Hark's network in PyTorch, on one GPU or many, and writes a Hark model file.

The same manifests, features, network family, CTC over the same characters and the same training
settings (TrainConfig's JSON keys) as `hark train`; for corpora and machines that outgrow it.

    python scripts/torch/train.py --train train.jsonl --dev dev.jsonl --out model.safetensors
    torchrun --nproc_per_node=8 scripts/torch/train.py --train train.jsonl --dev dev.jsonl --out model.safetensors

One process per GPU under torchrun (nccl; gloo on CPU). `batchSize` is utterances per process and
step, so a step sees batchSize x processes utterances, grouped by length. The log-mel features are
computed once, every process a share, into a cache (`--cache`, default `<out>.features/`, which
every process must see), and each epoch's batches are one deterministic function of the seed and
the epoch, dealt out to the processes. Only process 0 writes: the model (`--out`, whenever the dev
CER improves; every epoch without --dev) and the checkpoint (`<out>.pt`: weights, optimizer,
position; every epoch and every --checkpoint-minutes), which `--resume` continues from.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime
import hashlib
import json
import math
import os
import queue
import sys
import threading
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from hark_features import AudioError, FFTUnavailable, LogMel, LogMelConfig, read_audio
from hark_model import ENGLISH, BLANK, HarkNet, TokenSet, normalize_text, save_model

# ---------------------------------------------------------------------------------------------
# Settings: Sources/ModelTraining/TrainConfig.swift, key for key, with its defaults.


@dataclasses.dataclass
class TrainConfig:
    kind: str = "lstm"
    layers: int = 2
    hidden: int = 256
    projection: int = 0
    stack: int = 3
    stride: int = 3
    bands: int = 80
    epochs: int = 15
    batchSize: int = 16
    learningRate: float = 1e-3
    clipNorm: float = 5.0
    patience: int = 3
    halveOnPlateau: bool = True
    frequencyMasks: int = 2
    frequencyMaskWidth: int = 10
    timeMasks: int = 2
    timeMaskFraction: float = 0.05
    randomEQ: float = 0.0
    seed: int = 1
    threads: int = 2
    tokens: list | None = None
    spelling: str = "characters"

    @staticmethod
    def from_json(text: str) -> "TrainConfig":
        d = json.loads(text)
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        for k in d:
            if k not in known:
                raise ConfigError(f"training setting '{k}' is unknown (known: {', '.join(sorted(known))})")
        return TrainConfig(**d)

    def token_set(self) -> TokenSet:
        return TokenSet(ENGLISH if self.tokens is None else [BLANK] + list(self.tokens))

    def validate(self) -> None:
        def need(ok, key, why):
            if not ok:
                raise ConfigError(f"training setting '{key}' {why}")
        need(self.kind in ("lstm", "gru", "rnn"), "kind", "must be lstm, gru or rnn")
        need(self.layers >= 1, "layers", "must be at least 1")
        need(self.hidden >= 1, "hidden", "must be at least 1")
        need(0 <= self.projection < self.hidden and (self.projection == 0 or self.kind == "lstm"), "projection",
             "needs an LSTM and 0 <= projection < hidden")
        need(1 <= self.stride <= self.stack, "stride", "needs 1 <= stride <= stack")
        need(1 <= self.bands < 257, "bands", "must be in 1...256")
        need(self.epochs >= 1, "epochs", "must be at least 1")
        need(self.batchSize >= 1, "batchSize", "must be at least 1")
        need(self.learningRate > 0 and math.isfinite(self.learningRate), "learningRate", "must be positive")
        need(self.clipNorm > 0, "clipNorm", "must be positive")
        need(self.patience >= 1, "patience", "must be at least 1")
        need(self.threads >= 1, "threads", "must be at least 1")
        need(self.frequencyMasks >= 0 and 0 <= self.frequencyMaskWidth < self.bands, "frequencyMaskWidth",
             "needs 0 <= width < bands")
        need(self.timeMasks >= 0 and 0 <= self.timeMaskFraction < 0.5, "timeMaskFraction", "needs 0 <= fraction < 0.5")
        need(self.randomEQ >= 0 and math.isfinite(self.randomEQ), "randomEQ", "must be 0 (off) or positive")
        need(self.spelling == "characters", "spelling",
             "must be characters here: this path does not pronounce transcripts (train a phoneme model with "
             "`hark train --spelling phonemes`)")
        try:
            self.token_set()
        except ValueError as e:
            raise ConfigError(f"training setting 'tokens' are not a token set: {e}") from None

    def to_json(self) -> str:
        d = dataclasses.asdict(self)
        if d["tokens"] is None:
            del d["tokens"]
        if d["spelling"] == "characters":
            del d["spelling"]
        return json.dumps(d, sort_keys=True, separators=(",", ":"))


class ConfigError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Manifests: Sources/ModelTraining/Manifest.swift.


@dataclasses.dataclass
class Entry:
    audio: str
    text: str
    category: str
    origin: str


def load_manifest(path: str) -> list[Entry]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError as e:
        raise ConfigError(f"cannot read manifest '{path}': {e.strerror}") from None
    base, name = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    entries = []
    for i, line in enumerate(lines):
        line = line.strip()
        if not line:
            continue
        origin = f"{name}:{i + 1}"
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise ConfigError(f"{origin}: not a JSON object")
        audio = obj.get("audio")
        if not isinstance(audio, str) or not audio:
            raise ConfigError(f'{origin}: missing "audio"')
        if not isinstance(obj.get("text"), str):
            raise ConfigError(f'{origin}: missing "text"')
        category = obj.get("category")
        entries.append(Entry(audio if audio.startswith("/") else os.path.join(base, audio), obj["text"],
                             category if isinstance(category, str) else "all", origin))
    if not entries:
        raise ConfigError(f"manifest '{path}' lists no utterances")
    return entries


# ---------------------------------------------------------------------------------------------
# Processes.


class World:
    def __init__(self, force_cpu: bool):
        self.size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = torch.cuda.is_available() and not force_cpu
        self.device = torch.device(f"cuda:{self.local_rank}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        self.distributed = self.size > 1
        if self.distributed:
            dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(minutes=60))
        # Collectives of small host values go through the backend's device.
        self.reduce_device = self.device if use_cuda else torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def sum(self, values) -> np.ndarray:
        """Element-wise sum over the processes of a float64 vector."""
        t = torch.tensor(np.asarray(values, dtype=np.float64), device=self.reduce_device)
        if self.distributed:
            dist.all_reduce(t)
        return t.cpu().numpy()

    def gather(self, obj) -> list:
        if not self.distributed:
            return [obj]
        out = [None] * self.size
        dist.all_gather_object(out, obj)
        return out

    def barrier(self):
        if self.distributed:
            dist.barrier()

    def check(self, error: str | None) -> None:
        """Every process stops if any failed; the one that failed says why."""
        failed = self.sum([1.0 if error else 0.0])[0]
        if error:
            raise ConfigError(error)
        if failed:
            raise SystemExit(1)

    def close(self):
        if self.distributed:
            dist.destroy_process_group()


# ---------------------------------------------------------------------------------------------
# Features: computed once by Hark's front end (hark_features), cached in shards.


class FeatureStore:
    """Frames of a manifest's utterances in float32 shard files, memory-mapped.

    `<cache>/<key>/shard-K-of-S.f32` holds shard K's utterances (indices i with i % S == K) back to
    back, `.json` beside it their offsets and frame counts and the shard's per-band sums. The key
    hashes the manifest, the audio files' sizes and times and the front-end settings, so a
    changed input is a new cache."""

    def __init__(self, entries: list[Entry], features: LogMelConfig, fft: str, cache: str, world: World,
                 threads: int, label: str, log):
        digest = hashlib.sha256((features.to_json() + fft).encode())
        for e in entries:
            try:
                st = os.stat(e.audio)
                stamp = f"{st.st_size}:{st.st_mtime_ns}"
            except OSError:
                stamp = "missing"
            digest.update(f"\0{e.audio}\0{stamp}".encode())
        self.dir = os.path.join(cache, f"{label}-{digest.hexdigest()[:16]}")
        self.count = len(entries)
        shards = world.gather(self._complete_shards())[0]      # process 0's view, for all
        if shards is None:
            shards = world.size
            error = None
            try:
                os.makedirs(self.dir, exist_ok=True)
                for k in range(world.rank, shards, world.size):
                    self._compute(entries, LogMel(features, fft), k, shards, threads, label, log if world.main else None)
            except (AudioError, FFTUnavailable, OSError) as e:
                error = str(e)
            world.check(error)
            world.barrier()
            shards = self._complete_shards()
            if shards is None:
                raise ConfigError(f"feature cache '{self.dir}' is incomplete after computing it: every process "
                                  "must see the same --cache folder")
        self.frames: list[np.ndarray | None] = [None] * self.count
        self.lengths = np.zeros(self.count, dtype=np.int64)
        self.sum = np.zeros(features.melBands)
        self.sumsq = np.zeros(features.melBands)
        for k in range(shards):
            with open(self._path(k, shards, ".json")) as f:
                index = json.load(f)
            data = np.memmap(self._path(k, shards, ".f32"), dtype="<f4", mode="r") if index["frames"] else None
            bands = features.melBands
            for i, offset, n in zip(index["utterances"], index["offsets"], index["counts"]):
                self.frames[i] = data[offset * bands:(offset + n) * bands].reshape(n, bands) if n else \
                    np.zeros((0, bands), np.float32)
                self.lengths[i] = n
            self.sum += np.array(index["sum"])
            self.sumsq += np.array(index["sumsq"])

    def _path(self, k, shards, ext):
        return os.path.join(self.dir, f"shard-{k}-of-{shards}{ext}")

    def _complete_shards(self):
        if not os.path.isdir(self.dir):
            return None
        for name in os.listdir(self.dir):
            if name.startswith("shard-0-of-") and name.endswith(".json"):
                s = int(name[len("shard-0-of-"):-len(".json")])
                if all(os.path.exists(self._path(k, s, ".json")) for k in range(s)):
                    return s
        return None

    def _compute(self, entries, extractor: LogMel, k, shards, threads, label, log):
        mine = list(range(k, len(entries), shards))
        features = extractor.config

        def one(i):
            try:
                return extractor.frames(read_audio(entries[i].audio, features.sampleRate))
            except AudioError as e:
                raise AudioError(f"{entries[i].origin}: {e}") from None

        offsets, counts = [], []
        total = 0
        s = np.zeros(features.melBands)
        sq = np.zeros(features.melBands)
        partial = self._path(k, shards, f".f32.partial-{os.getpid()}")
        t0 = last = time.time()
        with open(partial, "wb") as out, concurrent.futures.ThreadPoolExecutor(threads) as pool:
            for done, m in enumerate(pool.map(one, mine), start=1):
                out.write(m.astype("<f4").tobytes())
                offsets.append(total)
                counts.append(int(m.shape[0]))
                total += m.shape[0]
                m64 = m.astype(np.float64)
                s += m64.sum(axis=0)
                sq += (m64 * m64).sum(axis=0)
                if log and (time.time() - last > 10 or done == len(mine)):
                    log(f"features: {label} {done}/{len(mine)} (this process's share), "
                        f"{total / max(time.time() - t0, 1e-9):.0f} frames/s", final=done == len(mine))
                    last = time.time()
        os.replace(partial, self._path(k, shards, ".f32"))
        index = {"utterances": mine, "offsets": offsets, "counts": counts, "frames": total,
                 "sum": s.tolist(), "sumsq": sq.tolist()}
        with open(self._path(k, shards, ".json.partial"), "w") as f:
            json.dump(index, f)
        os.replace(self._path(k, shards, ".json.partial"), self._path(k, shards, ".json"))

    def normalization(self) -> tuple[np.ndarray, np.ndarray]:
        """FeatureSet.normalization: per-band mean and sqrt(max(variance, 1e-6)) over all frames."""
        n = max(int(self.lengths.sum()), 1)
        mean = self.sum / n
        return mean.astype(np.float32), np.sqrt(np.maximum(self.sumsq / n - mean * mean, 1e-6)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Augmentation: TrainingRun.specAugment's masks and equalizer (the same distributions, drawn
# from numpy's generator keyed by seed, epoch and utterance).


def augment(x: np.ndarray, cfg: TrainConfig, mean: np.ndarray, epoch: int, index: int) -> np.ndarray:
    n = x.shape[0]
    if cfg.frequencyMasks + cfg.timeMasks == 0 and cfg.randomEQ == 0 or n == 0:
        return x
    rng = np.random.default_rng([cfg.seed, epoch, index])
    y = np.array(x, dtype=np.float32)
    bands = cfg.bands
    if cfg.frequencyMaskWidth > 0:
        for _ in range(cfg.frequencyMasks):
            width = int(rng.integers(0, cfg.frequencyMaskWidth + 1))
            start = int(rng.integers(0, bands - width + 1))
            y[:, start:start + width] = mean[start:start + width]
    max_time = int(n * cfg.timeMaskFraction)
    if max_time > 0:
        for _ in range(cfg.timeMasks):
            width = int(rng.integers(0, max_time + 1))
            start = int(rng.integers(0, n - width + 1))
            y[start:start + width] = mean
    if cfg.randomEQ > 0:
        tilt, ripple = rng.uniform(-1, 1) * cfg.randomEQ, rng.uniform(-1, 1) * cfg.randomEQ / 2
        half_cycles, phase = 1 + int(rng.integers(0, 3)), rng.uniform(-1, 1) * math.pi
        u = np.arange(bands) / (bands - 1) if bands > 1 else np.full(bands, 0.5)
        y += (tilt * (2 * u - 1) + ripple * np.cos(math.pi * half_cycles * u + phase)).astype(np.float32)
    return y


# ---------------------------------------------------------------------------------------------
# Batches.


def epoch_batches(order: np.ndarray, global_batch: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The epoch's global batches: length-sorted groups of `global_batch`, in an order shuffled
    by (seed, epoch). The same on every process."""
    batches = [order[i:i + global_batch] for i in range(0, len(order), global_batch)]
    perm = np.random.default_rng([seed, 1_000_003, epoch]).permutation(len(batches))
    return [batches[p] for p in perm]


def deal(batch: np.ndarray, world: World) -> tuple[np.ndarray, np.ndarray]:
    """This process's part of a global batch (every size-th utterance, so lengths are balanced)
    and the weight of each (0 for a stand-in that fills out a short last batch)."""
    n = len(batch)
    padded = -(-n // world.size) * world.size
    items = np.concatenate([batch, np.repeat(batch[:1], padded - n)])
    weights = np.concatenate([np.ones(n), np.zeros(padded - n)])
    return items[world.rank::world.size], weights[world.rank::world.size]


def make_batch(items, weights, store: FeatureStore, labels, cfg: TrainConfig, mean, epoch: int | None):
    frames = [store.frames[i] if epoch is None else augment(store.frames[i], cfg, mean, epoch, int(i)) for i in items]
    lengths = np.array([f.shape[0] for f in frames], dtype=np.int64)
    x = np.zeros((len(frames), max(int(lengths.max()), 1), cfg.bands), dtype=np.float32)
    for b, f in enumerate(frames):
        x[b, :f.shape[0]] = f
    x = torch.from_numpy(x)
    if torch.cuda.is_available():
        x = x.pin_memory()
    targets = [labels[i] for i in items]
    return {
        "x": x,
        "lengths": torch.from_numpy(lengths),
        "targets": torch.tensor([t for ts in targets for t in ts], dtype=torch.long),
        "target_lengths": torch.tensor([len(t) for t in targets], dtype=torch.long),
        "required": torch.tensor([len(t) + sum(1 for a, b in zip(t, t[1:]) if a == b) for t in targets], dtype=torch.long),
        "weights": torch.from_numpy(weights.astype(np.float32)),
        "items": items,
    }


class Prefetch:
    """Builds the next batches on a thread while the current one trains."""

    def __init__(self, jobs, build, depth=2):
        self.q: queue.Queue = queue.Queue(depth)
        self.thread = threading.Thread(target=self._run, args=(jobs, build), daemon=True)
        self.thread.start()

    def _run(self, jobs, build):
        try:
            for j in jobs:
                self.q.put((j, build(j), None))
        except BaseException as e:  # handed to the consumer
            self.q.put((None, None, e))
        self.q.put(None)

    def __iter__(self):
        while (item := self.q.get()) is not None:
            if item[2] is not None:
                raise item[2]
            yield item[0], item[1]


# ---------------------------------------------------------------------------------------------
# Evaluation: greedy CTC decoding, CER and WER per category (TrainingRun.evaluate).


def edit_distance(a, b) -> int:
    if not a:
        return len(b)
    if not b:
        return len(a)
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
        previous = current
    return previous[-1]


def greedy(logprobs: np.ndarray) -> list[int]:
    best = logprobs.argmax(axis=-1)
    out, previous = [], 0
    for k in best:
        if k != 0 and k != previous:
            out.append(int(k))
        previous = k
    return out


def evaluate(net: HarkNet, store: FeatureStore, entries: list[Entry], tokens: TokenSet, world: World,
             batch_size: int, cfg: TrainConfig) -> dict:
    """Every process decodes its share; the counts are summed. {category: [cer_err, cer_len, wer_err, wer_len]}."""
    net.eval()
    mine = np.array([i for i in np.argsort(store.lengths, kind="stable") if i % world.size == world.rank], dtype=np.int64)
    counts: dict[str, list[int]] = {}
    with torch.no_grad():
        for start in range(0, len(mine), batch_size):
            items = mine[start:start + batch_size]
            b = make_batch(items, np.ones(len(items)), store, [[]] * len(entries), cfg, None, None)
            out = net(b["x"].to(net.mean.device)).float().cpu().numpy()
            steps = net.steps(b["lengths"]).numpy()
            for row, i in enumerate(items):
                ref = normalize_text(entries[i].text)
                hyp = tokens.decode(greedy(out[row, :steps[row]]))
                c = counts.setdefault(entries[i].category, [0, 0, 0, 0])
                c[0] += edit_distance(list(ref), list(hyp))
                c[1] += len(ref)
                c[2] += edit_distance(ref.split(" ") if ref else [], hyp.split(" ") if hyp else [])
                c[3] += len(ref.split(" ")) if ref else 0
    net.train()
    total: dict[str, list[int]] = {}
    for part in world.gather(counts):
        for k, v in part.items():
            total[k] = [a + b for a, b in zip(total.get(k, [0, 0, 0, 0]), v)]
    return total


def rate(errors, length):
    return errors / length if length else (0.0 if errors == 0 else math.inf)


# ---------------------------------------------------------------------------------------------
# Training.


def format_duration(s: float) -> str:
    if not math.isfinite(s):
        return "-"
    t = int(round(s))
    return f"{t // 3600}h{t % 3600 // 60:02d}m" if t >= 3600 else f"{t // 60}m{t % 60:02d}s" if t >= 60 else f"{t}s"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--train", required=True, help="training manifest (JSONL: audio, text, category)")
    p.add_argument("--dev", help="dev manifest for evaluation, learning-rate halving and early stopping")
    p.add_argument("--out", default="model.safetensors", help="where the best model goes (a Hark model file)")
    p.add_argument("--config", help="JSON file of training settings (TrainConfig's keys, as `hark train --config`)")
    for name, typ, help_ in [("kind", str, "cell type: lstm, gru or rnn"), ("layers", int, "recurrent layers"),
                             ("hidden", int, "hidden units per layer"), ("projection", int, "LSTM projection size (0: none)"),
                             ("epochs", int, "epochs"), ("batch-size", int, "utterances per process and step"),
                             ("learning-rate", float, "Adam learning rate"), ("seed", int, "seed"),
                             ("patience", int, "epochs without dev improvement before stopping"),
                             ("threads", int, "threads per process for features (and CPU training)")]:
        p.add_argument(f"--{name}", type=typ, help=help_)
    p.add_argument("--resume", action="store_true", help="continue from <out>.pt")
    p.add_argument("--cache", help="feature cache folder, seen by every process (default <out>.features)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps in all (a smoke test)")
    p.add_argument("--checkpoint-minutes", type=float, default=10, help="also checkpoint within an epoch this often")
    p.add_argument("--progress-seconds", type=float, default=10, help="a progress line this often")
    p.add_argument("--cpu", action="store_true", help="train on the CPU even where a GPU is")
    p.add_argument("--fft", choices=["fftw", "numpy"], default="fftw",
                   help="the features' FFT: the system's libfftw3f, as Hark (default), or numpy's float64 FFT, "
                        "within a few 1e-4 of Hark's features where libfftw3f is not installed")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    world = None
    try:
        world = World(args.cpu)
        return run(args, world)
    except ConfigError as e:
        print(f"train.py: {e}", file=sys.stderr)
        return 1
    finally:
        if world:
            world.close()


def run(args, world: World) -> int:
    tty = sys.stderr.isatty()

    def log(line, final=True):
        if world.main:
            if tty and not final:
                print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
            else:
                print(("\r\033[K" if tty else "") + line, file=sys.stderr, flush=True)

    cfg = TrainConfig()
    if args.config:
        try:
            cfg = TrainConfig.from_json(open(args.config).read())
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError(f"cannot read --config '{args.config}': {e}") from None
    for key, attr in [("kind", "kind"), ("layers", "layers"), ("hidden", "hidden"), ("projection", "projection"),
                      ("epochs", "epochs"), ("batch_size", "batchSize"), ("learning_rate", "learningRate"),
                      ("seed", "seed"), ("patience", "patience"), ("threads", "threads")]:
        if getattr(args, key) is not None:
            setattr(cfg, attr, getattr(args, key))
    cfg.validate()
    if world.device.type == "cpu":
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    tokens = cfg.token_set()
    features = LogMelConfig(melBands=cfg.bands)
    features_json = features.to_json()

    train = load_manifest(args.train)
    dev = load_manifest(args.dev) if args.dev else None
    labels = []
    for e in train:
        try:
            labels.append(tokens.encode(e.text))
        except ValueError as err:
            raise ConfigError(f"{e.origin}: {err}") from None
    if dev:
        for e in dev:
            try:
                tokens.encode(e.text)
            except ValueError as err:
                raise ConfigError(f"{e.origin}: {err}") from None
    cache = args.cache or args.out + ".features"
    train_store = FeatureStore(train, features, args.fft, cache, world, cfg.threads, "train", log)
    dev_store = FeatureStore(dev, features, args.fft, cache, world, cfg.threads, "dev", log) if dev else None
    hop_seconds = features.hopLength / features.sampleRate
    train_hours = train_store.lengths.sum() * hop_seconds / 3600
    log(f"train: {len(train)} utterances, {train_hours:.2f} h; dev: {len(dev) if dev else 0} utterances; "
        f"{world.size} process{'es' if world.size > 1 else ''} on {world.device.type}")

    mean, std = train_store.normalization()
    net = HarkNet(cfg.kind, cfg.bands, cfg.stack, cfg.stride, cfg.hidden, cfg.layers, cfg.projection, len(tokens))
    net.initialize(cfg.seed)
    with torch.no_grad():
        net.mean.copy_(torch.from_numpy(mean))
        net.std.copy_(torch.from_numpy(std))
    net.to(world.device)
    model = torch.nn.parallel.DistributedDataParallel(net, device_ids=[world.device] if world.device.type == "cuda" else None) \
        if world.distributed else net
    optimizer = torch.optim.Adam(net.parameters(), lr=cfg.learningRate, betas=(0.9, 0.999), eps=1e-8)
    global_batch = cfg.batchSize * world.size
    checkpoint_path = args.out + ".pt"
    state = {"epoch": 0, "position": 0, "steps": 0, "best": None, "bad_epochs": 0, "lr": cfg.learningRate,
             "frames_seen": 0}
    if args.resume and os.path.exists(checkpoint_path):
        saved = torch.load(checkpoint_path, map_location=world.device, weights_only=False)
        old = TrainConfig.from_json(saved["config"])
        old.epochs, old.patience = cfg.epochs, cfg.patience
        if old != cfg or saved["tokens"] != tokens.tokens or saved["features"] != features_json:
            raise ConfigError(f"--resume: checkpoint '{checkpoint_path}' was made with other settings")
        if saved["state"]["position"] and saved["global_batch"] != global_batch:
            raise ConfigError(f"--resume: checkpoint '{checkpoint_path}' is within an epoch of global batches of "
                              f"{saved['global_batch']} utterances; batchSize x processes is now {global_batch}")
        net.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        state = saved["state"]
        best = "-" if state["best"] is None else f"{100 * state['best']:.2f}%"
        log(f"resuming after {state['steps']} steps (epoch {state['epoch'] + 1}, batch {state['position']}); "
            f"best dev CER {best}")

    def save_checkpoint():
        if world.main:
            temporary = f"{checkpoint_path}.partial-{os.getpid()}"
            torch.save({"model": net.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                        "config": cfg.to_json(), "tokens": tokens.tokens, "features": features_json,
                        "global_batch": global_batch, "world_size": world.size}, temporary)
            os.replace(temporary, checkpoint_path)

    def save(epoch_label):
        if world.main:
            save_model(args.out, net, tokens, features_json, {
                "trained_by": f"scripts/torch/train.py (PyTorch {torch.__version__}, {world.size} x {world.device.type})",
                "train_config": cfg.to_json(), "epoch": str(epoch_label), "optimizer_steps": str(state["steps"])})

    def end_of_training_period(label) -> tuple[str, bool]:
        """Dev evaluation, learning rate, model saving; returns the line and whether to stop early."""
        line, improved = "", True
        if dev_store:
            d = evaluate(net, dev_store, dev, tokens, world, cfg.batchSize, cfg)
            total = [sum(v[i] for v in d.values()) for i in range(4)]
            cer, wer = rate(total[0], total[1]), rate(total[2], total[3])
            line += f"; dev CER {100 * cer:.2f}% WER {100 * wer:.2f}%"
            if len(d) > 1:
                line += " (" + ", ".join(f"{k} {100 * rate(v[0], v[1]):.1f}%" for k, v in sorted(d.items())) + ")"
            improved = state["best"] is None or cer < state["best"]
            if improved:
                state["best"], state["bad_epochs"] = cer, 0
            else:
                state["bad_epochs"] += 1
                if cfg.halveOnPlateau:
                    state["lr"] /= 2
                    line += f"; learning rate -> {state['lr']:.2g}"
        if improved:
            save(label)
            line += f" -> saved {args.out}"
        return line, state["bad_epochs"] >= cfg.patience

    order = np.argsort(train_store.lengths, kind="stable")
    order = order[net.steps(train_store.lengths[order].astype(np.int64)) > 0]   # too short for one step
    total_frames = int(train_store.lengths[order].sum())
    run_start = time.time()
    run_frames = 0
    last_checkpoint = time.time()
    stop = args.max_steps is not None and state["steps"] >= args.max_steps
    model.train()
    while state["epoch"] < cfg.epochs and not stop:
        epoch = state["epoch"] + 1
        batches = epoch_batches(order, global_batch, cfg.seed, epoch)
        for g in optimizer.param_groups:
            g["lr"] = state["lr"]
        loss_sum = counted_sum = 0.0
        last_report = 0.0
        epoch_frames = int(sum(train_store.lengths[b].sum() for b in batches[:state["position"]]))
        jobs = range(state["position"], len(batches))
        build = lambda j: make_batch(*deal(batches[j], world), train_store, labels, cfg, mean, epoch)  # noqa: E731
        for j, b in Prefetch(jobs, build):
            x = b["x"].to(world.device, non_blocking=True)
            lengths = b["lengths"].to(world.device)
            steps = net.steps(lengths)
            logprobs = model(x)
            losses = F.ctc_loss(logprobs.transpose(0, 1), b["targets"].to(world.device), steps,
                                b["target_lengths"].to(world.device), blank=0, reduction="none", zero_infinity=True)
            # CTCLoss's rule: a sequence too short for its labels adds nothing and is not counted.
            counted = (steps >= b["required"].to(world.device)).float() * b["weights"].to(world.device)
            local = torch.stack([(losses.detach() * counted).sum().double(), counted.sum().double(),
                                 (lengths.double() * b["weights"].to(world.device).double()).sum()])
            if world.distributed:
                dist.all_reduce(local)
            batch_loss, batch_count, batch_frames = local.tolist()
            # DDP averages gradients over processes: scale so the result is the mean over every
            # counted utterance of the global batch.
            objective = (losses * counted).sum() * (world.size / max(batch_count, 1.0))
            optimizer.zero_grad(set_to_none=False)
            objective.backward()
            norm = float(torch.linalg.vector_norm(torch.stack([p.grad.detach().double().norm() for p in net.parameters()])))
            if batch_count > 0 and math.isfinite(norm):
                if norm > cfg.clipNorm:
                    for p in net.parameters():
                        p.grad.mul_(cfg.clipNorm / norm)
                optimizer.step()
            state["steps"] += 1
            state["position"] = j + 1
            state["frames_seen"] += int(batch_frames)
            run_frames += batch_frames
            epoch_frames += int(batch_frames)
            loss_sum += batch_loss
            counted_sum += batch_count
            now = time.time()
            if now - last_report >= args.progress_seconds or j == len(batches) - 1:
                rate_fps = run_frames / max(now - run_start, 1e-9)
                remaining = total_frames - epoch_frames + (cfg.epochs - epoch) * total_frames
                log(f"epoch {epoch}/{cfg.epochs}  batch {j + 1}/{len(batches)}  loss {loss_sum / max(counted_sum, 1):.3f}  "
                    f"{state['frames_seen'] * hop_seconds / 3600:.2f} h seen  {rate_fps:.0f} frames/s  "
                    f"ETA {format_duration(remaining / max(rate_fps, 1e-9))}", final=False)
                last_report = now
            if args.max_steps is not None and state["steps"] >= args.max_steps:
                stop = True
                if j < len(batches) - 1:
                    break
            if now - last_checkpoint >= args.checkpoint_minutes * 60:
                save_checkpoint()
                last_checkpoint = now
        if stop and state["position"] < len(batches):
            line, _ = end_of_training_period(epoch)
            save_checkpoint()
            log(f"stopped after {state['steps']} steps (--max-steps), in epoch {epoch}" + line)
            break
        state["epoch"], state["position"] = epoch, 0
        line, early = end_of_training_period(epoch)
        stop = stop or early
        save_checkpoint()
        last_checkpoint = time.time()
        log(f"epoch {epoch}: train loss {loss_sum / max(counted_sum, 1):.3f} per utterance" + line)
        if early:
            log(f"stopping early: dev CER has not improved for {cfg.patience} epochs")
    log(f"done in {format_duration(time.time() - run_start)}")
    world.barrier()
    return 0


if __name__ == "__main__":
    sys.exit(main())
