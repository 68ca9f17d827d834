"""Writes the reference-number fixtures of the tests from PyTorch.

  tests/fixtures/ops.json     tensor ops and F.* (forward and backward)
  tests/fixtures/layers.json  nn.* modules (weights, outputs, gradients, state dicts)
  tests/fixtures/optim.json   torch.optim trajectories on small fixed problems

Every differentiable case stores its inputs, options, output, a random fixed
upstream gradient G and the gradients of L = sum(out * G) with respect to the
inputs, so backward is checked with a non-uniform upstream gradient.

Inputs are rounded to 6 significant digits before use, so the stored decimals
are exactly the float32 values PyTorch computed with; outputs are rounded to
8 significant digits. Deterministic (torch.manual_seed); run with
`deno task fixtures` (i.e. /usr/bin/python3 scripts/make_fixtures.py).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(20240607)

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


# ---------------------------------------------------------------- helpers


def flat(t):
    return t.detach().reshape(-1).tolist()


def enc_in(v):
    return float("%.6g" % v)


def enc_out(v):
    if isinstance(v, int):
        return v
    if math.isnan(v) or math.isinf(v):
        return None
    r = float("%.8g" % v)
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ser(t):
    """Serialises a tensor output: {shape, data} (int dtypes stay integers)."""
    t = t.detach()
    if t.dtype.is_floating_point:
        return {"shape": list(t.shape), "data": [enc_out(v) for v in flat(t)]}
    return {"shape": list(t.shape), "data": [int(v) for v in flat(t)], "dtype": "int32"}


def rounded(t):
    """The tensor with its values rounded as they are stored."""
    return torch.tensor([enc_in(v) for v in flat(t)], dtype=torch.float32).reshape(t.shape)


def randn(*shape, grad=True, scale=1.0, shift=0.0):
    t = rounded(torch.randn(tuple(shape)) * scale + shift)
    t.requires_grad_(grad)
    return t


def uniform(*shape, lo=0.0, hi=1.0, grad=True):
    t = rounded(torch.rand(tuple(shape)) * (hi - lo) + lo)
    t.requires_grad_(grad)
    return t


def away(*shape, lo=0.5, hi=2.0, grad=True):
    """Random values with |v| in [lo, hi) and random signs."""
    mag = torch.rand(tuple(shape)) * (hi - lo) + lo
    sign = torch.where(torch.rand(tuple(shape)) < 0.5, -1.0, 1.0)
    t = rounded(mag * sign)
    t.requires_grad_(grad)
    return t


def ints_f(*shape, lo=0, hi=3, grad=True):
    """Small integer values as float32 (ties and exact zeros on purpose)."""
    t = torch.randint(lo, hi, tuple(shape)).float()
    t.requires_grad_(grad)
    return t


def targets(*shape, classes, ignore=None, count_ignored=0):
    t = torch.randint(0, classes, tuple(shape))
    if ignore is not None and count_ignored > 0:
        idx = torch.randperm(t.numel())[:count_ignored]
        t.view(-1)[idx] = ignore
    return t


def ser_input(t):
    if t is None:
        return None
    if t.dtype.is_floating_point:
        d = {"shape": list(t.shape), "data": [enc_in(v) for v in flat(t)]}
        if t.requires_grad:
            d["grad"] = True
        return d
    return {"shape": list(t.shape), "data": [int(v) for v in flat(t)], "dtype": "int32"}


def run_case(name, op, inputs, fn, opts=None, extra=None):
    """fn(*inputs) -> output tensor; extra(*inputs) -> {name: tensor} after fn."""
    stored = [ser_input(t) for t in inputs]
    out = fn(*inputs)
    case = {"name": name, "op": op, "opts": opts or {}, "inputs": stored, "out": ser(out)}
    if extra is not None:
        case["extra"] = {k: ser(v) for k, v in extra(*inputs).items()}
    wants = [t is not None and t.requires_grad for t in inputs]
    if out.requires_grad and any(wants):
        G = rounded(torch.randn(out.shape))
        (out * G).sum().backward()
        case["G"] = [enc_in(v) for v in flat(G)]
        case["grads"] = [
            ser(t.grad)["data"] if w and t.grad is not None else (
                [0] * t.numel() if w else None) for t, w in zip(inputs, wants)
        ]
    return case


def write(name, obj):
    path = os.path.join(OUT_DIR, name)
    text = json.dumps(obj, separators=(",", ":"))
    with open(path, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(path)} ({len(text) / 1024:.0f} KiB)")


# ---------------------------------------------------------------- ops.json


def ops_cases():
    cases = []
    add = cases.append

    # elementwise binary with broadcasting
    torch_bin = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, fn in torch_bin.items():
        den = (lambda *s: away(*s)) if op == "div" else (lambda *s: randn(*s))
        add(run_case(f"{op} [2,3,4] [3,1]", op, [randn(2, 3, 4), den(3, 1)], fn))
        add(run_case(f"{op} [2,3,4] [4]", op, [randn(2, 3, 4), den(4)], fn))
        add(run_case(f"{op} [2,3,4] scalar tensor", op, [randn(2, 3, 4), den()], fn))
        add(run_case(f"{op} [3,1] [2,3,4]", op, [randn(3, 1) if op != "div" else randn(3, 1), den(2, 3, 4)], fn))
        add(run_case(f"{op} [3,1] [1,4]", op, [randn(3, 1), den(1, 4)], fn))
        add(run_case(f"{op} same [3,5]", op, [randn(3, 5), den(3, 5)], fn))
        add(run_case(f"{op} [2,3,4] number", op, [randn(2, 3, 4)], lambda a, fn=fn: fn(a, -1.75),
                     {"other": -1.75}))
    add(run_case("mul [2,3,4] [2,3,4] no grad on b", "mul",
                 [randn(2, 3, 4), randn(2, 3, 4, grad=False)], torch.mul))

    # elementwise unary
    add(run_case("neg", "neg", [randn(3, 5)], torch.neg))
    add(run_case("exp", "exp", [randn(3, 5)], torch.exp))
    add(run_case("log", "log", [uniform(3, 5, lo=0.2, hi=3.0)], torch.log))
    add(run_case("sqrt", "sqrt", [uniform(3, 5, lo=0.2, hi=3.0)], torch.sqrt))
    add(run_case("pow 2", "pow", [randn(3, 5)], lambda a: a.pow(2), {"exponent": 2}))
    add(run_case("pow 0.5", "pow", [uniform(3, 5, lo=0.2, hi=3.0)], lambda a: a.pow(0.5), {"exponent": 0.5}))
    add(run_case("pow 3", "pow", [randn(3, 5)], lambda a: a.pow(3), {"exponent": 3}))
    add(run_case("pow -1", "pow", [away(3, 5)], lambda a: a.pow(-1), {"exponent": -1}))
    add(run_case("relu", "relu", [away(3, 5, lo=0.05, hi=2)], torch.relu))
    add(run_case("sigmoid", "sigmoid", [randn(3, 5, scale=2)], torch.sigmoid))
    add(run_case("tanh", "tanh", [randn(3, 5, scale=2)], torch.tanh))
    add(run_case("abs", "abs", [away(3, 5, lo=0.05, hi=2)], torch.abs))
    add(run_case("maximum same", "maximum", [randn(3, 5), randn(3, 5)], torch.maximum))
    add(run_case("minimum same", "minimum", [randn(3, 5), randn(3, 5)], torch.minimum))
    add(run_case("maximum [2,3,4] [3,1]", "maximum", [randn(2, 3, 4), randn(3, 1)], torch.maximum))
    add(run_case("minimum [2,3,4] [4]", "minimum", [randn(2, 3, 4), randn(4)], torch.minimum))

    # ties and kinks: PyTorch splits a tied max/min gradient evenly (amax/amin, maximum/minimum give
    # half to each side) and gives relu/abs a zero gradient at exactly 0.
    add(run_case("maximum with ties", "maximum", [ints_f(3, 4, hi=3), ints_f(3, 4, hi=3)], torch.maximum))
    add(run_case("minimum with ties", "minimum", [ints_f(3, 4, hi=3), ints_f(3, 4, hi=3)], torch.minimum))
    add(run_case("relu at exact zeros", "relu", [ints_f(3, 4, lo=-2, hi=3)], torch.relu))
    add(run_case("abs at exact zeros", "abs", [ints_f(3, 4, lo=-2, hi=3)], torch.abs))
    add(run_case("max with ties, all", "max", [ints_f(3, 4, hi=3)], lambda x: x.max()))
    add(run_case("max with ties dims [0,2]", "max", [ints_f(2, 3, 4, hi=3)], lambda x: x.amax(dim=[0, 2]),
                 {"dims": [0, 2], "keepDim": False}))
    add(run_case("amin with ties dim 1 keepDim", "amin", [ints_f(2, 3, 4, hi=3)], lambda x: x.amin(dim=1, keepdim=True),
                 {"dims": 1, "keepDim": True}))
    add(run_case("argmax with ties dim 1 (first index)", "argmax", [ints_f(3, 5, 2, hi=2, grad=False)],
                 lambda x: x.argmax(1), {"dim": 1, "keepDim": False}))

    # reductions
    dims_list = [None, 1, -1, [0, 2], [1, 2], [0, 1, 2]]
    for op, fn in [("sum", torch.sum), ("mean", torch.mean), ("max", torch.amax), ("min", torch.amin)]:
        for dims in dims_list:
            for keep in ([False] if dims is None else [False, True]):
                if dims is None:
                    f = (lambda x, fn=fn: fn(x)) if op in ("sum", "mean") else (
                        lambda x, op=op: x.max() if op == "max" else x.min())
                else:
                    f = lambda x, fn=fn, dims=dims, keep=keep: fn(x, dim=dims, keepdim=keep)
                opts = {} if dims is None else {"dims": dims, "keepDim": keep}
                add(run_case(f"{op} dims {dims} keepDim {keep}", op, [randn(3, 4, 5)], f, opts))
    add(run_case("sum 2-D dim 0", "sum", [randn(5, 3)], lambda x: x.sum(0), {"dims": 0, "keepDim": False}))
    add(run_case("max dim 0 of [7]", "max", [randn(7)], lambda x: x.amax(0), {"dims": 0, "keepDim": False}))
    for dim, keep in [(None, False), (0, False), (1, False), (-1, True), (2, False)]:
        f = (lambda x: x.argmax()) if dim is None else (lambda x, d=dim, k=keep: x.argmax(d, keepdim=k))
        opts = {} if dim is None else {"dim": dim, "keepDim": keep}
        add(run_case(f"argmax dim {dim} keepDim {keep}", "argmax", [randn(3, 4, 5, grad=False)], f, opts))

    # softmax / logSoftmax
    for op, fn in [("softmax", torch.softmax), ("logSoftmax", torch.log_softmax)]:
        for dim in [0, 1, 2, -1]:
            add(run_case(f"{op} dim {dim}", op, [randn(3, 4, 5, scale=2)],
                         lambda x, d=dim, fn=fn: fn(x, d), {"dim": dim}))
        add(run_case(f"{op} [6,7] dim 1", op, [randn(6, 7, scale=3)], lambda x, fn=fn: fn(x, 1), {"dim": 1}))

    # matmul and linear
    add(run_case("matmul [3,4]x[4,5]", "matmul", [randn(3, 4), randn(4, 5)], torch.matmul))
    add(run_case("matmul [1,7]x[7,1]", "matmul", [randn(1, 7), randn(7, 1)], torch.matmul))
    add(run_case("matmul [2,3,4]x[4,5]", "matmul", [randn(2, 3, 4), randn(4, 5)], torch.matmul))
    add(run_case("matmul [2,3,4]x[2,4,5]", "matmul", [randn(2, 3, 4), randn(2, 4, 5)], torch.matmul))
    add(run_case("matmul [3,4]x[4,5] no grad on b", "matmul", [randn(3, 4), randn(4, 5, grad=False)], torch.matmul))
    add(run_case("linear [4,5] w[3,5] b", "linear", [randn(4, 5), randn(3, 5), randn(3)], F.linear))
    add(run_case("linear [2,3,5] w[4,5] b", "linear", [randn(2, 3, 5), randn(4, 5), randn(4)], F.linear))
    add(run_case("linear [4,5] w[3,5] no bias", "linear", [randn(4, 5), randn(3, 5), None],
                 lambda x, w, b: F.linear(x, w)))

    # views with gradients flowing through
    add(run_case("transpose(0,2)", "transpose", [randn(2, 3, 4)], lambda x: x.transpose(0, 2), {"dims": [0, 2]}))
    add(run_case("transpose(0,1) 2-D", "transpose", [randn(3, 5)], lambda x: x.transpose(0, 1), {"dims": [0, 1]}))
    add(run_case("permute(2,0,1)", "permute", [randn(2, 3, 4)], lambda x: x.permute(2, 0, 1), {"dims": [2, 0, 1]}))
    add(run_case("reshape [4,6]", "reshape", [randn(2, 3, 4)], lambda x: x.reshape(4, 6), {"shape": [4, 6]}))
    add(run_case("reshape [-1,2]", "reshape", [randn(2, 3, 4)], lambda x: x.reshape(-1, 2), {"shape": [-1, 2]}))
    add(run_case("transpose(1,2) then reshape", "transposeReshape", [randn(2, 3, 4)],
                 lambda x: x.transpose(1, 2).reshape(2, 12), {"dims": [1, 2], "shape": [2, 12]}))
    add(run_case("flatten()", "flatten", [randn(2, 3, 4)], lambda x: x.flatten(), {}))
    add(run_case("flatten(1)", "flatten", [randn(2, 3, 4, 2)], lambda x: x.flatten(1), {"start": 1}))
    add(run_case("flatten(1,2)", "flatten", [randn(2, 3, 4, 2)], lambda x: x.flatten(1, 2), {"start": 1, "end": 2}))
    add(run_case("narrow(1,1,2)", "narrow", [randn(2, 4, 3)], lambda x: x.narrow(1, 1, 2),
                 {"dim": 1, "start": 1, "length": 2}))
    add(run_case("narrow(2,1,2) then exp", "narrowExp", [randn(2, 3, 4)], lambda x: x.narrow(2, 1, 2).exp(),
                 {"dim": 2, "start": 1, "length": 2}))
    add(run_case("slice(1,3)", "slice", [randn(4, 3)], lambda x: x[1:3], {"start": 1, "end": 3}))
    add(run_case("slice(2)", "slice", [randn(5, 2)], lambda x: x[2:], {"start": 2}))
    add(run_case("unsqueeze(1)", "unsqueeze", [randn(3, 4)], lambda x: x.unsqueeze(1), {"dim": 1}))
    add(run_case("squeeze()", "squeeze", [randn(3, 1, 4, 1)], lambda x: x.squeeze(), {}))
    add(run_case("squeeze(1)", "squeeze", [randn(3, 1, 4, 1)], lambda x: x.squeeze(1), {"dim": 1}))
    add(run_case("expand [3,1]->[2,3,4]", "expand", [randn(3, 1)], lambda x: x.expand(2, 3, 4),
                 {"shape": [2, 3, 4]}))
    add(run_case("transpose(0,2) add [4,3,2]", "transposeAdd", [randn(2, 3, 4), randn(4, 3, 2)],
                 lambda x, y: x.transpose(0, 2) + y, {"dims": [0, 2]}))
    add(run_case("permute(1,0,2) mul [2]", "permuteMul", [randn(2, 3, 2), randn(2)],
                 lambda x, y: x.permute(1, 0, 2) * y, {"dims": [1, 0, 2]}))
    add(run_case("transpose(1,2) matmul [3,5]", "transposeMatmul", [randn(2, 3, 4), randn(3, 5)],
                 lambda x, y: x.transpose(1, 2).matmul(y), {"dims": [1, 2]}))
    add(run_case("matmul [4,3]^T x [4,5]", "transposeMatmul", [randn(4, 3), randn(4, 5)],
                 lambda x, y: x.t().matmul(y), {"dims": [0, 1]}))
    add(run_case("transpose(0,1) sum dim 2", "transposeSum", [randn(2, 3, 4)],
                 lambda x: x.transpose(0, 1).sum(2), {"dims": [0, 1], "sumDim": 2}))
    add(run_case("narrow(0,1,2) softmax dim 1", "narrowSoftmax", [randn(4, 5)],
                 lambda x: x.narrow(0, 1, 2).softmax(1), {"dim": 0, "start": 1, "length": 2, "softmaxDim": 1}))
    add(run_case("permute(0,2,3,1) contiguous", "permuteContiguous", [randn(2, 3, 2, 2)],
                 lambda x: x.permute(0, 2, 3, 1).contiguous(), {"dims": [0, 2, 3, 1]}))
    add(run_case("x used twice: x*x + x", "reuse", [randn(3, 4)], lambda x: x * x + x))

    # conv2d
    def conv(name, x, w, b, **o):
        def f(x, w, b):
            return F.conv2d(x, w, b, stride=o.get("stride", 1), padding=o.get("padding", 0),
                            dilation=o.get("dilation", 1), groups=o.get("groups", 1))
        add(run_case(f"conv2d {name}", "conv2d", [x, w, b], f, o))

    conv("basic [2,3,7,6] w[4,3,3,3]", randn(2, 3, 7, 6), randn(4, 3, 3, 3), randn(4))
    conv("basic no bias", randn(2, 3, 7, 6), randn(4, 3, 3, 3), None)
    conv("batch 1", randn(1, 2, 5, 5), randn(3, 2, 3, 3), randn(3))
    conv("stride 2", randn(2, 3, 9, 7), randn(4, 3, 3, 3), randn(4), stride=2)
    conv("stride 2 padding 1", randn(2, 3, 9, 7), randn(4, 3, 3, 3), randn(4), stride=2, padding=1)
    conv("kernel 5 stride 2 padding 2", randn(1, 2, 8, 9), randn(3, 2, 5, 5), randn(3), stride=2, padding=2)
    conv("padding 1", randn(2, 2, 5, 6), randn(3, 2, 3, 3), randn(3), padding=1)
    conv("dilation 2", randn(1, 2, 9, 8), randn(3, 2, 3, 3), randn(3), dilation=2)
    conv("dilation 2 padding 2", randn(2, 2, 7, 8), randn(3, 2, 3, 3), randn(3), dilation=2, padding=2)
    conv("groups 2", randn(2, 4, 6, 5), randn(6, 2, 3, 3), randn(6), groups=2)
    conv("groups 2 no bias padding 1", randn(2, 4, 6, 5), randn(4, 2, 3, 3), None, groups=2, padding=1)
    conv("depthwise", randn(2, 3, 7, 7), randn(3, 1, 3, 3), randn(3), groups=3, padding=1)
    conv("depthwise multiplier 2 stride 2", randn(2, 3, 7, 6), randn(6, 1, 3, 3), randn(6), groups=3, stride=2,
         padding=1)
    conv("1x1", randn(2, 5, 4, 3), randn(3, 5, 1, 1), randn(3))
    conv("1x1 stride 2 no bias", randn(2, 5, 5, 3), randn(4, 5, 1, 1), None, stride=2)
    conv("rectangular kernel [3,5] stride [2,1] padding [1,2]", randn(2, 2, 7, 8), randn(3, 2, 3, 5), randn(3),
         stride=[2, 1], padding=[1, 2])
    conv("rectangular kernel [1,3] dilation [2,1]", randn(1, 3, 6, 7), randn(2, 3, 1, 3), randn(2),
         dilation=[2, 1])
    conv("stride [1,2] dilation [2,1] padding [2,1]", randn(2, 2, 6, 7), randn(4, 2, 3, 3), randn(4),
         stride=[1, 2], dilation=[2, 1], padding=[2, 1])
    conv("kernel equals input", randn(2, 3, 4, 4), randn(2, 3, 4, 4), randn(2))
    conv("input no grad", randn(2, 3, 5, 5, grad=False), randn(2, 3, 3, 3), randn(2), padding=1)

    # pooling
    def pool(kind, name, x, k, **o):
        if kind == "maxPool2d":
            f = lambda x: F.max_pool2d(x, k, stride=o.get("stride"), padding=o.get("padding", 0),
                                       ceil_mode=o.get("ceilMode", False))
        else:
            f = lambda x: F.avg_pool2d(x, k, stride=o.get("stride"), padding=o.get("padding", 0),
                                       ceil_mode=o.get("ceilMode", False),
                                       count_include_pad=o.get("countIncludePad", True))
        add(run_case(f"{kind} {name}", kind, [x], f, {"kernel": k, **o}))

    pool("maxPool2d", "k3 s2 p1 [2,3,7,7]", randn(2, 3, 7, 7), 3, stride=2, padding=1)
    pool("maxPool2d", "k3 s2 p1 [1,2,8,6]", randn(1, 2, 8, 6), 3, stride=2, padding=1)
    pool("maxPool2d", "k2 [2,2,6,5]", randn(2, 2, 6, 5), 2)
    pool("maxPool2d", "k2 s1 [1,2,4,5]", randn(1, 2, 4, 5), 2, stride=1)
    pool("maxPool2d", "k3 s2 ceil [1,2,8,8]", randn(1, 2, 8, 8), 3, stride=2, ceilMode=True)
    pool("maxPool2d", "k2 ceil [2,2,5,7]", randn(2, 2, 5, 7), 2, ceilMode=True)
    pool("maxPool2d", "k3 s2 p1 ceil [1,2,6,6]", randn(1, 2, 6, 6), 3, stride=2, padding=1, ceilMode=True)
    pool("maxPool2d", "k [2,3] s [1,2] p [1,1]", randn(2, 2, 5, 7), [2, 3], stride=[1, 2], padding=[1, 1])
    pool("maxPool2d", "k3 s3 on negatives with padding", randn(1, 2, 6, 6, shift=-5), 3, stride=3, padding=1)
    for cip in [True, False]:
        pool("avgPool2d", f"k3 s2 p1 countIncludePad {cip}", randn(2, 3, 7, 7), 3, stride=2, padding=1,
             countIncludePad=cip)
        pool("avgPool2d", f"k3 s2 ceil countIncludePad {cip}", randn(1, 2, 8, 8), 3, stride=2, ceilMode=True,
             countIncludePad=cip)
        pool("avgPool2d", f"k3 s2 p1 ceil [1,2,6,6] countIncludePad {cip}", randn(1, 2, 6, 6), 3, stride=2,
             padding=1, ceilMode=True, countIncludePad=cip)
        pool("avgPool2d", f"k [2,3] s [1,2] p [1,1] countIncludePad {cip}", randn(2, 2, 5, 7), [2, 3],
             stride=[1, 2], padding=[1, 1], countIncludePad=cip)
    pool("avgPool2d", "k2 [2,2,6,5]", randn(2, 2, 6, 5), 2)
    pool("avgPool2d", "k2 ceil [2,2,5,7]", randn(2, 2, 5, 7), 2, ceilMode=True)
    for (h, w), o in [((7, 7), [3, 3]), ((5, 5), [2, 2]), ((6, 6), [6, 6]), ((3, 3), [5, 5]), ((7, 6), [1, 1]),
                      ((7, 5), [3, 2]), ((4, 9), [3, 4])]:
        add(run_case(f"adaptiveAvgPool2d {h}x{w} -> {o}", "adaptiveAvgPool2d", [randn(2, 3, h, w)],
                     lambda x, o=o: F.adaptive_avg_pool2d(x, o), {"outputSize": o}))
    add(run_case("adaptiveAvgPool2d 5x5 -> 3 (number)", "adaptiveAvgPool2d", [randn(1, 2, 5, 5)],
                 lambda x: F.adaptive_avg_pool2d(x, 3), {"outputSize": 3}))

    # batch norm
    def bn(name, x, rm, rv, w, b, **o):
        def f(x, rm, rv, w, b):
            return F.batch_norm(x, rm, rv, w, b, training=o.get("training", False), momentum=o.get("momentum", 0.1),
                                eps=o.get("eps", 1e-5))
        extra = None
        if o.get("training") and rm is not None:
            extra = lambda x, rm, rv, w, b: {"runningMean": rm, "runningVar": rv}
        add(run_case(f"batchNorm {name}", "batchNorm", [x, rm, rv, w, b], f, o, extra))

    def stats(c):
        return randn(c, grad=False, scale=0.3), uniform(c, lo=0.5, hi=1.5, grad=False)

    bn("training [3,4,3,5] affine", randn(3, 4, 3, 5, scale=2, shift=1), *stats(4), randn(4), randn(4),
       training=True, momentum=0.1)
    bn("training [2,3,4,4] momentum 0.3 eps 1e-3", randn(2, 3, 4, 4), *stats(3), randn(3), randn(3),
       training=True, momentum=0.3, eps=1e-3)
    bn("training no affine", randn(2, 3, 3, 3), *stats(3), None, None, training=True)
    bn("training no running stats", randn(2, 3, 3, 3), None, None, randn(3), randn(3), training=True)
    bn("training 2-D [6,4]", randn(6, 4), *stats(4), randn(4), randn(4), training=True)
    bn("training batch 1 [1,3,3,2]", randn(1, 3, 3, 2), *stats(3), randn(3), randn(3), training=True)
    bn("eval [2,3,4,3] affine", randn(2, 3, 4, 3), *stats(3), randn(3), randn(3), training=False)
    bn("eval no affine", randn(2, 3, 2, 3), *stats(3), None, None, training=False)

    for mom in [0.1, 0.3]:
        def steps(x1, x2, x3, x4, rm, rv, w, b, mom=mom):
            for x in (x1, x2, x3):
                F.batch_norm(x, rm, rv, w, b, training=True, momentum=mom)
            return F.batch_norm(x4, rm, rv, w, b, training=False)
        xs = [randn(2, 3, 4, 3, grad=False, scale=1 + i, shift=i - 1) for i in range(3)]
        add(run_case(f"batchNorm 3 training steps momentum {mom} then eval", "batchNormSteps",
                     [*xs, randn(2, 3, 4, 3), torch.zeros(3), torch.ones(3), randn(3), randn(3)], steps,
                     {"momentum": mom}, lambda *a: {"runningMean": a[4], "runningVar": a[5]}))

    # cross entropy
    def ce(name, logits, tgt, weight=None, **o):
        def f(x, t, w):
            return F.cross_entropy(x, t, weight=w, ignore_index=o.get("ignoreIndex", -100),
                                   label_smoothing=o.get("labelSmoothing", 0.0), reduction=o.get("reduction", "mean"))
        add(run_case(f"crossEntropy {name}", "crossEntropy", [logits, tgt, weight], f, o))

    for red in ["none", "mean", "sum"]:
        ce(f"{red}", randn(7, 5, scale=2), targets(7, classes=5), reduction=red)
        ce(f"weight {red}", randn(7, 5, scale=2), targets(7, classes=5), uniform(5, lo=0.2, hi=2, grad=False),
           reduction=red)
        ce(f"labelSmoothing 0.1 {red}", randn(7, 5, scale=2), targets(7, classes=5), labelSmoothing=0.1,
           reduction=red)
        ce(f"ignoreIndex 2 {red}", randn(7, 5, scale=2), targets(7, classes=5), ignoreIndex=2, reduction=red)
        ce(f"ignoreIndex -100 (default) {red}", randn(7, 5, scale=2),
           targets(7, classes=5, ignore=-100, count_ignored=3), reduction=red)
        ce(f"weight + labelSmoothing 0.1 + ignoreIndex 1 {red}", randn(9, 4, scale=2),
           targets(9, classes=4, ignore=1, count_ignored=2), uniform(4, lo=0.2, hi=2, grad=False),
           labelSmoothing=0.1, ignoreIndex=1, reduction=red)
        ce(f"[N,C,H,W] logits {red}", randn(2, 3, 4, 5, scale=2), targets(2, 4, 5, classes=3), reduction=red)
    ce("[N,C,H,W] weight + labelSmoothing 0.2 + ignoreIndex -100", randn(2, 4, 3, 3, scale=2),
       targets(2, 3, 3, classes=4, ignore=-100, count_ignored=4), uniform(4, lo=0.2, hi=2, grad=False),
       labelSmoothing=0.2)
    ce("labelSmoothing 1.0", randn(5, 3), targets(5, classes=3), labelSmoothing=1.0)
    ce("large logits stable", randn(4, 6, scale=40), targets(4, classes=6))
    ce("one sample", randn(1, 5), targets(1, classes=5))

    # torch.max(x, dim) / torch.min(x, dim): the gradient goes to the index returned, the first.
    # Drawn aside: every case and fixture after keeps its random values.
    rng = torch.get_rng_state()
    add(run_case("max with ties dim 1", "max", [ints_f(3, 4, hi=3)], lambda x: x.max(dim=1).values,
                 {"dims": 1, "keepDim": False}))
    add(run_case("min with ties dim -1 keepDim", "min", [ints_f(2, 3, 4, hi=3)],
                 lambda x: x.min(dim=-1, keepdim=True).values, {"dims": -1, "keepDim": True}))
    torch.set_rng_state(rng)
    return cases


# ---------------------------------------------------------------- layers.json


def state(module):
    return [[k, ser(v)] for k, v in module.state_dict().items()]


def grads_of(module):
    return {k: ser(p.grad) for k, p in module.named_parameters() if p.grad is not None}


def randomize(module):
    """Non-default values for every float parameter and buffer (rounded as stored)."""
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.dtype.is_floating_point:
                continue
            if name.endswith("running_var"):
                t.copy_(rounded(torch.rand(t.shape) + 0.5))
            elif name.endswith("running_mean"):
                t.copy_(rounded(torch.randn(t.shape) * 0.3))
            elif name.endswith("weight") and t.ndim == 1:
                t.copy_(rounded(torch.randn(t.shape) * 0.5 + 1))
            else:
                t.copy_(rounded(torch.randn(t.shape) * 0.5))


def module_case(name, kind, module, x, args, train=True):
    randomize(module)
    module.train(train)
    sd = state(module)
    x.requires_grad_(True)
    out = module(x)
    G = rounded(torch.randn(out.shape))
    (out * G).sum().backward()
    return {
        "name": name, "kind": kind, "args": args, "train": train, "state": sd, "input": ser_input(x),
        "out": ser(out), "G": [enc_in(v) for v in flat(G)], "inputGrad": ser(x.grad)["data"],
        "grads": grads_of(module), "stateAfter": state(module),
    }


def layers_fixture():
    cases = []
    add = cases.append
    add(module_case("Linear(5,3)", "Linear", nn.Linear(5, 3), randn(4, 5, grad=False), [5, 3, {}]))
    add(module_case("Linear(6,2,bias=False) on [2,3,6]", "Linear", nn.Linear(6, 2, bias=False),
                    randn(2, 3, 6, grad=False), [6, 2, {"bias": False}]))
    add(module_case("Linear(6,2,bias=False)", "Linear", nn.Linear(6, 2, bias=False), randn(3, 6, grad=False),
                    [6, 2, {"bias": False}]))
    add(module_case("Conv2d(3,4,3,stride=2,padding=1)", "Conv2d", nn.Conv2d(3, 4, 3, stride=2, padding=1),
                    randn(2, 3, 7, 7, grad=False), [3, 4, 3, {"stride": 2, "padding": 1}]))
    add(module_case("Conv2d(4,6,[3,2],groups=2,dilation=[1,2],padding=1,bias=False)", "Conv2d",
                    nn.Conv2d(4, 6, (3, 2), groups=2, dilation=(1, 2), padding=1, bias=False),
                    randn(1, 4, 6, 7, grad=False),
                    [4, 6, [3, 2], {"groups": 2, "dilation": [1, 2], "padding": 1, "bias": False}]))
    add(module_case("MaxPool2d(3,stride=2,padding=1)", "MaxPool2d", nn.MaxPool2d(3, stride=2, padding=1),
                    randn(2, 3, 7, 7, grad=False), [3, {"stride": 2, "padding": 1}]))
    add(module_case("MaxPool2d(2,ceilMode)", "MaxPool2d", nn.MaxPool2d(2, ceil_mode=True),
                    randn(1, 2, 5, 5, grad=False), [2, {"ceilMode": True}]))
    add(module_case("AvgPool2d(3,stride=2,padding=1,countIncludePad=False)", "AvgPool2d",
                    nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
                    randn(2, 2, 7, 6, grad=False), [3, {"stride": 2, "padding": 1, "countIncludePad": False}]))
    add(module_case("AdaptiveAvgPool2d([3,2])", "AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d((3, 2)),
                    randn(2, 3, 7, 5, grad=False), [[3, 2]]))
    add(module_case("AdaptiveAvgPool2d([1,1])", "AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d((1, 1)),
                    randn(2, 3, 4, 4, grad=False), [[1, 1]]))
    add(module_case("ReLU", "ReLU", nn.ReLU(), away(3, 4, lo=0.05, grad=False), []))
    add(module_case("Flatten", "Flatten", nn.Flatten(), randn(2, 3, 2, 2, grad=False), []))
    add(module_case("Dropout eval", "Dropout", nn.Dropout(0.5), randn(3, 4, grad=False), [0.5], train=False))
    add(module_case("BatchNorm2d(3) eval", "BatchNorm2d", nn.BatchNorm2d(3), randn(2, 3, 3, 4, grad=False),
                    [3, {}], train=False))

    # BatchNorm2d over several training steps, then eval.
    bn_cases = []
    for mom in [0.1, 0.3]:
        m = nn.BatchNorm2d(3, momentum=mom)
        with torch.no_grad():
            m.weight.copy_(rounded(torch.randn(3) * 0.5 + 1))
            m.bias.copy_(rounded(torch.randn(3) * 0.5))
        init_state = state(m)
        m.train()
        steps = []
        for i in range(3):
            x = randn(2, 3, 4, 3, scale=1 + i, shift=i - 1)
            m.zero_grad()
            out = m(x)
            G = rounded(torch.randn(out.shape))
            (out * G).sum().backward()
            steps.append({"input": ser_input(x), "out": ser(out), "G": [enc_in(v) for v in flat(G)],
                          "inputGrad": ser(x.grad)["data"], "grads": grads_of(m), "state": state(m)})
        m.eval()
        xe = randn(2, 3, 4, 3, grad=False)
        bn_cases.append({"name": f"BatchNorm2d(3, momentum={mom}) 3 steps then eval", "momentum": mom,
                         "state": init_state, "steps": steps, "evalInput": ser_input(xe), "evalOut": ser(m(xe))})

    # Sequential(Conv2d, BatchNorm2d, ReLU, MaxPool2d, Flatten, Linear) + CrossEntropyLoss
    seq = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(36, 5))
    randomize(seq)
    seq_state = state(seq)
    x = randn(3, 2, 6, 6, grad=False)
    y = targets(3, classes=5)
    seq.train()
    loss = nn.CrossEntropyLoss()(seq(x), y)
    loss.backward()
    seq.eval()
    xe = randn(2, 2, 6, 6, grad=False)
    sequential = {
        "keys": list(seq.state_dict().keys()), "paramKeys": [k for k, _ in seq.named_parameters()],
        "bufferKeys": [k for k, _ in seq.named_buffers()], "state": seq_state, "input": ser_input(x),
        "target": ser_input(y), "loss": enc_out(loss.item()), "grads": grads_of(seq), "stateAfter": state(seq),
        "evalInput": ser_input(xe), "evalOut": ser(seq(xe)),
    }

    # CrossEntropyLoss module
    ce_cases = []
    for opts in [{}, {"reduction": "sum"}, {"labelSmoothing": 0.1, "ignoreIndex": 1, "weight": True},
                 {"reduction": "none", "weight": True}]:
        w = uniform(4, lo=0.3, hi=2, grad=False) if opts.get("weight") else None
        mod = nn.CrossEntropyLoss(weight=w, label_smoothing=opts.get("labelSmoothing", 0.0),
                                  ignore_index=opts.get("ignoreIndex", -100), reduction=opts.get("reduction", "mean"))
        logits = randn(6, 4, scale=2)
        t = targets(6, classes=4)
        out = mod(logits, t)
        G = rounded(torch.randn(out.shape))
        (out * G).sum().backward()
        ce_cases.append({"name": f"CrossEntropyLoss {json.dumps(opts)}", "opts": opts, "weight": ser_input(w),
                         "logits": ser_input(logits), "target": ser_input(t), "out": ser(out),
                         "G": [enc_in(v) for v in flat(G)], "grad": ser(logits.grad)["data"]})
    return {"modules": cases, "batchNorm": bn_cases, "sequential": sequential, "crossEntropy": ce_cases}


# ---------------------------------------------------------------- optim.json

STEPS = 10


def problems():
    """Small fixed problems: (name, params, data, loss(params, data))."""
    quad_p = [randn(5, grad=False), randn(2, 3, grad=False)]
    quad_d = [uniform(5, lo=0.5, hi=2, grad=False), randn(5, grad=False), uniform(2, 3, lo=0.5, hi=2, grad=False),
              randn(2, 3, grad=False)]

    def quad_loss(p, d):
        return (d[0] * (p[0] - d[1]).pow(2)).sum() + (d[2] * (p[1] - d[3]).pow(2)).sum()

    lin_p = [randn(3, 4, grad=False, scale=0.5), randn(3, grad=False, scale=0.5)]
    lin_d = [randn(6, 4, grad=False), randn(6, 3, grad=False)]

    def lin_loss(p, d):
        return (d[0].matmul(p[0].t()) + p[1] - d[1]).pow(2).mean()

    return [("quadratic", quad_p, quad_d, quad_loss), ("linear", lin_p, lin_d, lin_loss)]


CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weightDecay": 1e-2}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weightDecay": 1e-2}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "weightDecay": 1e-2}),
    ("Adam", {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weightDecay": 0.1}),
]


def torch_opt(kind, params, o):
    if kind == "SGD":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o.get("momentum", 0), dampening=o.get("dampening", 0),
                               nesterov=o.get("nesterov", False), weight_decay=o.get("weightDecay", 0))
    kw = {"lr": o["lr"], "betas": tuple(o.get("betas", (0.9, 0.999))), "eps": o.get("eps", 1e-8)}
    if "weightDecay" in o:
        kw["weight_decay"] = o["weightDecay"]
    return (torch.optim.Adam if kind == "Adam" else torch.optim.AdamW)(params, **kw)


def optim_fixture():
    probs = []
    for name, p0, data, loss_fn in problems():
        runs = []
        for kind, o in CONFIGS:
            params = [p.clone().requires_grad_(True) for p in p0]
            opt = torch_opt(kind, params, o)
            traj, losses = [], []
            for _ in range(STEPS):
                opt.zero_grad()
                loss = loss_fn(params, data)
                loss.backward()
                opt.step()
                losses.append(enc_out(loss.item()))
                traj.append([[enc_out(v) for v in flat(p)] for p in params])
            runs.append({"optimizer": kind, "options": o, "losses": losses, "params": traj})
        probs.append({"name": name, "params": [ser_input(p) for p in p0], "data": [ser_input(d) for d in data],
                      "runs": runs})
    return {"steps": STEPS, "problems": probs}


if __name__ == "__main__":
    os.makedirs(OUT_DIR, exist_ok=True)
    write("ops.json", {"torch": torch.__version__, "cases": ops_cases()})
    write("layers.json", {"torch": torch.__version__, **layers_fixture()})
    write("optim.json", {"torch": torch.__version__, **optim_fixture()})
