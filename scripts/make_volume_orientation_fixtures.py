"""Fixtures for tests/volume_orientation_test.ts: what nibabel (5.0) reads
from small NIfTI-1 files, and what MONAI's Orientation(axcodes) makes of
them (nibabel's io_orientation + ornt_transform + apply_orientation, which
MONAI's Orientation calls; as_closest_canonical for "RAS"), with the voxel
spacing after reorientation (the reoriented image's zooms).

Each file is written here byte for byte as the test writes it (encode()
below mirrors encodeNifti in the test), so the test needs no Python.

    /usr/bin/python3 scripts/make_volume_orientation_fixtures.py
"""
import json
import math
import os
import struct
import tempfile

import nibabel as nib
import numpy as np
from nibabel import orientations as nio

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "volume_orientation.json")
DIMS = [5, 4, 3]
CODES = {"int16": (4, 2, "h"), "float32": (16, 4, "f"), "float64": (64, 8, "d")}


def encode(dims, values, dtype, sform, pixdim, slope, inter):
    """A little-endian NIfTI-1 file: 352-byte header, then i-fastest voxels."""
    code, size, fmt = CODES[dtype]
    head = bytearray(352)
    struct.pack_into("<i", head, 0, 348)
    dim = [len(dims)] + dims + [1] * (7 - len(dims))
    struct.pack_into("<8h", head, 40, *dim)
    struct.pack_into("<hh", head, 70, code, size * 8)
    struct.pack_into("<8f", head, 76, 1, *pixdim, *([1] * (7 - len(pixdim))))
    struct.pack_into("<fff", head, 108, 352, slope, inter)
    struct.pack_into("<h", head, 254, 1)  # sform_code
    struct.pack_into("<12f", head, 280, *[x for row in sform for x in row])
    head[344:348] = b"n+1\0"
    flat = np.asarray(values, dtype=np.dtype(fmt).newbyteorder("<")).reshape(dims, order="F")
    return bytes(head) + flat.tobytes(order="F")


def rot(axis, deg):
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    m = np.eye(3)
    a, b = [(1, 2), (0, 2), (0, 1)][axis]
    m[a, a], m[a, b], m[b, a], m[b, b] = c, -s, s, c
    return m


def sform_of(m, zooms, origin):
    m = np.asarray(m, dtype=float) * np.asarray(zooms)[None, :]
    return [[float(np.float32(x)) for x in list(m[r]) + [origin[r]]] for r in range(3)]


P = lambda *rows: np.array(rows, dtype=float)  # noqa: E731
ZOOMS = [0.8, 0.9, 2.5]
CASES = {
    "RAS": sform_of(np.eye(3), ZOOMS, [1, 2, 3]),
    "LPS": sform_of(np.diag([-1, -1, 1]), ZOOMS, [4, 3, 0]),
    "LAS": sform_of(np.diag([-1, 1, 1]), ZOOMS, [4, 0, 0]),
    "LAI": sform_of(np.diag([-1, 1, -1]), ZOOMS, [4, 0, 2]),
    # oblique: 25 degrees about z, 12 about x, a little shear: closest axes
    "oblique": sform_of(rot(2, 25) @ rot(0, 12) @ P([1, 0.1, 0], [0, 1, 0], [0, 0, 1]), ZOOMS, [0, 0, 0]),
    "oblique_lps": sform_of(np.diag([-1, -1, 1]) @ rot(1, -30) @ rot(2, 10), ZOOMS, [0, 0, 0]),
    # a rotation where taking the largest cosine first (not nibabel's axis by
    # axis order) picks other axes, and a strong shear where normalising the
    # columns (not nibabel's polar decomposition) does
    "oblique_order": sform_of(P([-0.9119, -0.3552, -0.2054], [0.0982, -0.675, 0.7313], [-0.3984, 0.6467, 0.6504]), [1, 1, 1], [0, 0, 0]),
    "oblique_shear": sform_of(P([-0.6368, -1.205, -0.6774], [0.2403, -0.6122, 0.2873], [-0.7327, -1.068, 0.683]), [1, 1, 1], [0, 0, 0]),
    # sagittal acquisitions: i -> A, j -> S, k -> L; i -> P, j -> I, k -> R
    "ASL": sform_of(P([0, 0, -1], [1, 0, 0], [0, 1, 0]), ZOOMS, [0, 0, 0]),
    "PIR": sform_of(P([0, 0, 1], [-1, 0, 0], [0, -1, 0]), ZOOMS, [0, 0, 0]),
    # permuted axes: i -> S, j -> R, k -> A; i and j swapped
    "SRA": sform_of(P([0, 1, 0], [0, 0, 1], [1, 0, 0]), ZOOMS, [0, 0, 0]),
    "ARS": sform_of(P([0, 1, 0], [1, 0, 0], [0, 0, 1]), ZOOMS, [0, 0, 0]),
}
TARGETS = ["RAS", "LPS", "PLI", "SAR"]


