"""Writes tests/fixtures/habits_ops.json: PyTorch's numbers for the ops that
PyTorch users reach for (cat, stack, where, comparisons, clamp, pow with a
tensor exponent, abs, sqrt) and for the tensor printout (torch's repr).

Every differentiable case stores its inputs, output, a fixed random upstream
gradient G and the gradients of L = sum(out * G), so backward is checked with
a non-uniform upstream gradient. Non-finite numbers are stored as the strings
"nan", "inf" and "-inf" (JSON has no NaN), so the tests can check that NaN
appears exactly where PyTorch gives it. Tensors are float32; inputs are
written with 9 significant digits (exact float32 round trip).

Run with /usr/bin/python3 scripts/make_habits_ops_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import torch
from torch import _tensor_str

torch.set_num_threads(1)
torch.manual_seed(20260612)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_ops.json")


def enc(v, digits=9):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    r = float("%.*g" % (digits, v))
    if r == 0 and math.copysign(1.0, r) < 0:
        return -0.0  # keeps its sign through JSON ("-0.0")
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ser(t):
    t = t.detach()
    out = {"shape": list(t.shape), "data": [enc(v) for v in t.reshape(-1).tolist()]}
    if not t.dtype.is_floating_point:
        out["dtype"] = "int32"
    return out


def randn(*shape, grad=True):
    t = torch.randn(shape).to(torch.float32)
    return t.requires_grad_(grad)


def leaf(values, grad=True):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(grad)


def backward_case(name, inputs, fn, extra=None):
    """Forward fn(*inputs), then grads of sum(out * G) for inputs needing grad."""
    out = fn(*inputs)
    g = torch.randn(out.shape)
    wanted = [t for t in inputs if t.requires_grad]
    grads = torch.autograd.grad(out, wanted, g, allow_unused=True) if wanted else []
    it = iter(grads)
    case = {
        "name": name,
        "inputs": [ser(t) for t in inputs],
        "out": ser(out),
        "g": ser(g),
        "grads": [ser(next(it)) if t.requires_grad else None for t in inputs],
    }
    if extra:
        case.update(extra)
    return case


cases = {}

# ---- cat and stack ------------------------------------------------------------
cat = []
for shapes, dim in [([[2, 3], [1, 3], [3, 3]], 0), ([[2, 3], [2, 1]], 1), ([[2, 3], [2, 2]], -1),
                    ([[2, 2, 3], [2, 1, 3], [2, 3, 3]], 1), ([[2, 2, 3], [2, 2, 1]], -1),
                    ([[2, 0, 3], [2, 2, 3]], 1), ([[4]], 0)]:
    xs = [randn(*s) for s in shapes]
    cat.append(backward_case(f"cat {shapes} dim {dim}", xs, lambda *t, d=dim: torch.cat(t, d),
                             {"dim": dim}))
cases["cat"] = cat

stack = []
for shape, n, dim in [([2, 3], 3, 0), ([2, 3], 2, 1), ([2, 3], 2, 2), ([2, 3], 2, -1),
                      ([2, 3], 2, -3), ([], 3, 0), ([3], 2, 1)]:
    xs = [randn(*shape) for _ in range(n)]
    stack.append(backward_case(f"stack {n} x {shape} dim {dim}", xs,
                               lambda *t, d=dim: torch.stack(t, d), {"dim": dim}))
cases["stack"] = stack

# ---- where --------------------------------------------------------------------
# Masks are stored as 0/1 floats (our comparisons' dtype); torch gets bools.
where = []
x = leaf([[-1.5, 0.0, 2.0, 0.5], [3.0, -0.0, 1e-3, -2.0], [float("inf"), 4.0, -7.0, 0.25]])
where.append(backward_case("where(x > 0, x.log(), 0)", [x],
                           lambda x: torch.where(x > 0, x.log(), torch.tensor(0.0))))
x = leaf([[-1.5, 0.0, 2.0, 0.5], [3.0, 4.0, 1e-3, -2.0]])
where.append(backward_case("where(x > 0, x.sqrt(), x * x)", [x],
                           lambda x: torch.where(x > 0, x.sqrt(), x * x)))
cond = (torch.randn(3, 1) > 0).float()
cond[0, 0] = 1.0
cond[1, 0] = 0.0
a, b = randn(3, 4), randn(4)
where.append(backward_case("where(cond [3,1], a [3,4], b [4])", [cond.requires_grad_(False), a, b],
                           lambda c, a, b: torch.where(c != 0, a, b)))
cond = (torch.randn(2, 3) > 0).float()
b = randn(2, 3)
where.append(backward_case("where(cond, 1.5, b)", [cond, b],
                           lambda c, b: torch.where(c != 0, torch.tensor(1.5), b), {"a": 1.5}))
a = randn(1, 3)
where.append(backward_case("where(cond, a [1,3], -2)", [cond, a],
                           lambda c, a: torch.where(c != 0, a, torch.tensor(-2.0)), {"b": -2}))
# Any nonzero mask value (2, -1, NaN) counts as true, as torch's bool().
cond = torch.tensor([2.0, -1.0, 0.0, float("nan")])
a, b = randn(4), randn(4)
where.append(backward_case("where(nonzero mask)", [cond, a, b],
                           lambda c, a, b: torch.where(c.bool(), a, b)))
cases["where"] = where

# ---- comparisons --------------------------------------------------------------
nan = float("nan")
xa = torch.tensor([[1.0, 2.0, nan, -1.0], [0.0, -0.0, 3.0, float("inf")]])
xb = torch.tensor([[1.0], [0.0]])
xc = torch.tensor([1.0, nan, 3.0, 5.0])
compare = []
for op in ["gt", "lt", "ge", "le", "eq", "ne"]:
    f = getattr(torch, op)
    compare.append({"op": op, "a": ser(xa), "b": ser(xb), "out": ser(f(xa, xb).float())})
    compare.append({"op": op, "a": ser(xa), "b": ser(xc), "out": ser(f(xa, xc).float())})
    compare.append({"op": op, "a": ser(xa), "b": 1.0, "out": ser(f(xa, 1.0).float())})
    compare.append({"op": op, "a": ser(xa), "b": "nan", "out": ser(f(xa, nan).float())})
cases["compare"] = compare

# ---- clamp --------------------------------------------------------------------
clamp = []
xv = [[-2.0, -1.0, -0.5, 0.0], [0.5, 1.0, 1.5, 3.0], [nan, float("inf"), -float("inf"), 0.99]]
for lo, hi in [(-1.0, 1.0), (-0.5, None), (None, 0.5), (1.0, -1.0), (0.5, 0.5)]:
    x = leaf(xv)
    clamp.append(backward_case(f"clamp({lo}, {hi})", [x], lambda x, lo=lo, hi=hi: x.clamp(lo, hi),
                               {"min": lo, "max": hi}))
cases["clamp"] = clamp

# ---- pow, abs, sqrt -----------------------------------------------------------
pw = []
x = leaf([[0.5, 2.0, 0.0, 0.0], [1.5, 3.0, 0.0, 4.0]])
y = leaf([[2.0, -1.5, 0.0, 2.0], [0.5, 0.0, -1.0, 1.0]])
pw.append(backward_case("pow(x, y)", [x, y], lambda x, y: torch.pow(x, y)))
x = leaf([[0.5, 2.0, 3.0]])
y = leaf([[2.0], [-1.0]])
pw.append(backward_case("pow(x [1,3], y [2,1])", [x, y], lambda x, y: torch.pow(x, y)))
y = leaf([-1.0, 0.0, 0.5, 3.0])
pw.append(backward_case("pow(2, y)", [y], lambda y: torch.pow(2.0, y), {"base": 2}))
pw.append(backward_case("pow(0, y)", [y], lambda y: torch.pow(0.0, y), {"base": 0}))
x = leaf([0.5, 2.0, 0.0, 3.0])
pw.append(backward_case("pow(x, 2.5)", [x], lambda x: torch.pow(x, 2.5), {"exponent": 2.5}))
pw.append(backward_case("pow(x, 0)", [x], lambda x: torch.pow(x, 0.0), {"exponent": 0}))
cases["pow"] = pw
x = leaf([-2.0, -0.0, 0.0, 0.5, 3.0])
cases["abs"] = [backward_case("abs", [x], torch.abs)]
x = leaf([0.0, 0.25, 2.0, 9.0])
cases["sqrt"] = [backward_case("sqrt", [x], torch.sqrt)]

# ---- repr ---------------------------------------------------------------------


def rep(name, t):
    t = t.detach()
    vals = t.reshape(-1).tolist()
    if t.dtype.is_floating_point:
        vals = [enc(v, 9) for v in vals]
    return {"name": name, "shape": list(t.shape),
            "dtype": "float32" if t.dtype.is_floating_point else "int32",
            "data": vals, "body": _tensor_str._tensor_str(t, len("tensor(")), "repr": repr(t)}


r = []
r.append(rep("ints as floats", torch.tensor([[1.0, 2.0], [3.0, 4.0]])))
r.append(rep("random 2x3", torch.randn(2, 3)))
r.append(rep("3-d", torch.randn(2, 3, 4)))
r.append(rep("scalar", torch.tensor(3.14159)))
r.append(rep("scalar int", torch.tensor(7, dtype=torch.int32)))
r.append(rep("wide range (sci)", torch.tensor([1e-5, 1.0, 12345.678])))
r.append(rep("large (sci)", torch.tensor([1.5e9, -2.0, 3.0])))
r.append(rep("ints, wide range", torch.tensor([1.0, 100000.0])))
r.append(rep("non-finite", torch.tensor([nan, float("inf"), -float("inf"), 1.5, 0.0])))
r.append(rep("non-finite ints", torch.tensor([nan, 2.0, -float("inf")])))
r.append(rep("all zero", torch.zeros(3)))
r.append(rep("negative zero", torch.tensor([-0.0, 1.25])))
r.append(rep("ties", torch.tensor([0.03125, 0.15625, -0.28125, 2.5])))
r.append(rep("long row", torch.randn(30)))
r.append(rep("long int row", torch.arange(-20, 20, dtype=torch.int32)))
r.append(rep("int32 2x3", torch.tensor([[1, -20, 300], [4, 5, 6]], dtype=torch.int32)))
r.append(rep("elided 1-d", torch.arange(2000, dtype=torch.float32) / 7))
r.append(rep("elided 2-d", torch.randn(40, 40)))
r.append(rep("elided 3-d", torch.randn(3, 20, 30)))
r.append(rep("elided int", torch.arange(1200, dtype=torch.int32).reshape(2, 600)))
r.append(rep("1-d of one", torch.tensor([5.5])))
cases["repr"] = r

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
