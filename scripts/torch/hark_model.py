"""Hark's network, token set and model file in PyTorch.

Network (Sources/Cells/Network): per-band normalization (x - mean) * (1/std) -> `stack` frames
concatenated oldest first every `stride` frames -> recurrent layers (torch.nn.LSTM / GRU / RNN:
Hark's cells have PyTorch's equations, gate order and state-dict names) -> linear -> log-softmax.

Model file (Sources/Cells/ModelFile/ModelFile.swift): safetensors, F32 tensors under the state-dict
names (`rnn.weight_ih_l0`, ..., `rnn.weight_hr_l0` with a projection, `output.weight`,
`output.bias`), and `__metadata__` strings `format` = "hark", `format_version` = "1",
`architecture` (NetworkConfig's JSON), `normalization` ({"mean", "std"}), `tokens` (the classes,
index 0 the blank) and `features` (LogMelConfig's JSON), plus provenance keys.
"""
from __future__ import annotations

import json
import os
import struct
import sys
import warnings

import numpy as np
import torch

# PyTorch's CPU LSTM with proj_size falls back from oneDNN to its plain kernel, and says so every call.
warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")

BLANK = "<blank>"
ENGLISH = [BLANK, " ", "'"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]


# TokenSet.normalize, from Hark's one Python copy of it (scripts/textnorm.py, checked against
# Swift by scripts/test_textnorm.py). The torch path's own files are self-contained in what they
# install (textnorm needs only the standard library), not in where they live: they run from a Hark
# checkout, so they share the rule rather than keep a second copy that could drift.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from textnorm import normalize as normalize_text  # noqa: E402


class TokenSet:
    """Sources/Decoding/TokenSet.swift: index 0 is CTC's blank, then one character per class."""

    def __init__(self, tokens: list[str]):
        if not tokens or tokens[0] not in (BLANK, "_"):
            raise ValueError("the token set must start with the blank ('<blank>')")
        self.tokens = list(tokens)
        self.index: dict[str, int] = {}
        for i, t in enumerate(tokens[1:], start=1):
            if len(t) != 1:
                raise ValueError(f"token '{t}' is not a single character")
            if t in self.index:
                raise ValueError(f"token '{t}' appears twice")
            self.index[t] = i

    def __len__(self):
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        labels = []
        for c in normalize_text(text):
            if c not in self.index:
                known = "".join(self.tokens[1:])
                raise ValueError(f"the model cannot spell '{c}' (in \"{text}\"); its tokens are \"{known}\"")
            labels.append(self.index[c])
        return labels

    def decode(self, labels) -> str:
        return "".join(self.tokens[i] for i in labels if 0 < i < len(self.tokens))


CELLS = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


