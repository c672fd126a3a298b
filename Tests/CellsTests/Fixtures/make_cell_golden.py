#!/usr/bin/env python3
"""Golden values for Hark's cells from PyTorch (independent implementation).

For nn.RNN(tanh), nn.LSTM (with and without proj_size) and nn.GRU with fixed seeded weights and
inputs (time-major, T=21 steps, batch 2), writes the outputs of the last layer and the gradients
of L = sum(output * R) with respect to the input and every weight, in float64, to
cell_golden.json. Tensor names are PyTorch's state-dict names with the prefix "rnn.".

Run: python3 make_cell_golden.py   (needs torch; pip install torch)
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [
    # name, kind, input, hidden, proj, layers
    ("rnn", "rnn", 5, 4, 0, 1),
    ("lstm", "lstm", 5, 4, 0, 2),
    ("lstm_proj", "lstm", 5, 6, 3, 1),
    ("gru", "gru", 5, 4, 0, 2),
]
T, B = 21, 2


def make(kind, inp, hid, proj, layers):
    if kind == "rnn":
        return torch.nn.RNN(inp, hid, layers, nonlinearity="tanh")
    if kind == "lstm":
        return torch.nn.LSTM(inp, hid, layers, proj_size=proj)
    return torch.nn.GRU(inp, hid, layers)


def main():
    out = {"steps": T, "batch": B, "cases": []}
    for i, (name, kind, inp, hid, proj, layers) in enumerate(CASES):
        torch.manual_seed(1000 + i)
        net = make(kind, inp, hid, proj, layers).double()
        with torch.no_grad():
            for p in net.parameters():
                p.uniform_(-0.6, 0.6)
        x = (torch.rand(T, B, inp, dtype=torch.float64) * 2 - 1).requires_grad_()
        y, _ = net(x)
        r = torch.rand(y.shape, dtype=torch.float64) * 2 - 1
        (y * r).sum().backward()
        out["cases"].append({
            "name": name, "kind": kind, "input_size": inp, "hidden_size": hid,
            "proj_size": proj, "layers": layers,
            "x": x.detach().flatten().tolist(), "r": r.flatten().tolist(), "y": y.detach().flatten().tolist(),
            "weights": {"rnn." + k: v.detach().flatten().tolist() for k, v in net.named_parameters()},
            "grads": {"rnn." + k: v.grad.flatten().tolist() for k, v in net.named_parameters()},
            "x_grad": x.grad.flatten().tolist(),
        })
    with open(os.path.join(HERE, "cell_golden.json"), "w") as f:
        json.dump(out, f)
    print("torch", torch.__version__, "cases:", [c[0] for c in CASES])


if __name__ == "__main__":
    main()
