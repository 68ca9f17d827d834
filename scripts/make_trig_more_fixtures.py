"""Writes tests/fixtures/trig_more.json: PyTorch 1.13's numbers for the
trigonometric, hyperbolic and error functions of tests/trig_more_test.ts
(tan, asin, acos, atan, sinh, cosh, asinh, acosh, atanh, erf, erfc, erfinv)
and the binary atan2, computed by torch's CPU kernels in float32.

Each case stores its inputs, its output, a fixed random upstream gradient G
of the output's shape and the gradients of L = sum(out * G) for every input.
The unary cases run every op on one list of points that holds each op's
edges (0 and -0, the domain ends +-1 and 1 for acosh, 1 ulp inside and
outside them, tan near pi / 2, sinh's and cosh's overflow near 89, erfc's
underflow, x^2 overflowing in asinh's gradient, NaN and the infinities),
then random points; shapes from 0-d to 3-d. atan2 covers the four
quadrants, signed zeros, the infinities and broadcasting. NaN and the
infinities are the strings "nan", "inf" and "-inf" (JSON has none).

Run with /usr/bin/python3 scripts/make_trig_more_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import numpy as np
import torch

from fixture_json import ser as ser_plain

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "trig_more.json")
NAN, INF = float("nan"), float("inf")


def below(v):
    """The float32 just below v."""
    return float(np.nextafter(np.float32(v), np.float32(-INF)))


def above(v):
    """The float32 just above v."""
    return float(np.nextafter(np.float32(v), np.float32(INF)))


def ser(t):
    """fixture_json's ser, keeping -0 (written -0.0, which JSON.parse reads as -0): the sign of
    a zero is atan2's quadrant and part of every odd function's answer."""
    out = ser_plain(t)
    flat = t.detach().reshape(-1).tolist()
    out["data"] = [-0.0 if v == 0 and math.copysign(1, v) < 0 else d
                   for v, d in zip(flat, out["data"])]
    return out


CASES = []


def case(name, op, inputs, fn):
    """fn(*inputs) -> a tensor; gradients of sum(out * G) for every input."""
    for t in inputs:
        t.grad = None
    out = fn(*inputs)
    g = torch.rand(out.shape) * 2 + 0.5  # in [0.5, 2.5): no cancellation to 0
    (out * g).sum().backward()
    c = {"name": name, "op": op, "inputs": [ser(t) for t in inputs], "out": ser(out),
         "G": ser(g), "grads": [ser(t.grad) for t in inputs]}
    CASES.append(c)


def leaf(values, shape=None):
    t = torch.tensor(values, dtype=torch.float32)
    if shape is not None:
        t = t.reshape(shape)
    return t.requires_grad_(True)


HALF_PI = math.pi / 2
EDGES = [
    0.0, -0.0, 1e-30, -1e-30, 1e-8, -1e-4, 1e-3, 0.1, -0.25, 0.5, -0.5, 0.7, below(0.7),
    above(0.7), 0.9, -0.9, 0.999, -0.9999, 0.99999, below(1.0), -below(1.0), 1.0, -1.0,
    above(1.0), -above(1.0), 1.5, -1.5, HALF_PI, below(HALF_PI), above(HALF_PI), -HALF_PI, 2.0,
    -2.5, math.pi, 3.0, -4.0, 6.0, 9.0, -9.0, 10.0, 20.0, -30.0, 88.0, -88.5, 89.0, 90.0,
    -90.0, 1e4, -1e4, 1e19, -1e20, 1e30, 3e38, -3e38, INF, -INF, NAN,
]

UNARY = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "erf", "erfc",
         "erfinv"]


def one_by_one(fn):
    """fn on each element as a 1-element tensor: torch's scalar CPU path (std::sinh, ...)."""
    return lambda x: torch.cat([fn(x[i:i + 1]) for i in range(x.numel())])


for op in UNARY:
    fn = getattr(torch, op)
    # torch's vectorised sinh and cosh (Sleef's, tensors of 16 and more) overflow from
    # |x| = 88.72, where the float32 result is finite up to 89.4 (torch's scalar path,
    # libm's, CUDA's and numpy's give 2.2448064e38 at 89): the edges take the scalar path.
    edge_fn = one_by_one(fn) if op in ("sinh", "cosh") else fn
    case(f"{op}: edges", op, [leaf(EDGES)], edge_fn)
    # Random points where the op is defined (erfinv, asin, acos and atanh in
    # (-1, 1); acosh from 1), in a 3-d shape.
    if op in ("asin", "acos", "atanh", "erfinv"):
        r = torch.rand(2, 3, 5) * 2 - 1
    elif op == "acosh":
        r = torch.rand(2, 3, 5) * 9 + 1
    else:
        r = torch.randn(2, 3, 5) * 2
    case(f"{op}: random [2, 3, 5]", op, [r.requires_grad_(True)], fn)
    case(f"{op}: 0-d", op, [leaf(0.375, [])], fn)

# ---- atan2(input, other): the angle of the point (other, input) ----
ys = [0.0, 0.0, -0.0, -0.0, 1.0, 1.0, -1.0, -1.0, 2.0, -3.0, INF, INF, -INF, INF, 1.0, -1.0, NAN,
      0.5, 1e-30, 5.0]
xs = [0.0, -0.0, 0.0, -0.0, 1.0, -1.0, 1.0, -1.0, 0.0, -0.0, INF, -INF, 1.0, 2.0, INF, -INF, 1.0,
      NAN, 1e-30, -1e-3]
case("atan2: quadrants, signed zeros, infinities, NaN", "atan2", [leaf(ys), leaf(xs)], torch.atan2)
case("atan2: random [3, 4]", "atan2",
     [torch.randn(3, 4).requires_grad_(True), torch.randn(3, 4).requires_grad_(True)], torch.atan2)
case("atan2: broadcast [3, 1] and [4]", "atan2",
     [torch.randn(3, 1).requires_grad_(True), torch.randn(4).requires_grad_(True)], torch.atan2)
case("atan2: broadcast [2, 1, 3] and 0-d", "atan2",
     [torch.randn(2, 1, 3).requires_grad_(True), leaf(-0.5, [])], torch.atan2)

# ---- int32 inputs (torch: int64) give float32, as torch promotes them ----
ints = torch.tensor([-3, -1, 0, 1, 2, 7], dtype=torch.int64)
PROMOTED = {op: ser(getattr(torch, op)(ints)) for op in UNARY}
PROMOTED["atan2"] = ser(torch.atan2(ints, torch.tensor([1, -2, 0, 0, -1, 3])))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES, "ints": ser(ints),
               "intsOther": [1, -2, 0, 0, -1, 3], "promoted": PROMOTED}, f,
              separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(OUT)}")
