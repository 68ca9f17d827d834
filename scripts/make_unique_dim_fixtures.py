"""Writes tests/fixtures/unique_dim.json: PyTorch 1.13's torch.unique with dim
and torch.unique_consecutive (flat and with dim), for tests/unique_dim_test.ts.

Each case stores the input x (float32 or int32), the options in this
library's names, the outputs in torch's tuple order (values, inverse?,
counts?; torch's int64 stored as int32), -0 kept as -0.0. Slices are compared along dims 0, 1,
2 and 3 of 2-D to 4-D tensors, with ties, more than 16 slices (torch's sort
past insertion sort), a zero-size dim, and infinities; unique_consecutive
with NaN (each NaN its own run). torch.unique of slices holding NaN is left
out: 1.13 sorts them with a comparison NaN breaks (the test checks this
library's documented order instead), and so is the flat unique of NaN,
which 1.13's hash-based kernel gets wrong (tensor_ops_more covers it).

Run with /usr/bin/python3 scripts/make_unique_dim_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import torch

from fixture_json import ser

torch.manual_seed(20261206)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "unique_dim.json")
NAN = float("nan")
INF = float("inf")
CASES = []


def f32(v):
    return torch.tensor(v, dtype=torch.float32)


def i32(v):
    return torch.tensor(v, dtype=torch.int32)


def store(t):
    """ser(t), keeping -0 (JSON has it: json writes -0.0, JSON.parse reads -0)."""
    s = ser(t)
    if t.dtype.is_floating_point:
        flat = t.detach().reshape(-1).tolist()
        s["data"] = [-0.0 if v == 0 and math.copysign(1, v) < 0 else d for v, d in zip(flat, s["data"])]
    return s


def case(name, fn, x, **kw):
    """kw in torch's names; stored in this library's."""
    names = {"return_inverse": "returnInverse", "return_counts": "returnCounts", "dim": "dim", "sorted": "sorted"}
    op = torch.unique if fn == "unique" else torch.unique_consecutive
    out = op(x, **kw)
    outs = list(out) if isinstance(out, tuple) else [out]
    values = outs[0]
    rec = {
        "name": name,
        "fn": fn,
        "x": store(x),
        "options": {names[k]: v for k, v in kw.items()},
        "out": [store(o.to(torch.int32) if o.dtype == torch.int64 else o) for o in outs],
    }
    CASES.append(rec)


ALL = {"return_inverse": True, "return_counts": True}
rows = f32([[1, 2, 3], [0, 5, 1], [1, 2, 3], [1, 2, -3], [0, 5, 1], [1, 2, 3]])
case("rows", "unique", rows, dim=0, **ALL)
case("rows plain", "unique", rows, dim=0)
case("rows inverse", "unique", rows, dim=0, return_inverse=True)
case("rows counts, sorted false", "unique", rows, dim=0, return_counts=True, sorted=False)
case("columns int32", "unique", i32([[3, 1, 3, 2, 1], [0, 4, 0, 9, 4]]), dim=1, **ALL)
case("dim -1", "unique", i32([[3, 1, 3, 2, 1], [0, 4, 0, 9, 4]]), dim=-1, **ALL)
case("dim -2", "unique", rows, dim=-2, return_counts=True)
case("1-D dim 0", "unique", f32([3, 1, 2, 1, -7, 3]), dim=0, **ALL)
case("infinities", "unique", f32([[INF, 1], [-INF, 1], [INF, 1], [1, -INF], [1, INF]]), dim=0, **ALL)
case("signed zeros, 0 first", "unique", f32([[0.0, 1], [-0.0, 1], [2, 0.0]]), dim=0, **ALL)
case("signed zeros, -0 first", "unique", f32([[-0.0, 1], [0.0, 1], [2, -0.0]]), dim=0, **ALL)
case("flat signed zeros, 0 first", "unique", f32([0.0, 1.0, -0.0, 2.0]), **ALL)
case("flat signed zeros, -0 first", "unique", f32([-0.0, 1.0, 0.0]), **ALL)
for d in range(3):
    case(f"3-D dim {d}", "unique", torch.randint(0, 2, (3, 4, 3)).float(), dim=d, **ALL)
    case(f"3-D int32 dim {d}", "unique", torch.randint(-1, 2, (4, 3, 5), dtype=torch.int32), dim=d, **ALL)
for d in range(4):
    case(f"4-D dim {d}", "unique", torch.randint(0, 2, (2, 3, 3, 2)).float(), dim=d, **ALL)
case("40 rows", "unique", torch.randint(0, 3, (40, 3)).float(), dim=0, **ALL)
case("30 slices of 3-D dim 1", "unique", torch.randint(0, 2, (2, 30, 2), dtype=torch.int32), dim=1, **ALL)
case("float rows", "unique", torch.randn(3, 6).repeat(2, 1)[torch.randperm(6)], dim=0, **ALL)
case("empty dim 0", "unique", torch.zeros(0, 3), dim=0, **ALL)
case("empty dim 1 of 3-D", "unique", torch.zeros(2, 0, 3, dtype=torch.int32), dim=1, **ALL)

# unique_consecutive
case("consecutive flat", "uniqueConsecutive", i32([1, 1, 2, 2, 3, 1, 1, 2]), **ALL)
case("consecutive flat plain", "uniqueConsecutive", i32([1, 1, 2, 2, 3, 1, 1, 2]))
case("consecutive flat counts", "uniqueConsecutive", f32([1, 1, 2]), return_counts=True)
case("consecutive 2-D flattened", "uniqueConsecutive", i32([[3, 3, 1], [1, 1, 3]]), **ALL)
case(
    "consecutive NaN and zeros",
    "uniqueConsecutive",
    f32([1, NAN, NAN, 2, 2, NAN, -0.0, 0.0, INF, INF, 0.0, -0.0]),
    **ALL,
)
case("consecutive 0-d", "uniqueConsecutive", f32(3.5), **ALL)
case("consecutive empty", "uniqueConsecutive", f32([]), **ALL)
case("unique 0-d", "unique", f32(3.5), **ALL)
crow = f32([[1, NAN], [1, NAN], [0, 2], [0, 2], [1, 0], [0, 2], [-0.0, 2]])
case("consecutive rows with NaN", "uniqueConsecutive", crow, dim=0, **ALL)
case("consecutive rows inverse", "uniqueConsecutive", crow, dim=0, return_inverse=True)
case("consecutive columns", "uniqueConsecutive", i32([[1, 1, 2, 2, 1], [0, 0, 5, 5, 0]]), dim=1, **ALL)
for d in range(3):
    x = torch.randint(0, 2, (3, 6, 4), dtype=torch.int32)
    case(f"consecutive 3-D dim {d}", "uniqueConsecutive", x.repeat_interleave(2, dim=d), dim=d, **ALL)
case("consecutive dim -1", "uniqueConsecutive", f32([[1, 1, 2], [3, 3, 4]]), dim=-1, return_counts=True)
case("consecutive empty dim", "uniqueConsecutive", torch.zeros(3, 0), dim=1, **ALL)

with open(OUT, "w") as f:
    json.dump({"cases": CASES}, f)
print(f"wrote {len(CASES)} cases to {OUT}")
