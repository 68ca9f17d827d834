"""Writes tests/fixtures/make_grid.json: torchvision 0.14's make_grid and
save_image for the option sets notebooks use to look at a batch of CT slices.

`grids` holds make_grid's inputs, options (in our camelCase spelling) and
output: batches of grey and RGB images, a single [C, H, W] or [H, W] image, a
list of images, a batch of one (no padding: torchvision returns the image),
normalize over the batch, per image (scaleEach) and over a given valueRange,
a constant image, padding 0 and padValue. `saves` holds save_image's inputs,
options and the pixels that PIL reads back from the PNG it wrote (row-major
[H, W, C] bytes), with inputs outside [0, 1] and on the rounding boundaries
of `mul(255).add_(0.5).clamp_(0, 255)` to uint8. Tensors are float32; inputs
are written with 9 significant digits (exact float32 round trip).

Run with /usr/bin/python3 scripts/make_grid_fixtures.py (PyTorch 1.13,
torchvision 0.14).
"""
import json
import os
import tempfile

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision.utils import make_grid, save_image

torch.set_num_threads(1)
torch.manual_seed(20261206)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "make_grid.json")

# torch's keyword -> ours
NAMES = {"nrow": "nrow", "padding": "padding", "normalize": "normalize",
         "value_range": "valueRange", "scale_each": "scaleEach", "pad_value": "padValue"}


def enc(v):
    r = float("%.9g" % v)
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ser(t):
    return {"shape": list(t.shape), "data": [enc(v) for v in t.reshape(-1).tolist()]}


def ours(kw):
    return {NAMES[k]: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}


def grid_case(name, x, **kw):
    out = make_grid(x, **kw)
    inp = [ser(t) for t in x] if isinstance(x, list) else ser(x)
    return {"name": name, "input": inp, "list": isinstance(x, list), "options": ours(kw),
            "output": ser(out)}


def save_case(name, x, **kw):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "grid.png")
        save_image(x, path, **kw)
        im = Image.open(path)
        px = np.array(im)
        mode = im.mode
    if px.ndim == 2:
        px = px[:, :, None]
    return {"name": name, "input": ser(x), "options": ours(kw), "mode": mode,
            "pixels": {"shape": list(px.shape), "data": px.reshape(-1).tolist()}}


grey = torch.randn(7, 1, 5, 4) * 300 + 40  # HU-like values
rgb = torch.rand(5, 3, 4, 4)
grids = [
    grid_case("grey batch, defaults", grey),
    grid_case("grey batch nrow 4", grey, nrow=4),
    grid_case("grey batch normalize", grey, nrow=4, normalize=True),
    grid_case("grey batch normalize scaleEach", grey, nrow=3, normalize=True, scale_each=True),
    grid_case("grey batch valueRange", grey, nrow=4, normalize=True, value_range=(-200.0, 250.0)),
    grid_case("grey batch valueRange scaleEach padValue", grey, nrow=5, padding=1,
              normalize=True, value_range=(-100.0, 100.0), scale_each=True, pad_value=1.0),
    grid_case("rgb nrow > batch, padding 0, padValue", rgb, nrow=8, padding=0, pad_value=0.5),
    grid_case("rgb 7 of nrow 3, padding 3", torch.rand(7, 3, 3, 2), nrow=3, padding=3,
              pad_value=-1.0),
    grid_case("one grey image [1, H, W]", torch.randn(1, 4, 5), normalize=True),
    grid_case("one rgb image [3, H, W]", torch.rand(3, 3, 4)),
    grid_case("one image [H, W]", torch.randn(3, 4)),
    grid_case("batch of one", torch.randn(1, 1, 3, 3), padding=4),
    grid_case("list of images", [torch.randn(1, 3, 4) for _ in range(3)], nrow=2,
              normalize=True),
    grid_case("constant images normalize", torch.full((2, 1, 2, 2), 7.0), normalize=True),
    grid_case("constant image scaleEach", torch.cat([torch.full((1, 1, 2, 2), 3.0),
                                                      torch.randn(2, 1, 2, 2)]),
              normalize=True, scale_each=True),
    grid_case("two channels", torch.rand(3, 2, 2, 3), nrow=2),
]

# Values on the rounding boundaries: (k + 0.5) / 255 and its float32 neighbours.
ks = torch.arange(0, 256, 7, dtype=torch.float64)
mid = ((ks + 0.5) / 255).float()
edges = torch.cat([mid, torch.nextafter(mid, torch.tensor(2.0)), torch.nextafter(mid, torch.tensor(-2.0)),
                   torch.tensor([-0.5, -0.0, 0.0, 1.0, 1.5, 1e-9, 0.999999])])
edges = torch.cat([edges, torch.rand(120 - edges.numel())])[:120].reshape(2, 1, 6, 10)
saves = [
    save_case("grey batch nrow 4 normalize valueRange", grey[:6], nrow=4, normalize=True,
              value_range=(-200.0, 250.0)),
    save_case("rounding boundaries", edges, nrow=2, padding=1, pad_value=0.25),
    save_case("rgb out of range", torch.rand(4, 3, 5, 3) * 1.4 - 0.2, nrow=3),
    save_case("one grey image", torch.rand(1, 7, 6)),
    save_case("two channels: LA", torch.rand(2, 2, 3, 3), padding=1),
    save_case("four channels: RGBA", torch.rand(2, 4, 3, 3), padding=1, pad_value=1.0),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
               "grids": grids, "saves": saves}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(grids)} grids, {len(saves)} saves, {os.path.getsize(OUT)} bytes")
