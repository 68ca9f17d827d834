"""Writes tests/fixtures/warp_nearest.json: torchvision 0.14's nearest warps
(F.rotate, F.affine and the geometric ops of the automatic augmentations,
_apply_op's ShearX, ShearY, TranslateX, TranslateY, Rotate) on one-channel
float32 images, for tests/warp_nearest_ties_test.ts.

torchvision samples these on a float32 grid (_gen_affine_grid, then
grid_sample's nearest), so where the exact source position is k + 0.5 its
rounding, not the exact value, picks the pixel. The cases are chosen to be
full of such ties: rotations by multiples of 90 degrees and by odd angles,
shears (float32 RandAugment magnitudes), integer translations, scales, on
odd and even sizes, small ones (h * w <= 66: torch's bmm loops itself) and
larger (BLAS sgemm), with and without a fill.

The input of size w x h is 1, 2, ..., w * h (row-major; every value exact in
float32), so each output pixel names the source pixel it read (the fill is
0 or negative). Each case stores the op ("rotate", "affine" or "op" for
_apply_op), its arguments as this library names them, and the output.
Magnitudes and angles are written at full double precision (json repr).

Deterministic; run with /usr/bin/python3 scripts/make_warp_nearest_fixtures.py
"""
import json
import os

import torch
import torchvision.transforms.autoaugment as AA
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "warp_nearest.json")
NEAREST = InterpolationMode.NEAREST

SIZES = [(1, 1), (1, 5), (4, 1), (8, 6), (7, 9), (11, 7), (32, 24), (33, 17), (17, 33), (20, 20)]
LARGE = [(40, 36)]
# Small images (h * w <= 66) where torch's bmm loop (rounded products summed in
# order) and BLAS's fused multiply-adds pick another pixel: found by a search over
# angles, translations, scales and shears; one pixel each.
BMM_LOOP = [
    (9, 7, 30.0, [-1, 0], 1.0, [0.0, 0.0]),
    (7, 9, 60.0, [1, 0], 1.0, [0.0, 0.0]),
    (8, 6, 45.0, [-2, -1], 0.9, [0.0, -5.0]),
    (7, 9, 60.0, [1, 0], 1.0, [10.0, 0.0]),
    (9, 7, 10.0, [-2, -2], 0.9, [-7.5, -5.0]),
    (9, 7, 0.0, [-2, -1], 0.8, [-7.5, 3.0]),
]


# RandAugment's float32 magnitude bins (num_magnitude_bins=31), as its tensors give them.
SHEARS = torch.linspace(0.0, 0.3, 31)
ROTS = torch.linspace(0.0, 30.0, 31)


def out_list(t):
    return [int(v) if v == int(v) else v for v in t.reshape(-1).tolist()]


def cases_for(w, h, large=False):
    img = torch.arange(1, w * h + 1, dtype=torch.float32).reshape(1, h, w)
    cases = []

    def add(kind, args, out):
        cases.append({"kind": kind, "width": w, "height": h, **args, "out": out_list(out)})

    angles = [90.0, -90.0, 180.0, 270.0, 30.0, -30.0, 45.0, 17.5, 12.345]
    if large:
        angles = [90.0, 30.0, 17.5]
    for i, a in enumerate(angles):
        fill = -1.0 if i % 3 == 1 else 0.0
        out = F.rotate(img, a, NEAREST, fill=[fill])
        add("rotate", {"angle": a, "fill": fill}, out)
    affines = [
        {"angle": 0.0, "translate": [2, -1], "scale": 1.0, "shear": [0.0, 0.0]},
        {"angle": 0.0, "translate": [0, 0], "scale": 1.0, "shear": [10.0, 0.0]},
        {"angle": 0.0, "translate": [0, 0], "scale": 1.0, "shear": [0.0, -7.5]},
        {"angle": 20.0, "translate": [1, 0], "scale": 0.8, "shear": [5.0, 3.0]},
        {"angle": 90.0, "translate": [1, 1], "scale": 1.25, "shear": [0.0, 0.0]},
        {"angle": -45.0, "translate": [0, 2], "scale": 1.5, "shear": [0.0, 0.0]},
    ]
    if large:
        affines = affines[1:2] + affines[4:5]
    for i, p in enumerate(affines):
        fill = -2.0 if i % 2 else 0.0
        out = F.affine(img, p["angle"], p["translate"], p["scale"], p["shear"], NEAREST,
                       fill=[fill])
        add("affine", {**p, "fill": fill}, out)
    ops = [
        ("ShearX", SHEARS[20].item()), ("ShearX", -SHEARS[10].item()),
        ("ShearX", SHEARS[30].item()), ("ShearY", SHEARS[20].item()),
        ("ShearY", -SHEARS[7].item()), ("TranslateX", -3.0), ("TranslateY", 2.9),
        ("Rotate", ROTS[30].item()), ("Rotate", -ROTS[13].item()),
    ]
    if large:
        ops = ops[0:1] + ops[3:4] + ops[7:8]
    for i, (op, mag) in enumerate(ops):
        fill = -3.0 if i % 4 == 3 else 0.0
        out = AA._apply_op(img, op, mag, NEAREST, [fill])
        add("op", {"op": op, "magnitude": mag, "fill": fill}, out)
    return cases


def main():
    cases = []
    for w, h in SIZES:
        cases += cases_for(w, h)
    for w, h in LARGE:
        cases += cases_for(w, h, large=True)
    for w, h, angle, translate, scale, shear in BMM_LOOP:
        img = torch.arange(1, w * h + 1, dtype=torch.float32).reshape(1, h, w)
        out = F.affine(img, angle, translate, scale, shear, NEAREST, fill=[0.0])
        cases.append({"kind": "affine", "width": w, "height": h, "angle": angle,
                      "translate": translate, "scale": scale, "shear": shear, "fill": 0.0,
                      "out": out_list(out)})
    with open(OUT, "w") as f:
        json.dump({"cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {os.path.getsize(OUT)} bytes -> {OUT}")


if __name__ == "__main__":
    main()
