"""Writes tests/fixtures/volume_spatial_more.json: the reference numbers of the
resampling volume transforms (src/data/transforms/volume/rotate.ts, zoom.ts,
affine.ts, sample3d.ts; tests/volume_spatial_more_test.ts).

MONAI cannot be installed here, so its algorithms (MONAI 1.3) are written out
in torch, in float64 (MONAI resamples in float32 or float64 by transform; the
float64 numbers are the exact reference), outputs rounded to float32:

- sample: F.affine_grid(theta) + F.grid_sample on 5-D inputs, random theta,
  every mode ("bilinear", "nearest"), padding ("zeros", "border",
  "reflection") and align_corners, outputs with one-voxel axes too.
- Rotate: monai.transforms.spatial.functional.rotate: create_rotate, the
  output size from the rotated corners (keep_size False), the voxel map
  translate((in - 1) / 2) @ R @ translate(-(out - 1) / 2), and
  AffineTransform(normalized=False, reverse_indexing=True): to_norm_affine
  with normalize_transform, then affine_grid + grid_sample.
- Zoom: monai.transforms.spatial.functional.zoom: F.interpolate with
  scale_factor and recompute_scale_factor=True, then (keep_size)
  ResizeWithPadOrCrop back to the input size: CenterSpatialCrop (start
  size // 2 - roi // 2), SpatialPad (floor(extra / 2) before) through F.pad
  (constant, replicate, reflect, circular) or numpy.pad (symmetric).
- Affine: AffineGrid (create_rotate @ create_shear @ create_translate @
  create_scale applied to create_grid, the centred voxel grid of the output)
  and Resample (grid reversed to (x, y, z), times 2 / max(2, n), grid_sample
  with align_corners False).

Options are written under this library's names (camelCase). Inputs are
stored once under "inputs" and named by the cases.

Run with /usr/bin/python3 scripts/make_volume_spatial_more_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import ser

torch.manual_seed(20260312)
np.random.seed(20260312)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_spatial_more.json")

INPUTS = {}
CASES = []


def add_input(name, x):
    INPUTS[name] = ser(x)
    return x


def case(name, op, opts, x_name, out):
    CASES.append({"name": name, "op": op, "opts": opts, "x": x_name, "out": ser(out.float())})


# ---- MONAI's matrices (monai/transforms/utils.py), numpy float64 ----
def create_rotate(radians):
    radians = list(radians)
    affine = np.eye(4)
    if len(radians) >= 1:
        s, c = np.sin(radians[0]), np.cos(radians[0])
        affine[1, 1], affine[1, 2], affine[2, 1], affine[2, 2] = c, -s, s, c
    if len(radians) >= 2:
        s, c = np.sin(radians[1]), np.cos(radians[1])
        m = np.eye(4)
        m[0, 0], m[0, 2], m[2, 0], m[2, 2] = c, s, -s, c
        affine = affine @ m
    if len(radians) >= 3:
        s, c = np.sin(radians[2]), np.cos(radians[2])
        m = np.eye(4)
        m[0, 0], m[0, 1], m[1, 0], m[1, 1] = c, -s, s, c
        affine = affine @ m
    return affine


def create_shear(coefs):
    c = (list(coefs) + [0.0] * 6)[:6]
    out = np.eye(4)
    out[0, 1], out[0, 2] = c[0], c[1]
    out[1, 0], out[1, 2] = c[2], c[3]
    out[2, 0], out[2, 1] = c[4], c[5]
    return out


def create_scale(f):
    f = (list(f) + [1.0] * 3)[:3]
    return np.diag(f + [1.0])


def create_translate(shift):
    out = np.eye(4)
    for i, a in enumerate(list(shift)[:3]):
        out[i, 3] = a
    return out


def normalize_transform(shape, align_corners):
    shape = np.asarray(shape, dtype=np.float64)
    norm = shape.copy()
    if align_corners:
        norm[norm <= 1.0] = 2.0
        norm = 2.0 / (norm - 1.0)
        out = np.diag(list(norm) + [1.0])
        out[:-1, -1] = -1.0
    else:
        norm[norm <= 0.0] = 2.0
        norm = 2.0 / norm
        out = np.diag(list(norm) + [1.0])
        out[:-1, -1] = 1.0 / shape - 1.0
    return out


def affine_transform(x, xform, out_size, mode, padding, align):
    """MONAI's AffineTransform(normalized=False, reverse_indexing=True) on x [C, D, H, W]."""
    src = list(x.shape[1:])
    theta = normalize_transform(src, align) @ xform @ np.linalg.inv(normalize_transform(out_size, align))
    theta = torch.from_numpy(theta)
    rev = [2, 1, 0]
    theta[:3] = theta[rev].clone()
    theta[:, :3] = theta[:, rev].clone()
    grid = F.affine_grid(theta[None, :3], [1, x.shape[0], *out_size], align_corners=align)
    return F.grid_sample(x[None].double(), grid, mode=mode, padding_mode=padding,
                         align_corners=align)[0]


