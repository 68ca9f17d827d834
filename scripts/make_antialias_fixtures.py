"""Writes tests/fixtures/antialias.json: PyTorch 1.13's and torchvision
0.14's numbers for antialiased and bicubic resizing (tests/antialias_test.ts).

- "images": the source images, each stored once; cases give an index.
- "resize": torchvision's F.resize on a float [1, H, W] tensor (the host
  image F.resize here), bilinear and bicubic with antialias on and off, and
  nearest, for down- and up-scales, odd sizes and non-square images.
- "resizedCrop": torchvision's F.resized_crop, the same way.
- "resizeShort": torchvision's T.Resize(size=int, max_size, antialias) (the
  smaller edge to size, the aspect kept).
- "interpolate": F.interpolate on [N, C, H, W] with size or scale_factor,
  align_corners, antialias; its output, a fixed random upstream gradient G
  and the input's gradient of L = sum(out * G).

Images hold fine stripes and a checkerboard beside noise, the texture that
aliases when downsampled without a low-pass filter.

Run with /usr/bin/python3 scripts/make_antialias_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F
import torchvision.transforms as T
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "antialias.json")
MODES = {"bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
         "nearest": InterpolationMode.NEAREST}


def image(h, w):
    """Noise in [0, 1], plus one-pixel stripes and a checkerboard in two quadrants."""
    x = torch.rand(h, w)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    x[: h // 2, : w // 2] = (xx[: h // 2, : w // 2] % 2).float()
    x[h // 2:, w // 2:] = ((xx + yy)[h // 2:, w // 2:] % 2).float() * 2 - 0.5
    return x


images = []  # each stored once; cases name theirs by index
resize_cases = []
for (h, w), (oh, ow) in [
    ((32, 32), (14, 14)),  # 512 -> 224 in small
    ((37, 29), (11, 17)),  # odd, non-square, different scales per dimension
    ((40, 24), (9, 24)),  # one dimension kept
    ((9, 13), (20, 31)),  # upsampling
    ((12, 20), (5, 41)),  # down one way, up the other
    ((8, 8), (1, 1)),  # one output pixel
    ((1, 16), (1, 5)),  # one row
    ((30, 30), (29, 7)),  # barely and strongly down
]:
    img = image(h, w)
    images.append(ser(img))
    for mode in ["bilinear", "bicubic"]:
        for aa in [False, True]:
            out = TF.resize(img[None], [oh, ow], MODES[mode], antialias=aa)[0]
            resize_cases.append({"image": len(images) - 1, "size": [oh, ow],
                                 "interpolation": mode, "antialias": aa, "out": ser(out)})
img = image(11, 7)
images.append(ser(img))
resize_cases.append({"image": len(images) - 1, "size": [4, 15], "interpolation": "nearest",
                     "antialias": False,
                     "out": ser(TF.resize(img[None], [4, 15], MODES["nearest"])[0])})

crop_cases = []
img = image(40, 36)
images.append(ser(img))
for (top, left, h, w, size, mode, aa) in [
    (3, 5, 30, 25, [12, 10], "bilinear", True),
    (0, 0, 40, 36, [13, 13], "bicubic", True),
    (7, 2, 21, 33, [8, 30], "bicubic", False),
    (10, 10, 9, 9, [20, 20], "bilinear", True),
]:
    out = TF.resized_crop(img[None], top, left, h, w, size, MODES[mode], antialias=aa)[0]
    crop_cases.append({"image": len(images) - 1, "box": [top, left, h, w], "size": size,
                       "interpolation": mode, "antialias": aa, "out": ser(out)})

short_cases = []
img = image(30, 48)
images.append(ser(img))
for size, max_size, mode, aa in [(12, None, "bilinear", True), (10, 14, "bicubic", True),
                                 (20, None, "bicubic", False)]:
    out = T.Resize(size, MODES[mode], max_size=max_size, antialias=aa)(img[None])[0]
    short_cases.append({"image": len(images) - 1, "size": size, "maxSize": max_size,
                        "interpolation": mode, "antialias": aa, "out": ser(out)})

interp_cases = []


def interp(name, shape, opts):
    """opts: this library's option names; torch's F.interpolate gets them in snake_case."""
    x = torch.randn(shape).requires_grad_(True)
    kw = {"size": opts.get("size"), "scale_factor": opts.get("scaleFactor"),
          "mode": opts["mode"], "align_corners": opts.get("alignCorners"),
          "antialias": opts.get("antialias", False)}
    out = F.interpolate(x, **kw)
    g = torch.rand(out.shape) * 2 + 0.5
    (out * g).sum().backward()
    interp_cases.append({"name": name, "opts": opts, "input": ser(x), "out": ser(out),
                         "G": ser(g), "grad": ser(x.grad)})


for mode in ["bilinear", "bicubic"]:
    interp(f"{mode} aa down 2.3x", [1, 1, 23, 23], {"size": [10, 10], "mode": mode,
                                                   "antialias": True})
    interp(f"{mode} aa odd non-square", [1, 1, 17, 26], {"size": [7, 9], "mode": mode,
                                                        "antialias": True})
    interp(f"{mode} aa up", [1, 2, 5, 6], {"size": [11, 13], "mode": mode, "antialias": True})
    interp(f"{mode} aa down and up", [1, 1, 16, 5], {"size": [6, 12], "mode": mode,
                                                    "antialias": True})
    interp(f"{mode} aa height kept", [1, 1, 7, 20], {"size": [7, 6], "mode": mode,
                                                    "antialias": True})
    interp(f"{mode} aa scaleFactor", [1, 1, 19, 14], {"scaleFactor": [0.4, 0.3], "mode": mode,
                                                     "antialias": True})
    interp(f"{mode} aa alignCorners", [1, 1, 15, 12], {"size": [6, 5], "mode": mode,
                                                      "antialias": True, "alignCorners": True})
    interp(f"{mode} aa to 1x1", [1, 1, 6, 9], {"size": [1, 1], "mode": mode, "antialias": True})
    interp(f"{mode} plain down", [1, 1, 13, 16], {"size": [7, 9], "mode": mode})

data = {"torch": torch.__version__, "images": images, "resize": resize_cases, "resizedCrop": crop_cases,
        "resizeShort": short_cases, "interpolate": interp_cases}
with open(OUT, "w") as f:
    json.dump(data, f, separators=(",", ":"))
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
