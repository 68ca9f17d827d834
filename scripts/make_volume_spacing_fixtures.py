"""Fixtures for tests/volume_spacing_test.ts: MONAI 1.3's
Spacing(pixdim, mode, padding_mode) after Orientation(axcodes), on small
NIfTI-1 files, computed with torch 1.13's own F.affine_grid + F.grid_sample.

MONAI cannot be installed here, so its code path is transcribed below
(monai/transforms/spatial/array.py Spacing.__call__,
monai/transforms/spatial/functional.py spatial_resample,
monai/data/utils.py zoom_affine / compute_shape_offset / affine_to_spacing,
monai/networks/utils.py normalize_transform / to_norm_affine,
monai/networks/layers/spatial_transforms.py AffineTransform.forward), with
its defaults: diagonal=False, align_corners=False, scale_extent=False,
dtype float64 (output float32), min_pixdim = max_pixdim = None.

Each file is written here byte for byte as the test writes it (encode()
mirrors encodeNifti in the test), read back with nibabel (its affine is
MONAI's LoadImage affine) and reoriented as MONAI's Orientation does
(nibabel's ornt_transform + as_reoriented). The test needs no Python.

    /usr/bin/python3 scripts/make_volume_spacing_fixtures.py
    /usr/bin/python3 scripts/make_volume_spacing_fixtures.py --time   # the torch timing
"""
import json
import math
import os
import struct
import sys
import tempfile
import time

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from nibabel import orientations as nio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The rotations and sforms of the orientation fixtures (its generator runs as __main__ only).
from make_volume_orientation_fixtures import rot, sform_of  # noqa: E402,F401

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_spacing.json")
AFFINE_TOL = 1e-3


# ---- MONAI 1.3, transcribed -------------------------------------------------------

def affine_to_spacing(affine, r=3):
    sp = np.sqrt(np.sum(affine[:r, :r] * affine[:r, :r], axis=0))
    sp[sp == 0] = 1.0
    return sp


def zoom_affine(affine, scale, diagonal=False):
    affine = np.array(affine, dtype=float, copy=True)
    scale_np = np.array(scale, dtype=float, copy=True)
    d = len(affine) - 1
    norm = affine_to_spacing(affine, r=d)
    scale_np = np.asarray([s if (s and s > 0) else n for s, n in zip(scale_np[:d], norm)])  # fall_back_tuple
    scale_np[scale_np == 0] = 1.0
    assert not diagonal
    rzs = affine[:-1, :-1]
    zs = np.linalg.cholesky(rzs.T @ rzs).T
    rotation = rzs @ np.linalg.inv(zs)
    s = np.sign(np.diag(zs)) * np.abs(scale_np)
    new_affine = np.eye(len(affine))
    new_affine[:-1, :-1] = rotation @ np.diag(s)
    return new_affine


def compute_shape_offset(spatial_shape, in_affine, out_affine):
    shape = np.array(spatial_shape, copy=True, dtype=float)
    in_coords = [(0.0, dim - 1.0) for dim in shape]
    corners = np.asarray(np.meshgrid(*in_coords, indexing="ij")).reshape((len(shape), -1))
    corners = np.concatenate((corners, np.ones_like(corners[:1])))
    corners_out = np.linalg.solve(out_affine, in_affine) @ corners
    corners = in_affine @ corners
    all_dist = corners_out[:-1].copy()
    corners_out = corners_out[:-1] / corners_out[-1]
    out_shape = np.round(np.ptp(corners_out, axis=1) + 1.0)
    offset = None
    for i in range(corners.shape[1]):
        min_corner = np.min(all_dist - all_dist[:, i:i + 1], 1)
        if np.allclose(min_corner, 0.0, rtol=AFFINE_TOL):
            offset = corners[:-1, i]
            break
    if offset is None:
        offset = in_affine[:-1, :-1] @ (shape / 2.0) + in_affine[:-1, -1] - out_affine[:-1, :-1] @ (out_shape / 2.0)
    return out_shape.astype(int), offset


def normalize_transform(shape):  # align_corners=False, zero_centered=False
    shape = torch.tensor(shape, dtype=torch.float64)
    norm = shape.clone()
    norm[norm <= 0.0] = 2.0
    norm = 2.0 / norm
    norm = torch.diag(torch.cat((norm, torch.ones((1,), dtype=torch.float64))))
    norm[:-1, -1] = 1.0 / shape - 1.0
    return norm.unsqueeze(0)


def to_norm_affine(affine, src_size, dst_size):
    src_xform = normalize_transform(src_size)
    dst_xform = normalize_transform(dst_size)
    return src_xform @ affine @ torch.as_tensor(np.linalg.inv(dst_xform.numpy()))


