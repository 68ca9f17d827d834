"""Writes tests/fixtures/tfspeed.json: PyTorch 1.13's numbers for the
transformer ops that have their own CPU kernels (native/cpu/gelu.c,
native/cpu/layer_norm.c): F.gelu (exact and tanh) and its gradient on edge
values (+-inf, NaN, signed zeros, the far tails, huge |x|) and random ones,
with float64 references besides torch's float32 (torch's vectorised erf is
1.5e-7 off in absolute terms, so the tight check is against float64), and
F.layer_norm's output and gradients (input, weight, bias) on several shapes:
a normalized_shape of one and of two dimensions, a non-contiguous input,
weight or bias or neither, a large mean, ConvNeXt's eps 1e-6.

Every differentiable case stores its inputs, output, a fixed random upstream
gradient G and the gradients of L = sum(out * G). Non-finite numbers are the
strings "nan", "inf" and "-inf". Inputs are float32, written with 9
significant digits (exact float32 round trip); the float64 references with 17.

Run with /usr/bin/python3 scripts/make_tfspeed_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import erfc

from fixture_json import enc, randn, ser

torch.set_num_threads(1)
torch.manual_seed(20260701)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "tfspeed.json")

EDGES = [float("-inf"), float("inf"), float("nan"), -1e30, -3e19, -20.0, -14.5, -14.0, -10.0,
         -9.0, -7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.5, -1.0, -0.75, -0.5, -1e-3, -1e-30, -1e-40,
         -0.0, 0.0, 1e-40, 1e-30, 1e-3, 0.25, 0.5, 0.75, 1.0, 2.0, 3.0, 5.0, 6.0, 10.0, 1e30]


def enc64(v):
    if math.isnan(v) or math.isinf(v):
        return enc(v)
    return float("%.17g" % v)


def gelu_ref(x, tanh_form):
    """float64 gelu and its derivative, in forms that do not cancel in the tails."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        if not tanh_form:
            y = x * 0.5 * erfc(-x / math.sqrt(2))
            d = 0.5 * erfc(-x / math.sqrt(2)) + x * np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
            return y, d
        b2 = 2 * math.sqrt(2 / math.pi)
        a = b2 * (x + 0.044715 * x ** 3)
        s = np.where(a >= 0, 1 / (1 + np.exp(-np.abs(a))),
                     np.exp(-np.abs(a)) / (1 + np.exp(-np.abs(a))))
        y = x * s
        d = s + x * b2 * (1 + 3 * 0.044715 * x * x) * s * (1 - s)
        return y, d


def gelu_cases():
    out = {}
    rand = randn(60) * 3
    for approximate in ("none", "tanh"):
        x = torch.cat([torch.tensor(EDGES, dtype=torch.float32), rand]).requires_grad_()
        y = F.gelu(x, approximate=approximate)
        g = randn(*y.shape)
        (y * g).sum().backward()
        ry, rd = gelu_ref(x.detach().double().numpy(), approximate == "tanh")
        out[approximate] = {
            "x": ser(x), "y": ser(y), "G": ser(g), "dx": ser(x.grad),
            "y64": [enc64(v) for v in ry.tolist()],
            "d64": [enc64(v) for v in rd.tolist()],
        }
    return out


def layer_norm_case(name, x, shape, weight=True, bias=True, eps=1e-5, offset=0.0):
    x = (x + offset).detach().requires_grad_()
    w = (randn(*shape) * 0.5 + 1).requires_grad_() if weight else None
    b = randn(*shape).requires_grad_() if bias else None
    y = F.layer_norm(x, shape, w, b, eps)
    g = randn(*y.shape)
    (y * g).sum().backward()
    case = {"name": name, "normalizedShape": list(shape), "eps": eps, "x": ser(x), "y": ser(y),
            "G": ser(g), "dx": ser(x.grad)}
    if w is not None:
        case.update(weight=ser(w), dweight=ser(w.grad))
    if b is not None:
        case.update(bias=ser(b), dbias=ser(b.grad))
    return case


def layer_norm_cases():
    base = randn(9, 8).t()
    return [
        layer_norm_case("[2,3,32] over [32]", randn(2, 3, 32), [32]),
        layer_norm_case("[3,5,6] over [5,6]", randn(3, 5, 6), [5, 6]),
        layer_norm_case("[4,24] no weight, no bias", randn(4, 24), [24], weight=False, bias=False),
        layer_norm_case("[5,20] weight only", randn(5, 20), [20], bias=False),
        layer_norm_case("[5,20] bias only", randn(5, 20), [20], weight=False),
        # A transposed view: rows of the normalised dimension are 9 floats apart.
        {**layer_norm_case("[8,9] transposed over [9]", base, [9]), "transposedFrom": [9, 8]},
        layer_norm_case("[3,40] mean 1000", randn(3, 40), [40], offset=1000.0),
        layer_norm_case("[2,1,3,24] eps 1e-6", randn(2, 1, 3, 24), [24], eps=1e-6),
        layer_norm_case("[1,3] three values", randn(1, 3), [3]),
        layer_norm_case("[70,4] more rows than blocks", randn(70, 4), [4]),
    ]


def fix_transposed(cases):
    """The transposed case's x is stored as its contiguous [9, 8] source (the test transposes)."""
    for c in cases:
        if "transposedFrom" in c:
            x = torch.tensor([v for v in c["x"]["data"]]).reshape(c["x"]["shape"])
            c["source"] = ser(x.t().contiguous())
    return cases


def main():
    fixture = {"gelu": gelu_cases(), "layerNorm": fix_transposed(layer_norm_cases())}
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
