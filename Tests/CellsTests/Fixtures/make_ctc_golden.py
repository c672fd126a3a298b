#!/usr/bin/env python3
"""Golden CTC values from PyTorch's torch.nn.functional.ctc_loss (blank 0, reduction "none").

For a few (logits, labels) cases, including repeated labels, empty labels and a sequence exactly
as long as it must be, writes the loss and its gradient with respect to the *logits* (through
log_softmax, which is how Hark's network applies it) in float64 to ctc_golden.json.

Run: python3 make_ctc_golden.py   (needs torch)
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [  # steps, classes, labels
    (12, 5, [1, 2, 2, 3]),
    (7, 4, [3, 3, 3]),          # needs 5 steps at least (3 labels + 2 separating blanks)
    (5, 4, [1, 2, 1, 2, 3]),    # exactly as long as the labels
    (9, 6, []),
    (30, 8, [7, 1, 5, 5, 2, 6, 1]),
]


def main():
    torch.manual_seed(5)
    out = []
    for steps, classes, labels in CASES:
        logits = (torch.randn(steps, 1, classes, dtype=torch.float64) * 2).requires_grad_()
        lp = torch.log_softmax(logits, -1)
        loss = torch.nn.functional.ctc_loss(lp, torch.tensor([labels], dtype=torch.long), [steps], [len(labels)],
                                            blank=0, reduction="none")
        loss.sum().backward()
        out.append({"steps": steps, "classes": classes, "labels": labels,
                    "logits": logits.detach().flatten().tolist(), "loss": loss.item(),
                    "grad_logits": logits.grad.flatten().tolist()})
    with open(os.path.join(HERE, "ctc_golden.json"), "w") as f:
        json.dump(out, f)
    print("torch", torch.__version__, [round(c["loss"], 4) for c in out])


if __name__ == "__main__":
    main()
