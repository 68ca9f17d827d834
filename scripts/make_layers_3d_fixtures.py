"""Writes tests/fixtures/layers_3d.json: PyTorch's numbers for conv3d (and
nn.Conv3d's padding modes), max_pool3d, avg_pool3d, adaptive_avg_pool3d,
adaptive_max_pool3d, BatchNorm3d and InstanceNorm3d (tests/layers_3d_test.ts).

Each op case stores its inputs, its options under this library's names
(camelCase), its output, a fixed random upstream gradient G of the output's
shape and the gradients of L = sum(out * G) for every input. Max pools hold
ties (integer-valued inputs) so the first-maximum rule is checked. Layer
cases store torch's state dict (its own key names) to load as it is.
Norm cases run two training steps (running statistics after each) and one
evaluation step.

Run with /usr/bin/python3 scripts/make_layers_3d_fixtures.py (PyTorch 1.13).
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
torch.manual_seed(20260731)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "layers_3d.json")


def camel(opts):
    return {"".join(w if i == 0 else w.capitalize() for i, w in enumerate(k.split("_"))): v
            for k, v in opts.items()}


def q(t):
    """t rounded to multiples of 1/64: exact in float32 and short in JSON."""
    return torch.round(t * 64) / 64


def randn(*shape):
    return q(torch.randn(*shape))


def upstream(out):
    # In [0.5, 2.5], multiples of 1/16: no cancellation to 0.
    return torch.round((torch.rand(out.shape) * 2 + 0.5) * 16) / 16


def op_case(name, op, inputs, fn, args=(), opts=None):
    """fn(*inputs) -> out; gradients of sum(out * G) for each input."""
    opts = opts or {}
    for t in inputs:
        t.requires_grad_(True)
    out = fn(*inputs)
    g = upstream(out)
    (out * g).sum().backward()
    return {"name": name, "op": op, "args": list(args), "opts": camel(opts),
            "inputs": [ser(t) for t in inputs], "out": ser(out), "G": ser(g),
            "grads": [ser(t.grad) for t in inputs]}


CONV = []


def conv(name, xs, ws, bias=True, **opts):
    x, w = randn(xs), q(torch.randn(ws) * 0.5)
    inputs = [x, w] + ([randn(ws[0])] if bias else [])
    CONV.append(op_case(name, "conv3d", inputs,
                        lambda x, w, b=None: F.conv3d(x, w, b, **opts), opts=opts))


conv("3x3x3 padding 1, bias", [1, 3, 3, 4, 5], [4, 3, 3, 3, 3], padding=1)
conv("stride (2,1,2), padding (1,0,1), dilation (2,1,1), groups 2",
     [1, 4, 7, 5, 4], [6, 2, 2, 3, 1], stride=(2, 1, 2), padding=(1, 0, 1),
     dilation=(2, 1, 1), groups=2)
conv("same padding, even kernel (2,2,3), dilation (1,2,1), no bias",
     [1, 2, 5, 5, 5], [2, 2, 2, 2, 3], bias=False, padding="same", dilation=(1, 2, 1))
conv("depthwise, stride 3, padding (2,0,0)", [1, 4, 9, 4, 4], [4, 1, 3, 1, 1],
     stride=3, groups=4, padding=(2, 0, 0))
conv("valid, pointwise 1x1x1", [2, 3, 2, 3, 3], [5, 3, 1, 1, 1], padding="valid")
conv("stride 2, padding 1, 3x3x3 (a downsampling block)", [1, 2, 5, 6, 6], [3, 2, 3, 3, 3],
     stride=2, padding=1)
conv("depth kernel 1, (1,3,3), stride (1,2,2), padding (0,1,1)", [2, 2, 3, 6, 6],
     [3, 2, 1, 3, 3], stride=(1, 2, 2), padding=(0, 1, 1))

LAYERS = []


def conv_layer(name, cin, cout, k, xs, **opts):
    m = nn.Conv3d(cin, cout, k, **opts)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(q(p))
    x = randn(xs).requires_grad_(True)
    out = m(x)
    g = upstream(out)
    (out * g).sum().backward()
    LAYERS.append({"name": name, "args": [cin, cout, k], "opts": camel(opts),
                   "state": {k: ser(v) for k, v in m.state_dict().items()},
                   "x": ser(x), "out": ser(out), "G": ser(g), "gx": ser(x.grad),
                   "grads": {k: ser(p.grad) for k, p in m.named_parameters()}})


conv_layer("reflect padding 1", 2, 3, 3, [1, 2, 4, 5, 5], padding=1, padding_mode="reflect")
conv_layer("replicate padding (1,2,0), stride 2", 2, 2, [3, 3, 2], [1, 2, 5, 6, 4],
           padding=(1, 2, 0), stride=2, padding_mode="replicate")
conv_layer("circular padding (2,1,1), groups 2", 4, 2, 3, [1, 4, 4, 4, 3], padding=(2, 1, 1),
           groups=2, padding_mode="circular")
conv_layer("reflect padding same, even kernel", 1, 2, [2, 3, 2], [1, 1, 4, 5, 4],
           padding="same", padding_mode="reflect", bias=False)
conv_layer("zeros padding 1, dilation 2", 2, 2, 3, [1, 2, 5, 6, 6], padding=1, dilation=2)

POOL = []


def pool(name, op, xs, args, ties=False, **opts):
    x = torch.randint(0, 3, xs).float() if ties else randn(xs)
    fn = getattr(F, op)
    op_name = {"max_pool3d": "maxPool3d", "avg_pool3d": "avgPool3d",
               "adaptive_avg_pool3d": "adaptiveAvgPool3d",
               "adaptive_max_pool3d": "adaptiveMaxPool3d"}[op]
    POOL.append(op_case(name, op_name, [x], lambda x: fn(x, *args, **opts), args, opts))


pool("max 2", "max_pool3d", [2, 2, 4, 4, 6], [2])
pool("max 2 with ties", "max_pool3d", [2, 2, 4, 4, 6], [2], ties=True)
pool("max 3 stride 2 padding 1 ceil, ties", "max_pool3d", [2, 2, 6, 7, 8], [3], ties=True,
     stride=2, padding=1, ceil_mode=True)
pool("max (2,3,2) stride (1,2,3) padding (1,1,0) dilation (2,1,2) ceil, ties", "max_pool3d",
     [1, 2, 7, 7, 9], [[2, 3, 2]], ties=True, stride=[1, 2, 3], padding=[1, 1, 0],
     dilation=[2, 1, 2], ceil_mode=True)
pool("max (3,2,2) stride 1 dilation (1,2,1), ties", "max_pool3d", [1, 2, 5, 6, 6], [[3, 2, 2]],
     ties=True, stride=1, dilation=[1, 2, 1])
pool("max (2,1,1) over depth only", "max_pool3d", [1, 3, 5, 2, 3], [[2, 1, 1]], ties=True)
pool("avg 2", "avg_pool3d", [2, 2, 4, 4, 6], [2])
pool("avg 3 stride 2 padding 1 ceil", "avg_pool3d", [1, 2, 5, 5, 6], [3], stride=2, padding=1,
     ceil_mode=True)
pool("avg 3 stride 2 padding 1 ceil, count_include_pad False", "avg_pool3d", [1, 2, 5, 5, 6],
     [3], stride=2, padding=1, ceil_mode=True, count_include_pad=False)
pool("avg (3,2,3) stride (2,1,2) padding 1 ceil, divisor_override 5", "avg_pool3d",
     [1, 2, 6, 4, 5], [[3, 2, 3]], stride=[2, 1, 2], padding=1, ceil_mode=True,
     divisor_override=5)
pool("avg (2,2,1) stride (1,2,1), divisor_override 3, count_include_pad False", "avg_pool3d",
     [1, 2, 4, 5, 3], [[2, 2, 1]], stride=[1, 2, 1], divisor_override=3,
     count_include_pad=False)
pool("adaptive avg (3,4,2), unequal bins", "adaptive_avg_pool3d", [1, 2, 7, 6, 5], [[3, 4, 2]])
pool("adaptive avg (2,None,1)", "adaptive_avg_pool3d", [1, 2, 6, 6, 5], [[2, None, 1]])
pool("adaptive avg 1 (global)", "adaptive_avg_pool3d", [2, 2, 3, 3, 4], [1])
pool("adaptive avg unbatched [C, D, H, W]", "adaptive_avg_pool3d", [3, 5, 4, 4], [[2, 3, 3]])
pool("adaptive max (3,4,2), unequal bins, ties", "adaptive_max_pool3d", [2, 3, 7, 6, 5],
     [[3, 4, 2]], ties=True)
pool("adaptive max (2,2,2), equal bins, ties", "adaptive_max_pool3d", [1, 2, 4, 4, 6],
     [2], ties=True)
pool("adaptive max unbatched, (2,3,5), ties", "adaptive_max_pool3d", [3, 7, 6, 5], [[2, 3, 5]],
     ties=True)

NORM = []


def norm(name, cls, c, xs, steps=2, **opts):
    m = getattr(nn, cls)(c, **opts)
    if m.weight is not None:
        with torch.no_grad():
            m.weight.copy_(q(torch.rand(c) + 0.5))
            m.bias.copy_(randn(c))
    case = {"name": name, "cls": cls, "args": [c], "opts": camel(opts),
            "state": {k: ser(v) for k, v in m.state_dict().items()}, "steps": []}
    m.train()
    for i in range(steps + 1):
        if i == steps:
            m.eval()
        x = (randn(xs) * 2 + 1).requires_grad_(True)
        for p in m.parameters():
            p.grad = None
        out = m(x)
        g = upstream(out)
        (out * g).sum().backward()
        case["steps"].append({
            "training": i < steps, "x": ser(x), "out": ser(out), "G": ser(g), "gx": ser(x.grad),
            "grads": {k: ser(p.grad) for k, p in m.named_parameters()},
            "after": {k: ser(v) for k, v in m.state_dict().items()}})
    NORM.append(case)


norm("BatchNorm3d defaults", "BatchNorm3d", 3, [2, 3, 2, 3, 4])
norm("BatchNorm3d momentum 0.3, eps 1e-3", "BatchNorm3d", 2, [2, 2, 2, 3, 3], momentum=0.3,
     eps=1e-3)
norm("BatchNorm3d momentum None (cumulative average)", "BatchNorm3d", 2, [2, 2, 3, 3, 2],
     steps=3, momentum=None)
norm("BatchNorm3d affine False", "BatchNorm3d", 2, [2, 2, 2, 3, 3], affine=False)
norm("InstanceNorm3d defaults", "InstanceNorm3d", 2, [2, 2, 2, 3, 4], steps=1)
norm("InstanceNorm3d affine, track_running_stats", "InstanceNorm3d", 2, [2, 2, 2, 3, 4],
     affine=True, track_running_stats=True, momentum=0.2)
norm("InstanceNorm3d unbatched [C, D, H, W], affine", "InstanceNorm3d", 2, [2, 3, 3, 4],
     steps=1, affine=True)

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "conv": CONV, "convLayers": LAYERS, "pool": POOL,
               "norm": NORM}, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