def stored(v):
    """A float32 as JSON: "nan", "inf", "-inf" or the number (-0.0 kept)."""
    v = float(v)
    return "nan" if v != v else "inf" if v == math.inf else "-inf" if v == -math.inf else v


def code_values(dims):
    i, j, k = np.meshgrid(*[np.arange(d) for d in dims], indexing="ij")
    return (100 * i + 10 * j + k).ravel(order="F")


def main():
    tmp = tempfile.mkdtemp()
    cases = []
    for name, sform in CASES.items():
        raw = code_values(DIMS)
        path = os.path.join(tmp, name + ".nii")
        with open(path, "wb") as f:
            f.write(encode(DIMS, raw, "int16", sform, ZOOMS, 0, 0))
        img = nib.load(path)
        arr = img.get_fdata()
        src = nio.io_orientation(img.affine)
        want = {}
        for t in TARGETS:
            tr = nio.ornt_transform(src, nio.axcodes2ornt(t))
            out = nio.apply_orientation(arr, tr)
            re = img.as_reoriented(tr)
            assert np.array_equal(np.asarray(re.dataobj), out)
            assert list(out.shape) == [DIMS[int(f)] for f in np.argsort(tr[:, 0])]
            if t == "RAS":
                assert np.array_equal(nib.as_closest_canonical(img).get_fdata(), out)
            if not name.startswith("oblique"):
                assert "".join(nib.aff2axcodes(re.affine)) == t
            want[t] = {
                "shape": list(out.shape),
                "codes": [int(v) for v in out.astype(np.int64).ravel(order="C")],
                # pixdim permuted as the axes are (the header's zooms; for a
                # sheared affine these differ from its column norms).
                "spacing": [float(z) for z in np.asarray(img.header.get_zooms())[np.argsort(tr[:, 0])]],
            }
        cases.append({
            "name": name,
            "sform": sform,
            "axcodes": "".join(nib.aff2axcodes(img.affine)),
            "ornt": src.astype(int).tolist(),
            "targets": want,
        })
    # One rounding: float64 (and float32) voxels with a slope, as get_fdata() in
    # float64 then float32 (MONAI's LoadImage dtype).
    rng = np.random.default_rng(0)
    scaled = []
    for dtype, slope, inter in [("float64", 0.7, 0.3), ("float32", 1.3, -1024.5), ("int16", 0.1, -7.25)]:
        if dtype == "int16":
            raw = rng.integers(-3000, 3000, size=60)
        else:
            raw = rng.normal(size=60) * 1000
            raw = raw.astype(np.float32).astype(float) if dtype == "float32" else raw
        path = os.path.join(tmp, dtype + "_scaled.nii")
        sform = CASES["RAS"]
        with open(path, "wb") as f:
            f.write(encode(DIMS, raw, dtype, sform, ZOOMS, slope, inter))
        img = nib.load(path)
        got = img.get_fdata().astype(np.float32)
        scaled.append({
            "dtype": dtype,
            "slope": slope,
            "inter": inter,
            "raw": [float(v) for v in raw],
            "values": [float(v) for v in got.ravel(order="C")],
        })
    # MONAI's ScaleIntensityRange on a float32 numpy array (python-float
    # arguments cast to float32 by numpy), np.clip's NaN and signed zeros.
    x = np.concatenate([
        np.float32([-1000, -175, -174.99, 250, 250.01, 37.5, 0.0, -0.0, np.nan, np.inf, -np.inf, 1e-40]),
        (rng.normal(size=52) * 600).astype(np.float32),
    ]).astype(np.float32)
    windows = []
    for a_min, a_max, b_min, b_max, clip in [
        (-175, 250, 0, 1, True), (-175, 250, 0, 1, False), (-1000, 1000, -1, 1, True),
        (0, 100, -0.0, 1, True), (0, 1, 1, 0, True), (-10, 10, 0.5, 0.5, True), (-57.3, 91.7, 0.1, 0.9, True),
    ]:
        with np.errstate(invalid="ignore"):  # inf * 0 (bMin == bMax) is NaN
            img = (x - a_min) / (a_max - a_min)
            img = img * (b_max - b_min) + b_min
        if clip:
            img = np.clip(img, b_min, b_max)
        assert img.dtype == np.float32
        windows.append({"args": [a_min, a_max, b_min, b_max, clip], "out": [stored(v) for v in img]})
    with open(OUT, "w") as f:
        json.dump({
            "dims": DIMS, "zooms": ZOOMS, "cases": cases, "scaled": scaled,
            "window": {"x": [stored(v) for v in x], "cases": windows},
        }, f)
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
