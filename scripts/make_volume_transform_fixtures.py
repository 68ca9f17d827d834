"""Writes tests/fixtures/volume_transforms.json: the reference numbers of the
volume transforms (src/data/transforms/volume/, tests/volume_transforms_test.ts).

- Resize: torch.nn.functional.interpolate on [1, C, D, H, W], as MONAI's
  Resize calls it (trilinear with align_corners False and True, nearest,
  nearest-exact, and area, which torch runs as adaptive_avg_pool3d).
- Flip, Rotate90: torch.flip and torch.rot90 on dims axis + 1.
- SpatialPad: torch.nn.functional.pad (constant) with MONAI's split of the
  extra voxels (symmetric: floor(extra / 2) before; end: all after).
- CenterSpatialCrop, ResizeWithPadOrCrop, CropForeground: tensor slicing at
  MONAI's boxes (centre start max(size // 2 - roi // 2, 0); foreground box
  of voxels > threshold in the chosen channels, grown by the margin, clipped
  or padded), then F.pad where they pad.
- ScaleIntensityRange, NormalizeIntensity: MONAI's formulas in numpy
  float32, scalars rounded to float32 as numpy does (the statistics in
  float64, rounded to float32).

Geometry inputs are integer-valued (exact and short in JSON); the others are
random floats with a few exact zeros. Options are written under this
library's names (camelCase).

Run with /usr/bin/python3 scripts/make_volume_transform_fixtures.py (PyTorch 1.13).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import ser

torch.manual_seed(20261206)
np.random.seed(20261206)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_transforms.json")

CASES = []


def case(name, op, opts, x, out):
    CASES.append({"name": name, "op": op, "opts": opts, "x": ser(x), "out": ser(out)})


def ints(*shape):
    return torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape)


def randf(*shape):
    return torch.randn(shape, dtype=torch.float32)


# ---- Resize: F.interpolate on x[None] ----
def resize(x, size, mode, align=None):
    kw = {} if align is None else {"align_corners": align}
    return F.interpolate(x[None], size=size, mode=mode, **kw)[0]


xr = randf(2, 4, 5, 6)
for size in ([6, 7, 9], [2, 3, 4], [3, 8, 5], [4, 5, 6]):
    case(f"resize trilinear {size}", "Resize", {"spatialSize": size, "mode": "trilinear"},
         xr, resize(xr, size, "trilinear", False))
case("resize trilinear alignCorners", "Resize",
     {"spatialSize": [7, 3, 9], "mode": "trilinear", "alignCorners": True},
     xr, resize(xr, [7, 3, 9], "trilinear", True))
for size in ([7, 3, 10], [2, 2, 4]):
    case(f"resize nearest {size}", "Resize", {"spatialSize": size, "mode": "nearest"},
         xr, resize(xr, size, "nearest"))
case("resize nearest-exact", "Resize", {"spatialSize": [3, 7, 4], "mode": "nearest-exact"},
     xr, resize(xr, [3, 7, 4], "nearest-exact"))
for size in ([2, 3, 4], [3, 7, 5]):
    case(f"resize area {size}", "Resize", {"spatialSize": size}, xr, resize(xr, size, "area"))
# MONAI's fall_back_tuple: entries <= 0 keep the volume's size; a number means all three.
case("resize keep -1", "Resize", {"spatialSize": [-1, 3, 0], "mode": "trilinear"},
     xr, resize(xr, [4, 3, 6], "trilinear", False))
case("resize number", "Resize", {"spatialSize": 3, "mode": "trilinear"},
     xr, resize(xr, [3, 3, 3], "trilinear", False))

# ---- Flip, Rotate90 ----
xg = ints(2, 3, 4, 5)
for axes in ([0], [1], [2], [0, 2], [-1], None):
    dims = [1, 2, 3] if axes is None else [(a % 3) + 1 for a in axes]
    case(f"flip {axes}", "Flip", {"spatialAxis": axes}, xg, torch.flip(xg, dims))
for k in (1, 2, 3, -1, 0, 5):
    for plane in ([0, 1], [1, 2], [0, 2], [2, 0]):
        if k not in (1, 3) and plane not in ([0, 1], [2, 0]):
            continue
        case(f"rot90 k={k} {plane}", "Rotate90", {"k": k, "spatialAxes": plane},
             xg, torch.rot90(xg, k, [plane[0] + 1, plane[1] + 1]))


# ---- pads and crops ----
def spatial_pad(x, size, method="symmetric", value=0.0):
    pads = []
    for s, t in zip(x.shape[1:], size):
        t = s if t <= 0 else t
        w = max(t - s, 0)
        pads.append((w // 2, w - w // 2) if method == "symmetric" else (0, w))
    flat = [v for p in reversed(pads) for v in p]  # F.pad: last dimension first
    return F.pad(x, flat, mode="constant", value=value)


def center_crop(x, roi):
    sl = [slice(None)]
    for s, r in zip(x.shape[1:], roi):
        r = s if r <= 0 else r
        start = max(s // 2 - r // 2, 0)
        sl.append(slice(start, min(start + r, s)))
    return x[tuple(sl)]


xp = ints(1, 3, 4, 5)
case("pad symmetric", "SpatialPad", {"spatialSize": [6, 7, 5]}, xp, spatial_pad(xp, [6, 7, 5]))
case("pad end value", "SpatialPad", {"spatialSize": [4, 9, 2], "method": "end", "value": -1},
     xp, spatial_pad(xp, [4, 9, 2], "end", -1.0))
case("pad keep", "SpatialPad", {"spatialSize": [-1, 6, 0]}, xp, spatial_pad(xp, [-1, 6, 0]))
case("pad number", "SpatialPad", {"spatialSize": 6}, xp, spatial_pad(xp, [6, 6, 6]))
xc = ints(2, 5, 6, 7)
for roi in ([3, 4, 5], [2, 3, 2], [4, 6, 1], [9, 3, 20], [-1, 2, 0]):
    case(f"center crop {roi}", "CenterSpatialCrop", {"roiSize": roi}, xc, center_crop(xc, roi))
for size in ([3, 8, 7], [6, 2, 9], [5, 6, 7]):
    case(f"pad or crop {size}", "ResizeWithPadOrCrop", {"spatialSize": size},
         xc, spatial_pad(center_crop(xc, size), size))
case("pad or crop end", "ResizeWithPadOrCrop", {"spatialSize": [7, 4, 8], "method": "end"},
     xc, spatial_pad(center_crop(xc, [7, 4, 8]), [7, 4, 8], "end"))


def crop_foreground(x, threshold=0.0, channels=None, margin=0, allow_smaller=True):
    sel = x if channels is None else x[channels]
    mask = (sel > threshold).any(0)
    margin = [margin] * 3 if isinstance(margin, int) else margin
    starts, ends = [], []
    for d in range(3):
        other = tuple(a for a in range(3) if a != d)
        idx = torch.nonzero(mask.float().amax(dim=other) > 0).flatten()
        lo, hi = int(idx[0]) - margin[d], int(idx[-1]) + margin[d] + 1
        if allow_smaller:
            lo, hi = max(lo, 0), min(hi, x.shape[d + 1])
        starts.append(lo)
        ends.append(hi)
    # Crop to the part inside, then pad what lies outside (MONAI's crop_pad).
    sl = [slice(None)] + [slice(max(s, 0), min(e, n)) for s, e, n in zip(starts, ends, x.shape[1:])]
    out = x[tuple(sl)]
    pads = []
    for s, e, n in zip(starts, ends, x.shape[1:]):
        pads.append((max(-s, 0), max(e - n, 0)))
    return F.pad(out, [v for p in reversed(pads) for v in p])


xf = torch.zeros(2, 6, 7, 8)
xf[0, 2:4, 1:3, 3:6] = torch.rand(2, 2, 3) + 0.5
xf[1, 1, 5, 1] = 2.0
xf[1, 4, 2, 7] = 0.3
case("foreground", "CropForeground", {}, xf, crop_foreground(xf))
case("foreground channel 0 margin", "CropForeground", {"channelIndices": 0, "margin": 1},
     xf, crop_foreground(xf, channels=[0], margin=1))
case("foreground threshold", "CropForeground", {"threshold": 0.4, "margin": [0, 1, 2]},
     xf, crop_foreground(xf, threshold=0.4, margin=[0, 1, 2]))
case("foreground not smaller", "CropForeground",
     {"channelIndices": [1], "margin": 2, "allowSmaller": False},
     xf, crop_foreground(xf, channels=[1], margin=2, allow_smaller=False))

# ---- intensity: MONAI's formulas in numpy float32 ----
f32 = np.float32
hu = (np.random.randn(2, 3, 4, 5) * 400).astype(f32)
hu[0, 0, 0, :3] = [-175, 250, 37.5]


def scale_range(x, a_min, a_max, b_min, b_max, clip):
    y = (x - f32(a_min)) / f32(a_max - a_min)
    y = y * f32(b_max - b_min) + f32(b_min)
    return np.clip(y, f32(b_min), f32(b_max)) if clip else y


for o in ({"aMin": -175, "aMax": 250, "bMin": 0, "bMax": 1, "clip": True},
          {"aMin": -1000, "aMax": 1000, "bMin": -1, "bMax": 1},
          {"aMin": -57.3, "aMax": 164.9},
          {"aMin": 300, "aMax": -100, "bMin": 0.2, "bMax": 0.9, "clip": True}):
    out = scale_range(hu, o["aMin"], o["aMax"], o.get("bMin", 0), o.get("bMax", 1),
                      o.get("clip", False))
    case(f"scale range {o}", "ScaleIntensityRange", o, torch.from_numpy(hu),
         torch.from_numpy(out.astype(f32)))


def normalize(x, sub=None, div=None, nonzero=False, channel_wise=False):
    x = x.copy()
    parts = [x[c] for c in range(x.shape[0])] if channel_wise else [x]
    for k, part in enumerate(parts):
        s = sub[k] if isinstance(sub, list) else sub
        d = div[k] if isinstance(div, list) else div
        mask = part != 0 if nonzero else np.ones(part.shape, bool)
        vals = part[mask].astype(np.float64)
        if vals.size == 0:
            continue
        m = f32(vals.mean() if s is None else s)
        sd = f32(vals.std() if d is None else d)
        if sd == 0:
            sd = f32(1)
        part[mask] = (part[mask] - m) / sd
    return x


xn = np.random.randn(2, 3, 4, 5).astype(f32) * f32(3) + f32(1)
xn[0, 1] = 0
xn[1, :, 2] = 0
xn_const = np.full((1, 2, 2, 3), 5, f32)
for o, kw, x in (({}, {}, xn),
                 ({"nonzero": True}, {"nonzero": True}, xn),
                 ({"channelWise": True}, {"channel_wise": True}, xn),
                 ({"nonzero": True, "channelWise": True}, {"nonzero": True, "channel_wise": True}, xn),
                 ({"subtrahend": 0.5, "divisor": 2}, {"sub": 0.5, "div": 2}, xn),
                 ({"subtrahend": 0.5}, {"sub": 0.5}, xn),
                 ({"subtrahend": [1, -2], "divisor": [0, 4], "channelWise": True},
                  {"sub": [1, -2], "div": [0, 4], "channel_wise": True}, xn),
                 ({}, {}, xn_const)):
    case(f"normalize {o} {list(x.shape)}", "NormalizeIntensity", o, torch.from_numpy(x),
         torch.from_numpy(normalize(x, **kw)))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
print(f"{len(CASES)} cases -> {OUT} ({os.path.getsize(OUT)} bytes)")
