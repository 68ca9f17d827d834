"""Writes tests/fixtures/embedding_bag.json: PyTorch 1.13's
F.embedding_bag (tests/embedding_bag_test.ts).

Each case stores the weight, the int32 input (1-D with offsets, or 2-D),
the options under this library's names (camelCase), per-sample weights
where given, the output, a fixed random G, and the gradients of
L = sum(out * G) for the weight and the per-sample weights. Bags include
empty ones, repeated indices, ties for "max" and padding indices.

Run with /usr/bin/python3 scripts/make_embedding_bag_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260803)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "embedding_bag.json")
SNAKE = {"paddingIdx": "padding_idx", "includeLastOffset": "include_last_offset",
         "scaleGradByFreq": "scale_grad_by_freq"}


def case(name, rows, dim, ids, offsets=None, psw=False, weight=None, **opts):
    w = (torch.randn(rows, dim) if weight is None else weight).requires_grad_(True)
    x = torch.tensor(ids, dtype=torch.int64)
    off = None if offsets is None else torch.tensor(offsets, dtype=torch.int64)
    p = torch.randn(x.shape).requires_grad_(True) if psw else None
    kw = {SNAKE.get(k, k): v for k, v in opts.items()}
    out = F.embedding_bag(x, w, off, per_sample_weights=p, **kw)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    rec = {"name": name, "weight": ser(w), "input": {**ser(x), "dtype": "int32"},
           "options": opts, "out": ser(out), "G": ser(g), "gradWeight": ser(w.grad)}
    if offsets is not None:
        rec["offsets"] = offsets
    if psw:
        rec["perSampleWeights"] = ser(p)
        rec["gradPerSampleWeights"] = ser(p.grad)
    return rec


ids = [1, 2, 4, 5, 4, 3, 2, 9, 0, 7]
ties = torch.tensor([[1., 5], [3, 5], [3, 2], [0, 0]])
cases = [
    case("mean (default), offsets", 10, 3, ids, [0, 4, 4, 7]),
    case("sum, offsets with an empty bag", 10, 3, ids, [0, 4, 4, 7], mode="sum"),
    case("max, offsets with an empty bag", 10, 3, ids, [0, 4, 4, 7], mode="max"),
    case("max, ties: the first maximum", 4, 2, [0, 1, 2, 3, 1, 0], [0, 3], mode="max",
         weight=ties),
    case("sum with perSampleWeights", 10, 4, ids, [0, 3, 8], mode="sum", psw=True),
    case("2-D input, mean", 8, 3, [[1, 2, 3], [4, 4, 0], [7, 6, 5]]),
    case("2-D input, sum with perSampleWeights", 8, 3, [[1, 2, 3], [4, 4, 0]], mode="sum",
         psw=True),
    case("2-D input, max", 8, 3, [[1, 2, 3], [4, 4, 0], [7, 6, 5]], mode="max"),
    case("paddingIdx, mean (left out of the count)", 10, 3, ids, [0, 4, 7], paddingIdx=4),
    case("paddingIdx, sum, a bag of padding only", 10, 3, [4, 4, 1, 2], [0, 2], mode="sum",
         paddingIdx=4),
    case("paddingIdx, max", 10, 3, ids, [0, 4, 7], mode="max", paddingIdx=2),
    case("paddingIdx, sum with perSampleWeights", 10, 3, ids, [0, 5], mode="sum",
         paddingIdx=9, psw=True),
    case("includeLastOffset, mean", 10, 3, ids, [0, 4, 4, 10], includeLastOffset=True),
    case("includeLastOffset, max", 10, 3, ids, [0, 2, 10], mode="max",
         includeLastOffset=True),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
