"""Writes tests/fixtures/transforms_audit.json: torchvision 0.14's outputs for the
transforms a PyTorch user ports (tests/transforms_audit_test.ts), with every random
draw pinned by calling torchvision.transforms.functional with the drawn parameters.

  resize        F.resize on a float CT slice (HU values): int / pair size, max_size,
                bilinear / bicubic / nearest, antialias False (0.14's tensor default)
                and True
  resize_pil    T.Resize on a PIL "L" image then T.ToTensor (ImageFolder's path: PIL
                always antialiases), and the same Resize after ToTensor (no antialias)
  center_crop   F.center_crop, crops smaller and larger than the image (pads)
  affine        F.affine / F.rotate: default (nearest) and bilinear, fill, center,
                expand, translate, scale, shear
  blur          F.gaussian_blur(img, kernel_size, sigma): odd sizes, a pair, sigma None
  pad           F.pad in every padding_mode (constant, edge, reflect, symmetric)
  grey          T.ToTensor()(T.Grayscale()(pil_rgb)) of an RGB image (ImageFolder's RGB
                loader then Grayscale), and Grayscale/ConvertImageDtype on a float
                [1, H, W] tensor (identities)
  normalize     T.Normalize([m], [s]) on a [1, H, W] tensor
  erase         F.erase with a value
  affine_stats  RandomAffine.get_params translations: whole pixels

Inputs are float32 values written with 9 significant digits. Deterministic; run with
/usr/bin/python3 scripts/make_transforms_audit_fixtures.py
"""
import json
import os

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image
from torchvision.transforms import InterpolationMode as IM

torch.manual_seed(814)
OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "transforms_audit.json"
)


def flat(t):
    return [float("%.9g" % v) for v in t.reshape(-1).tolist()]


def rec(t):
    return {"width": t.shape[-1], "height": t.shape[-2], "data": flat(t)}


