"""Writes tests/fixtures/tensor_ops_more.json: PyTorch 1.13's numbers for the
tensor functions a ported training script reaches for beyond the basics:
argmin, prod, cumprod, count_nonzero, logical_and/or/xor/not, remainder,
fmod, floor_divide, masked_select, nonzero, bincount, unique, isclose,
allclose, equal, tril, triu, tile, repeat_interleave, view_as, reshape_as,
diff, meshgrid, eye (tests/tensor_ops_more_test.ts).

Each case stores its inputs (those marked "grad" require one), its
outputs, a fixed random upstream gradient G per output that requires one,
and the gradients of L = sum(sum(out * G)) for each input that requires
one. Booleans (allclose, equal) are stored as 0-d 1/0 tensors.

Run with /usr/bin/python3 scripts/make_tensor_ops_more_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)
warnings.filterwarnings("ignore")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "tensor_ops_more.json")
NAN = float("nan")
INF = float("inf")
CASES = []


def randn(*shape):
    return torch.randn(shape).requires_grad_(True)


def given(values):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(True)


def const(values):
    return torch.tensor(values, dtype=torch.float32)


def ints(values):
    return torch.tensor(values, dtype=torch.int64)


def stored(t):
    s = ser(t)
    if t.requires_grad:
        s["grad"] = True
    return s


def case(name, op, inputs, fn, opts=None):
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    outs = [torch.tensor(float(o)) if isinstance(o, bool) else o for o in outs]
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [stored(t) for t in inputs],
         "outs": [ser(o) for o in outs]}
    graded = [o for o in outs if o.requires_grad]
    if graded:
        gs = [torch.randn(o.shape) for o in outs]
        loss = sum((o * g).sum() for o, g in zip(outs, gs) if o.requires_grad)
        loss.backward()
        c["G"] = [ser(g) for g in gs]
        c["grads"] = [ser(t.grad) if t.grad is not None else None for t in inputs]
    CASES.append(c)


# ---- argmin, prod, cumprod, count_nonzero ----
case("argmin all", "argmin", [const([[3.0, 1.0, 1.0], [0.5, 5.0, 0.5]])], torch.argmin)
case("argmin dim 1", "argmin", [const([[3.0, 1.0, 1.0], [0.5, 5.0, 0.5]])],
     lambda x: torch.argmin(x, 1), {"dim": 1})
case("argmin dim 0 keepdim", "argmin", [const([[3.0, 1.0, 1.0], [0.5, 5.0, 0.5]])],
     lambda x: torch.argmin(x, 0, True), {"dim": 0, "keepDim": True})
case("argmin NaN", "argmin", [const([[2.0, NAN, 1.0], [-INF, 0.0, -0.0]])],
     lambda x: torch.argmin(x, 1), {"dim": 1})
case("prod all", "prod", [randn(3, 4)], torch.prod)
for dim in [0, 1, -1]:
    case(f"prod dim {dim}", "prod", [randn(3, 4, 2)], lambda x, d=dim: torch.prod(x, d),
         {"dim": dim})
case("prod dim keepdim", "prod", [randn(3, 4)], lambda x: torch.prod(x, 1, True),
     {"dim": 1, "keepDim": True})
zeros_rows = [[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 2.0], [1.0, 2.0, -0.5, 3.0],
              [0.0, 0.0, 0.0, 4.0]]
case("prod dim 1 with zeros", "prod", [given(zeros_rows)], lambda x: torch.prod(x, 1), {"dim": 1})
case("prod dim 0 with zeros", "prod", [given(zeros_rows)], lambda x: torch.prod(x, 0), {"dim": 0})
case("prod all one zero", "prod", [given([[1.5, 0.0, 2.0], [-1.0, 3.0, 0.5]])], torch.prod)
case("prod all two zeros", "prod", [given([[1.5, 0.0, 2.0], [-1.0, 0.0, 0.5]])], torch.prod)
case("prod all two zeros and inf", "prod", [given([0.0, 2.0, 0.0, INF])], torch.prod)
case("prod dim zeros and inf", "prod", [given([[0.0, 2.0, INF], [1.0, 2.0, INF]])],
     lambda x: torch.prod(x, 1), {"dim": 1})
case("prod all no zeros inf", "prod", [given([2.0, INF, 3.0])], torch.prod)
case("prod odd length", "prod", [randn(2, 7)], lambda x: torch.prod(x, 1), {"dim": 1})
case("prod 0-d", "prod", [given(2.5)], torch.prod)
case("prod empty dim", "prod", [given([[], []])], lambda x: torch.prod(x, 1), {"dim": 1})
case("prod int32", "prod", [ints([[2, -3, 4], [5, 6, 7]])], lambda x: torch.prod(x, 1),
     {"dim": 1})
case("prod int32 all", "prod", [ints([2, -3, 4, 5])], torch.prod)
for dim in [0, 1]:
    case(f"cumprod dim {dim}", "cumprod", [randn(3, 5)], lambda x, d=dim: torch.cumprod(x, d),
         {"dim": dim})
case("cumprod zeros", "cumprod",
     [given([[1.5, 0.0, 2.0, -1.0, 3.0], [0.0, 2.0, 0.0, 3.0, 0.5], [1.0, 2.0, -0.5, 3.0, 0.0],
             [2.0, 0.0, 0.0, 0.0, 4.0]])], lambda x: torch.cumprod(x, 1), {"dim": 1})
case("cumprod zeros dim 0", "cumprod",
     [given([[1.5, 0.0, 2.0], [0.0, 2.0, 0.0], [1.0, 2.0, -0.5]])], lambda x: torch.cumprod(x, 0),
     {"dim": 0})
case("cumprod int32", "cumprod", [ints([[2, -3, 4], [5, 0, 7]])], lambda x: torch.cumprod(x, 1),
     {"dim": 1})
case("countNonzero all", "countNonzero", [const([[0.0, 1.0, NAN], [2.0, 0.0, -0.0]])],
     torch.count_nonzero)
case("countNonzero dim 1", "countNonzero", [const([[0.0, 1.0, NAN], [2.0, 0.0, -0.0]])],
     lambda x: torch.count_nonzero(x, 1), {"dim": 1})
case("countNonzero dims", "countNonzero", [ints([[[0, 1], [2, 0]], [[3, 3], [0, 0]]])],
     lambda x: torch.count_nonzero(x, (0, 2)), {"dim": [0, 2]})

# ---- logical ----
la = const([[1.0, 0.0, NAN, -2.0], [0.0, 0.0, 3.0, -0.0]])
lb = ints([1, 0, 0, 5])
for fn in ["logical_and", "logical_or", "logical_xor"]:
    camel = "logical" + fn.split("_")[1].capitalize()
    case(f"{camel} float and int broadcast", camel, [la, lb], getattr(torch, fn))
case("logicalNot", "logicalNot", [la], torch.logical_not)
case("logicalNot int32", "logicalNot", [lb], torch.logical_not)

# ---- remainder, fmod, floor_divide ----
fa = const([-7.0, -5.5, -1.0, -0.0, 0.0, 1.0, 5.5, 7.0, 1.0, 0.3, 100.25, INF, NAN, 3.0])
fb = const([2.0, -2.0, 3.0, 2.0, -2.0, 0.1, 2.5, -2.5, 0.0, 0.1, 7.0, 2.0, 2.0, INF])
ia = ints([-7, -5, -1, 0, 1, 5, 7, 9, -9, 2147483647])
ib = ints([2, -2, 3, -3, 2, 2, -2, 4, 4, 10])
for fn, camel in [("remainder", "remainder"), ("fmod", "fmod"), ("floor_divide", "floorDivide")]:
    f = getattr(torch, fn)
    case(f"{camel} float special", camel, [fa, fb], f)
    case(f"{camel} int32", camel, [ia, ib], f)
    case(f"{camel} int32 by int", camel, [ia], lambda x, f=f: f(x, 3), {"other": 3})
    case(f"{camel} int32 by -4", camel, [ia], lambda x, f=f: f(x, -4), {"other": -4})
    case(f"{camel} int32 by 2.5", camel, [ia], lambda x, f=f: f(x, 2.5), {"other": 2.5})
    case(f"{camel} int32 by float tensor", camel, [ia[:4], const([2.0, -2.5, 0.5, 3.0])], f)
    case(f"{camel} float by 0.1", camel, [const([1.0, 2.0, -1.0, 0.7, 3.3])],
         lambda x, f=f: f(x, 0.1), {"other": 0.1})
for fn in ["remainder", "fmod"]:
    f = getattr(torch, fn)
    case(f"{fn} gradients broadcast", fn, [randn(3, 4).mul(5).detach().requires_grad_(True),
                                            given([1.3, -0.7, 2.1, 0.9])], f)
    case(f"{fn} gradient by number", fn, [randn(2, 3)], lambda x, f=f: f(x, 0.75),
         {"other": 0.75})

# ---- masked_select, nonzero, bincount, unique ----
mx = randn(3, 4)
case("maskedSelect", "maskedSelect", [mx, const([[1, 0, 1, 1], [0, 0, 0, 1], [1, 1, 0, 0]])],
     lambda x, m: torch.masked_select(x, m.bool()))
case("maskedSelect mask broadcast", "maskedSelect", [randn(3, 4), const([1, 0, 0, 1])],
     lambda x, m: torch.masked_select(x, m.bool()))
case("maskedSelect x broadcast", "maskedSelect", [randn(1, 4), const([[1, 0, 0, 1], [1, 1, 0, 1]])],
     lambda x, m: torch.masked_select(x, m.bool()))
case("maskedSelect int32", "maskedSelect", [ints([[1, 2], [3, 4]]), ints([[0, 1], [1, 1]])],
     lambda x, m: torch.masked_select(x, m.bool()))
case("maskedSelect none", "maskedSelect", [randn(2, 2), const([[0, 0], [0, 0]])],
     lambda x, m: torch.masked_select(x, m.bool()))
case("nonzero", "nonzero", [const([[0.0, 1.0, NAN], [-0.0, 0.0, 2.0]])], torch.nonzero)
case("nonzero 3-D int32", "nonzero", [ints([[[0, 1], [2, 0]], [[0, 0], [0, 5]]])], torch.nonzero)
case("nonzero 0-d", "nonzero", [const(5.0)], torch.nonzero)
case("nonzero asTuple", "nonzero", [const([[0.0, 1.0], [3.0, 0.0]])],
     lambda x: torch.nonzero(x, as_tuple=True), {"asTuple": True})
labels = ints([2, 0, 2, 1, 2, 5, 0])
case("bincount", "bincount", [labels], torch.bincount)
case("bincount minlength", "bincount", [labels], lambda x: torch.bincount(x, minlength=8),
     {"minlength": 8})
case("bincount float weights", "bincount", [labels, const([0.5, 1.0, 0.25, 2.0, 1e-8, 3.0, -1.0])],
     lambda x, w: torch.bincount(x, w))
case("bincount int weights", "bincount", [labels, ints([1, 2, 3, 4, 5, 6, 7])],
     lambda x, w: torch.bincount(x, w).float())
case("bincount empty", "bincount", [ints([])], lambda x: torch.bincount(x, minlength=3),
     {"minlength": 3})
case("unique int32", "unique", [ints([[3, 1, 2], [1, 3, 3]])],
     lambda x: torch.unique(x, return_inverse=True, return_counts=True),
     {"returnInverse": True, "returnCounts": True})
case("unique counts", "unique", [labels], lambda x: torch.unique(x, return_counts=True),
     {"returnCounts": True})
case("unique float", "unique", [const([1.5, -0.0, 0.0, -2.0, 1.5, INF, -INF])],
     lambda x: torch.unique(x, return_inverse=True), {"returnInverse": True})
case("unique plain", "unique", [const([3.0, 1.0, 3.0])], torch.unique)

# ---- isclose, allclose, equal ----
ca = const([1.0, 1.0, 1.0, INF, -INF, INF, NAN, NAN, 0.0, 1e-9, 100.0])
cb = const([1.0, 1.00001, 1.0001, INF, -INF, -INF, NAN, 1.0, 1e-9, 0.0, 100.001])
for opts in [{}, {"rtol": 1e-3}, {"atol": 1e-3}, {"rtol": 0, "atol": 0}, {"equalNan": True}]:
    kw = {"rtol": opts.get("rtol", 1e-5), "atol": opts.get("atol", 1e-8),
          "equal_nan": opts.get("equalNan", False)}
    case(f"isclose {opts}", "isclose", [ca, cb], lambda a, b, kw=kw: torch.isclose(a, b, **kw),
         opts)
case("isclose broadcast", "isclose", [const([[1.0], [2.0]]), const([1.0, 2.0, 2.00001])],
     torch.isclose)
case("isclose int32", "isclose", [ints([1, 100000, 7]), ints([1, 100001, 8])],
     lambda a, b: torch.isclose(a, b, rtol=1e-5, atol=0.0), {"atol": 0})
case("allclose true", "allclose", [const([1.0, 2.0]), const([1.000001, 2.0])], torch.allclose)
case("allclose false", "allclose", [const([1.0, 2.0]), const([1.0, 2.1])], torch.allclose)
case("allclose nan", "allclose", [const([1.0, NAN]), const([1.0, NAN])],
     lambda a, b: torch.allclose(a, b, equal_nan=True), {"equalNan": True})
case("equal", "equal", [const([1.0, 2.0]), const([1.0, 2.0])], torch.equal)
case("equal values differ", "equal", [const([1.0, 2.0]), const([1.0, 2.5])], torch.equal)
case("equal shapes differ", "equal", [const([1.0, 2.0]), const([[1.0, 2.0]])], torch.equal)
case("equal NaN", "equal", [const([NAN]), const([NAN])], torch.equal)
case("equal int32 and float32", "equal", [ints([1, 2]), const([1.0, 2.0])], torch.equal)

# ---- tril, triu, tile, repeat_interleave, view_as, reshape_as, diff, meshgrid, eye ----
for fn in ["tril", "triu"]:
    for k in [0, -1, 1, 3]:
        case(f"{fn} diagonal {k}", fn, [randn(4, 5)], lambda x, f=fn, k=k: getattr(torch, f)(x, k),
             {"diagonal": k})
    case(f"{fn} batched", fn, [randn(2, 3, 3, 2)], getattr(torch, fn))
    case(f"{fn} inf outside", fn, [given([[1.0, INF], [-INF, NAN]])], getattr(torch, fn))
    case(f"{fn} int32", fn, [ints([[1, 2, 3], [4, 5, 6]])], lambda x, f=fn: getattr(torch, f)(x, 1),
         {"diagonal": 1})
case("tile fewer dims", "tile", [randn(2, 3)], lambda x: torch.tile(x, (2,)), {"dims": [2]})
case("tile more dims", "tile", [randn(2, 3)], lambda x: torch.tile(x, (2, 1, 3)),
     {"dims": [2, 1, 3]})
case("tile int32", "tile", [ints([1, 2])], lambda x: torch.tile(x, (2, 2)), {"dims": [2, 2]})
case("repeatInterleave flat", "repeatInterleave", [randn(2, 3)],
     lambda x: torch.repeat_interleave(x, 2), {"repeats": 2})
case("repeatInterleave counts dim 0", "repeatInterleave", [randn(3, 2), ints([2, 0, 3])],
     lambda x, r: torch.repeat_interleave(x, r, dim=0), {"dim": 0})
case("repeatInterleave one count dim -1", "repeatInterleave", [randn(2, 3), ints([2])],
     lambda x, r: torch.repeat_interleave(x, r, dim=-1), {"dim": -1})
case("repeatInterleave int32 dim 1", "repeatInterleave", [ints([[1, 2], [3, 4]])],
     lambda x: torch.repeat_interleave(x, 3, dim=1), {"repeats": 3, "dim": 1})
case("repeatInterleave counts only", "repeatInterleave", [ints([2, 0, 1, 3])],
     torch.repeat_interleave)
case("viewAs", "viewAs", [randn(2, 6), const([[0.0] * 4] * 3)], lambda x, y: x.view_as(y))
case("reshapeAs", "reshapeAs", [randn(2, 6).t().detach().requires_grad_(True),
                                 const([[0.0] * 3] * 4)], lambda x, y: x.reshape_as(y))
case("diff", "diff", [randn(3, 5)], torch.diff)
case("diff n 2 dim 0", "diff", [randn(4, 3)], lambda x: torch.diff(x, 2, 0), {"n": 2, "dim": 0})
case("diff prepend append", "diff", [randn(2, 3), randn(2, 1), randn(2, 2)],
     lambda x, p, a: torch.diff(x, 1, -1, p, a))
case("diff n beyond size", "diff", [randn(2, 3)], lambda x: torch.diff(x, 4), {"n": 4})
case("diff int32", "diff", [ints([[1, 4, 9, 16], [2, 3, 5, 7]])], lambda x: torch.diff(x, 2),
     {"n": 2})
case("diff int32 float prepend", "diff", [ints([1, 4, 9]), const([0.5])],
     lambda x, p: torch.diff(x, prepend=p))
case("meshgrid ij", "meshgrid", [randn(2), randn(3)],
     lambda a, b: torch.meshgrid(a, b, indexing="ij"), {"indexing": "ij"})
case("meshgrid xy three", "meshgrid", [randn(2), randn(3), randn(4)],
     lambda a, b, c: torch.meshgrid(a, b, c, indexing="xy"), {"indexing": "xy"})
case("meshgrid default 0-d", "meshgrid", [given(1.5), randn(3)], lambda a, b: torch.meshgrid(a, b))
case("eye square", "eye", [], lambda: torch.eye(3), {"n": 3})
case("eye 2 x 4", "eye", [], lambda: torch.eye(2, 4), {"n": 2, "m": 4})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"wrote {len(CASES)} cases to {OUT}")
