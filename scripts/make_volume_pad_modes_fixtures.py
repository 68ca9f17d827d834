"""Writes tests/fixtures/volume_pad_modes.json: the reference numbers of the
volume pads' modes (src/data/transforms/volume/pad_modes.ts, croppad.ts;
tests/volume_pad_modes_test.ts).

MONAI cannot be installed here, so MONAI 1.3's code path is written out
below on float32 torch tensors, as MONAI runs it:

- `pad_nd` (monai/transforms/croppad/functional.py): numpy.pad for
  "linear_ramp", "maximum", "mean", "median", "minimum", "symmetric" and
  "empty"; otherwise `convert_pad_mode` (a tensor: "edge" -> "replicate",
  "wrap" -> "circular") and torch's F.pad, falling back to numpy.pad (where
  "circular" -> "wrap", "replicate" -> "edge") when torch's error says
  "supported", "unexpected keyword", "implemented" or "value" (torch's
  circular pad wider than the axis: "Padding value causes wrapping around
  more than once"), else a ValueError (torch's reflect pad as wide as the
  axis). `value` with a mode other than "constant" is a ValueError.
- `SpatialPad.compute_pad_width` (symmetric: width // 2 before; end),
  `CenterSpatialCrop` (start size // 2 - roi // 2), `ResizeWithPadOrCrop`
  (the crop, then the pad), `CropForeground.crop_pad` (the box inside the
  volume, then the pad past it, allow_smaller False).

"empty" is left out of the numbers (numpy leaves it uninitialized). Options
are written under this library's names (camelCase); `raises` cases are the
ones MONAI refuses, with its message.

Run with /usr/bin/python3 scripts/make_volume_pad_modes_fixtures.py (PyTorch 1.13).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import ser

torch.manual_seed(20260502)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_pad_modes.json")

INPUTS = {}
CASES = []
RAISES = []

TORCH_MODES = ("constant", "reflect", "replicate", "circular")
NUMPY_MODES = ("constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum", "reflect",
               "symmetric", "wrap", "empty")
MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "replicate", "circular",
         "linear_ramp", "maximum", "mean", "median", "minimum")


def convert_pad_mode(is_tensor, mode):
    if is_tensor:
        mode = {"wrap": "circular", "edge": "replicate"}.get(mode, mode)
        if mode not in TORCH_MODES:
            raise ValueError(f"Unsupported option '{mode}'")
        return mode
    mode = {"circular": "wrap", "replicate": "edge"}.get(mode, mode)
    if mode not in NUMPY_MODES:
        raise ValueError(f"Unsupported option '{mode}'")
    return mode


def np_pad(img, to_pad, mode, **kwargs):
    mode = convert_pad_mode(False, mode)
    if mode == "constant" and "value" in kwargs:
        kwargs["constant_values"] = kwargs.pop("value")
    return torch.from_numpy(np.pad(img.numpy(), to_pad, mode=mode, **kwargs))


def pt_pad(img, to_pad, mode, **kwargs):
    mode = convert_pad_mode(True, mode)
    flat = [v for sub in to_pad[1:] for v in sub[::-1]][::-1]
    return F.pad(img[None], flat, mode=mode, **kwargs)[0]


def pad_nd(img, to_pad, mode="constant", **kwargs):
    """MONAI 1.3's pad_nd on a float32 tensor."""
    if mode != "constant" and "value" in kwargs:
        raise ValueError("'value' argument is only valid when mode='constant'")
    if mode in {"linear_ramp", "maximum", "mean", "median", "minimum", "symmetric", "empty"}:
        return np_pad(img, to_pad, mode, **kwargs)
    mode = convert_pad_mode(True, mode)
    try:
        return pt_pad(img, to_pad, mode, **kwargs)
    except (ValueError, TypeError, RuntimeError) as err:
        if any(k in str(err) for k in ("supported", "unexpected keyword", "implemented", "value")):
            return np_pad(img, to_pad, mode, **kwargs)
        raise ValueError(f"{img.shape} {to_pad} {mode} {kwargs}") from err


