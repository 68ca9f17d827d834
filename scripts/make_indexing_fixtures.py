"""Writes tests/fixtures/indexing.json: PyTorch's numbers for gather,
index_select, flip, roll, sort/argsort/topk, masked_fill, interpolate
(nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area, with
sizes and scale factors, align_corners either way) and instance_norm with
and without running statistics (tests/torch_indexing_test.ts).

Every differentiable case stores its inputs, its outputs, fixed random
upstream gradients G (one per float output) and the gradients of
L = sum(out * G) for each input that requires one. Indices are stored as
int32 (torch's int64 values all fit). Non-finite numbers are the strings
"nan", "inf" and "-inf". Floats are written with 9 significant digits (an
exact float32 round trip).

Run with /usr/bin/python3 scripts/make_indexing_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261205)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "indexing.json")
NAN = float("nan")


def randn(*shape, grad=True):
    return torch.randn(shape).requires_grad_(grad)


def ints(values):
    return torch.tensor(values, dtype=torch.int64)


CASES = []


def case(name, op, inputs, fn, opts=None, state=None):
    """fn(*inputs) -> a tensor or a tuple; gradients of sum(out * G) over float outputs."""
    out = fn(*inputs)
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "outs": [ser(o) for o in outs]}
    for t, s in zip(inputs, c["inputs"]):
        if t.requires_grad:
            s["grad"] = True
    if any(o.requires_grad for o in outs):
        gs = [torch.randn(o.shape) if o.requires_grad else None for o in outs]
        loss = sum((o * g).sum() for o, g in zip(outs, gs) if g is not None)
        loss.backward()
        c["G"] = [ser(g) if g is not None else None for g in gs]
        c["grads"] = [ser(t.grad) if t.requires_grad else None for t in inputs]
    if state is not None:
        c["state"] = {k: ser(v) for k, v in state.items()}
    CASES.append(c)


# ---- gather / index_select ----
for dim in [0, 1, 2, -1]:
    x = randn(3, 4, 5)
    shape = [3, 4, 5]
    shape[dim] = 6  # more picks than positions: repeats add in the gradient
    idx = torch.randint(0, [3, 4, 5][dim], shape)
    case(f"gather dim {dim}", "gather", [x, idx], lambda x, i, d=dim: torch.gather(x, d, i),
         {"dim": dim})
x = randn(4, 5)
case("gather index smaller in the other dim", "gather", [x, ints([[0, 4], [3, 3]])],
     lambda x, i: torch.gather(x, 1, i), {"dim": 1})
case("gather empty index", "gather", [randn(2, 3), torch.zeros(2, 0, dtype=torch.int64)],
     lambda x, i: torch.gather(x, 1, i), {"dim": 1})
for dim in [0, 1, -1]:
    x = randn(3, 4, 5)
    n = x.shape[dim]
    idx = ints([n - 1, 0, 1, 1, n - 1])
    case(f"indexSelect dim {dim}", "indexSelect", [x, idx],
         lambda x, i, d=dim: torch.index_select(x, d, i), {"dim": dim})
case("indexSelect 0-d index", "indexSelect", [randn(3, 2), torch.tensor(2)],
     lambda x, i: torch.index_select(x, 0, i), {"dim": 0})

# ---- flip / roll ----
for dims in [[0], [1], [2], [0, 2], [-1, 0, 1], []]:
    case(f"flip {dims}", "flip", [randn(2, 3, 4)], lambda x, d=dims: torch.flip(x, d),
         {"dims": dims})
case("flip 0-d", "flip", [randn()], lambda x: torch.flip(x, [0]), {"dims": [0]})
for shifts, dims in [(1, 0), (-2, 1), (7, 2), ([1, -1], [0, 2]), ([1, 2], [1, 1]), (3, None),
                     (-5, None), (0, 1)]:
    case(f"roll {shifts} {dims}", "roll", [randn(2, 3, 4)],
         lambda x, s=shifts, d=dims: torch.roll(x, s, d), {"shifts": shifts, "dims": dims})

# ---- sort / argsort / topk ----
ties = torch.tensor([[3, 1, 2, 1, 3, NAN, 0],
                     [NAN, 5, 5, -1, 2, 2, NAN]], requires_grad=True)
for desc in [False, True]:
    case(f"sort ties and NaN desc {desc}", "sort", [ties.detach().clone().requires_grad_()],
         lambda x, d=desc: tuple(torch.sort(x, dim=1, descending=d, stable=True)),
         {"dim": 1, "descending": desc})
    case(f"argsort ties and NaN desc {desc}", "argsort", [ties.detach()],
         lambda x, d=desc: torch.argsort(x, dim=1, descending=d), {"dim": 1, "descending": desc})
case("sort dim 0", "sort", [randn(4, 3)], lambda x: tuple(torch.sort(x, dim=0)), {"dim": 0})
case("sort 3-D middle", "sort", [randn(2, 5, 3)], lambda x: tuple(torch.sort(x, 1, True)),
     {"dim": 1, "descending": True})
case("sort int", "sort", [ints([[4, -2, 9, 0]])],
     lambda x: tuple(torch.sort(x, stable=True)), {"dim": -1})
for k, dim, largest in [(2, -1, True), (3, 0, True), (1, 1, False), (0, 1, True), (5, 1, False)]:
    case(f"topk k {k} dim {dim} largest {largest}", "topk", [randn(5, 5)],
         lambda x, k=k, d=dim, l=largest: tuple(torch.topk(x, k, d, l)),
         {"k": k, "dim": dim, "largest": largest})
case("topk NaN largest", "topk", [torch.tensor([[1.0, NAN, 3.0, 2.0]], requires_grad=True)],
     lambda x: tuple(torch.topk(x, 2)), {"k": 2, "dim": -1, "largest": True})

# ---- masked_fill ----
x = randn(3, 4)
case("maskedFill broadcast mask", "maskedFill", [x, (torch.randn(1, 4) > 0).float()],
     lambda x, m: x.masked_fill(m.bool(), -1.5), {"value": -1.5})
case("maskedFill same shape", "maskedFill", [randn(2, 3), (torch.randn(2, 3) > 0).float()],
     lambda x, m: x.masked_fill(m.bool(), 0.0), {"value": 0})

# ---- interpolate ----
def interp(name, shape, **kw):
    opts = {}
    for k, v in kw.items():
        opts[{"scale_factor": "scaleFactor", "align_corners": "alignCorners",
              "recompute_scale_factor": "recomputeScaleFactor"}.get(k, k)] = v
    case(f"interpolate {name} {shape}", "interpolate", [randn(*shape)],
         lambda x: F.interpolate(x, **kw), opts)


for mode in ["nearest", "nearest-exact"]:
    interp(f"{mode} size", [2, 3, 5, 7], size=[9, 4], mode=mode)
    interp(f"{mode} scale 2", [1, 2, 3, 4], scale_factor=2, mode=mode)
    interp(f"{mode} scale 1.7", [1, 1, 6, 5], scale_factor=1.7, mode=mode)
    interp(f"{mode} scale 0.4", [1, 1, 11, 9], scale_factor=0.4, mode=mode)
    interp(f"{mode} scale 1.5 recompute", [1, 1, 5, 7], scale_factor=1.5, mode=mode,
           recompute_scale_factor=True)
    interp(f"{mode} 1-D", [2, 2, 7], size=12, mode=mode)
    interp(f"{mode} 3-D", [1, 2, 3, 4, 5], size=[5, 2, 7], mode=mode)
    interp(f"{mode} size kept in one dim", [1, 1, 4, 6], size=[4, 9], mode=mode)
    interp(f"{mode} 5 to 3", [1, 1, 5, 5], size=[3, 3], mode=mode)
for align in [False, True]:
    for size in [[9, 4], [1, 6], [16, 16], [3, 3]]:
        interp(f"bilinear align {align} size {size}", [2, 2, 5, 7], size=size, mode="bilinear",
               align_corners=align)
        interp(f"bicubic align {align} size {size}", [1, 2, 5, 7], size=size, mode="bicubic",
               align_corners=align)
    interp(f"bilinear align {align} scale 2", [1, 1, 4, 4], scale_factor=2, mode="bilinear",
           align_corners=align)
    interp(f"bilinear align {align} scale 0.3", [1, 1, 10, 13], scale_factor=0.3,
           mode="bilinear", align_corners=align)
    interp(f"bicubic align {align} scale 1.3", [1, 1, 6, 6], scale_factor=1.3, mode="bicubic",
           align_corners=align)
    interp(f"linear align {align}", [2, 3, 6], size=10, mode="linear", align_corners=align)
    interp(f"trilinear align {align}", [1, 2, 3, 4, 5], size=[4, 6, 3], mode="trilinear",
           align_corners=align)
interp("bilinear default (no alignCorners)", [1, 1, 3, 3], size=[7, 5], mode="bilinear")
interp("bilinear scale 1.5 recompute", [1, 1, 5, 7], scale_factor=[1.5, 2.25], mode="bilinear",
       recompute_scale_factor=True)
# Long rows, where a position rounded to float32 moves by 1e-4 of a pixel.
interp("linear long row", [1, 1, 1000], size=999, mode="linear")
interp("bilinear odd sizes", [1, 1, 37, 53], size=[35, 50], mode="bilinear")
interp("bilinear odd sizes align", [1, 1, 37, 53], size=[35, 50], mode="bilinear",
       align_corners=True)
interp("bicubic odd sizes", [1, 1, 40, 9], size=[37, 13], mode="bicubic")
# A scale factor that keeps a dimension's size: torch's linear kernels copy it.
interp("linear scale keeps size", [1, 1, 5], scale_factor=1.19, mode="linear")
interp("bilinear scale keeps one size", [1, 1, 2, 5], scale_factor=[2, 1.1], mode="bilinear")
interp("trilinear scale keeps one size", [1, 1, 2, 3, 4], scale_factor=[1.2, 2, 1.1],
       mode="trilinear", align_corners=True)
nonfinite = torch.tensor([[[[1.0, NAN, 3.0], [4.0, 5.0, float("inf")]]]])
case("interpolate bilinear same size keeps NaN and inf in place", "interpolate", [nonfinite],
     lambda x: F.interpolate(x, size=[2, 3], mode="bilinear", align_corners=False),
     {"size": [2, 3], "mode": "bilinear", "alignCorners": False})
interp("area down", [2, 2, 9, 10], size=[4, 3], mode="area")
interp("area up", [1, 1, 3, 3], size=[5, 4], mode="area")
interp("area 1-D", [1, 2, 10], size=4, mode="area")
interp("area scale 0.5", [1, 1, 6, 8], scale_factor=0.5, mode="area")

# ---- quantile ----
for interp_mode in ["linear", "lower", "higher", "midpoint", "nearest"]:
    case(f"quantile all {interp_mode}", "quantile", [randn(3, 7)],
         lambda x, m=interp_mode: torch.quantile(x, torch.tensor([0.0, 0.1, 0.5, 0.625, 0.99, 1.0]),
                                                 interpolation=m),
         {"q": [0.0, 0.1, 0.5, 0.625, 0.99, 1.0], "interpolation": interp_mode})
case("quantile dim 1 keepdim", "quantile", [randn(2, 6, 3)],
     lambda x: torch.quantile(x, 0.3, dim=1, keepdim=True), {"q": 0.3, "dim": 1, "keepDim": True})
case("quantile dim -1 list", "quantile", [randn(4, 5)],
     lambda x: torch.quantile(x, torch.tensor([0.25, 0.75]), dim=-1), {"q": [0.25, 0.75], "dim": -1})
case("quantile NaN row", "quantile", [torch.tensor([[1.0, NAN, 3.0], [4.0, 5.0, 6.0]])],
     lambda x: torch.quantile(x, 0.5, dim=1), {"q": 0.5, "dim": 1})

# ---- instance_norm ----
case("instanceNorm plain", "instanceNorm", [randn(2, 3, 4, 5)], lambda x: F.instance_norm(x))
w, b = randn(3), randn(3)
case("instanceNorm affine", "instanceNorm", [randn(2, 3, 4, 5), w, b],
     lambda x, w, b: F.instance_norm(x, weight=w, bias=b), {"affine": True})
case("instanceNorm 1-D input", "instanceNorm", [randn(3, 2, 7)], lambda x: F.instance_norm(x))
rm, rv = torch.randn(3), torch.rand(3) + 0.5
rm0, rv0 = rm.clone(), rv.clone()
case("instanceNorm running stats", "instanceNorm", [randn(4, 3, 3, 3)],
     lambda x: F.instance_norm(x, rm, rv, momentum=0.3),
     {"running": True, "momentum": 0.3},
     state={"runningMean0": rm0, "runningVar0": rv0, "runningMean": rm, "runningVar": rv})
case("instanceNorm eval with running stats", "instanceNorm", [randn(2, 3, 3, 3)],
     lambda x: F.instance_norm(x, rm0, rv0, use_input_stats=False),
     {"running": True, "useInputStats": False},
     state={"runningMean0": rm0, "runningVar0": rv0})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"wrote {len(CASES)} cases to {OUT}")