def spacing(img, affine, pixdim, mode, padding_mode, dtype=torch.float64):
    """MONAI's Spacing(pixdim, mode=mode, padding_mode=padding_mode)(img) for img [D, H, W]
    (float32) with its affine; returns (out float32 [D', H', W'], new pixdim, resampled?)."""
    sr = 3
    pix = np.array(pixdim if isinstance(pixdim, (list, tuple)) else (pixdim,), dtype=np.float64)
    out_d = pix[:sr].copy()
    if out_d.size < sr:
        out_d = np.append(out_d, [out_d[-1]] * (sr - out_d.size))
    orig_d = affine_to_spacing(affine, sr)
    for idx, _d in enumerate(orig_d):
        target = out_d[idx]
        mn, mx = target, target  # min_pixdim / max_pixdim None
        out_d[idx] = _d if (mn - AFFINE_TOL) <= _d <= (mx + AFFINE_TOL) else target
    new_affine = zoom_affine(affine, out_d, diagonal=False)
    output_shape, offset = compute_shape_offset(img.shape, affine, new_affine)
    new_affine[:sr, -1] = offset[:sr]
    # spatial_resample
    src = torch.as_tensor(affine, dtype=torch.float64)
    dst = torch.as_tensor(new_affine, dtype=torch.float64)
    xform = torch.linalg.solve(src, dst)
    in_size = torch.tensor(img.shape)
    size = torch.tensor(output_shape)
    same = torch.equal(in_size, size)
    unchanged = (torch.allclose(src, dst, atol=AFFINE_TOL) and same) or (
        torch.allclose(xform, torch.eye(4, dtype=torch.float64), atol=AFFINE_TOL) and same)
    new_pixdim = affine_to_spacing(new_affine).tolist()
    if unchanged:
        return img.astype(np.float32), new_pixdim, False, xform
    x = torch.as_tensor(img, dtype=dtype)[None, None]
    theta = to_norm_affine(xform[None], list(img.shape), output_shape.tolist()).to(dtype)
    rev = torch.as_tensor([2, 1, 0])
    theta[:, :sr] = theta[:, rev]
    theta[:, :, :sr] = theta[:, :, rev]
    grid = F.affine_grid(theta[:, :sr], [1, 1, *output_shape.tolist()], align_corners=False)
    y = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=False)
    return y[0, 0].to(torch.float32).numpy(), new_pixdim, True, xform


# ---- files ------------------------------------------------------------------------

def encode(dims, values, sform, pixdim):
    """A little-endian float32 NIfTI-1 file: 352-byte header, then i-fastest voxels."""
    head = bytearray(352)
    struct.pack_into("<i", head, 0, 348)
    struct.pack_into("<8h", head, 40, 3, *dims, 1, 1, 1, 1)
    struct.pack_into("<hh", head, 70, 16, 32)
    struct.pack_into("<8f", head, 76, 1, *pixdim, 1, 1, 1, 1)
    struct.pack_into("<fff", head, 108, 352, 0, 0)
    struct.pack_into("<h", head, 254, 1)  # sform_code
    struct.pack_into("<12f", head, 280, *[x for row in sform for x in row])
    head[344:348] = b"n+1\0"
    flat = np.asarray(values, dtype="<f4").reshape(dims, order="F")
    return bytes(head) + flat.tobytes(order="F")


