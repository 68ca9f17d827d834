"""Writes tests/fixtures/volume_loader.json: what nibabel and PyTorch make of
the NIfTI fixtures in tests/fixtures/nifti, for tests/volume_loader_test.ts.

For each 3-D file: nibabel's get_fdata() (float32, scl_slope/inter applied)
in its own [X, Y, Z] order, the order MONAI's LoadImage + EnsureChannelFirst
gives as [1, X, Y, Z] and VolumeDataset as [D, H, W]: the shape, the sum,
the sums along each axis (per index of that axis; NaN voxels, which one
file holds, left out and counted) and some single voxels [i, j, k, value]. And a pipeline, MONAI's ScaleIntensityRange(a_min=0,
a_max=300, b_min=0, b_max=1, clip=True) then Resize((6, 5, 4),
mode="trilinear") written in torch 1.13: the values the DataLoader must
batch as [3, 1, 6, 5, 4] from three files of different shapes.

Run with /usr/bin/python3 scripts/make_volume_loader_fixtures.py (PyTorch
1.13, Debian's python3-nibabel 5.0).
"""
import json
import os

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

from fixture_json import enc, ser

HERE = os.path.dirname(os.path.abspath(__file__))
NIFTI = os.path.join(HERE, "..", "tests", "fixtures", "nifti")
OUT = os.path.join(HERE, "..", "tests", "fixtures", "volume_loader.json")
FILES = ["anatomical.nii", "reoriented_anat_moved.nii", "resampled_anat_moved.nii",
         "standard.nii.gz"]
PIPELINE_FILES = ["anatomical.nii", "reoriented_anat_moved.nii", "standard.nii.gz"]
SIZE = (6, 5, 4)

rng = np.random.default_rng(20260801)


def voxels(name):
    img = nib.load(os.path.join(NIFTI, name))
    return img.get_fdata(dtype=np.float32), "".join(nib.aff2axcodes(img.affine))


files = {}
for name in FILES:
    x, axcodes = voxels(name)
    picks = [[int(rng.integers(0, s)) for s in x.shape] for _ in range(24)]
    files[name] = {
        "shape": list(x.shape),
        "axcodes": axcodes,
        "nanCount": int(np.isnan(x).sum()),
        "sum": enc(float(np.nansum(x.astype(np.float64)))),
        "axisSums": [[enc(float(v)) for v in np.nansum(x.astype(np.float64), axis=tuple(
            b for b in range(3) if b != a))] for a in range(3)],
        "voxels": [p + [enc(float(x[tuple(p)]))] for p in picks],
    }

batch = []
for name in PIPELINE_FILES:
    x = torch.from_numpy(voxels(name)[0])
    x = torch.clamp((x - 0.0) / (300.0 - 0.0) * (1.0 - 0.0) + 0.0, 0.0, 1.0)
    y = F.interpolate(x[None, None], size=SIZE, mode="trilinear", align_corners=False)
    batch.append(y[0])
pipeline = {
    "files": PIPELINE_FILES,
    "scale": {"aMin": 0, "aMax": 300, "bMin": 0, "bMax": 1, "clip": True},
    "resize": {"spatialSize": list(SIZE), "mode": "trilinear"},
    "batch": ser(torch.stack(batch)),
}

with open(OUT, "w") as f:
    json.dump({"files": files, "pipeline": pipeline}, f, separators=(",", ":"))
print(OUT, os.path.getsize(OUT), "bytes")
