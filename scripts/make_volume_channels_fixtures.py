"""Fixtures for tests/volume_channels_test.ts: multi-channel volumes as MONAI 1.3's
LoadImage (NibabelReader) + EnsureChannelFirst make them, then Orientation(axcodes)
and Spacing(pixdim, mode, padding_mode) on every channel alike.

- a list of 3-D files: NibabelReader stacks them at a new first axis (_stack_images,
  original_channel_dim 0), after _copy_compatible_dict has checked that every
  affine and spatial shape is np.allclose to the first file's;
- one 4-D file [X, Y, Z, T]: original_channel_dim -1, so EnsureChannelFirst moves
  the last axis first: [T, X, Y, Z];
- one 5-D file [X, Y, Z, 1, C] (NIfTI's vector layout): NibabelReader with
  squeeze_non_spatial_dims=True drops the singleton dim[4]: [C, X, Y, Z];
- a list of 4-D files: concatenated along that last axis.

Orientation is nibabel's (ornt_transform + as_reoriented, on each file: MONAI
reorients the stacked array by the first file's affine, which every file shares);
Spacing is make_volume_spacing_fixtures.py's transcription of MONAI (torch 1.13's
F.affine_grid + F.grid_sample), imported from there and applied per channel with
the one affine. The affine checks record numpy's np.allclose decision.

Each file is written here byte for byte as the test writes it (encode() mirrors
encodeNifti in the test). The test needs no Python.

    /usr/bin/python3 scripts/make_volume_channels_fixtures.py
"""
import json
import os
import struct
import sys
import tempfile

import nibabel as nib
import numpy as np
from nibabel import orientations as nio

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_volume_spacing_fixtures import P, f32, sform_of, spacing  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "volume_channels.json")

CODES = {"float32": (16, 4, "<f4"), "int16": (4, 2, "<i2")}


def encode(dims, values, sform, pixdim, dtype="float32", slope=0.0, inter=0.0):
    """A little-endian NIfTI-1 file of 3 to 5 dimensions: 352-byte header, then
    i-fastest voxels (the 4th and 5th dimensions slowest)."""
    code, bits, fmt = CODES[dtype]
    head = bytearray(352)
    struct.pack_into("<i", head, 0, 348)
    dim = [len(dims), *dims] + [1] * (7 - len(dims))
    struct.pack_into("<8h", head, 40, *dim)
    struct.pack_into("<hh", head, 70, code, 8 * bits)
    struct.pack_into("<8f", head, 76, 1, *pixdim, *([1] * (7 - len(pixdim))))
    struct.pack_into("<fff", head, 108, 352, slope, inter)
    struct.pack_into("<h", head, 254, 1)  # sform_code
    struct.pack_into("<12f", head, 280, *[x for row in sform for x in row])
    head[344:348] = b"n+1\0"
    flat = np.asarray(values).astype(fmt).reshape(dims, order="F")
    return bytes(head) + flat.tobytes(order="F")


SPATIAL = [5, 4, 3]
ZOOMS = [0.8, 0.9, 2.5]
# ASL: a permutation and a flip, so that "RAS" moves every channel's axes.
SFORM = sform_of(P([0, 0, -1], [1, 0, 0], [0, 1, 0]), ZOOMS, [4, -3, 2])
# name: (dims, dtype, slope, inter)
FILES = {
    "t1": (SPATIAL, "float32", 0.0, 0.0),
    "t2": (SPATIAL, "int16", 0.5, -100.0),
    "four": (SPATIAL + [3], "int16", 2.0, -1000.0),
    "two": (SPATIAL + [2], "float32", 0.0, 0.0),
    "vector": (SPATIAL + [1, 2], "float32", 0.0, 0.0),
    "single4": (SPATIAL + [1], "float32", 0.0, 0.0),
}
# name: (files, orientation, pixdim, mode, padding)
CASES = {
    "pair": (["t1", "t2"], None, None, None, None),
    "pair_ras": (["t1", "t2"], "RAS", None, None, None),
    "pair_ras_spacing": (["t1", "t2"], "RAS", [1.5, 1.5, 2.0], "bilinear", "border"),
    "pair_spacing_nearest": (["t2", "t1"], None, [0.5, 0.6, 1.0], "nearest", "zeros"),
    "four": (["four"], None, None, None, None),
    "four_ras_spacing": (["four"], "RAS", [1.2, 0.7, 3.1], "bilinear", "zeros"),
    "vector_ras": (["vector"], "RAS", None, None, None),
    "four_two": (["four", "two"], "LPS", None, None, None),
    "single4": (["single4"], None, None, None, None),
}
# Origins of copies of t1 whose affine differs from t1's by a little (np.allclose decides).
SHIFTS = [1e-5, 3e-5, 5e-5, 1e-3, 0.5]


