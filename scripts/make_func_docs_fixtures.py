"""Writes tests/fixtures/func_docs.json: PyTorch 1.13's numbers for torch.nn.functional
calls as its documentation and typical code write them, ported to this library's F (the
func_docs audit), and for torch.nn.init:

- "calls": F calls, each with our function name, its arguments (tensors as stored
  records; torch's keywords as our camelCase options, or in place where ours takes them
  positionally), torch's outputs, a fixed random upstream gradient G and the gradients of
  L = sum(out * G) for every float input. The cases stress the defaults that differ
  silently between libraries: interpolate (mode, alignCorners, scaleFactor with and
  without recomputeScaleFactor, antialias), gridSample / affineGrid (alignCorners False by
  default), pad's modes and negative pads, oneHot(-1), normalize, cosineSimilarity,
  crossEntropy with probabilities and labelSmoothing, nllLoss, klDiv (batchmean,
  logTarget), BCE with posWeight and weight, softmax's dim, dropout(training=False),
  embedding (paddingIdx, maxNorm), pooling (returnIndices, ceilMode, countIncludePad,
  null sizes), unfold / fold, pixelShuffle, the norms and the regression losses;
- "gains", "fans": calculate_gain for every nonlinearity and leaky_relu's slope, and
  _calculate_fan_in_and_fan_out for linear and conv weights;
- "fills": moments and bounds of each random initialiser over a large tensor (the
  samples are not comparable, their distribution is);
- "exact": eye_ and dirac_ (with groups), value for value.

Inputs are float32 written with 9 significant digits (an exact round trip); int64
tensors are stored as int32.

Run with /usr/bin/python3 scripts/make_func_docs_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os
import re
import warnings

import torch
import torch.nn.functional as F
import torch.nn.init as I

from fixture_json import ser

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
torch.manual_seed(20260806)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "func_docs.json")


def R(*shape, scale=1.0):
    # Rounded to 9 digits first, so the stored input is exactly the one used.
    t = torch.randn(shape) * scale
    return torch.tensor([float("%.9g" % v) for v in t.reshape(-1).tolist()]).reshape(shape)


def camel(k):
    return re.sub(r"_+([a-z0-9])", lambda m: m.group(1).upper(), k)


class T:
    """A tensor argument; grad: whether it requires a gradient (floats by default)."""

    def __init__(self, t, grad=None):
        self.t = t
        self.grad = t.is_floating_point() if grad is None else grad


def enc(a):
    if isinstance(a, T):
        d = ser(a.t)
        d["tensor"] = True
        d["grad"] = a.grad
        return d
    if isinstance(a, (tuple, list)):
        return [enc(v) for v in a]
    if isinstance(a, float) and math.isinf(a):
        return {"num": "inf" if a > 0 else "-inf"}
    return a


calls = []


def C(fn, args, kw=None, ours_args=None, ours_kw=None):
    """torch's F.fn(*args, **kw); ours takes ours_args / ours_kw where they differ (torch's
    keywords given in place), else the same arguments with camelCase options."""
    kw = kw or {}
    targs = [a.t.clone().requires_grad_(a.grad) if isinstance(a, T) else a for a in args]
    tkw = {k: (v.t.clone().requires_grad_(v.grad) if isinstance(v, T) else v)
           for k, v in kw.items()}
    out = getattr(F, fn)(*targs, **tkw)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    a = ours_args if ours_args is not None else args
    k = ours_kw if ours_kw is not None else ({} if ours_args is not None else kw)
    rec = {"fn": camel(fn), "args": [enc(x) for x in a],
           "kw": {camel(n): enc(v) for n, v in k.items()}, "out": [ser(o) for o in outs]}
    leaves = [t for t in targs if isinstance(t, torch.Tensor) and t.requires_grad] + \
        [t for t in tkw.values() if isinstance(t, torch.Tensor) and t.requires_grad]
    if leaves and outs[0].requires_grad:
        g = R(*outs[0].shape)
        gs = torch.autograd.grad(outs[0], leaves, g, allow_unused=True)
        rec["g"] = ser(g)
        rec["grads"] = [ser(x) if x is not None else None for x in gs]
    calls.append(rec)


# ---- interpolate -------------------------------------------------------------------
x4 = R(1, 1, 3, 4)
for kw in [dict(size=(5, 7)), dict(scale_factor=2), dict(scale_factor=1.7),
           dict(scale_factor=1.7, recompute_scale_factor=True), dict(scale_factor=0.6),
           dict(size=(5, 7), mode="bilinear"), dict(size=(5, 7), mode="bilinear", align_corners=True),
           dict(scale_factor=1.7, mode="bilinear"),
           dict(scale_factor=1.7, mode="bilinear", recompute_scale_factor=True),
           dict(scale_factor=(0.5, 1.5), mode="bilinear"),
           dict(size=(2, 3), mode="bilinear", antialias=True),
           dict(size=(2, 2), mode="bicubic", antialias=True),
           dict(size=(5, 7), mode="bicubic", align_corners=True), dict(scale_factor=1.7, mode="bicubic"),
           dict(scale_factor=1.7, mode="nearest-exact"), dict(size=(2, 3), mode="area")]:
    C("interpolate", [T(x4)], kw)
C("interpolate", [T(R(2, 3, 5))], dict(scale_factor=2.5, mode="linear", align_corners=True))
C("interpolate", [T(R(1, 2, 2, 3, 4))], dict(size=(3, 4, 5), mode="trilinear"))
C("interpolate", [T(x4), (5, 7)])

# ---- grid_sample / affine_grid -------------------------------------------------------
inp, grid = R(1, 1, 3, 4), R(1, 2, 3, 2, scale=0.7)
for mode in ["bilinear", "nearest", "bicubic"]:
    for pm in ["zeros", "border", "reflection"]:
        C("grid_sample", [T(inp), T(grid)], dict(mode=mode, padding_mode=pm))
    C("grid_sample", [T(inp), T(grid)], dict(mode=mode, align_corners=True))
C("grid_sample", [T(inp), T(grid)])
theta = R(2, 2, 3, scale=0.5)
C("affine_grid", [T(theta), [2, 3, 2, 3]])
C("affine_grid", [T(theta), [2, 3, 2, 3]], dict(align_corners=True))
C("affine_grid", [T(R(1, 3, 4, scale=0.5)), [1, 1, 2, 2, 3]], dict(align_corners=False))

# ---- pad: our mode and value are positional ---------------------------------------------
xp = R(1, 1, 3, 4)
for args in [((1, 2),), ((1, 2), "constant", 0.5), ((1, 1, 2, 0), "reflect"), ((2, 1, 1, 2), "replicate"),
             ((2, 1, 1, 2), "circular"), ((-1, 2, 1, -1),), ((-1, 1, 1, -1), "replicate")]:
    C("pad", [T(xp)] + list(args))
C("pad", [T(xp), (1, 2)], dict(mode="constant", value=-1.0), ours_args=[T(xp), (1, 2), "constant", -1.0])
x2 = R(2, 3, 4)
C("pad", [T(x2), (1, 2)], dict(mode="reflect"), ours_args=[T(x2), (1, 2), "reflect"])

# ---- one_hot, normalize, cosine_similarity ------------------------------------------------
lab = torch.tensor([0, 3, 1, 2, 3])
C("one_hot", [T(lab)])
C("one_hot", [T(lab)], dict(num_classes=5), ours_args=[T(lab), 5])
xn = R(3, 4)
C("normalize", [T(xn)])
C("normalize", [T(xn)], dict(dim=0), ours_args=[T(xn), 2, 0])
C("normalize", [T(xn)], dict(p=1.0, dim=-1), ours_args=[T(xn), 1, -1])
C("normalize", [T(xn)], dict(p=float("inf")), ours_args=[T(xn), float("inf")])
C("normalize", [T(torch.tensor([[0.0, 0.0], [3.0, 4.0]]))], dict(eps=0.5),
  ours_args=[T(torch.tensor([[0.0, 0.0], [3.0, 4.0]])), 2, 1, 0.5])
a3, b3 = R(3, 4), R(3, 4)
C("cosine_similarity", [T(a3), T(b3)])
C("cosine_similarity", [T(a3), T(b3)], dict(dim=0), ours_args=[T(a3), T(b3), 0])
xo = R(1, 4)
C("cosine_similarity", [T(a3), T(xo)], dict(eps=1e-6), ours_args=[T(a3), T(xo), 1, 1e-6])

# ---- cross_entropy, nll_loss, kl_div, BCE -------------------------------------------------
lg, tg, w5 = R(4, 5), torch.tensor([1, 0, 4, 3]), torch.rand(5) + 0.5
prob = torch.softmax(R(4, 5), 1)
C("cross_entropy", [T(lg), T(tg)])
C("cross_entropy", [T(lg), T(tg)], dict(weight=T(w5, False)))
C("cross_entropy", [T(lg), T(torch.tensor([1, 2, 4, 2]))],
  dict(label_smoothing=0.2, weight=T(w5, False), ignore_index=2))
C("cross_entropy", [T(lg), T(tg)], dict(label_smoothing=0.1, reduction="none", weight=T(w5, False)))
C("cross_entropy", [T(lg), T(prob, True)])
C("cross_entropy", [T(lg), T(prob, False)], dict(label_smoothing=0.1))
C("cross_entropy", [T(lg), T(prob, False)], dict(weight=T(w5, False), label_smoothing=0.3, reduction="sum"))
lg4, tg4 = R(2, 3, 2, 2), torch.tensor([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])
C("cross_entropy", [T(lg4), T(tg4)], dict(weight=T(torch.tensor([1.0, 2.0, 0.5]), False), label_smoothing=0.05))
lp = torch.log_softmax(R(4, 5), 1)
C("nll_loss", [T(lp), T(torch.tensor([1, 2, 4, 2]))], dict(ignore_index=2, weight=T(w5, False)))
C("nll_loss", [T(lp), T(tg)], dict(reduction="none"))
ikl, tkl = torch.log_softmax(R(3, 5), 1), torch.softmax(R(3, 5), 1)
for kw in [dict(reduction="batchmean"), dict(reduction="sum"), dict(reduction="none"),
           dict(reduction="batchmean", log_target=True)]:
    tt = torch.log(tkl) if kw.get("log_target") else tkl
    C("kl_div", [T(ikl), T(tt)], kw)
lb, yb = R(3, 4), (torch.rand(3, 4) > 0.5).float()
pw, wb = torch.tensor([1.0, 2.0, 3.0, 0.5]), torch.rand(3, 4)
C("binary_cross_entropy_with_logits", [T(lb), T(yb, False)], dict(pos_weight=T(pw, False)))
C("binary_cross_entropy_with_logits", [T(lb), T(yb, False)],
  dict(weight=T(torch.tensor([1.0, 0.0, 2.0, 1.0]), False), pos_weight=T(pw, False), reduction="sum"))
C("binary_cross_entropy_with_logits", [T(lb), T(torch.rand(3, 4), True)], dict(weight=T(wb, False)))
C("binary_cross_entropy", [T(torch.sigmoid(lb)), T(yb, False)], dict(weight=T(wb, False)))

# ---- softmax, dropout(training=False), embedding -------------------------------------------
xs = R(2, 3, 4)
for d in [0, 1, -1]:
    C("softmax", [T(xs)], dict(dim=d), ours_args=[T(xs), d])
    C("log_softmax", [T(xs)], dict(dim=d), ours_args=[T(xs), d])
C("dropout", [T(xs)], dict(p=0.3, training=False), ours_args=[T(xs), 0.3, False])
xd = R(2, 3, 2, 2)
C("dropout2d", [T(xd)], dict(training=False), ours_args=[T(xd), 0.5, False])
emb_w, idx = R(6, 3), torch.tensor([[0, 2, 5], [2, 2, 1]])
C("embedding", [T(idx), T(emb_w)], dict(padding_idx=2))
C("embedding", [T(idx), T(emb_w)], dict(padding_idx=-1))
C("embedding", [T(idx), T(emb_w * 3, True)], dict(max_norm=1.0))
C("embedding", [T(idx), T(emb_w * 3, True)], dict(max_norm=1.5, norm_type=1.0))

# ---- pooling, unfold / fold, pixel shuffle ------------------------------------------------
xq = R(1, 1, 5, 7)
C("max_pool2d", [T(xq), 3], dict(stride=2, padding=1, return_indices=True))
C("max_pool2d", [T(xq), 2], dict(return_indices=True, ceil_mode=True))
C("max_pool2d", [T(xq), (2, 3)], dict(stride=(1, 2), dilation=(2, 1)))
C("avg_pool2d", [T(xq), 3], dict(stride=2, padding=1, count_include_pad=False))
C("avg_pool2d", [T(xq), 3], dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False))
C("avg_pool2d", [T(xq), 2], dict(divisor_override=3))
C("adaptive_avg_pool2d", [T(xq), (None, 3)])
C("adaptive_avg_pool2d", [T(xq), (3, None)])
C("adaptive_max_pool2d", [T(xq), (None, 3)], dict(return_indices=True))
C("max_pool1d", [T(R(2, 3, 9)), 3], dict(stride=2, padding=1, ceil_mode=True))
C("avg_pool1d", [T(R(2, 3, 9)), 3], dict(stride=2, padding=1, count_include_pad=False))
C("avg_pool3d", [T(R(1, 2, 3, 4, 4)), 3], dict(stride=2, padding=1, count_include_pad=False))
xu = R(1, 1, 5, 6)
C("unfold", [T(xu), (2, 3)], dict(dilation=1, padding=1, stride=2))
C("unfold", [T(xu), 3], dict(dilation=2, padding=1))
C("fold", [T(R(1, 9, 9)), (5, 6), 3], dict(stride=2, padding=1))
C("fold", [T(R(1, 6, 18)), (6, 5), (2, 3)], dict(dilation=(2, 1), padding=(1, 0)))
C("pixel_shuffle", [T(R(1, 8, 2, 3)), 2])
C("pixel_unshuffle", [T(R(1, 2, 4, 6)), 2])

# ---- norms: our weight, bias and eps are positional ----------------------------------------
xl, wl, bl = R(2, 3, 4), R(4), R(4)
C("layer_norm", [T(xl), (3, 4)])
C("layer_norm", [T(xl), (4,)], dict(weight=T(wl), bias=T(bl), eps=1e-3),
  ours_args=[T(xl), [4], T(wl), T(bl), 1e-3])
xg, wg, bg = R(2, 6, 3, 2), R(6), R(6)
C("group_norm", [T(xg), 3], dict(weight=T(wg), bias=T(bg), eps=1e-2),
  ours_args=[T(xg), 3, T(wg), T(bg), 1e-2])
C("instance_norm", [T(xg)], dict(weight=T(wg), bias=T(bg), eps=1e-3))
xr = R(1, 6, 2, 2)
C("local_response_norm", [T(xr), 4], dict(alpha=0.01, beta=0.5, k=2.0), ours_args=[T(xr), 4, 0.01, 0.5, 2.0])

# ---- regression losses ----------------------------------------------------------------------
a, b = R(3, 4), R(3, 4)
for fn, kw in [("mse_loss", {}), ("l1_loss", dict(reduction="sum")), ("smooth_l1_loss", dict(beta=0.5)),
               ("smooth_l1_loss", dict(beta=0.0)), ("smooth_l1_loss", dict(beta=2.0, reduction="none")),
               ("huber_loss", dict(delta=0.5)), ("huber_loss", dict(delta=2.0, reduction="none"))]:
    C(fn, [T(a), T(b)], kw)

# ---- activations with parameters (ours positional) --------------------------------------------
xa = R(3, 5) * 2
C("gelu", [T(xa)], dict(approximate="tanh"))
C("leaky_relu", [T(xa)], dict(negative_slope=0.2), ours_args=[T(xa), 0.2])
C("elu", [T(xa)], dict(alpha=0.5), ours_args=[T(xa), 0.5])
C("softplus", [T(xa)], dict(beta=2, threshold=1), ours_args=[T(xa), 2, 1])
C("hardtanh", [T(xa)], dict(min_val=-0.5, max_val=2.0), ours_args=[T(xa), -0.5, 2.0])
C("celu", [T(xa)], dict(alpha=2.0), ours_args=[T(xa), 2.0])

# ---- conv / linear: bias third, options fourth ------------------------------------------------
xc = R(1, 2, 4, 5)
C("conv2d", [T(xc), T(R(4, 1, 3, 3)), T(R(4))], dict(stride=2, padding=1, groups=2))
w3, wt = R(2, 2, 3, 2), R(2, 2, 3, 3)
C("conv2d", [T(xc), T(w3)], dict(padding="same", dilation=2), ours_args=[T(xc), T(w3), None],
  ours_kw=dict(padding="same", dilation=2))
C("conv_transpose2d", [T(xc), T(wt)], dict(stride=2, padding=1, output_padding=1),
  ours_args=[T(xc), T(wt), None], ours_kw=dict(stride=2, padding=1, output_padding=1))


# ---- nn.init -------------------------------------------------------------------------------
gains = [[nl, None, I.calculate_gain(nl)] for nl in
         ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
          "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"]]
gains += [["leaky_relu", p, I.calculate_gain("leaky_relu", p)] for p in [None, 0, 0.2, 1, math.sqrt(5)]]
fans = [[s, list(I._calculate_fan_in_and_fan_out(torch.empty(s)))]
        for s in [[5, 4], [16, 8, 3, 3], [8, 4, 3], [4, 2, 3, 5, 2], [3, 6, 1, 1], [7, 1]]]
fills = []


def fill(name, shape, ours, call):
    t = torch.empty(shape)
    call(t)
    v = t.double()
    fills.append({"fn": name, "shape": shape, "args": ours, "mean": v.mean().item(),
                  "std": v.std().item(), "min": v.min().item(), "max": v.max().item(),
                  "zeros": (t == 0).double().mean().item()})


S = [128, 64, 3, 3]
fill("kaimingUniform_", S, [], lambda t: I.kaiming_uniform_(t))
fill("kaimingUniform_", S, [{"a": math.sqrt(5)}], lambda t: I.kaiming_uniform_(t, a=math.sqrt(5)))
fill("kaimingUniform_", S, [{"mode": "fan_out", "nonlinearity": "relu"}],
     lambda t: I.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"))
fill("kaimingNormal_", S, [{"mode": "fan_out", "nonlinearity": "relu"}],
     lambda t: I.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"))
fill("kaimingNormal_", S, [{"a": 0.2}], lambda t: I.kaiming_normal_(t, a=0.2))
fill("kaimingNormal_", [300, 200], [{"nonlinearity": "selu"}], lambda t: I.kaiming_normal_(t, nonlinearity="selu"))
fill("xavierUniform_", [300, 200], [], lambda t: I.xavier_uniform_(t))
fill("xavierUniform_", S, [{"gain": 5 / 3}], lambda t: I.xavier_uniform_(t, gain=I.calculate_gain("tanh")))
fill("xavierNormal_", [300, 200], [{"gain": 2.0}], lambda t: I.xavier_normal_(t, gain=2.0))
fill("uniform_", [60000], [-0.3, 0.7], lambda t: I.uniform_(t, -0.3, 0.7))
fill("normal_", [60000], [1.5, 0.02], lambda t: I.normal_(t, 1.5, 0.02))
fill("truncNormal_", [60000], [], lambda t: I.trunc_normal_(t))
fill("truncNormal_", [60000], [{"mean": 1, "std": 2, "a": 0, "b": 5}],
     lambda t: I.trunc_normal_(t, mean=1, std=2, a=0, b=5))
fill("truncNormal_", [60000], [{"std": 0.02, "a": -0.04, "b": 0.04}],
     lambda t: I.trunc_normal_(t, std=0.02, a=-0.04, b=0.04))
fill("orthogonal_", [100, 150], [], lambda t: I.orthogonal_(t))
fill("orthogonal_", [150, 100], [{"gain": 2.0}], lambda t: I.orthogonal_(t, gain=2.0))
fill("sparse_", [300, 200], [0.3], lambda t: I.sparse_(t, 0.3))
fill("sparse_", [300, 200], [0.9, 0.1], lambda t: I.sparse_(t, 0.9, std=0.1))
exact = []
for s, g in [([6, 4, 3, 3], 2), ([4, 2, 3], 1), ([2, 3, 3, 3, 3], 1), ([4, 6, 2, 2], 2)]:
    t = torch.empty(s)
    I.dirac_(t, g)
    exact.append({"fn": "dirac_", "shape": s, "groups": g, "out": ser(t)})
for s in [[3, 5], [5, 3]]:
    t = torch.empty(s)
    I.eye_(t)
    exact.append({"fn": "eye_", "shape": s, "out": ser(t)})

with open(OUT, "w") as f:
    json.dump({"calls": calls, "gains": gains, "fans": fans, "fills": fills, "exact": exact}, f,
              separators=(",", ":"))
print(f"{len(calls)} calls, {len(fills)} fills -> {OUT}")
