"""Writes tests/fixtures/layers_3d_fixes.json: PyTorch's numbers for the
cases a review of the 3-D layers found wrong or refused
(tests/layers_3d_fixes_test.ts): max_pool3d windows whose real values are
all -inf (padded depth pooling; dilated height and width), windows with
NaN (torch sends the gradient to the last NaN), unbatched
[C, D, H, W] inputs of conv3d, max_pool3d, avg_pool3d and nn.Conv3d with
reflect padding, and conv3d cases that the tests run in many chunks. (A
window with no element of the input inside, dilation stepping over a
one-element depth, is left out: torch 1.13 writes its gradient outside the
input there and corrupts its heap.)

Each op case stores its inputs, its options under this library's names
(camelCase), its output, a fixed upstream gradient G and the gradients of
L = sum(out * G) for every input. NaN and the infinities are the strings
"nan", "inf" and "-inf".

Run with /usr/bin/python3 scripts/make_layers_3d_fixes_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_json import ser

warnings.simplefilter("ignore")  # "same" padding with an even kernel
torch.set_num_threads(1)
torch.manual_seed(20261206)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "layers_3d_fixes.json")
INF, NAN = float("inf"), float("nan")


def camel(opts):
    return {"".join(w if i == 0 else w.capitalize() for i, w in enumerate(k.split("_"))): v
            for k, v in opts.items()}


def q(t):
    """t rounded to multiples of 1/64: exact in float32 and short in JSON."""
    return torch.round(t * 64) / 64


def randn(*shape):
    return q(torch.randn(*shape))


def choice(values, *shape):
    v = torch.tensor(values, dtype=torch.float32)
    return v[torch.randint(0, len(values), shape)]


def upstream(out):
    # In [0.5, 2.5], multiples of 1/16: no cancellation to 0.
    return torch.round((torch.rand(out.shape) * 2 + 0.5) * 16) / 16


def op_case(name, op, inputs, fn, args=(), opts=None, grad=None):
    """fn(*inputs) -> out; gradients of sum(out * G) for each input (grad: which need one)."""
    opts = opts or {}
    grad = grad or [True] * len(inputs)
    for t, g in zip(inputs, grad):
        t.requires_grad_(g)
    out = fn(*inputs)
    g = upstream(out)
    (out * g).sum().backward()
    return {"name": name, "op": op, "args": list(args), "opts": camel(opts),
            "inputs": [dict(ser(t), grad=need) for t, need in zip(inputs, grad)],
            "out": ser(out), "G": ser(g),
            "grads": [ser(t.grad) if t.grad is not None else None for t in inputs]}


POOL = []


def pool(name, op, x, args, **opts):
    fn = getattr(F, op)
    op_name = {"max_pool3d": "maxPool3d", "avg_pool3d": "avgPool3d"}[op]
    POOL.append(op_case(name, op_name, [x], lambda x: fn(x, *args, **opts), args, opts))


pool("all -inf, padded depth (the review's)", "max_pool3d", torch.full((1, 1, 4, 1, 1), -INF),
     [[3, 1, 1]], stride=[2, 1, 1], padding=[1, 0, 0])
pool("all -inf, width dilation 2 and padding (the review's)", "max_pool3d",
     torch.full((1, 1, 1, 1, 5), -INF), [[1, 1, 3]], stride=[1, 1, 2], padding=[0, 0, 1],
     dilation=[1, 1, 2])
pool("-inf and ties, dilation (2,2,1), padding 1, ceil", "max_pool3d",
     choice([-INF, -INF, 0, 1], 1, 2, 7, 5, 6), [[3, 3, 2]], stride=[2, 1, 2], padding=1,
     dilation=[2, 2, 1], ceil_mode=True)
pool("-inf, depth only (2,1,1) stride 2 padding (1,0,0), ceil", "max_pool3d",
     choice([-INF, -INF, 2], 1, 2, 5, 3, 3), [[2, 1, 1]], stride=2, padding=[1, 0, 0],
     ceil_mode=True)
pool("NaN, -inf and ties, 3 stride 2 padding 1 dilation (1,2,2)", "max_pool3d",
     choice([NAN, 1, 2, -INF], 1, 2, 6, 5, 5), [3], stride=2, padding=1, dilation=[1, 2, 2])
pool("NaN and ties, 3 stride 2 padding 1 ceil", "max_pool3d",
     choice([NAN, 1, 2, -INF, 2], 1, 2, 6, 5, 7), [3], stride=2, padding=1, ceil_mode=True)
pool("NaN, depth dilation 2 stride 1", "max_pool3d", choice([NAN, 0, 1], 1, 3, 7, 2, 2),
     [[3, 1, 1]], stride=1, padding=[1, 0, 0], dilation=[2, 1, 1])
pool("unbatched [C, D, H, W], 2 stride 1 padding 1", "max_pool3d", randn(3, 4, 5, 5), [2],
     stride=1, padding=1)
pool("avg unbatched [C, D, H, W], 3 stride 2 padding 1 ceil", "avg_pool3d", randn(2, 5, 5, 6),
     [3], stride=2, padding=1, ceil_mode=True)
pool("avg (3,2,2) stride 2 padding (1,1,0) ceil, count_include_pad False", "avg_pool3d",
     randn(1, 2, 7, 4, 4), [[3, 2, 2]], stride=2, padding=[1, 1, 0], ceil_mode=True,
     count_include_pad=False)

CONV = []


def conv(name, xs, ws, bias=True, grad=None, **opts):
    x, w = randn(*xs), q(torch.randn(ws) * 0.5)
    inputs = [x, w] + ([randn(ws[0])] if bias else [])
    CONV.append(op_case(name, "conv3d", inputs,
                        lambda x, w, b=None: F.conv3d(x, w, b, **opts), opts=opts,
                        grad=grad))


conv("groups 2, stride (2,1,1), padding (2,1,0), dilation (2,1,1), bias", [3, 4, 7, 6, 5],
     [6, 2, 3, 3, 2], stride=(2, 1, 1), padding=(2, 1, 0), dilation=(2, 1, 1), groups=2)
conv("same, even kernel (2,2,3), dilation (1,2,1), no bias", [2, 2, 5, 5, 5], [3, 2, 2, 2, 3],
     bias=False, padding="same", dilation=(1, 2, 1))
conv("padding 1, the weight's and bias's gradients only", [2, 3, 4, 4, 4], [2, 3, 3, 3, 3],
     grad=[False, True, True], padding=1)
conv("unbatched [C, D, H, W], padding 1", [2, 4, 5, 3], [3, 2, 3, 3, 3], padding=1)

LAYERS = []


def conv_layer(name, cin, cout, k, xs, **opts):
    m = nn.Conv3d(cin, cout, k, **opts)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(q(p))
    x = randn(*xs).requires_grad_(True)
    out = m(x)
    g = upstream(out)
    (out * g).sum().backward()
    LAYERS.append({"name": name, "args": [cin, cout, k], "opts": camel(opts),
                   "state": {k: ser(v) for k, v in m.state_dict().items()},
                   "x": ser(x), "out": ser(out), "G": ser(g), "gx": ser(x.grad),
                   "grads": {k: ser(p.grad) for k, p in m.named_parameters()}})


conv_layer("reflect padding 1, unbatched [C, D, H, W]", 2, 3, 3, [2, 3, 4, 4], padding=1,
           padding_mode="reflect")
conv_layer("zeros padding (1,0,1), unbatched", 2, 2, [3, 1, 3], [2, 4, 3, 3], padding=(1, 0, 1))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "pool": POOL, "conv": CONV, "convLayers": LAYERS}, f,
              separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