def spatial_pad(x, size, method="symmetric", mode="constant", **kw):
    widths = [(0, 0)]
    for s, t in zip(x.shape[1:], size):
        t = s if t <= 0 else t
        w = max(t - s, 0)
        widths.append((w // 2, w - w // 2) if method == "symmetric" else (0, w))
    if not np.asarray(widths).any():
        return x
    return pad_nd(x, widths, mode, **kw)


def center_crop(x, roi):
    sl = [slice(None)]
    for s, r in zip(x.shape[1:], roi):
        r = s if r <= 0 else r
        start = max(s // 2 - r // 2, 0)
        sl.append(slice(start, min(start + r, s)))
    return x[tuple(sl)]


def resize_with_pad_or_crop(x, size, method="symmetric", mode="constant", **kw):
    return spatial_pad(center_crop(x, size), size, method, mode, **kw)


def crop_foreground(x, margin, mode="constant", **kw):
    """CropForeground(select_fn=x > 0, margin, allow_smaller=False)."""
    fg = (x > 0).any(0).numpy()
    start, end = [], []
    for a in range(3):
        other = tuple(i for i in range(3) if i != a)
        idx = np.where(fg.any(other))[0]
        start.append(int(idx[0]) - margin)
        end.append(int(idx[-1]) + margin + 1)
    shape = x.shape[1:]
    sl = (slice(None),) + tuple(slice(max(s, 0), min(e, n)) for s, e, n in zip(start, end, shape))
    cropped = x[sl]
    widths = [(0, 0)] + [(max(-s, 0), max(e - n, 0)) for s, e, n in zip(start, end, shape)]
    if not np.asarray(widths).any():
        return cropped
    return pad_nd(cropped, widths, mode, **kw)


def add_input(name, x):
    INPUTS[name] = ser(x)
    return x


def case(name, op, opts, x_name, fn):
    try:
        out = fn()
    except ValueError as err:
        RAISES.append({"name": name, "op": op, "opts": opts, "x": x_name, "monai": str(err)})
        return
    CASES.append({"name": name, "op": op, "opts": opts, "x": x_name, "out": ser(out.float())})


xa = add_input("a", torch.randn(2, 3, 4, 5))
xb = add_input("b", torch.randn(1, 2, 3, 2))
fgc = torch.zeros(1, 5, 6, 7)
fgc[0, 1, 2, 3] = 2.0
fgc[0, 2, 3, 5] = 1.5
fgc[0, 1, 4, 4] = -1.0  # inside the box, not foreground
xc = add_input("c", fgc + 0.01 * torch.randn(1, 5, 6, 7).clamp(max=0))

for mode in MODES:
    # Symmetric and end pads, a kept axis (0), and wide pads on a small volume.
    for x_name, x, size, method in (("a", xa, [5, 6, 7], "symmetric"), ("a", xa, [4, 7, 0], "end"),
                                    ("b", xb, [7, 8, 6], "symmetric"),
                                    ("b", xb, [4, 7, 4], "symmetric"), ("b", xb, [3, 5, 3], "end")):
        opts = {"spatialSize": size, "method": method, "mode": mode}
        case(f"SpatialPad {x_name} {size} {method} {mode}", "SpatialPad", opts, x_name,
             lambda: spatial_pad(x, size, method, mode))
    for size, method in (([2, 6, 8], "symmetric"), ([1, 9, 3], "end"), ([-1, 5, 4], "symmetric")):
        opts = {"spatialSize": size, "method": method, "mode": mode}
        case(f"ResizeWithPadOrCrop a {size} {method} {mode}", "ResizeWithPadOrCrop", opts, "a",
             lambda: resize_with_pad_or_crop(xa, size, method, mode))
    for margin in (2, 3) if mode in ("reflect", "wrap", "median") else (2,):
        opts = {"margin": margin, "allowSmaller": False, "mode": mode}
        case(f"CropForeground c margin {margin} {mode}", "CropForeground", opts, "c",
             lambda: crop_foreground(xc, margin, mode))

# "constant" with a fill value; value with another mode is MONAI's ValueError.
for op, x_name, opts, fn in (
    ("SpatialPad", "a", {"spatialSize": [5, 6, 9], "value": 2.5},
     lambda: spatial_pad(xa, [5, 6, 9], value=2.5)),
    ("SpatialPad", "b", {"spatialSize": [3, 4, 5], "mode": "constant", "value": -1},
     lambda: spatial_pad(xb, [3, 4, 5], value=-1)),
    ("ResizeWithPadOrCrop", "a", {"spatialSize": [2, 6, 8], "value": 7},
     lambda: resize_with_pad_or_crop(xa, [2, 6, 8], value=7)),
    ("CropForeground", "c", {"margin": 2, "allowSmaller": False, "value": -3},
     lambda: crop_foreground(xc, 2, value=-3)),
    ("SpatialPad", "a", {"spatialSize": [5, 6, 9], "mode": "edge", "value": 1},
     lambda: spatial_pad(xa, [5, 6, 9], mode="edge", value=1)),
    ("ResizeWithPadOrCrop", "a", {"spatialSize": [5, 6, 9], "mode": "mean", "value": 0},
     lambda: resize_with_pad_or_crop(xa, [5, 6, 9], mode="mean", value=0)),
):
    case(f"{op} {x_name} value {opts}", op, opts, x_name, fn)

# Bit for bit (tests compare these exactly): numpy's float32 statistics with NaN and the
# infinities in a line, the mean's pairwise (innermost axis) and row by row sums, linspace's
# k * (edge / width) and, where an edge is 0, (k / width) * edge; a NaN or infinite fill value.
EXACT = []


def exact(name, op, opts, x_name, fn):
    EXACT.append({"name": name, "op": op, "opts": opts, "x": x_name, "out": ser(fn().float())})


xd = torch.randn(1, 9, 1, 12) * 300 + 1000
xd[0, 0, 0, 0] = 0.0  # a zero edge: numpy's linspace takes (k / width) * edge on that side
xd = add_input("d", xd)
xe = add_input("e", torch.randn(1, 1, 130, 1) * 300 + 1000)  # over 128: halved
xf = torch.randn(1, 3, 4, 5)
xf[0, 1, 2, 3] = float("nan")
xf[0, 2, 1, 0] = float("inf")
xf[0, 0, 3, 4] = float("-inf")
xf = add_input("f", xf)
for mode in ("mean", "median", "maximum", "minimum", "linear_ramp"):
    for x_name, x, size in (("d", xd, [14, 1, 12]), ("d", xd, [9, 1, 19]), ("e", xe, [1, 133, 1]),
                            ("f", xf, [5, 6, 7])):
        if x_name != "f" and mode not in ("mean", "linear_ramp"):
            continue
        opts = {"spatialSize": size, "mode": mode}
        exact(f"SpatialPad {x_name} {size} {mode}", "SpatialPad", opts, x_name,
              lambda: spatial_pad(x, size, mode=mode))
for v in ("nan", "inf", "-inf"):
    exact(f"SpatialPad f value {v}", "SpatialPad", {"spatialSize": [4, 5, 6], "value": v}, "f",
          lambda: spatial_pad(xf, [4, 5, 6], value=float(v)))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "numpy": np.__version__, "inputs": INPUTS,
               "cases": CASES, "raises": RAISES, "exact": EXACT}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(CASES)} cases, {len(RAISES)} refused, {os.path.getsize(OUT)} bytes")