def mode(name):
    return {"bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC, "nearest": IM.NEAREST}[name]


def ct_slice(h, w):
    """A float CT slice in HU: air around a body disc with texture (what a user stores)."""
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    body = ((x - w / 2) / (0.42 * w)) ** 2 + ((y - h / 2) / (0.4 * h)) ** 2 < 1
    tex = 60 * torch.sin(x * 1.7) * torch.cos(y * 2.3) + 40 * torch.rand(h, w)
    img = torch.where(body, 40 + tex, torch.full((h, w), -1000.0))
    return torch.tensor(flat(img)).reshape(1, h, w)


fx = {"torchvision": torchvision.__version__, "torch": torch.__version__}

ct = ct_slice(19, 23)
fx["ct"] = rec(ct)
cases = []
for size, max_size, interp, aa in [
    (10, None, "bilinear", False),
    (10, None, "bilinear", True),
    ([8, 12], None, "bilinear", False),
    ([8, 12], None, "bicubic", True),
    ([8, 12], None, "bicubic", False),
    ([8, 12], None, "nearest", False),
    (10, 11, "bilinear", False),
    ([23, 27], None, "bilinear", True),
    ([23, 27], None, "bicubic", False),
    (7, None, "nearest", False),
]:
    out = F.resize(ct, size, mode(interp), max_size=max_size, antialias=aa)
    cases.append({"size": size, "max_size": max_size, "interpolation": interp, "antialias": aa,
                  "out": rec(out)})
fx["resize"] = cases

# ImageFolder's path: a PIL image through Resize, then ToTensor; against the tensor path.
u8 = (torch.rand(18, 24) * 255).round().to(torch.uint8)
u8[4:12, 8:16] = 200
pil = Image.fromarray(u8.numpy(), mode="L")
fx["pil_input"] = {"width": 24, "height": 18, "data": u8.reshape(-1).tolist()}
pil_cases = []
for size, interp in [(8, "bilinear"), ([7, 10], "bilinear"), ([7, 10], "bicubic"), (22, "bilinear")]:
    via_pil = T.Compose([T.Resize(size, interpolation=mode(interp)), T.ToTensor()])(pil)
    via_tensor = T.Compose([T.ToTensor(), T.Resize(size, interpolation=mode(interp))])(pil)
    pil_cases.append({"size": size, "interpolation": interp, "pil": flat(via_pil),
                      "tensor": flat(via_tensor), "height": via_pil.shape[-2], "width": via_pil.shape[-1]})
fx["resize_pil"] = pil_cases

img = torch.tensor(flat(torch.rand(1, 9, 11))).reshape(1, 9, 11)
fx["small"] = rec(img)
fx["center_crop"] = [{"size": s, "out": rec(F.center_crop(img, s))} for s in [[5, 7], [4, 4], [12, 11], [14, 16], [9, 15]]]

aff = []
for kw in [
    {"op": "rotate", "angle": 30.0},
    {"op": "rotate", "angle": 30.0, "interpolation": "bilinear"},
    {"op": "rotate", "angle": -17.0, "fill": 0.5},
    {"op": "rotate", "angle": 25.0, "interpolation": "bilinear", "center": [2, 3]},
    {"op": "rotate", "angle": 25.0, "center": [2, 3]},
    {"op": "rotate", "angle": 30.0, "expand": True},
    {"op": "rotate", "angle": 45.0, "interpolation": "bilinear", "expand": True},
    {"op": "rotate", "angle": 90.0, "expand": True},
    {"op": "rotate", "angle": 10.0, "expand": True, "fill": 0.25},
    {"op": "affine", "angle": 12.0, "translate": [2, -1], "scale": 1.1, "shear": [5.0, 0.0]},
    {"op": "affine", "angle": 12.0, "translate": [2, -1], "scale": 1.1, "shear": [5.0, 0.0],
     "interpolation": "bilinear"},
    {"op": "affine", "angle": -8.0, "translate": [0, 0], "scale": 0.9, "shear": [0.0, 0.0],
     "center": [1, 7], "interpolation": "bilinear"},
    {"op": "affine", "angle": -8.0, "translate": [1, 1], "scale": 0.9, "shear": [3.0, 4.0],
     "center": [1, 7], "fill": 0.75},
]:
    interp = mode(kw.get("interpolation", "nearest"))
    fill = [kw["fill"]] if "fill" in kw else None
    if kw["op"] == "rotate":
        out = F.rotate(img, kw["angle"], interpolation=interp, expand=kw.get("expand", False),
                       center=kw.get("center"), fill=fill)
    else:
        out = F.affine(img, kw["angle"], kw["translate"], kw["scale"], kw["shear"], interpolation=interp,
                       fill=fill, center=kw.get("center"))
    aff.append({**kw, "out": rec(out)})
fx["affine"] = aff

blur = []
for k, s in [(3, None), (5, 1.5), ([3, 5], [0.8, 1.6]), (7, None), ([5, 1], None)]:
    blur.append({"kernel_size": k, "sigma": s, "out": flat(F.gaussian_blur(img, k, s))})
fx["blur"] = blur

pads = []
for p, m in [(2, "constant"), ([1, 3], "edge"), ([1, 2, 3, 4], "reflect"), ([2, 1, 0, 3], "symmetric"),
             (3, "symmetric"), ([0, 0, 8, 5], "constant")]:
    out = F.pad(img, p, fill=0.5 if m == "constant" else 0, padding_mode=m)
    pads.append({"padding": p, "padding_mode": m, "out": rec(out)})
fx["pad"] = pads

rgb = (torch.rand(5, 6, 3) * 255).round().to(torch.uint8)
pil_rgb = Image.fromarray(rgb.numpy(), mode="RGB")
fx["grey"] = {
    "rgb": rgb.reshape(-1).tolist(), "width": 6, "height": 5,
    "grayscale_then_to_tensor": flat(T.ToTensor()(T.Grayscale()(pil_rgb))),
    "to_tensor_channels": list(T.ToTensor()(pil_rgb).shape),
}
fx["identities"] = {
    "grayscale": flat(T.Grayscale()(img)) == flat(img),
    "convert_float": flat(T.ConvertImageDtype(torch.float32)(img)) == flat(img),
    "to_tensor_float": flat(T.ToTensor()(img[0].numpy())) == flat(img),
}
fx["normalize"] = {"mean": 0.4, "std": 0.2, "out": flat(T.Normalize([0.4], [0.2])(img))}
fx["erase"] = {"box": [2, 3, 4, 5], "value": 0.25, "out": flat(F.erase(img, 2, 3, 4, 5, torch.tensor(0.25)))}

draws = [T.RandomAffine.get_params((-10, 10), (0.1, 0.1), None, None, [45, 37]) for _ in range(300)]
fx["affine_stats"] = {
    "all_whole": all(float(t).is_integer() for d in draws for t in d[1]),
    "max_abs": [max(abs(d[1][0]) for d in draws), max(abs(d[1][1]) for d in draws)],
}

with open(OUT, "w") as f:
    json.dump(fx, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
