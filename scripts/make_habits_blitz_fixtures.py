"""Writes tests/fixtures/habits_blitz.json: PyTorch 1.13's numbers for the
60-minute blitz habits that tests/habits_blitz_test.ts checks.

- "T": x.T for 0-d to 4-d inputs (1.13: x.t() for at most 2 dimensions, all
  dimensions reversed for more): the input, the output (values, shape and
  strides of the view) and the gradient of L = sum(x.T * G) for a fixed
  random G.
- "blitzBackward": the blitz's Q = 3 a^3 - b^2 with Q.backward(gradient=
  torch.ones(2)): a.grad and b.grad.

Run with /usr/bin/python3 scripts/make_habits_blitz_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch

from fixture_json import ser

warnings.simplefilter("ignore")  # x.T on tensors of dimension other than 2 warns in 1.13
torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_blitz.json")

T_CASES = []
for shape in [[], [3], [2, 3], [2, 3, 4], [2, 3, 4, 5]]:
    x = torch.randn(shape).requires_grad_(True)
    y = x.T
    G = torch.randn(y.shape)
    (y * G).sum().backward()
    T_CASES.append({"x": ser(x), "out": ser(y), "stride": list(y.stride()), "G": ser(G),
                    "grad": ser(x.grad)})

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
Q.backward(gradient=torch.tensor([1., 1.]))
BLITZ = {"a": ser(a), "b": ser(b), "Q": ser(Q), "aGrad": ser(a.grad), "bGrad": ser(b.grad)}

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "T": T_CASES, "blitzBackward": BLITZ}, f)
    f.write("\n")
print(f"wrote {OUT}")
