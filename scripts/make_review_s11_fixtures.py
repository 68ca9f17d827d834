"""Writes tests/fixtures/review_s11.json: PyTorch's answers for the products
of tests/review_s11_test.ts whose inner dimension is 0 and one operand has
three or more dimensions (matmul, F.linear, torch.inner): the output (zeros,
or the bias broadcast), and the gradients of L = sum(out * G) for a fixed
random upstream gradient G (a bias's gradient is G summed; the others are
zeros of their input's shape).

Each case stores the operands' shapes, the bias values (when there is one),
G, the output and each input's gradient. Tensors are float32; values are
written with 9 significant digits (exact float32 round trip).

Run with /usr/bin/python3 scripts/make_review_s11_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "review_s11.json")


# name, op, operand shapes, bias shape or None
CASES = [
    ("matmul [2,3,0] x [0,4]", "matmul", [[2, 3, 0], [0, 4]], None),
    ("matmul [2,3,0] x [1,0,4]", "matmul", [[2, 3, 0], [1, 0, 4]], None),
    ("matmul [2,2,3,0] x [2,0,4]", "matmul", [[2, 2, 3, 0], [2, 0, 4]], None),
    ("matmul [2,3,0] x [0]", "matmul", [[2, 3, 0], [0]], None),
    ("linear [2,3,0] w [5,0] b [5]", "linear", [[2, 3, 0], [5, 0]], [5]),
    ("linear [4,1,2,0] w [3,0]", "linear", [[4, 1, 2, 0], [3, 0]], None),
    ("inner [2,3,0] [4,0]", "inner", [[2, 3, 0], [4, 0]], None),
]


def case(name, op, shapes, bias_shape):
    xs = [torch.randn(s).requires_grad_() for s in shapes]
    b = torch.randn(bias_shape).requires_grad_() if bias_shape else None
    if op == "matmul":
        y = torch.matmul(*xs)
    elif op == "linear":
        y = F.linear(xs[0], xs[1], b)
    else:
        y = torch.inner(*xs)
    g = torch.randn(y.shape)
    (y * g).sum().backward()
    leaves = xs + ([b] if b is not None else [])
    return {
        "name": name,
        "op": op,
        "shapes": shapes,
        "bias": ser(b) if b is not None else None,
        "G": ser(g),
        "out": ser(y),
        "grads": [ser(t.grad) for t in leaves],
    }


def main():
    data = {"emptyProducts": [case(*c) for c in CASES]}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(data['emptyProducts'])} cases")


if __name__ == "__main__":
    main()
