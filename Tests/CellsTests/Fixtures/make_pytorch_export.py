#!/usr/bin/env python3
"""A network defined and saved in PyTorch, loaded by Hark: the export path of README.md.

Writes pytorch_export.safetensors (safetensors.torch.save_file of the state dict, with Hark's
metadata) and pytorch_export_expected.json (input frames and PyTorch's own log-probabilities).
Frames are normalized per band, then stacked oldest-first, `stack` frames every `stride` frames.

Run: python3 make_pytorch_export.py   (needs torch and safetensors)
"""
import json
import os

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
BANDS, STACK, STRIDE, HIDDEN, PROJ, LAYERS, TOKENS = 4, 2, 2, 6, 3, 2, ["_", "a", "b", "c", " "]


class HarkNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(BANDS * STACK, HIDDEN, LAYERS, proj_size=PROJ)
        self.output = torch.nn.Linear(PROJ, len(TOKENS))

    def forward(self, frames, mean, std):                       # frames: (T, bands)
        x = (frames - mean) / std
        steps = (x.shape[0] - STACK) // STRIDE + 1
        stacked = torch.stack([x[s * STRIDE:s * STRIDE + STACK].flatten() for s in range(steps)])
        y, _ = self.rnn(stacked.unsqueeze(1))
        return torch.log_softmax(self.output(y.squeeze(1)), dim=-1)


def main():
    torch.manual_seed(7)
    net = HarkNet()
    mean, std = torch.randn(BANDS) * 0.5, torch.rand(BANDS) + 0.5
    layers, size = [], BANDS * STACK
    for _ in range(LAYERS):
        layers.append({"kind": "lstm", "inputSize": size, "hiddenSize": HIDDEN, "projectionSize": PROJ})
        size = PROJ
    arch = {"inputSize": BANDS, "stack": STACK, "stride": STRIDE, "layers": layers, "outputSize": len(TOKENS)}
    save_file({k: v.contiguous() for k, v in net.state_dict().items()},
              os.path.join(HERE, "pytorch_export.safetensors"),
              metadata={"format": "hark", "format_version": "1", "architecture": json.dumps(arch),
                        "tokens": json.dumps(TOKENS),
                        "normalization": json.dumps({"mean": mean.tolist(), "std": std.tolist()})})
    frames = torch.randn(25, BANDS)
    with torch.no_grad():
        out = net(frames, mean, std)
    with open(os.path.join(HERE, "pytorch_export_expected.json"), "w") as f:
        json.dump({"frames": frames.flatten().tolist(), "logprobs": out.flatten().tolist()}, f)
    print("steps", out.shape[0])


if __name__ == "__main__":
    main()
