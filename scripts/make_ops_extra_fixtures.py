"""Writes tests/fixtures/ops_extra.json: PyTorch's numbers for var/std,
isnan/isinf/isfinite/nan_to_num, split/chunk, one_hot, SiLU/Hardswish/
Hardsigmoid/ReLU6, layer_norm/group_norm and the LayerNorm/GroupNorm layers
(tests/torch_ops_extra_test.ts).

Every differentiable case stores its inputs, its output (a list of outputs
for split and chunk), fixed random upstream gradients G (one per output) and
the gradients of L = sum(out * G) for each input that requires one. Inputs
hold the kinks (-3, 0, 3, 6), NaN and infinities where the op has them.
Non-finite numbers are the strings "nan", "inf" and "-inf" (JSON has no
NaN). Tensors are float32, written with 9 significant digits (an exact
float32 round trip); bool results are stored as 1 and 0.

Run with /usr/bin/python3 scripts/make_ops_extra_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch
import torch.nn.functional as F

from fixture_json import ser

warnings.simplefilter("ignore")  # var of one element: "degrees of freedom is <= 0"
torch.set_num_threads(1)
torch.manual_seed(20260701)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "ops_extra.json")
NAN, INF = float("nan"), float("inf")


def leaf(values, grad=True):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(grad)


def randn(*shape, grad=True, scale=1.0, shift=0.0):
    return (torch.randn(shape) * scale + shift).requires_grad_(grad)


CASES = []


def case(name, op, inputs, fn, opts=None):
    """fn(*inputs) -> a tensor or a list of tensors; gradients of sum(out * G)."""
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "outs": [ser(o) for o in outs]}
    for t, s in zip(inputs, c["inputs"]):
        if t.requires_grad:
            s["grad"] = True
    if any(o.requires_grad for o in outs):
        gs = [torch.randn(o.shape) for o in outs]
        loss = sum((o * g).sum() for o, g in zip(outs, gs) if o.requires_grad)
        loss.backward()
        c["G"] = [ser(g) for g in gs]
        c["grads"] = [ser(t.grad) if t.requires_grad else None for t in inputs]
    CASES.append(c)


def stat(fn_name):
    def run(x, dims=None, keep=False, unbiased=True):
        f = getattr(torch, fn_name)
        if dims is None:
            return f(x, unbiased=unbiased)
        return f(x, dim=dims, unbiased=unbiased, keepdim=keep)
    return run


# ---- var / std ----
for op in ["var", "std"]:
    f = stat(op)
    case(f"{op} all", op, [randn(3, 4)], lambda x: f(x))
    case(f"{op} all biased", op, [randn(3, 4)], lambda x: f(x, unbiased=False),
         {"unbiased": False})
    case(f"{op} dim 1", op, [randn(3, 4)], lambda x: f(x, 1), {"dims": 1})
    case(f"{op} dim -1 keepDim biased", op, [randn(2, 3, 5)], lambda x: f(x, -1, True, False),
         {"dims": -1, "keepDim": True, "unbiased": False})
    case(f"{op} dims [0, 2] keepDim", op, [randn(2, 3, 4)], lambda x: f(x, [0, 2], True),
         {"dims": [0, 2], "keepDim": True})
    # dims [] is all of them in the forward; torch 1.13's backward takes N as 1 there
    # (2 / (1 - 1): inf everywhere), a bug not copied: the gradient stored is dim=None's.
    case(f"{op} dims [] (all)", op, [randn(2, 3)], lambda x: f(x) + (f(x, []) - f(x)).detach(),
         {"dims": []})
    case(f"{op} constant rows", op, [leaf([[2, 2, 2], [1, 2, 4]])], lambda x: f(x, 1),
         {"dims": 1})
    case(f"{op} one element per row (NaN)", op, [randn(2, 1)], lambda x: f(x, 1), {"dims": 1})
    case(f"{op} one element biased", op, [randn(2, 1)], lambda x: f(x, 1, False, False),
         {"dims": 1, "unbiased": False})
    case(f"{op} transposed input", op, [randn(4, 3)], lambda x: f(x.t(), 1),
         {"dims": 1, "transpose": True})
    case(f"{op} with inf", op, [leaf([[1, INF, 2], [1, 2, 3]])], lambda x: f(x, 1), {"dims": 1})

# ---- isnan / isinf / isfinite / nan_to_num ----
special = [NAN, INF, -INF, 0.0, -0.0, 1.5, -3e38, 3.4e38]
for op in ["isnan", "isinf", "isfinite"]:
    case(op, op, [leaf(special, False)], getattr(torch, op))
case("nanToNum defaults", "nanToNum", [leaf(special)], lambda x: torch.nan_to_num(x))
case("nanToNum options", "nanToNum", [leaf(special)],
     lambda x: torch.nan_to_num(x, nan=-1.0, posinf=100.0, neginf=-100.0),
     {"nan": -1, "posinf": 100, "neginf": -100})
case("nanToNum posinf only", "nanToNum", [leaf([[NAN, INF], [-INF, 2.0]])],
     lambda x: torch.nan_to_num(x, posinf=7.0), {"posinf": 7})

# ---- split / chunk ----
case("split 2 dim 0", "split", [randn(5, 3)], lambda x: torch.split(x, 2), {"arg": 2})
case("split 2 dim 1", "split", [randn(2, 5)], lambda x: torch.split(x, 2, 1),
     {"arg": 2, "dim": 1})
case("split sizes dim -1", "split", [randn(2, 3, 6)], lambda x: torch.split(x, [1, 0, 5], -1),
     {"arg": [1, 0, 5], "dim": -1})
case("split larger than dim", "split", [randn(3, 2)], lambda x: torch.split(x, 7), {"arg": 7})
case("chunk 4 of 5", "chunk", [randn(5, 2)], lambda x: torch.chunk(x, 4), {"arg": 4})
case("chunk 4 of 6", "chunk", [randn(6)], lambda x: torch.chunk(x, 4), {"arg": 4})
case("chunk 4 of 2 dim 1", "chunk", [randn(3, 2)], lambda x: torch.chunk(x, 4, 1),
     {"arg": 4, "dim": 1})
case("chunk 3 dim 1 then exp", "chunkExp", [randn(2, 7)], lambda x: [p.exp() for p in
                                                                       torch.chunk(x, 3, 1)],
     {"arg": 3, "dim": 1})

# ---- one_hot ----
lab = lambda v: torch.tensor(v, dtype=torch.int64)  # noqa: E731
case("oneHot inferred", "oneHot", [lab([0, 3, 1])], lambda y: F.one_hot(y))
case("oneHot 2-d with 4 classes", "oneHot", [lab([[0, 2], [1, 1]])], lambda y: F.one_hot(y, 4),
     {"numClasses": 4})
case("oneHot empty with 3 classes", "oneHot", [lab([]).reshape(0, 2)],
     lambda y: F.one_hot(y, 3), {"numClasses": 3})

# ---- activations ----
kinks = [-INF, -4.0, -3.0, -2.5, -1.0, 0.0, 0.5, 1.0, 3.0, 4.0, 6.0, 7.0, INF, NAN]
for op, fn in [("silu", F.silu), ("hardswish", F.hardswish), ("hardsigmoid", F.hardsigmoid),
               ("relu6", F.relu6)]:
    case(f"{op} kinks", op, [leaf(kinks)], fn)
    case(f"{op} random", op, [randn(3, 5, scale=4.0)], fn)

# ---- layer_norm / group_norm ----
case("layerNorm [4] affine", "layerNorm", [randn(2, 3, 4), randn(4), randn(4)],
     lambda x, w, b: F.layer_norm(x, [4], w, b), {"shape": [4]})
case("layerNorm [3, 4] no affine eps 1e-3", "layerNorm", [randn(2, 3, 4)],
     lambda x: F.layer_norm(x, [3, 4], eps=1e-3), {"shape": [3, 4], "eps": 1e-3})
case("layerNorm weight only", "layerNorm", [randn(5, 6, scale=3.0, shift=1.0), randn(6)],
     lambda x, w: F.layer_norm(x, [6], w), {"shape": [6]})
case("groupNorm 2 groups affine", "groupNorm", [randn(2, 4, 3, 3), randn(4), randn(4)],
     lambda x, w, b: F.group_norm(x, 2, w, b), {"groups": 2})
case("groupNorm 4 groups no affine", "groupNorm", [randn(3, 4, 5)],
     lambda x: F.group_norm(x, 4), {"groups": 4})
case("groupNorm 1 group eps 1e-2", "groupNorm", [randn(2, 3, 2, 2), randn(3), randn(3)],
     lambda x, w, b: F.group_norm(x, 1, w, b, 1e-2), {"groups": 1, "eps": 1e-2})


def layer_case(name, module, x, kind, opts):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape))
    x = x.detach().requires_grad_(True)
    y = module(x)
    xs = ser(x)
    xs["grad"] = True
    g = torch.randn(y.shape)
    (y * g).sum().backward()
    CASES.append({
        "name": name, "op": kind, "opts": opts, "inputs": [xs], "outs": [ser(y)],
        "G": [ser(g)], "grads": [ser(x.grad)],
        "state": {k: ser(v) for k, v in module.state_dict().items()},
        "paramGrads": {k: ser(p.grad) for k, p in module.named_parameters()},
    })


layer_case("nn.LayerNorm([3, 4])", torch.nn.LayerNorm([3, 4]), torch.randn(2, 3, 4),
           "LayerNormLayer", {"shape": [3, 4]})
layer_case("nn.LayerNorm(5, eps 1e-3)", torch.nn.LayerNorm(5, eps=1e-3), torch.randn(4, 5),
           "LayerNormLayer", {"shape": 5, "eps": 1e-3})
layer_case("nn.GroupNorm(2, 6)", torch.nn.GroupNorm(2, 6), torch.randn(2, 6, 3, 3),
           "GroupNormLayer", {"groups": 2, "channels": 6})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(OUT)}")
