"""Writes tests/fixtures/op_docs.json: PyTorch's numbers for the tensor-function
forms that torch's own documentation examples use and that this library got
wrong or lacked (the op_docs audit):

- diagonal: a view (a write into x.diagonal() reaches x), any dims and offset,
  with its gradient;
- div with rounding_mode "trunc" and "floor" (float32 and int64 operands,
  broadcasting, a number divisor; the gradient is zeros);
- round with decimals (positive and negative);
- mode along a dimension (float and int64, ties, keepdim), with its gradient;
- einsum with a repeated letter (trace, diagonal), three operands, the list form;
- searchsorted and bucketize (left and right, 1-D and batched sequences, NaN);
- quantile with a tensor q.

Differentiable cases store a fixed random upstream gradient G and the gradients
of L = sum(out * G). Inputs are float32 written with 9 significant digits (an
exact round trip); int64 tensors are stored as int32.

Run with /usr/bin/python3 scripts/make_op_docs_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch

from fixture_json import grads, randn, ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "op_docs.json")
nan = float("nan")


cases = {}

# ---- diagonal: values, gradient, and a write through the view ------------------
diag = []
for shape, offset, d1, d2 in [([3, 3], 0, 0, 1), ([3, 4], 1, 0, 1), ([4, 3], -2, 0, 1),
                              ([2, 3, 4], -1, 2, 0), ([2, 3, 3], 0, -1, -2), ([3, 2], 5, 0, 1)]:
    x = randn(*shape).requires_grad_()
    out = torch.diagonal(x, offset, d1, d2)
    g, gr = grads(out, [x])
    written = x.detach().clone()
    written.diagonal(offset, d1, d2).fill_(7.5)
    diag.append({"x": ser(x), "offset": offset, "dim1": d1, "dim2": d2, "out": ser(out),
                 "g": g, "grad": gr[0], "written": ser(written)})
cases["diagonal"] = diag

# ---- div with rounding_mode -----------------------------------------------------
div = []
a = randn(3, 4) * 4
b = randn(4)
b[1] = 0.0  # x / 0 is inf or NaN for floats, as torch's
div_inputs = [
    ("float / float [4]", a, b),
    ("float / number", a, -0.75),
    ("float [4] / float [3, 1]", randn(4) * 3, randn(3, 1)),
    ("int / int", torch.tensor([7, -7, 7, -7, 0, 9]), torch.tensor([2, 2, -2, -2, 3, -4])),
    ("int / number", torch.tensor([[7, -7], [5, -5]]), 2),
    ("int / float number", torch.tensor([7, -7, 7, -7]), 2.5),
    ("int / float tensor", torch.tensor([7, -7, 3]), torch.tensor([2.5, 2.5, -0.5])),
]
for name, x, y in div_inputs:
    for mode in ["trunc", "floor"]:
        xs = x.clone().requires_grad_(x.is_floating_point())
        ys = y.clone().requires_grad_(y.is_floating_point()) if torch.is_tensor(y) else y
        out = torch.div(xs, ys, rounding_mode=mode)
        case = {"name": f"{name} {mode}", "mode": mode, "x": ser(xs),
                "y": ser(ys) if torch.is_tensor(ys) else ys, "out": ser(out)}
        ins = [t for t in [xs, ys] if torch.is_tensor(t) and t.requires_grad]
        if ins:
            g = randn(*out.shape)
            gs = torch.autograd.grad(out, ins, g)
            case["grad_sum"] = float(sum(t.abs().sum() for t in gs))  # zeros, as torch's
        div.append(case)
cases["div"] = div

# ---- round with decimals ----------------------------------------------------------
x = torch.cat([randn(60) * 10 ** torch.randint(-2, 4, (60,)).float(),
               torch.tensor([1.2345, 12.345, 0.125, 0.375, 2.5, -2.5, 1234.5678, 0.005, -0.05])])
x = torch.tensor([float("%.9g" % v) for v in x.tolist()])
cases["round"] = [{"decimals": d, "x": ser(x), "out": ser(torch.round(x, decimals=d))}
                  for d in [-3, -1, 0, 1, 2, 4]]

# ---- mode ---------------------------------------------------------------------
# Slices of at most 16: torch's CPU kernel sorts them by insertion (stable), so its
# index is the last occurrence of the mode; longer slices leave the index unspecified.
mode = []
F32, I64 = torch.float32, torch.int64
for shape, dim, keep, dtype in [([5, 7], 1, False, F32), ([6, 4], 0, True, F32),
                                ([3, 4, 5], -1, False, I64), ([2, 9, 3], 1, True, I64),
                                ([16], 0, False, F32), ([4, 3], -2, False, F32)]:
    x = torch.randint(-2, 3, shape).to(dtype)
    if dtype == torch.float32:
        x = x * 0.5
        x.requires_grad_()
    values, indices = torch.mode(x, dim, keep)
    case = {"x": ser(x), "dim": dim, "keepdim": keep, "values": ser(values),
            "indices": ser(indices)}
    if x.requires_grad:
        case["g"], gr = grads(values, [x])
        case["grad"] = gr[0]
    mode.append(case)
cases["mode"] = mode

# ---- einsum: diagonals, three operands, the list form ----------------------------
ein = []
for eq, shapes in [("ii", [[4, 4]]), ("ii->i", [[3, 3]]), ("bii->bi", [[2, 3, 3]]),
                   ("iji->j", [[3, 2, 3]]), ("ij,jj->i", [[2, 3], [3, 3]]),
                   ("bn,anm,bm->ba", [[2, 5], [3, 5, 4], [2, 4]]),
                   ("ij,jk,kl->il", [[2, 3], [3, 4], [4, 2]]),
                   ("i,i,i", [[4], [4], [4]]), ("...ij,...jk,k->...i", [[2, 2, 3], [3, 4], [4]])]:
    xs = [randn(*s).requires_grad_() for s in shapes]
    out = torch.einsum(eq, *xs)
    g, gr = grads(out, xs)
    ein.append({"eq": eq, "inputs": [ser(t) for t in xs], "out": ser(out), "g": g,
                "grads": gr})
cases["einsum"] = ein

# ---- searchsorted and bucketize -----------------------------------------------------
seq1 = torch.tensor([1.0, 3.0, 5.0, 5.0, 7.0, 9.0])
seq2 = torch.tensor([[1.0, 3.0, 5.0, 7.0, 9.0], [2.0, 4.0, 6.0, 8.0, 10.0]])
vals1 = torch.tensor([[0.0, 3.0, 5.0, 6.0], [9.0, 10.0, nan, -1.0]])
vals2 = torch.tensor([[3.0, 6.0, 9.0], [3.0, 6.0, 11.0]])
search = []
for name, seq, v in [("1-D", seq1, vals1), ("batched", seq2, vals2),
                     ("int", torch.tensor([0, 2, 4]), torch.tensor([-1, 0, 1, 2, 5]))]:
    for right in [False, True]:
        search.append({"name": name, "right": right, "seq": ser(seq), "values": ser(v),
                       "out": ser(torch.searchsorted(seq, v, right=right))})
cases["searchsorted"] = search
boundaries = torch.tensor([-500.0, -50.0, 300.0])
hu = torch.tensor([[-1000.0, -500.0, -100.0], [-50.0, 40.0, 300.0], [700.0, nan, 299.5]])
cases["bucketize"] = [{"right": r, "x": ser(hu), "boundaries": ser(boundaries),
                       "out": ser(torch.bucketize(hu, boundaries, right=r))}
                      for r in [False, True]]

# ---- quantile with a tensor q -------------------------------------------------------
x = randn(4, 5)
cases["quantile"] = [
    {"x": ser(x), "q": ser(torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])), "dim": None,
     "out": ser(torch.quantile(x, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0])))},
    {"x": ser(x), "q": ser(torch.tensor(0.6)), "dim": 1,
     "out": ser(torch.quantile(x, torch.tensor(0.6), dim=1))},
]

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(f"wrote {OUT}: {', '.join(f'{k} {len(v)}' for k, v in cases.items())}")
