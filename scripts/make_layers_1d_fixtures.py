"""Writes tests/fixtures/layers_1d.json: PyTorch's numbers for conv1d (and
nn.Conv1d's padding modes), the 1-D pools, embedding, pixel_shuffle /
pixel_unshuffle and unfold / fold (tests/layers_1d_test.ts).

Each case stores its inputs (float ones with "grad": true where a gradient
is checked, int32 index tensors as "dtype": "int32"), its options under
this library's names (camelCase), its output, a fixed random upstream
gradient G of the output's shape and the gradients of L = sum(out * G) for
every input that requires one. Embedding with maxNorm also stores the
weight after the lookup (torch renormalises it in place).

Run with /usr/bin/python3 scripts/make_layers_1d_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261206)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "layers_1d.json")


def randn(*shape, grad=True):
    return torch.randn(shape).requires_grad_(grad)


CASES = []


def case(name, op, inputs, fn, opts=None, extra=None):
    """fn(*inputs) -> the output; gradients of sum(out * G) for inputs that require one."""
    out = fn(*inputs)
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "out": ser(out)}
    for t, s in zip(inputs, c["inputs"]):
        if t.requires_grad:
            s["grad"] = True
    if out.requires_grad:
        g = torch.rand(out.shape) * 2 + 0.5
        (out * g).sum().backward()
        c["G"] = ser(g)
        c["grads"] = [ser(t.grad) if t.requires_grad else None for t in inputs]
    if extra:
        c.update(extra(*inputs))
    CASES.append(c)


# ---- conv1d: x, weight, bias ----
def conv(name, n, cin, cout, l, k, groups=1, bias=True, unbatched=False, **opts):
    x = randn(cin, l) if unbatched else randn(n, cin, l)
    inputs = [x, randn(cout, cin // groups, k)] + ([randn(cout)] if bias else [])
    o = dict(opts, groups=groups) if groups != 1 else dict(opts)
    case(name, "conv1d", inputs,
         lambda x, w, b=None: F.conv1d(x, w, b, groups=groups, **opts), o)


conv("conv1d plain", 2, 3, 4, 9, 3)
conv("conv1d stride 2 padding 1", 2, 3, 4, 10, 3, stride=2, padding=1)
conv("conv1d dilation 2 padding 2, no bias", 2, 2, 3, 11, 3, bias=False, dilation=2, padding=2)
conv("conv1d groups 2", 2, 4, 6, 8, 3, groups=2, padding=1)
conv("conv1d depthwise", 1, 4, 4, 7, 5, groups=4, padding=2)
conv("conv1d padding same, odd kernel", 2, 3, 2, 8, 5, padding="same")
conv("conv1d padding same, even kernel (one more on the right)", 2, 3, 2, 8, 4, padding="same")
conv("conv1d padding same, even kernel, dilation 3", 1, 2, 2, 9, 2, padding="same", dilation=3)
conv("conv1d padding valid", 2, 3, 2, 8, 4, padding="valid")
conv("conv1d unbatched [C, L]", 0, 3, 4, 7, 3, unbatched=True, padding=1)
conv("conv1d kernel 1 stride 3", 2, 5, 3, 10, 1, stride=3)


# ---- nn.Conv1d with padding modes: x, weight, bias ----
def conv_mode(name, mode, padding, k=3, l=7, cin=2, cout=3, unbatched=False, **kw):
    m = nn.Conv1d(cin, cout, k, padding=padding, padding_mode=mode, **kw)
    w = m.weight.detach().clone().requires_grad_()
    b = m.bias.detach().clone().requires_grad_()
    x = randn(cin, l) if unbatched else randn(2, cin, l)

    def fn(x, w, b):
        with torch.no_grad():
            m.weight.copy_(w)
            m.bias.copy_(b)
        m.weight.grad = m.bias.grad = None
        return m(x)

    # Run through the module, then the gradients of its parameters.
    out = fn(x, w, b)
    g = torch.rand(out.shape) * 2 + 0.5
    (out * g).sum().backward()
    CASES.append({"name": name, "op": "Conv1d", "opts": dict(padding=padding, paddingMode=mode,
                                                              kernelSize=k, **kw),
                  "inputs": [dict(ser(x), grad=True), dict(ser(w), grad=True),
                             dict(ser(b), grad=True)],
                  "out": ser(out), "G": ser(g),
                  "grads": [ser(x.grad), ser(m.weight.grad), ser(m.bias.grad)]})


conv_mode("Conv1d reflect", "reflect", 2, k=5)
conv_mode("Conv1d replicate", "replicate", 1)
conv_mode("Conv1d circular", "circular", 2, k=4)
conv_mode("Conv1d circular same, even kernel", "circular", "same", k=4)
conv_mode("Conv1d zeros same, dilation 2", "zeros", "same", k=3, dilation=2)
conv_mode("Conv1d reflect, stride 2, unbatched", "reflect", 1, stride=2, unbatched=True)


# ---- pools ----
def pool(name, op, fn, shape, opts):
    case(name, op, [randn(*shape)], fn, opts)


pool("maxPool1d k2", "maxPool1d", lambda x: F.max_pool1d(x, 2), (2, 3, 9), {"kernelSize": 2})
pool("maxPool1d k3 s2 p1 ceil", "maxPool1d",
     lambda x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 10),
     {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True})
pool("maxPool1d k4 s1 p2", "maxPool1d", lambda x: F.max_pool1d(x, 4, 1, 2), (1, 2, 6),
     {"kernelSize": 4, "stride": 1, "padding": 2})
pool("maxPool1d unbatched", "maxPool1d", lambda x: F.max_pool1d(x, 3, 2), (3, 8),
     {"kernelSize": 3, "stride": 2})
pool("avgPool1d k2", "avgPool1d", lambda x: F.avg_pool1d(x, 2), (2, 3, 9), {"kernelSize": 2})
pool("avgPool1d k3 s2 p1 ceil", "avgPool1d",
     lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 10),
     {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True})
pool("avgPool1d k3 s2 p1 ceil, countIncludePad false", "avgPool1d",
     lambda x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), (2, 3, 10),
     {"kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False})
pool("avgPool1d unbatched k4 s3 p2", "avgPool1d", lambda x: F.avg_pool1d(x, 4, 3, 2), (2, 11),
     {"kernelSize": 4, "stride": 3, "padding": 2})
for o in [1, 3, 4, 7]:
    pool(f"adaptiveAvgPool1d 10 -> {o}", "adaptiveAvgPool1d",
         lambda x, o=o: F.adaptive_avg_pool1d(x, o), (2, 3, 10), {"outputSize": o})
    pool(f"adaptiveMaxPool1d 10 -> {o}", "adaptiveMaxPool1d",
         lambda x, o=o: F.adaptive_max_pool1d(x, o), (2, 3, 10), {"outputSize": o})
pool("adaptiveAvgPool1d unbatched 5 -> 8", "adaptiveAvgPool1d",
     lambda x: F.adaptive_avg_pool1d(x, 8), (2, 5), {"outputSize": 8})
pool("adaptiveMaxPool1d unbatched 5 -> 3", "adaptiveMaxPool1d",
     lambda x: F.adaptive_max_pool1d(x, 3), (2, 5), {"outputSize": 3})


# ---- embedding: indices, weight ----
def idx(values):
    return torch.tensor(values, dtype=torch.int64)


def emb(name, ids, weight, opts, **kw):
    extra = None
    if kw.get("max_norm") is not None:
        before = weight.detach().clone()
        extra = lambda i, w: {"weightAfter": ser(w), "weightBefore": ser(before)}
    case(name, "embedding", [ids, weight], lambda i, w: F.embedding(i, w, **kw), opts, extra)
    if extra:  # inputs must be stored as they were before the in-place renorm
        CASES[-1]["inputs"][1] = dict(CASES[-1]["weightBefore"], grad=True)


emb("embedding 1-D", idx([3, 0, 4, 3, 1]), randn(5, 3), {})
emb("embedding 2-D indices", idx([[1, 2, 1], [0, 6, 6]]), randn(7, 4), {})
emb("embedding 3-D indices", idx([[[1], [2]], [[0], [2]]]), randn(3, 2), {})
emb("embedding 0-d index", idx(2), randn(4, 3), {})
emb("embedding paddingIdx 0", idx([[0, 2, 0], [1, 0, 3]]), randn(4, 3), {"paddingIdx": 0},
    padding_idx=0)
emb("embedding paddingIdx -1", idx([3, 2, 3, 1]), randn(4, 3), {"paddingIdx": -1},
    padding_idx=-1)
emb("embedding scaleGradByFreq", idx([1, 1, 2, 1, 0]), randn(3, 2), {"scaleGradByFreq": True},
    scale_grad_by_freq=True)
emb("embedding scaleGradByFreq with paddingIdx", idx([1, 1, 2, 1, 2]), randn(3, 2),
    {"scaleGradByFreq": True, "paddingIdx": 2}, scale_grad_by_freq=True, padding_idx=2)
emb("embedding maxNorm 1", idx([0, 2, 2, 4]), (randn(5, 3, grad=False) * 2).requires_grad_(),
    {"maxNorm": 1.0}, max_norm=1.0)
emb("embedding maxNorm 1.5 normType 1", idx([[1, 3], [3, 0]]),
    (randn(4, 3, grad=False) * 2).requires_grad_(), {"maxNorm": 1.5, "normType": 1.0},
    max_norm=1.5, norm_type=1.0)


# ---- pixel shuffle ----
case("pixelShuffle r2", "pixelShuffle", [randn(2, 8, 3, 2)], lambda x: F.pixel_shuffle(x, 2),
     {"factor": 2})
case("pixelShuffle r3 unbatched", "pixelShuffle", [randn(9, 2, 2)],
     lambda x: F.pixel_shuffle(x, 3), {"factor": 3})
case("pixelShuffle r2 5-D", "pixelShuffle", [randn(2, 2, 4, 1, 3)],
     lambda x: F.pixel_shuffle(x, 2), {"factor": 2})
case("pixelUnshuffle r2", "pixelUnshuffle", [randn(2, 2, 4, 6)],
     lambda x: F.pixel_unshuffle(x, 2), {"factor": 2})
case("pixelUnshuffle r3 unbatched", "pixelUnshuffle", [randn(1, 3, 6)],
     lambda x: F.pixel_unshuffle(x, 3), {"factor": 3})


# ---- unfold / fold ----
def unf(name, shape, k, **opts):
    case(name, "unfold", [randn(*shape)], lambda x: F.unfold(x, k, **opts),
         dict(opts, kernelSize=k))


def fld(name, shape, size, k, **opts):
    case(name, "fold", [randn(*shape)], lambda x: F.fold(x, size, k, **opts),
         dict(opts, outputSize=size, kernelSize=k))


unf("unfold k2", (2, 3, 4, 5), 2)
unf("unfold k3 padding 1", (1, 2, 5, 5), 3, padding=1)
unf("unfold k [2, 3] stride 2 dilation [1, 2] padding [1, 0]", (2, 2, 6, 7), [2, 3], stride=2,
    dilation=[1, 2], padding=[1, 0])
unf("unfold unbatched k3 stride [2, 1]", (2, 5, 4), 3, stride=[2, 1])
fld("fold k2", (2, 12, 12), [4, 5], 2)
fld("fold k3 padding 1 (overlaps sum)", (1, 18, 25), [5, 5], 3, padding=1)
fld("fold k [2, 3] stride 2 dilation [1, 2] padding [1, 0]", (2, 12, 8), [6, 7], [2, 3],
    stride=2, dilation=[1, 2], padding=[1, 0])
fld("fold unbatched, stride 3 (gaps)", (4, 4), [5, 5], 2, stride=3)

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"wrote {len(CASES)} cases to {OUT} ({os.path.getsize(OUT)} bytes)")