class HarkNet(torch.nn.Module):
    """Hark's network family, `layers` recurrent layers of one kind and width."""

    def __init__(self, kind: str, bands: int, stack: int, stride: int, hidden: int, layers: int,
                 projection: int, outputs: int):
        super().__init__()
        if kind not in CELLS:
            raise ValueError(f"kind must be one of {sorted(CELLS)}, not '{kind}'")
        if not (1 <= stride <= stack):
            raise ValueError("need 1 <= stride <= stack")
        if projection and (kind != "lstm" or not 0 < projection < hidden):
            raise ValueError("projection needs an LSTM and 0 < projection < hidden")
        self.kind, self.bands, self.stack, self.stride = kind, bands, stack, stride
        self.hidden, self.layers, self.projection, self.outputs = hidden, layers, projection, outputs
        extra = {"proj_size": projection} if projection else {}
        if kind == "rnn":
            extra["nonlinearity"] = "tanh"
        self.rnn = CELLS[kind](bands * stack, hidden, layers, batch_first=True, **extra)
        self.output = torch.nn.Linear(projection or hidden, outputs)
        # Normalization travels with the module (and the checkpoint) but is metadata in the file.
        self.register_buffer("mean", torch.zeros(bands))
        self.register_buffer("std", torch.ones(bands))

    def initialize(self, seed: int) -> None:
        """Hark's initialization scheme (Network.initialize), from torch's generator: recurrent
        weights and biases uniform in +-1/sqrt(hidden), the LSTM forget-gate block of bias_ih at
        1 and of bias_hh at 0, the output weight uniform in +-1/sqrt(fan-in), its bias 0."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("rnn."):
                    bound = 1 / self.hidden ** 0.5
                elif name == "output.bias":
                    bound = 0.0
                else:
                    bound = 1 / p.shape[-1] ** 0.5
                p.copy_((torch.rand(p.shape, generator=g, dtype=torch.float64) * 2 - 1) * bound)
            if self.kind == "lstm":
                h = self.hidden
                for l in range(self.layers):
                    getattr(self.rnn, f"bias_ih_l{l}")[h:2 * h] = 1
                    getattr(self.rnn, f"bias_hh_l{l}")[h:2 * h] = 0

    def steps(self, frames):
        """Network steps for `frames` input frames (an int or a tensor of them)."""
        if isinstance(frames, torch.Tensor):
            return torch.where(frames < self.stack, torch.zeros_like(frames), (frames - self.stack) // self.stride + 1)
        if isinstance(frames, np.ndarray):
            return np.where(frames < self.stack, 0, (frames - self.stack) // self.stride + 1)
        return 0 if frames < self.stack else (frames - self.stack) // self.stride + 1

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(batch, time, bands) padded raw log-mel frames -> (batch, steps, outputs) log-probs.
        Padding at the end never reaches a real step's output (the layers are causal)."""
        x = (frames - self.mean) * (1 / self.std)
        if x.shape[1] < self.stack:
            return x.new_zeros(x.shape[0], 0, self.outputs)
        # unfold: (batch, steps, bands, stack) -> oldest frame first, concatenated.
        x = x.unfold(1, self.stack, self.stride).transpose(2, 3).reshape(x.shape[0], -1, self.stack * self.bands)
        y, _ = self.rnn(x)
        return torch.log_softmax(self.output(y), dim=-1)

    def architecture(self) -> dict:
        """NetworkConfig's JSON (Sources/Cells/Network/NetworkConfig.swift)."""
        layers, size = [], self.bands * self.stack
        for _ in range(self.layers):
            layers.append({"kind": self.kind, "inputSize": size, "hiddenSize": self.hidden,
                           "projectionSize": self.projection})
            size = self.projection or self.hidden
        return {"inputSize": self.bands, "stack": self.stack, "stride": self.stride, "layers": layers,
                "outputSize": self.outputs}

    def tensors(self) -> dict[str, np.ndarray]:
        """The parameters as Hark names them (the state dict without the normalization buffers)."""
        return {k: v.detach().cpu().float().contiguous().numpy() for k, v in self.state_dict().items()
                if k not in ("mean", "std")}

    @staticmethod
    def from_architecture(arch: dict) -> "HarkNet":
        layers = arch["layers"]
        kinds = {l["kind"] for l in layers}
        hidden = {l["hiddenSize"] for l in layers}
        proj = {l["projectionSize"] for l in layers}
        if len(kinds) != 1 or len(hidden) != 1 or len(proj) != 1:
            raise ValueError("this script builds networks of one cell kind and width")
        return HarkNet(kinds.pop(), arch["inputSize"], arch["stack"], arch["stride"], hidden.pop(), len(layers),
                       proj.pop(), arch["outputSize"])


def _json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def save_model(path: str, net: HarkNet, tokens: TokenSet, features_json: str, extra: dict[str, str] | None = None) -> None:
    """Writes a Hark model file atomically (a temporary file beside it, then renamed)."""
    meta = dict(extra or {})
    meta.update({
        "format": "hark",
        "format_version": "1",
        "architecture": _json(net.architecture()),
        "normalization": _json({"mean": [float(v) for v in net.mean.cpu().float().numpy()],
                                "std": [float(v) for v in net.std.cpu().float().numpy()]}),
        "tokens": _json(tokens.tokens),
        "features": features_json,
    })
    if len(tokens) != net.outputs:
        raise ValueError(f"{len(tokens)} tokens for {net.outputs} outputs")
    header: dict = {"__metadata__": meta}
    blobs, offset = [], 0
    for name, array in net.tensors().items():
        data = array.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)                     # the data starts 8-byte aligned, as Hark writes
    temporary = os.path.join(os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.partial-{os.getpid()}")
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(temporary, path)


def load_model(path: str) -> tuple[HarkNet, TokenSet, str, dict[str, str]]:
    """Reads a Hark model file (F32 safetensors with Hark's metadata) into a HarkNet."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    body = memoryview(blob)[8 + n:]
    meta = header.pop("__metadata__")
    if meta.get("format") != "hark" or meta.get("format_version") != "1":
        raise ValueError(f"'{path}' is not a Hark model file of format version 1")
    net = HarkNet.from_architecture(json.loads(meta["architecture"]))
    norm = json.loads(meta["normalization"])
    state = {"mean": torch.tensor(norm["mean"], dtype=torch.float32), "std": torch.tensor(norm["std"], dtype=torch.float32)}
    for name, entry in header.items():
        if entry["dtype"] != "F32":
            raise ValueError(f"'{path}': tensor '{name}' is {entry['dtype']}, not F32")
        a, b = entry["data_offsets"]
        state[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype="<f4").reshape(entry["shape"]).copy())
    net.load_state_dict(state, strict=True)
    extra = {k: v for k, v in meta.items() if k not in ("format", "format_version", "architecture", "normalization", "tokens", "features")}
    return net, TokenSet(json.loads(meta["tokens"])), meta.get("features", ""), extra
