"""Writes tests/fixtures/op_gaps.json: PyTorch's numbers for the tensor-op gaps the op_docs
audit found (tests/op_gaps_test.ts):

- where / masked_fill / cumsum / roll / flip on integer (label) tensors: int64 stays
  integer (int32 here), an integer tensor beside a float tensor or a fraction promotes to
  float32 (with the float operand's gradient);
- the function forms split, chunk, narrow, unbind; trace (float with its gradient, int; for
  a tall matrix the true gradient, where torch 1.13's backward writes past the diagonal);
  fill_diagonal_ (wrap, tall and wide, 3-D); nanmedian (all elements and along a dim, with
  its gradient); unsqueeze_ / squeeze_ shapes;
- scatter_reduce with every reduction and include_self, with gradients (ties for amax/amin,
  zeros for prod, int64), scatter(..., reduce="add" | "multiply"), index_copy with its
  gradient;
- unique of values with several NaN: torch 1.13's answer is stored for the record only (its
  hash-based CPU kernel misplaces NaN and counts it 0 times); the test checks the library's
  chosen order instead (NaN after the numbers, each its own, as torch 2's).

Differentiable cases store a fixed random upstream gradient G and the gradients of
L = sum(out * G). Inputs are float32 written with 9 significant digits (an exact round
trip); int64 tensors are stored as int32.

Run with /usr/bin/python3 scripts/make_op_gaps_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch

from fixture_json import enc, grads, randn, ser

warnings.filterwarnings("ignore", message="scatter_reduce")
torch.set_num_threads(1)
torch.manual_seed(20260802)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "op_gaps.json")
nan = float("nan")


def arg(v):
    return ser(v) if isinstance(v, torch.Tensor) else v


cases = {}

# ---- int tensors: where, masked_fill, cumsum, roll, flip ---------------------------
y = torch.tensor([[0, 1, 2, 2], [2, 1, 0, 1], [1, 2, 2, 0]])
f = randn(3, 4)
where = []
for name, cond, a, b in [
    ("merge classes: where(y == 2, 1, y)", y == 2, 1, y),
    ("int tensors, broadcast", y > 0, torch.tensor([[10], [20], [30]]), torch.tensor([-1, -2, -3, -4])),
    ("int and float tensor: float32", y == 1, y, f),
    ("int and a fraction: float32", y == 0, 0.5, y),
    ("int cond, int branches", y, torch.tensor(7), -y),
]:
    at = a.clone().requires_grad_() if isinstance(a, torch.Tensor) and a.is_floating_point() else a
    bt = b.clone().requires_grad_() if isinstance(b, torch.Tensor) and b.is_floating_point() else b
    out = torch.where(cond.bool(), at, bt)  # the library takes any nonzero cond
    case = {"name": name, "cond": ser(cond), "a": arg(a), "b": arg(b), "out": ser(out)}
    if out.requires_grad:
        g, gr = grads(out, [t for t in [at, bt] if isinstance(t, torch.Tensor)])
        case["g"], case["grads"] = g, gr
    where.append(case)
cases["where"] = where

masked = []
for name, x, mask, value in [
    ("ignore index: target.masked_fill(target == 2, 255)", y, y == 2, 255),
    ("broadcast mask row", y, torch.tensor([True, False, False, True]), -1),
    ("0-d int value", y, y == 0, torch.tensor(9)),
]:
    masked.append({"name": name, "x": ser(x), "mask": ser(mask), "value": arg(value),
                   "out": ser(x.masked_fill(mask, value))})
cases["masked_fill"] = masked

ints = torch.tensor([[3, -1, 4, 1, -5], [9, 2, -6, 5, 3]])
cases["cumsum"] = [{"x": ser(ints), "dim": d, "out": ser(torch.cumsum(ints, d))}
                   for d in [0, 1, -1]]
cases["roll"] = [{"x": ser(ints), "shifts": s, "dims": d, "out": ser(torch.roll(ints, s, d))}
                 for s, d in [(1, None), (-2, 1), ([1, 2], [0, 1])]]
cases["flip"] = [{"x": ser(ints), "dims": d, "out": ser(torch.flip(ints, d))}
                 for d in [[0], [1], [0, 1]]]

# ---- function forms, trace, fill_diagonal_, nanmedian, unsqueeze_ / squeeze_ -------
x = randn(4, 6)
cases["split"] = [{"x": ser(x), "arg": s, "dim": d, "out": [ser(p) for p in torch.split(x, s, d)]}
                  for s, d in [(2, 0), (4, 1), ([1, 2, 3], 1)]]
cases["chunk"] = [{"x": ser(x), "chunks": c, "dim": d,
                   "out": [ser(p) for p in torch.chunk(x, c, d)]} for c, d in [(3, 0), (4, 1)]]
narrow = []
for d, start, length in [(0, 1, 2), (1, -3, 2), (-1, 0, 6)]:
    xs = x.clone().requires_grad_()
    out = torch.narrow(xs, d, start, length)
    g, gr = grads(out, [xs])
    narrow.append({"x": ser(x), "dim": d, "start": start, "length": length, "out": ser(out),
                   "g": g, "grad": gr[0]})
cases["narrow"] = narrow
cases["unbind"] = [{"x": ser(x), "dim": d, "out": [ser(p) for p in torch.unbind(x, d)]}
                   for d in [0, 1]]

trace = []
for shape in [[3, 3], [3, 5], [5, 2]]:
    xs = randn(*shape).requires_grad_()
    out = torch.trace(xs)
    g, gr = grads(out, [xs])
    case = {"x": ser(xs), "out": ser(out), "g": g, "grad": gr[0]}
    if shape[0] > shape[1]:
        # torch 1.13's trace backward fills every (cols + 1)-th flat element, past the
        # diagonal of a tall matrix ([5, 2]: x[3, 0] and x[4, 1] too); the true derivative
        # is the diagonal's, which diagonal(x).sum() gives. Both stored; the test wants the
        # true one.
        case["grad_torch113"] = gr[0]
        upstream = torch.tensor(float(g["data"][0]))
        true_grad = torch.autograd.grad(torch.diagonal(xs).sum(), [xs], upstream)[0]
        case["grad"] = ser(true_grad)
    trace.append(case)
trace.append({"x": ser(torch.arange(12).reshape(3, 4)), "out": ser(torch.trace(torch.arange(12).reshape(3, 4)))})
cases["trace"] = trace

fill = []
for shape, value, wrap in [([3, 3], -float("inf"), False), ([7, 3], 5.0, True), ([7, 3], 5.0, False),
                           ([3, 7], 2.5, True), ([5, 3], 1.0, True), ([4, 3], 1.0, True),
                           ([3, 3, 3], 4.0, False), ([2, 2, 2, 2], -1.0, False)]:
    t = randn(*shape)
    fill.append({"x": ser(t), "value": enc(value), "wrap": wrap,
                 "out": ser(t.clone().fill_diagonal_(value, wrap=wrap))})
ti = torch.arange(12).reshape(4, 3)
fill.append({"x": ser(ti), "value": -7, "wrap": False, "out": ser(ti.clone().fill_diagonal_(-7))})
cases["fill_diagonal"] = fill

nm = []
base = randn(4, 5)
base[0, 1] = nan
base[1, :] = nan
base[2, 0] = nan
base[2, 3] = nan
base[3, 4] = nan
for d, keep in [(None, False), (1, False), (0, True), (-1, True)]:
    xs = base.clone().requires_grad_()
    if d is None:
        out = torch.nanmedian(xs)
        g, gr = grads(out, [xs])
        nm.append({"x": ser(base), "dim": None, "keepdim": keep, "values": ser(out), "g": g,
                   "grad": gr[0]})
        continue
    r = torch.nanmedian(xs, d, keep)
    g, gr = grads(r.values, [xs])
    nm.append({"x": ser(base), "dim": d, "keepdim": keep, "values": ser(r.values),
               "indices": ser(r.indices), "g": g, "grad": gr[0]})
cases["nanmedian"] = nm

shapes = []
for shape, op, d in [([2, 3], "unsqueeze_", 0), ([2, 3], "unsqueeze_", -1), ([2, 3], "unsqueeze_", 1),
                     ([1, 3, 1], "squeeze_", None), ([1, 3, 1], "squeeze_", 2), ([1, 3, 1], "squeeze_", 1)]:
    t = torch.zeros(shape)
    getattr(t, op)(*([] if d is None else [d]))
    shapes.append({"shape": shape, "op": op, "dim": d, "out": list(t.shape), "version": t._version})
cases["shape_in_place"] = shapes

# ---- scatter_reduce, scatter(reduce=), index_copy -------------------------------
sr = []
x2 = randn(3, 5)
src2 = randn(3, 4)
src2[0, 1] = 0.0  # a zero in prod
src2[2, 2] = 0.0
src2[2, 3] = 0.0  # two zeros landing together below
idx2 = torch.tensor([[0, 2, 0, 4], [1, 1, 1, 3], [2, 0, 4, 4]])
tie_x = torch.tensor([[5., 2., 3.], [1., 1., 7.]])
tie_src = torch.tensor([[5., 5., 1.], [1., 7., 0.]])
tie_idx = torch.tensor([[0, 0, 1], [0, 2, 1]])
for reduce in ["sum", "prod", "mean", "amax", "amin"]:
    for inc in [True, False]:
        for name, xv, dim, idx, sv in [("2-D dim 1", x2, 1, idx2, src2),
                                       ("ties dim 1", tie_x, 1, tie_idx, tie_src),
                                       ("1-D", randn(4), 0, torch.tensor([0, 1, 0, 1, 2, 1]), randn(6)),
                                       ("dim 0, index smaller than src", randn(3, 2), 0,
                                        torch.tensor([[2, 0], [2, 2]]), randn(3, 3))]:
            xs, ss = xv.clone().requires_grad_(), sv.clone().requires_grad_()
            out = torch.scatter_reduce(xs, dim, idx, ss, reduce, include_self=inc)
            case = {"name": f"{reduce} include_self={inc} {name}", "x": ser(xv), "dim": dim,
                    "index": ser(idx), "src": ser(sv), "reduce": reduce, "include_self": inc,
                    "out": ser(out)}
            # torch 1.13's backward fails where index is smaller than src (it returns src's
            # gradient in index's shape): values only there.
            if list(idx.shape) == list(sv.shape):
                case["g"], case["grads"] = grads(out, [xs, ss])
            sr.append(case)
        xi, si = torch.tensor([[-1, 2, 3], [4, -5, 6]]), torch.tensor([[-4, -5, 6], [7, 8, -9]])
        ii = torch.tensor([[0, 0, 2], [1, 1, 1]])
        sr.append({"name": f"{reduce} include_self={inc} int64", "x": ser(xi), "dim": 1,
                   "index": ser(ii), "src": ser(si), "reduce": reduce, "include_self": inc,
                   "out": ser(torch.scatter_reduce(xi, 1, ii, si, reduce, include_self=inc))})
cases["scatter_reduce"] = sr

sc = []
for reduce in ["add", "multiply"]:
    for src in [randn(2, 3), 1.5]:
        xv = randn(3, 3)
        idx = torch.tensor([[0, 2, 0], [0, 1, 2]])
        sc.append({"x": ser(xv), "dim": 0, "index": ser(idx), "src": arg(src), "reduce": reduce,
                   "out": ser(torch.scatter(xv, 0, idx, src, reduce=reduce))})
    xi = torch.tensor([1, 2, 3])
    sc.append({"x": ser(xi), "dim": 0, "index": ser(torch.tensor([0, 0, 2])),
               "src": ser(torch.tensor([4, 5, 6])), "reduce": reduce,
               "out": ser(torch.scatter(xi, 0, torch.tensor([0, 0, 2]), torch.tensor([4, 5, 6]),
                                        reduce=reduce))})
cases["scatter_reduce_option"] = sc

ic = []
for shape, dim, idx in [([4, 3], 0, [2, 0]), ([3, 5], 1, [4, 1, 3]), ([2, 3, 2], 1, [1]),
                        ([4], 0, [3, 0, 1, 2])]:
    xv = randn(*shape)
    sshape = list(shape)
    sshape[dim] = len(idx)
    sv = randn(*sshape)
    xs, ss = xv.clone().requires_grad_(), sv.clone().requires_grad_()
    index = torch.tensor(idx)
    out = torch.index_copy(xs, dim, index, ss)
    g, gr = grads(out, [xs, ss])
    ic.append({"x": ser(xv), "dim": dim, "index": ser(index), "source": ser(sv), "out": ser(out),
               "g": g, "grads": gr})
xi = torch.arange(6).reshape(3, 2)
ic.append({"x": ser(xi), "dim": 0, "index": ser(torch.tensor([2])),
           "source": ser(torch.tensor([[-1, -2]])),
           "out": ser(torch.index_copy(xi, 0, torch.tensor([2]), torch.tensor([[-1, -2]])))})
cases["index_copy"] = ic

# ---- unique with NaN: torch 1.13's answer, for the record only ----------------------
u = torch.tensor([3.0, nan, 1.0, nan, 2.0, 1.0])
vals, inv, counts = torch.unique(u, sorted=True, return_inverse=True, return_counts=True)
cases["unique_nan_torch113"] = {"x": ser(u), "values": ser(vals), "inverse": ser(inv),
                                "counts": ser(counts)}

with open(OUT, "w") as fh:
    json.dump(cases, fh, separators=(",", ":"), allow_nan=False)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
