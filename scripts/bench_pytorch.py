#!/usr/bin/env python3
"""PyTorch on this CPU, for BENCHMARKS.md: the same networks as `hark-bench cells`.

Batch-1 streaming step (one thread, torch.no_grad, state carried) and training throughput
(two threads, batch 16 x 300 frames stacked 3, cross-entropy, Adam), as markdown table rows.
Run by scripts/bench when PyTorch is importable (HARK_BENCH_PYTHON selects the interpreter).
"""
import sys
import time

import torch

SHAPES = [
    ("LSTM 2×256, 80 mels stacked 3", "lstm", 256, 2, 0),
    ("LSTM 3×320, 80 mels stacked 3", "lstm", 320, 3, 0),
    ("LSTM 3×512, 80 mels stacked 3", "lstm", 512, 3, 0),
    ("LSTM 3×384 proj 192, stacked 3", "lstm", 384, 3, 192),
    ("GRU 2×256, 80 mels stacked 3", "gru", 256, 2, 0),
]


class Net(torch.nn.Module):
    def __init__(self, kind, hidden, layers, proj):
        super().__init__()
        if kind == "lstm":
            self.rnn = torch.nn.LSTM(240, hidden, layers, proj_size=proj)
        else:
            self.rnn = torch.nn.GRU(240, hidden, layers)
        self.output = torch.nn.Linear(proj or hidden, 29)

    def forward(self, x, state=None):
        y, state = self.rnn(x, state)
        return torch.log_softmax(self.output(y), -1), state


def best(fn, repeats=3):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def timed_rounds(fn, rounds):
    """Best wall time of `rounds` calls, and the process CPU time (all threads) per call."""
    cpu = time.process_time()
    wall = best(fn, rounds)
    return wall, (time.process_time() - cpu) / rounds


def main():
    # `bench_pytorch.py training [SHAPE [THREADS]]`: the training figures alone, for the shapes
    # whose name contains SHAPE, on THREADS threads (default 2), as `hark-bench training [SHAPE
    # [THREADS]]`, to interleave with Hark's runs.
    training_only = len(sys.argv) > 1 and sys.argv[1] == "training"
    only = sys.argv[2] if training_only and len(sys.argv) > 2 else ""
    threads = int(sys.argv[3]) if training_only and len(sys.argv) > 3 else 2
    print(f"PyTorch {torch.__version__}")
    print()
    print(f"| network | PyTorch batch-1 step (1 thread) | PyTorch training, frames per second ({threads} threads) "
          "| CPU time per minibatch |")
    print("|---|---|---|---|")
    for name, kind, hidden, layers, proj in SHAPES:
        if only not in name:
            continue
        net = Net(kind, hidden, layers, proj)
        torch.set_num_threads(1)
        x = torch.randn(1, 1, 240)
        state = None
        step = float("nan")
        with torch.no_grad():
            for _ in range(0 if training_only else 200):
                _, state = net(x, state)

            def steps():
                nonlocal state
                for _ in range(2000):
                    _, state = net(x, state)
            if not training_only:
                step = best(steps) / 2000
        torch.set_num_threads(threads)
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        xb = torch.randn(100, 16, 240)
        tb = torch.randint(0, 29, (100, 16))

        def train():
            for _ in range(3):
                opt.zero_grad()
                out, _ = net(xb)
                torch.nn.functional.nll_loss(out.reshape(-1, 29), tb.reshape(-1)).backward()
                opt.step()
        # As `hark-bench training`: warm-up, then the best of three rounds of three minibatches.
        train()
        wall, cpu = timed_rounds(train, 3)
        t = wall / 3
        print(f"| {name} | {step * 1e6:.1f} µs | {int(16 * 300 / t)} | {cpu / 3:.3f} s |")


if __name__ == "__main__":
    main()