def load(path, axcodes):
    img = nib.load(path)
    if axcodes:
        tr = nio.ornt_transform(nio.io_orientation(img.affine), nio.axcodes2ornt(axcodes))
        img = img.as_reoriented(tr)
    data = np.asarray(img.get_fdata(dtype=np.float32), dtype=np.float32)
    # NibabelReader(squeeze_non_spatial_dims=True): trailing singletons past the spatial three.
    for d in range(data.ndim, 3, -1):
        if data.shape[d - 1] == 1:
            data = data.squeeze(axis=d - 1)
    return data, img.affine


def main():
    rng = np.random.default_rng(20260901)
    tmp = tempfile.mkdtemp()
    files, paths = [], {}
    for name, (dims, dtype, slope, inter) in FILES.items():
        count = int(np.prod(dims))
        if dtype == "int16":
            values = rng.integers(-300, 900, size=count).astype(np.int16)
        else:
            values = (rng.normal(size=count) * 100).astype(np.float32)
        path = os.path.join(tmp, name + ".nii")
        with open(path, "wb") as f:
            f.write(encode(dims, values, SFORM, ZOOMS, dtype, slope, inter))
        paths[name] = path
        files.append({"name": name, "dims": dims, "dtype": dtype, "slope": slope, "inter": inter,
                      "values": [float("%.9g" % v) for v in values]})
    cases = []
    for name, (names, axcodes, pixdim, mode, pad) in CASES.items():
        arrays, affine = [], None
        for n in names:
            data, aff = load(paths[n], axcodes)
            affine = aff if affine is None else affine
            assert np.allclose(aff, affine)
            arrays.append(data)
        if arrays[0].ndim == 3:
            stacked = np.stack(arrays, axis=0)  # _stack_images: a new first axis
        else:
            stacked = np.moveaxis(np.concatenate(arrays, axis=-1), -1, 0)  # EnsureChannelFirst
        spacing_out = [float(np.linalg.norm(affine[:3, a])) for a in range(3)]
        if pixdim is not None:
            outs = []
            for ch in stacked:
                out, new_pix, _, _ = spacing(ch, affine, pixdim, mode, pad)
                outs.append(out)
            stacked = np.stack(outs, axis=0)
            spacing_out = new_pix
        cases.append({
            "name": name, "files": names, "orientation": axcodes, "pixdim": pixdim,
            "mode": mode, "paddingMode": pad, "shape": list(stacked.shape),
            "spacing": [f32(v) for v in spacing_out],
            "out": [f32(v) for v in stacked.ravel(order="C")],
        })
    # np.allclose on the 4x4 affines of t1 and t1 with its origin's x moved by `shift`
    # (stored as float32, as the test writes it).
    base = nib.load(paths["t1"]).affine
    shifts = []
    for shift in SHIFTS:
        sform = [row[:] for row in SFORM]
        sform[0][3] = float(np.float32(sform[0][3] + shift))
        path = os.path.join(tmp, "shifted.nii")
        with open(path, "wb") as f:
            f.write(encode(SPATIAL, np.zeros(int(np.prod(SPATIAL))), sform, ZOOMS))
        other = nib.load(path).affine
        shifts.append({"shift": shift, "origin": sform[0][3],
                       "allclose": bool(np.allclose(other, base))})
    with open(OUT, "w") as f:
        json.dump({"sform": SFORM, "zooms": ZOOMS, "files": files, "cases": cases,
                   "shifts": shifts}, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes,", len(cases), "cases")


if __name__ == "__main__":
    main()
