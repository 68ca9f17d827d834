"""Writes tests/fixtures/functional_more.json: PyTorch's numbers for the
functional ops a CT classification model reaches for beyond the basics:
softplus, elu, log1p, expm1, norm, normalize, cosine_similarity, pad (every
mode, negative amounts), adaptive_max_pool2d and adaptive_avg_pool2d with
None sizes and unbatched input (tests/functional_more_test.ts).

Each case stores its inputs, outputs, a fixed random upstream gradient G
per output and the gradients of L = sum(out * G) for each input that
requires one (the same form as make_indexing_fixtures.py).

Run with /usr/bin/python3 scripts/make_functional_more_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261206)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "functional_more.json")
NAN = float("nan")
INF = float("inf")
CASES = []


def randn(*shape):
    return torch.randn(shape).requires_grad_(True)


def given(values):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(True)


def case(name, op, inputs, fn, opts=None):
    out = fn(*inputs)
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "outs": [ser(out)]}
    if out.requires_grad:
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        c["G"] = [ser(g)]
        c["grads"] = [ser(t.grad) if t.grad is not None else None for t in inputs]
    CASES.append(c)


# ---- activations ----
wide = [-40.0, -25.0, -18.0, -5.0, -1.0, -1e-3, -1e-6, 0.0, 1e-6, 1e-3, 0.5, 3.0, 9.5, 10.0,
        10.5, 19.9, 20.0, 20.1, 30.0, 90.0, NAN]
for beta, threshold in [(1, 20), (2, 20), (0.5, 20), (1, 5), (-1, 20)]:
    case(f"softplus beta {beta} threshold {threshold}", "softplus", [given(wide)],
         lambda x, b=beta, t=threshold: F.softplus(x, b, t), {"beta": beta, "threshold": threshold})
case("softplus random", "softplus", [randn(3, 7)], lambda x: F.softplus(x))
for alpha in [1.0, 0.5, 2.0]:
    case(f"elu alpha {alpha}", "elu", [given(wide)], lambda x, a=alpha: F.elu(x, a), {"alpha": alpha})
small = [-0.5, -1e-4, -1e-7, 0.0, 1e-8, 1e-5, 1e-3, 0.7, 5.0, 30.0]
case("log1p", "log1p", [given(small + [-1.0, -2.0])], torch.log1p)
case("expm1", "expm1", [given(small + [-40.0, 89.0])], torch.expm1)

# ---- norms ----
rows = given([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [-1.0, 2.0, -2.0], [1e-20, 0.0, 0.0]])
for p in [2, 1, INF, 3, 0.5, 1.5]:
    case(f"norm p {p} dim 1", "norm", [rows.detach().clone().requires_grad_(True)],
         lambda x, p=p: torch.norm(x, p, 1), {"p": "inf" if p == INF else p, "dim": 1})
case("norm p 2 all", "norm", [randn(3, 4)], lambda x: torch.norm(x), {"p": 2})
case("norm p 2 dims keepdim", "norm", [randn(2, 3, 4)],
     lambda x: torch.norm(x, 2, [1, 2], keepdim=True), {"p": 2, "dim": [1, 2], "keepDim": True})
case("norm inf ties", "norm", [given([[2.0, -2.0, 1.0], [0.0, 0.0, 0.0]])],
     lambda x: torch.norm(x, INF, 1), {"p": "inf", "dim": 1})
case("normalize default", "normalize", [rows.detach().clone().requires_grad_(True)],
     lambda x: F.normalize(x), {})
case("normalize p 1 dim 0", "normalize", [randn(4, 3)], lambda x: F.normalize(x, 1, 0),
     {"p": 1, "dim": 0})
case("normalize 4-D dim 1", "normalize", [randn(2, 5, 3, 3)], lambda x: F.normalize(x, dim=1),
     {"dim": 1})
case("cosineSimilarity dim 1", "cosineSimilarity", [randn(4, 8), randn(4, 8)],
     lambda a, b: F.cosine_similarity(a, b), {})
case("cosineSimilarity broadcast dim -1", "cosineSimilarity", [randn(4, 1, 6), randn(1, 5, 6)],
     lambda a, b: F.cosine_similarity(a, b, dim=-1), {"dim": -1})
near = given([[1e-5, 0.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
other = given([[2e-5, 1e-5, 0.0], [1.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
case("cosineSimilarity near-zero rows eps 1e-4", "cosineSimilarity", [near, other],
     lambda a, b: F.cosine_similarity(a, b, 1, 1e-4), {"dim": 1, "eps": 1e-4})

# ---- pad ----
x3 = randn(2, 3, 5)
x4 = randn(2, 3, 4, 5)
for mode in ["constant", "reflect", "replicate", "circular"]:
    case(f"pad {mode} 3-D", "pad", [x3.detach().clone().requires_grad_(True)],
         lambda x, m=mode: F.pad(x, (2, 1), mode=m), {"pad": [2, 1], "mode": mode})
    case(f"pad {mode} 4-D", "pad", [x4.detach().clone().requires_grad_(True)],
         lambda x, m=mode: F.pad(x, (1, 3, 2, 0), mode=m), {"pad": [1, 3, 2, 0], "mode": mode})
    case(f"pad {mode} negative", "pad", [x4.detach().clone().requires_grad_(True)],
         lambda x, m=mode: F.pad(x, (-1, 2, 1, -2), mode=m), {"pad": [-1, 2, 1, -2], "mode": mode})
case("pad reflect full width", "pad", [x4.detach().clone().requires_grad_(True)],
     lambda x: F.pad(x, (4, 4, 3, 3), mode="reflect"), {"pad": [4, 4, 3, 3], "mode": "reflect"})
case("pad circular full width", "pad", [x4.detach().clone().requires_grad_(True)],
     lambda x: F.pad(x, (5, 5, 0, 0), mode="circular"), {"pad": [5, 5, 0, 0], "mode": "circular"})
case("pad constant value 2.5 three dims", "pad", [x4.detach().clone().requires_grad_(True)],
     lambda x: F.pad(x, (1, 1, 0, 2, 1, 0), value=2.5), {"pad": [1, 1, 0, 2, 1, 0], "value": 2.5})

# ---- adaptive pooling ----
ties = torch.tensor([[[[1.0, 3.0, 3.0, 0.0, 2.0], [3.0, 1.0, 0.0, 2.0, 2.0],
                       [0.0, 0.0, 5.0, 5.0, 1.0]]]]).requires_grad_(True)
for size in [[1, 1], [2, 2], [3, 2], [2, 3], [3, 5], [2, None]]:
    case(f"adaptiveMaxPool2d ties to {size}", "adaptiveMaxPool2d",
         [ties.detach().clone().requires_grad_(True)],
         lambda x, s=size: F.adaptive_max_pool2d(x, s), {"size": size})
for shape, size in [((2, 3, 8, 8), [2, 2]), ((2, 3, 8, 8), [1, 1]), ((2, 2, 5, 7), [3, 2]),
                    ((1, 2, 7, 5), [4, 3]), ((2, 2, 6, 6), [4, 4])]:
    case(f"adaptiveMaxPool2d {list(shape)} to {size}", "adaptiveMaxPool2d", [randn(*shape)],
         lambda x, s=size: F.adaptive_max_pool2d(x, s), {"size": size})
case("adaptiveMaxPool2d unbatched", "adaptiveMaxPool2d", [randn(3, 5, 7)],
     lambda x: F.adaptive_max_pool2d(x, 2), {"size": 2})
case("adaptiveAvgPool2d None width", "adaptiveAvgPool2d", [randn(2, 3, 6, 5)],
     lambda x: F.adaptive_avg_pool2d(x, [4, None]), {"size": [4, None]})
case("adaptiveAvgPool2d unbatched", "adaptiveAvgPool2d", [randn(3, 5, 7)],
     lambda x: F.adaptive_avg_pool2d(x, [2, 3]), {"size": [2, 3]})

# ---- rounding, running sums, logsumexp, all/any, products, lerp ----
steps = [NAN, -0.0, 0.0, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.7, -2.7, INF, -INF, 1e7 + 0.5]
for fn in ["floor", "ceil", "round", "trunc", "sign"]:
    case(fn, fn, [given(steps)], getattr(torch, fn))
for dim in [0, 1, -1]:
    case(f"cumsum dim {dim}", "cumsum", [randn(3, 4, 5)], lambda x, d=dim: torch.cumsum(x, d),
         {"dim": dim})
case("cumsum sums in double", "cumsum", [given([16777216.0, 1.0, 1.0, 1.0, 1e8, -1e8, 1e-8])],
     lambda x: torch.cumsum(x, 0), {"dim": 0})
case("logsumexp dim 1", "logsumexp", [randn(4, 6)], lambda x: torch.logsumexp(x, 1), {"dim": 1})
case("logsumexp dims keepdim", "logsumexp", [randn(2, 3, 4)],
     lambda x: torch.logsumexp(x, [0, 2], keepdim=True), {"dim": [0, 2], "keepDim": True})
case("logsumexp large and infinite", "logsumexp",
     [given([[1000.0, 1000.0, -5.0], [-INF, -INF, -INF], [INF, 1.0, 2.0]])],
     lambda x: torch.logsumexp(x, 1), {"dim": 1})
mixed = torch.tensor([[1.0, 0.0, NAN], [2.0, 3.0, 4.0], [0.0, 0.0, 0.0]])
for fn in ["all", "any"]:
    case(f"{fn} dim 1", fn, [mixed], lambda x, f=fn: getattr(torch, f)(x, 1), {"dim": 1})
    case(f"{fn} whole", fn, [mixed], lambda x, f=fn: getattr(torch, f)(x), {})
case("mm", "mm", [randn(3, 4), randn(4, 5)], torch.mm)
case("bmm", "bmm", [randn(2, 3, 4), randn(2, 4, 5)], torch.bmm)
case("square", "square", [randn(3, 4)], torch.square)
case("rsqrt", "rsqrt", [given([0.25, 1.0, 4.0, 9.0, 1e-6])], torch.rsqrt)
case("lerp tensor weight", "lerp", [randn(6), randn(6), given([0.0, 0.2, 0.5, 0.7, 1.0, -0.6])],
     torch.lerp)
case("lerp number weight", "lerp", [randn(2, 3), randn(2, 3)], lambda a, b: torch.lerp(a, b, 0.7),
     {"weight": 0.7})

# ---- median, kthvalue ----
distinct = torch.randperm(30).float().reshape(3, 10) / 7 - 2  # no ties: one index is right
case("median dim 1", "median", [distinct.clone().requires_grad_(True)],
     lambda x: torch.median(x, 1)[0], {"dim": 1})
case("median dim 0 keepdim", "median", [distinct.clone().requires_grad_(True)],
     lambda x: torch.median(x, 0, keepdim=True)[0], {"dim": 0, "keepDim": True})
case("median all", "median", [distinct.clone().requires_grad_(True)], torch.median, {})
case("median with NaN", "median",
     [given([[3.0, NAN, 1.0, NAN, 2.0], [5.0, 4.0, 3.0, 2.0, 1.0]])],
     lambda x: torch.median(x, 1)[0], {"dim": 1})
case("median all with NaN", "median", [given([3.0, 1.0, NAN, 2.0])], torch.median, {})
case("median indices", "medianIndices", [distinct], lambda x: torch.median(x, 1)[1], {"dim": 1})
for k in [1, 4, 10]:
    case(f"kthvalue k {k}", "kthvalue", [distinct.clone().requires_grad_(True)],
         lambda x, k=k: torch.kthvalue(x, k, 1)[0], {"k": k, "dim": 1})
case("kthvalue indices", "kthvalueIndices", [distinct], lambda x: torch.kthvalue(x, 3, 1)[1],
     {"k": 3, "dim": 1})

# ---- trigonometry, reciprocal, moving dimensions ----
angles = [-1e4, -100.0, -3.14159, -1.0, -1e-6, 0.0, 1e-6, 0.5, 1.5707964, 3.0, 88.0, 1e4]
case("sin", "sin", [given(angles)], torch.sin)
case("cos", "cos", [given(angles)], torch.cos)
case("reciprocal", "reciprocal", [given([-4.0, -0.5, 1e-3, 2.0, 1e4])], torch.reciprocal)
case("movedim 1 to -1", "movedim", [randn(2, 3, 4, 5)], lambda x: torch.movedim(x, 1, -1),
     {"source": 1, "destination": -1})
case("movedim lists", "movedim", [randn(2, 3, 4, 5)],
     lambda x: torch.movedim(x, [0, 3], [2, 0]), {"source": [0, 3], "destination": [2, 0]})
case("swapaxes", "swapaxes", [randn(2, 3, 4)], lambda x: torch.swapaxes(x, 0, 2),
     {"dim0": 0, "dim1": 2})

# ---- einsum ----
EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhid,bhjd->bhij", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("bhij,bhjd->bhid", [(2, 2, 3, 5), (2, 2, 5, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4, 5), (2, 3, 5, 2)]),
    ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]),
    ("bij,jk->bik", [(2, 3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("ijk,jl->il", [(2, 3, 4), (3, 5)]),
    ("bij,bjk->bik", [(1, 3, 4), (3, 4, 5)]),
]
for eq, shapes in EINSUM:
    case(f"einsum {eq} {shapes}", "einsum", [randn(*sh) for sh in shapes],
         lambda *xs, e=eq: torch.einsum(e, *xs), {"equation": eq})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"wrote {len(CASES)} cases to {OUT}")