def rotate(x, angle, keep_size=True, mode="bilinear", padding="border", align=False):
    im = np.asarray(x.shape[1:])
    angle = [angle] * 3 if isinstance(angle, (int, float)) else angle
    r = create_rotate(angle)
    if keep_size:
        out = im
    else:
        corners = np.asarray(np.meshgrid(*[(0, d) for d in im], indexing="ij")).reshape((3, -1))
        corners = r[:-1, :-1] @ corners
        out = np.asarray(np.ptp(corners, axis=1) + 0.5, dtype=int)
    shift = create_translate(((im - 1) / 2).tolist())
    shift_1 = create_translate((-(out - 1) / 2).tolist())
    return affine_transform(x, shift @ r @ shift_1, [int(i) for i in out], mode, padding, align)


def pad_or_crop(x, size, mode):
    """MONAI's ResizeWithPadOrCrop(size, mode): centred crop, then symmetric pad."""
    sl = [slice(None)]
    for s, r in zip(x.shape[1:], size):
        start = max(s // 2 - r // 2, 0)
        sl.append(slice(start, min(start + r, s)))
    x = x[tuple(sl)]
    pads = []
    for s, t in zip(x.shape[1:], size):
        w = max(t - s, 0)
        pads.append((w // 2, w - w // 2))
    if all(p == (0, 0) for p in pads):
        return x
    if mode == "symmetric":
        return torch.from_numpy(np.pad(x.numpy(), [(0, 0)] + pads, mode="symmetric"))
    torch_mode = {"constant": "constant", "edge": "replicate", "replicate": "replicate",
                  "reflect": "reflect", "wrap": "circular", "circular": "circular"}[mode]
    flat = [v for p in reversed(pads) for v in p]
    return F.pad(x[None], flat, mode=torch_mode)[0]


def zoom(x, z, mode="area", padding="edge", align=None, keep_size=True):
    z = [z] * 3 if isinstance(z, (int, float)) else z
    kw = {} if align is None else {"align_corners": align}
    y = F.interpolate(x[None].double(), scale_factor=z, recompute_scale_factor=True, mode=mode,
                      **kw)[0]
    if keep_size and list(y.shape[1:]) != list(x.shape[1:]):
        y = pad_or_crop(y, list(x.shape[1:]), padding)
    return y


def affine(x, rotate_p=None, shear=None, translate=None, scale=None, spatial_size=None,
           mode="bilinear", padding="reflection"):
    a = np.eye(4)
    as_list = lambda v: [v] if isinstance(v, (int, float)) else v  # MONAI's ensure_tuple
    if rotate_p:
        a = a @ create_rotate(as_list(rotate_p))
    if shear:
        a = a @ create_shear(as_list(shear))
    if translate:
        a = a @ create_translate(as_list(translate))
    if scale:
        a = a @ create_scale(as_list(scale))
    return resample_centred(x, a, spatial_size, mode, padding)


def resample_centred(x, a, spatial_size, mode, padding):
    size = list(x.shape[1:]) if spatial_size is None else [
        s if s > 0 else d for s, d in zip(spatial_size, x.shape[1:])]
    ranges = [torch.linspace(-(d - 1.0) / 2.0, (d - 1.0) / 2.0, int(d), dtype=torch.float64)
              for d in size]
    coords = torch.meshgrid(*ranges, indexing="ij")
    grid = torch.stack([*coords, torch.ones_like(coords[0])])
    grid = (torch.from_numpy(a) @ grid.reshape(4, -1)).reshape(4, *size)
    g = grid[[2, 1, 0]].permute(1, 2, 3, 0)[None].clone()
    for i, dim in enumerate(list(x.shape[1:])[::-1]):
        g[0, ..., i] *= 2.0 / max(2, dim)
    return F.grid_sample(x[None].double(), g, mode=mode, padding_mode=padding,
                         align_corners=False)[0]


def main():
    """Writes the fixture (not on import: make_volume_monai_aliases_fixtures.py imports the helpers)."""
    # ---- inputs ----
    xa = add_input("a", torch.randn(2, 3, 4, 5))
    xb = add_input("b", torch.randn(1, 5, 7, 6))
    xc = add_input("c", torch.randn(1, 3, 8, 9))
    xd = add_input("d", torch.randn(1, 1, 6, 5))  # a one-voxel axis

    # ---- the sampler: affine_grid + grid_sample ----
    # Every mode x padding x align_corners, cycling through input / output shapes.
    SHAPES = [("a", [3, 6, 5]), ("b", [1, 4, 7]), ("d", [2, 5, 4]), ("c", [3, 8, 1]), ("a", [4, 4, 6])]
    k = 0
    for mode in ("bilinear", "nearest"):
        for padding in ("zeros", "border", "reflection"):
            for align in (False, True):
                for rep in range(2):
                    x_name, size = SHAPES[k % len(SHAPES)]
                    k += 1
                    x = {"a": xa, "b": xb, "c": xc, "d": xd}[x_name]
                    theta = torch.eye(3, 4, dtype=torch.float64) + 0.35 * torch.randn(
                        3, 4, dtype=torch.float64)
                    grid = F.affine_grid(theta[None], [1, x.shape[0], *size], align_corners=align)
                    out = F.grid_sample(x[None].double(), grid, mode=mode, padding_mode=padding,
                                        align_corners=align)[0]
                    case(f"sample {x_name} {size} {mode} {padding} align={align} #{rep}", "sample",
                         {"size": size, "theta": theta.tolist(), "mode": mode, "padding": padding,
                          "alignCorners": align}, x_name, out)

    # ---- Rotate ----
    COMBOS = [("bilinear", "border", False), ("bilinear", "zeros", False),
              ("nearest", "reflection", False), ("bilinear", "reflection", True),
              ("nearest", "zeros", True), ("nearest", "border", False)]
    k = 0
    for angle in (0.3, [0.2, -0.45, 0.7], [0.0, 0.0, 1.1], [-0.9, 0.0, 0.0], [0.0, 0.0, 0.0]):
        for keep in (True, False):
            if angle == [0.0, 0.0, 0.0] and not keep:
                continue
            for rep in range(2):
                mode, padding, align = COMBOS[k % len(COMBOS)]
                x_name, x = (("a", xa), ("b", xb))[k % 2]
                k += 1
                opts = {"angle": angle, "keepSize": keep, "mode": mode, "paddingMode": padding,
                        "alignCorners": align}
                case(f"rotate {x_name} {angle} keep={keep} {mode} {padding} align={align}",
                     "Rotate", opts, x_name, rotate(x, angle, keep, mode, padding, align))
    # Defaults (bilinear, border, keepSize, align_corners False); a one-voxel axis.
    case("rotate defaults", "Rotate", {"angle": [0.5, 0.1, -0.2]}, "c", rotate(xc, [0.5, 0.1, -0.2]))
    case("rotate flat keep=False", "Rotate", {"angle": [0.4, 0, 0], "keepSize": False}, "d",
         rotate(xd, [0.4, 0, 0], False))
    case("rotate flat align", "Rotate",
         {"angle": [0.4, 0.2, 0], "keepSize": False, "alignCorners": True, "paddingMode": "reflection"},
         "d", rotate(xd, [0.4, 0.2, 0], False, "bilinear", "reflection", True))

    # ---- Zoom ----
    k = 0
    for z in (1.3, 0.7, [1.2, 0.8, 1.0], [0.6, 1.45, 0.9]):
        for mode in ("area", "trilinear", "nearest", "nearest-exact"):
            keep = k % 3 != 2
            x_name, x = (("a", xa), ("b", xb))[k % 2]
            k += 1
            opts = {"zoom": z, "mode": mode, "keepSize": keep}
            case(f"zoom {x_name} {z} {mode} keep={keep}", "Zoom", opts, x_name,
                 zoom(x, z, mode, keep_size=keep))
    for padding in ("constant", "edge", "reflect", "symmetric", "wrap", "replicate", "circular"):
        for z in (0.7, [0.75, 1.2, 0.7]):
            case(f"zoom pad {padding} {z}", "Zoom",
                 {"zoom": z, "mode": "trilinear", "paddingMode": padding}, "b",
                 zoom(xb, z, "trilinear", padding))
    case("zoom trilinear alignCorners", "Zoom",
         {"zoom": [0.8, 1.3, 0.6], "mode": "trilinear", "alignCorners": True}, "b",
         zoom(xb, [0.8, 1.3, 0.6], "trilinear", "edge", True))
    case("zoom defaults", "Zoom", {"zoom": 0.8}, "c", zoom(xc, 0.8))

    # ---- Affine ----
    AFFINE = [
        ({"rotateParams": [0.3, -0.2, 0.5]}, {"rotate_p": [0.3, -0.2, 0.5]}),
        ({"rotateParams": 0.4}, {"rotate_p": 0.4}),
        ({"shearParams": [0.1, -0.2, 0.05, 0.15, -0.1, 0.2]},
         {"shear": [0.1, -0.2, 0.05, 0.15, -0.1, 0.2]}),
        ({"shearParams": 0.3}, {"shear": 0.3}),
        ({"translateParams": [1.3, -0.7, 2.2]}, {"translate": [1.3, -0.7, 2.2]}),
        ({"translateParams": 1.3}, {"translate": 1.3}),
        ({"scaleParams": [1.17, 0.83, 1.31]}, {"scale": [1.17, 0.83, 1.31]}),
        ({"scaleParams": 1.4}, {"scale": 1.4}),
        ({"rotateParams": [0.25, 0.1, -0.3], "shearParams": [0.05, 0, 0.1], "translateParams": [0.6, -1.1, 0.4],
          "scaleParams": [0.9, 1.1, 1.23]},
         {"rotate_p": [0.25, 0.1, -0.3], "shear": [0.05, 0, 0.1], "translate": [0.6, -1.1, 0.4],
          "scale": [0.9, 1.1, 1.23]}),
        ({}, {}),
    ]
    for opts, kw in AFFINE:
        for mode, padding in (("bilinear", "reflection"), ("nearest", "zeros"), ("bilinear", "border")):
            if len(opts) == 1 and mode == "bilinear" and padding == "border":
                continue
            o = dict(opts, mode=mode, paddingMode=padding)
            case(f"affine {opts} {mode} {padding}", "Affine", o, "a",
                 affine(xa, **kw, mode=mode, padding=padding))
    for size in ([3, 7, 4], [6, -1, 0], 5):
        full = [size] * 3 if isinstance(size, int) else size
        o = {"rotateParams": [0.2, 0, 0.1], "scaleParams": [1.1, 0.95, 1.05], "spatialSize": size}
        case(f"affine spatialSize {size}", "Affine", o, "b",
             affine(xb, rotate_p=[0.2, 0, 0.1], scale=[1.1, 0.95, 1.05], spatial_size=full))
    case("affine flat", "Affine", {"rotateParams": [0.3, 0, 0], "translateParams": [0.4, 0.5, -0.2]},
         "d", affine(xd, rotate_p=[0.3, 0, 0], translate=[0.4, 0.5, -0.2]))
    # On an axis of one voxel MONAI normalizes by 2 / max(2, n): with zeros padding that shows.
    case("affine flat zeros", "Affine",
         {"translateParams": [0.4, 0.5, -0.2], "paddingMode": "zeros"}, "d",
         affine(xd, translate=[0.4, 0.5, -0.2], padding="zeros"))
    mat = create_rotate([0.1, 0.2, 0.3]) @ create_scale([1.1, 0.9, 1.0])
    mat[:3, 3] = [0.5, -0.25, 1.0]
    case("affine matrix", "Affine", {"affine": mat.tolist(), "paddingMode": "border"}, "a",
         resample_centred(xa, mat, None, "bilinear", "border"))
    # RandAffine that does not apply, with a spatialSize: the identity grid at that size.
    for size, mode in (([3, 7, 4], "bilinear"), ([5, 6, 7], "nearest")):
        case(f"identity resample {size} {mode}", "RandAffineIdentity",
             {"p": 0, "spatialSize": size, "mode": mode}, "a",
             resample_centred(xa, np.eye(4), size, mode, "reflection"))

    with open(OUT, "w") as f:
        json.dump({"torch": torch.__version__, "inputs": INPUTS, "cases": CASES}, f,
                  separators=(",", ":"))
    print(f"{len(CASES)} cases -> {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