P = lambda *rows: np.array(rows, dtype=float)  # noqa: E731
DIMS = [7, 6, 5]
ZOOMS = [0.8, 0.9, 2.5]
# name: (sform, zooms, orientation)
FILES = {
    "RAS": (sform_of(np.eye(3), ZOOMS, [1, 2, 3]), ZOOMS, None),
    "LPS_to_RAS": (sform_of(np.diag([-1, -1, 1]), ZOOMS, [4, 3, 0]), ZOOMS, "RAS"),
    "LPS_kept": (sform_of(np.diag([-1, -1, 1]), ZOOMS, [4, 3, 0]), ZOOMS, None),
    "ASL_to_RAS": (sform_of(P([0, 0, -1], [1, 0, 0], [0, 1, 0]), ZOOMS, [0, 0, 0]), ZOOMS, "RAS"),
    # rotated, no shear: the voxel transform is still axis-aligned
    "oblique": (sform_of(rot(2, 25) @ rot(0, 12), ZOOMS, [0, 0, 0]), ZOOMS, "RAS"),
    # sheared: a full 3-D affine resampling (MONAI keeps the rotation, not the shear)
    "sheared": (sform_of(P([1, 0.3, 0], [0, 1, -0.2], [0, 0, 1]), ZOOMS, [0, 0, 0]), ZOOMS, None),
    "sheared_neg": (sform_of(rot(2, 10) @ P([1, -0.25, 0.1], [0, 1, 0], [0, 0.15, 1]), ZOOMS, [0, 0, 0]), ZOOMS, None),
    # exactly representable spacings: 1.0 -> 1.5 puts nearest's samples on .5 ties
    "unit": (sform_of(np.eye(3), [1.0, 1.0, 2.0], [0, 0, 0]), [1.0, 1.0, 2.0], None),
}
MODES = [(m, p) for m in ("bilinear", "nearest") for p in ("border", "zeros", "reflection")]
TWO = [("bilinear", "zeros"), ("nearest", "reflection")]
# name: pixdim
SPACINGS = {
    "down": [1.5, 1.5, 2.0],
    "up": [0.5, 0.6, 1.0],
    "aniso": [1.2, 0.7, 3.1],
    "kept": [-1, 1.3, 0],
    "number": 1.1,
    "tolerance": [0.8005, 0.9, 2.4995],
    "ties": [1.5, 0.5, 1.5],
    # extents of exactly 1.5, 2.5 and 0.5 voxels: numpy's round(2.5) = 2 (half to even)
    "half": [4.0, 2.0, 16.0],
}
# per file: (spacing, [(mode, padding)]); every mode and padding on the plain, flipped and sheared files
ORDER = {
    "RAS": [("down", MODES), ("up", MODES), ("aniso", MODES), ("kept", TWO), ("number", TWO),
            ("tolerance", [("bilinear", "border")])],
    "LPS_to_RAS": [("down", MODES), ("kept", TWO)],
    "LPS_kept": [("down", MODES), ("aniso", TWO)],
    "ASL_to_RAS": [("down", MODES), ("kept", TWO)],
    "oblique": [("down", MODES), ("up", TWO), ("tolerance", [("bilinear", "border")])],
    "sheared": [("down", MODES), ("up", TWO), ("aniso", TWO)],
    "sheared_neg": [("down", MODES), ("aniso", TWO)],
    "unit": [("ties", MODES), ("down", TWO), ("number", TWO), ("half", TWO)],
}


def f32(v):
    """7 significant digits: the tests compare at 1e-5."""
    return float("%.7g" % float(v))


def main():
    rng = np.random.default_rng(20260801)
    tmp = tempfile.mkdtemp()
    files, cases = [], []
    for name, (sform, zooms, axcodes) in FILES.items():
        values = (rng.normal(size=int(np.prod(DIMS))) * 100).astype(np.float32)
        path = os.path.join(tmp, name + ".nii")
        with open(path, "wb") as f:
            f.write(encode(DIMS, values, sform, zooms))
        img = nib.load(path)
        if axcodes:
            tr = nio.ornt_transform(nio.io_orientation(img.affine), nio.axcodes2ornt(axcodes))
            img = img.as_reoriented(tr)
        arr = np.asarray(img.get_fdata(), dtype=np.float32)
        files.append({"name": name, "sform": sform, "zooms": zooms, "orientation": axcodes,
                      "values": [float("%.9g" % v) for v in values]})
        for sp_name, modes in ORDER[name]:
            pixdim = SPACINGS[sp_name]
            for mode, pad in modes:
                out, new_pix, resampled, xform = spacing(arr, img.affine, pixdim, mode, pad)
                cases.append({
                    "file": name, "spacing": sp_name, "pixdim": pixdim, "mode": mode,
                    "paddingMode": pad, "shape": list(out.shape), "resampled": resampled,
                    "newPixdim": new_pix, "xform": xform[:3].tolist(),
                    "out": [f32(v) for v in out.ravel(order="C")],
                })
    with open(OUT, "w") as f:
        json.dump({"dims": DIMS, "files": files, "cases": cases}, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes,", len(cases), "cases")


def timing():
    """torch's grid_sample for [512, 512, 100] from (0.7, 0.7, 5.0) to (1.5, 1.5, 2.0)."""
    torch.manual_seed(0)
    img = np.random.default_rng(0).normal(size=(512, 512, 100)).astype(np.float32)
    aff = np.diag([0.7, 0.7, 5.0, 1.0])
    for threads in (1, torch.get_num_threads()):
        torch.set_num_threads(threads)
        for dtype in (torch.float64, torch.float32):
            best = math.inf
            for _ in range(3):
                t0 = time.perf_counter()
                out, *_ = spacing(img, aff, [1.5, 1.5, 2.0], "bilinear", "border", dtype)
                best = min(best, time.perf_counter() - t0)
            print(f"torch {threads} thread(s), {str(dtype)[6:]}: {best * 1000:.0f} ms, out {tuple(out.shape)}")


if __name__ == "__main__":
    timing() if "--time" in sys.argv else main()
