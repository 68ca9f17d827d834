"""Writes tests/fixtures/habits_transforms.json: torchvision 0.14's numbers for the
photo-habit transforms (ColorJitter's ops, invert, posterize, solarize, resized crop,
perspective) and statistics of their random parameters.

  brightness, contrast  F.adjust_brightness / F.adjust_contrast on a [1, H, W] float image
  invert, solarize      F.invert / F.solarize on [0, 1] floats
  posterize             float -> uint8 (convert_image_dtype), F.posterize, back to float
  resized_crop          F.resized_crop (bilinear without antialias, and nearest)
  perspective           F._get_perspective_coeffs and F.perspective (fill None and a number)
  rrc_fallback          RandomResizedCrop.get_params when all 10 tries fail (deterministic)
  rrc_stats             RandomResizedCrop.get_params over many draws: mean area fraction,
                        mean log aspect ratio, share of fallbacks
  perspective_stats     RandomPerspective.get_params over many draws: per-coordinate
                        min, max and mean of the moved corners

Inputs are rounded to 6 significant digits before use, so the stored decimals are the
float32 values torchvision computed with. Deterministic; run with
/usr/bin/python3 scripts/make_habits_transform_fixtures.py
"""
import json
import math
import os

import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

torch.manual_seed(1213)
OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "habits_transforms.json"
)


def r6(t):
    return torch.tensor([float("%.6g" % v) for v in t.reshape(-1).tolist()]).reshape(t.shape)


def image(h, w):
    return r6(torch.rand(1, h, w))


def flat(t):
    return [float("%.9g" % v) for v in t.reshape(-1).tolist()]


def rec(img):
    return {"width": img.shape[-1], "height": img.shape[-2], "data": flat(img)}


fx = {"torchvision": torchvision.__version__}

img = image(7, 9)
fx["brightness"] = [
    {"input": rec(img), "factor": f, "out": flat(F.adjust_brightness(img, f))} for f in [0, 0.45, 1.0, 1.7]
]
fx["contrast"] = [
    {"input": rec(img), "factor": f, "out": flat(F.adjust_contrast(img, f))} for f in [0, 0.3, 1.0, 2.5]
]
fx["invert"] = [{"input": rec(img), "out": flat(F.invert(img))}]
fx["solarize"] = [
    {"input": rec(img), "threshold": t, "out": flat(F.solarize(img, t))} for t in [0.25, 0.6, 1.0]
]


def posterized(x, bits):
    u8 = F.convert_image_dtype(x, torch.uint8)
    return F.convert_image_dtype(F.posterize(u8, bits), torch.float32)


fx["posterize"] = [{"input": rec(img), "bits": b, "out": flat(posterized(img, b))} for b in [0, 1, 3, 6, 8]]

big = image(12, 10)
fx["resized_crop"] = []
for (top, left, h, w, size, mode) in [
    (2, 1, 6, 7, [5, 4], "bilinear"),
    (0, 0, 12, 10, [17, 13], "bilinear"),
    (3, 2, 5, 5, [9, 9], "bilinear"),
    (1, 3, 8, 6, [5, 7], "nearest"),
    (0, 2, 4, 3, [8, 6], "nearest"),
]:
    interp = InterpolationMode.BILINEAR if mode == "bilinear" else InterpolationMode.NEAREST
    out = F.resized_crop(big, top, left, h, w, size, interp, antialias=False)
    fx["resized_crop"].append(
        {"input": rec(big), "top": top, "left": left, "height": h, "width": w, "size": size,
         "interpolation": mode, "out": flat(out)}
    )

persp = image(11, 13)
H, W = 11, 13
start = [[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]]
fx["perspective"] = []
for (end, mode, fill) in [
    ([[2, 1], [11, 0], [12, 9], [1, 10]], "bilinear", None),
    ([[3, 2], [10, 1], [9, 10], [0, 8]], "bilinear", 0.0),
    ([[0, 3], [12, 2], [10, 8], [2, 10]], "bilinear", 0.7),
    ([[1, 1], [11, 2], [12, 10], [3, 9]], "nearest", 0.25),
]:
    coeffs = F._get_perspective_coeffs(start, end)
    interp = InterpolationMode.BILINEAR if mode == "bilinear" else InterpolationMode.NEAREST
    out = F.perspective(persp, start, end, interp, None if fill is None else [fill])
    fx["perspective"].append(
        {"input": rec(persp), "startpoints": start, "endpoints": end, "interpolation": mode,
         "fill": fill, "coeffs": coeffs, "out": flat(out)}
    )

fx["rrc_fallback"] = []
for (w, h, scale, ratio) in [
    (20, 10, [2.0, 2.0], [0.75, 4 / 3]),
    (10, 20, [2.0, 2.0], [0.75, 4 / 3]),
    (16, 15, [3.0, 3.5], [0.75, 4 / 3]),
    (30, 7, [1.5, 2.0], [0.5, 2.0]),
]:
    top, left, ch, cw = T.RandomResizedCrop.get_params(torch.zeros(1, h, w), scale, ratio)
    fx["rrc_fallback"].append(
        {"width": w, "height": h, "scale": scale, "ratio": ratio,
         "box": {"top": top, "left": left, "height": ch, "width": cw}}
    )

N = 20000
fx["rrc_stats"] = []
for (w, h, scale, ratio) in [(64, 48, [0.08, 1.0], [3 / 4, 4 / 3]), (32, 32, [0.5, 1.0], [0.5, 2.0])]:
    frac, logr, fallback = 0.0, 0.0, 0
    for _ in range(N):
        top, left, ch, cw = T.RandomResizedCrop.get_params(torch.zeros(1, h, w), scale, ratio)
        frac += ch * cw / (h * w)
        logr += math.log(cw / ch)
        fallback += (ch, cw) == (h, w) and top == 0 and left == 0
    fx["rrc_stats"].append(
        {"width": w, "height": h, "scale": scale, "ratio": ratio, "draws": N,
         "meanArea": frac / N, "meanLogRatio": logr / N, "fullImageShare": fallback / N}
    )

fx["perspective_stats"] = []
for (w, h, d) in [(13, 11, 0.5), (32, 20, 0.8), (9, 9, 0.2)]:
    coords = []
    for _ in range(N // 4):
        _, end = T.RandomPerspective.get_params(w, h, d)
        coords.append([v for p in end for v in p])
    t = torch.tensor(coords, dtype=torch.float64)
    fx["perspective_stats"].append(
        {"width": w, "height": h, "distortionScale": d, "draws": N // 4,
         "min": t.min(0).values.tolist(), "max": t.max(0).values.tolist(), "mean": t.mean(0).tolist()}
    )

with open(OUT, "w") as f:
    json.dump(fx, f, separators=(",", ":"))
    f.write("\n")
print("wrote", OUT, os.path.getsize(OUT), "bytes")
