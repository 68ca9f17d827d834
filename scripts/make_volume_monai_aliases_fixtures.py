"""Writes tests/fixtures/volume_monai_aliases.json: the reference numbers of
what MONAI 1.3 accepts beyond the names the volume transforms first took
(tests/volume_monai_aliases_test.ts).

MONAI cannot be installed here, so its code paths are written out in torch
(float64, outputs rounded to float32), as in make_volume_spatial_more_fixtures.py
(whose matrices and AffineTransform it imports):

- Mode and padding names: `resolves_modes` maps F.interpolate's "linear",
  "bilinear" and spline orders 0/1 to "trilinear" / "nearest-exact" on a
  volume (Zoom, Resize), and grid_sample's "trilinear", "linear", order 1,
  and scipy's padding names ("constant", "nearest", "reflect", "wrap", ...)
  to grid_sample's own (Rotate, Affine). Each case is the torch call MONAI
  ends in, with the name the user writes in "opts".
- Zoom's numpy.pad modes after shrinking ("linear_ramp", "maximum", "mean",
  "median", "minimum"): ResizeWithPadOrCrop's centred crop, then np.pad.
- Affine(align_corners=True): AffineGrid scales the centred grid by
  max(2, n) / (max(2, n) - 1) per output axis, Resample normalizes by
  2 / max(2, n) and grid_sample reads with align_corners True.
- ScaleIntensityRangePercentiles with b_min / b_max None.
- Resize(size_mode="longest"): int(round(n * size / max(shape))).
- Spacing's pixdim padding: pixdim[:3], then the last value repeated.

Run with /usr/bin/python3 scripts/make_volume_monai_aliases_fixtures.py (PyTorch 1.13).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import ser
# MONAI's matrices and AffineTransform (imported before this script seeds: the module seeds too).
from make_volume_spatial_more_fixtures import (
    affine_transform,
    create_rotate,
    create_scale,
    create_translate,
    normalize_transform,
)

torch.manual_seed(20260401)
np.random.seed(20260401)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_monai_aliases.json")

INPUTS = {}
CASES = []


def add_input(name, x):
    INPUTS[name] = ser(x)
    return x


def case(name, op, opts, x_name, out):
    CASES.append({"name": name, "op": op, "opts": opts, "x": x_name, "out": ser(out.float())})


def rotate(x, angle, mode, padding, align=False):
    im = np.asarray(x.shape[1:])
    r = create_rotate(angle)
    shift = create_translate(((im - 1) / 2).tolist())
    shift_1 = create_translate((-(im - 1) / 2).tolist())
    return affine_transform(x, shift @ r @ shift_1, [int(i) for i in im], mode, padding, align)


# resolves_modes for torch: the grid_sample names MONAI ends in.
GRID_MODE = {"bilinear": "bilinear", "linear": "bilinear", "trilinear": "bilinear", "1": "bilinear",
             1: "bilinear", "nearest": "nearest"}
GRID_PAD = {"zeros": "zeros", "border": "border", "reflection": "reflection", "constant": "zeros",
            "grid-constant": "zeros", "nearest": "border", "reflect": "reflection",
            "wrap": "reflection", "grid-wrap": "reflection", "grid-mirror": "reflection"}
INTERP = {"linear": "trilinear", "bilinear": "trilinear", 1: "trilinear", "1": "trilinear",
          0: "nearest-exact", "0": "nearest-exact"}


def pad_or_crop(x, size, mode):
    """ResizeWithPadOrCrop(size, mode): centred crop, then symmetric np.pad."""
    sl = [slice(None)]
    for s, r in zip(x.shape[1:], size):
        start = max(s // 2 - r // 2, 0)
        sl.append(slice(start, min(start + r, s)))
    x = x[tuple(sl)]
    pads = []
    for s, t in zip(x.shape[1:], size):
        w = max(t - s, 0)
        pads.append((w // 2, w - w // 2))
    return torch.from_numpy(np.pad(x.float().numpy(), [(0, 0)] + pads, mode=mode))


def zoom(x, z, mode, padding):
    z = [z] * 3 if isinstance(z, (int, float)) else z
    y = F.interpolate(x[None].double(), scale_factor=z, recompute_scale_factor=True, mode=mode)[0]
    if list(y.shape[1:]) != list(x.shape[1:]):
        y = pad_or_crop(y, list(x.shape[1:]), padding)
    return y


def affine_align(x, rotate_p, scale, spatial_size, mode, padding, align):
    """Affine(rotate_params, scale_params, spatial_size, align_corners): AffineGrid + Resample."""
    a = create_rotate(rotate_p) @ create_scale(scale)
    size = [s if s > 0 else d for s, d in zip(spatial_size, x.shape[1:])]
    ranges = [torch.linspace(-(d - 1.0) / 2.0, (d - 1.0) / 2.0, int(d), dtype=torch.float64)
              for d in size]
    coords = torch.meshgrid(*ranges, indexing="ij")
    grid = torch.stack([*coords, torch.ones_like(coords[0])])
    if align:
        a = a @ create_scale([max(d, 2) / (max(d, 2) - 1) for d in size])
    grid = (torch.from_numpy(a) @ grid.reshape(4, -1)).reshape(4, *size)
    g = grid[[2, 1, 0]].permute(1, 2, 3, 0)[None].clone()
    for i, dim in enumerate(list(x.shape[1:])[::-1]):
        g[0, ..., i] *= 2.0 / max(2, dim)
    return F.grid_sample(x[None].double(), g, mode=mode, padding_mode=padding,
                         align_corners=align)[0]


def percentile(x, q):
    return torch.quantile(x, torch.as_tensor(np.asarray(q) / 100.0, dtype=x.dtype))


def percentiles_none(img, lower, upper, b_min, b_max, clip):
    """ScaleIntensityRangePercentiles -> ScaleIntensityRange with None bounds."""
    a_min, a_max = percentile(img.flatten(), lower), percentile(img.flatten(), upper)
    if a_max - a_min == 0.0:
        return img - a_min if b_min is None else img - a_min + b_min
    img = (img - a_min) / (a_max - a_min)
    if b_min is not None and b_max is not None:
        img = img * (b_max - b_min) + b_min
    if clip:
        img = torch.clamp(img, b_min, b_max)
    return img


# ---- inputs ----
xa = add_input("a", torch.randn(2, 6, 7, 5))
xb = add_input("b", torch.randn(1, 5, 9, 6))
xc = add_input("c", torch.full((1, 2, 3, 2), 3.5))  # constant: equal percentiles

# ---- Zoom / RandZoom / Resize interpolation names ----
for mode in ("linear", "bilinear", 1, "1", 0, "0"):
    for z in (1.4, [0.7, 1.3, 0.8]):
        case(f"zoom mode {mode!r} zoom {z}", "Zoom", {"zoom": z, "mode": mode}, "a",
             zoom(xa, z, INTERP[mode], "edge"))
for mode in ("bilinear", 0):
    case(f"resize mode {mode!r}", "Resize", {"spatialSize": [4, 11, 3], "mode": mode}, "b",
         F.interpolate(xb[None].double(), size=[4, 11, 3], mode=INTERP[mode])[0])

# ---- Zoom's numpy.pad modes after shrinking (and a crop on one axis) ----
for padding in ("linear_ramp", "maximum", "mean", "median", "minimum"):
    for z in (0.55, [1.3, 0.6, 0.7]):
        case(f"zoom paddingMode {padding} zoom {z}", "Zoom",
             {"zoom": z, "mode": "trilinear", "paddingMode": padding}, "a",
             zoom(xa, z, "trilinear", padding))

# ---- Rotate: grid_sample mode and padding names MONAI maps ----
ROT = [("trilinear", "constant"), ("linear", "nearest"), (1, "reflect"), ("1", "wrap"),
       ("nearest", "grid-constant"), ("bilinear", "grid-mirror"), ("bilinear", "grid-wrap")]
for mode, padding in ROT:
    angle = [0.4, -0.3, 0.25]
    case(f"rotate mode {mode!r} paddingMode {padding}", "Rotate",
         {"angle": angle, "mode": mode, "paddingMode": padding}, "b",
         rotate(xb, angle, GRID_MODE[mode], GRID_PAD[padding]))

# ---- Affine: the names, and align_corners ----
for mode, padding in (("trilinear", "reflect"), ("linear", "constant"), ("nearest", "nearest")):
    case(f"affine mode {mode} paddingMode {padding}", "Affine",
         {"rotateParams": [0.3, 0.0, -0.2], "scaleParams": [1.1, 0.9, 1.2], "mode": mode,
          "paddingMode": padding}, "b",
         affine_align(xb, [0.3, 0.0, -0.2], [1.1, 0.9, 1.2], [0, 0, 0], GRID_MODE[mode],
                      GRID_PAD[padding], False))
for mode in ("bilinear", "nearest"):
    for padding in ("zeros", "border", "reflection"):
        for size in ([0, 0, 0], [4, 8, 1]):
            case(f"affine alignCorners {mode} {padding} {size}", "Affine",
                 {"rotateParams": [0.35, 0.1, 0.0], "scaleParams": [0.9, 1.2, 1.05],
                  "spatialSize": size, "mode": mode, "paddingMode": padding,
                  "alignCorners": True}, "a",
                 affine_align(xa, [0.35, 0.1, 0.0], [0.9, 1.2, 1.05], size, mode, padding, True))

# ---- ScaleIntensityRangePercentiles with None bounds ----
for b_min, b_max, clip in ((None, None, False), (None, 0.5, True), (-0.2, None, True),
                           (0.1, None, False)):
    for x_name, x in (("a", xa), ("c", xc)):
        case(f"percentiles bMin {b_min} bMax {b_max} clip {clip} {x_name}",
             "ScaleIntensityRangePercentiles",
             {"lower": 10, "upper": 80, "bMin": b_min, "bMax": b_max, "clip": clip}, x_name,
             percentiles_none(x, 10, 80, b_min, b_max, clip))

# ---- Resize(size_mode="longest") ----
for size, mode, x_name, x in ((4, "area", "b", xb), (13, "trilinear", "b", xb),
                              (10, "nearest", "a", xa), (3, "area", "a", xa)):
    img = list(x.shape[1:])
    scale = size / max(img)
    sp = [int(round(s * scale)) for s in img]
    y = F.adaptive_avg_pool3d(x[None].double(), sp)[0] if mode == "area" else \
        F.interpolate(x[None].double(), size=sp, mode=mode)[0]
    case(f"resize longest {size} {mode} {x_name}", "Resize",
         {"spatialSize": size, "sizeMode": "longest", "mode": mode}, x_name, y)

# ---- Spacing's pixdim: Spacing.__call__'s padding with the last value ----
PIXDIM = []
for p in ([1.5], [1.5, 2.5], [0.8, 1.2, 3.0], [2.0, -1.0], [0.5, 1.0, 2.0, 4.0], 2.0):
    pix = np.array(p if isinstance(p, list) else [p], dtype=np.float64)
    out_d = pix[:3].copy()
    if out_d.size < 3:
        out_d = np.append(out_d, [out_d[-1]] * (3 - out_d.size))
    PIXDIM.append({"pixdim": p, "out": out_d.tolist()})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "inputs": INPUTS, "cases": CASES, "pixdim": PIXDIM}, f,
              separators=(",", ":"))
print(f"wrote {OUT}: {len(CASES)} cases, {os.path.getsize(OUT)} bytes")
