"""Writes tests/fixtures/autoaugment.json: torchvision 0.14's numbers for the automatic
augmentations (AutoAugment, RandAugment, TrivialAugmentWide, AugMix) and the colour ops
they use (F.adjust_sharpness, F.autocontrast, F.equalize), on one-channel images.

torchvision's automatic augmentations expect uint8 tensors (posterize and equalize
refuse floats, and the Solarize magnitudes are uint8 thresholds, 255 down to 0). This
library's images are floats in [0, 1]; the ops run as torchvision's on such a float
image ("float" below), except the uint8-only ones:

  Posterize, Equalize  float -> uint8 (convert_image_dtype), torchvision's op, back to float
  Solarize             F.solarize on the float image with threshold magnitude / 255

On an image on the 1/255 grid (k / 255 for uint8 k) this equals torchvision on the uint8
image, divided by 255, for these three ops: the script asserts it.

  sharpness, autocontrast  F.adjust_sharpness / F.autocontrast on [1, H, W] floats
  equalize                 F.equalize on uint8 levels (a 32x32 image; small images have
                           step 0 and stay unchanged)
  ops                      _apply_op (the float semantics above) per op, magnitude,
                           interpolation and fill
  spaces                   each class's _augmentation_space: op names in order, magnitudes
                           (float32, as torchvision's tensors: torch.linspace's last bit
                           depends on its CPU kernel, here the AVX2 build's), signed
  policies                 AutoAugment's three policy tables
  runs                     whole forward() calls of the four classes with the module's
                           _apply_op replaced by the float one above plus a log of the ops
                           drawn (and, for AugMix, of the Dirichlet draws): the ops in order
                           and the output; a test replays the ops

Deterministic; run with /usr/bin/python3 scripts/make_autoaugment_fixtures.py
"""
import json
import os

import torch
import torchvision
import torchvision.transforms.autoaugment as AA
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode

from fixture_json import enc

torch.manual_seed(1402)
torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "autoaugment.json")
MODES = {"nearest": InterpolationMode.NEAREST, "bilinear": InterpolationMode.BILINEAR}
ORIGINAL_APPLY_OP = AA._apply_op


def flat(t):
    return [enc(v) for v in t.reshape(-1).tolist()]


def rec(img):
    return {"width": img.shape[-1], "height": img.shape[-2], "data": flat(img)}


def on_grid(h, w):
    """A [1, h, w] float image of uint8 levels / 255, and the uint8 image."""
    u8 = torch.randint(0, 256, (1, h, w), dtype=torch.uint8)
    return u8.float() / 255, u8


def to_u8(x):
    return F.convert_image_dtype(x, torch.uint8)


def to_f(u8):
    return F.convert_image_dtype(u8, torch.float32)


def float_op(img, name, magnitude, interpolation, fill):
    """_apply_op on a float image, with the uint8-only ops through uint8 levels."""
    if name in ("Posterize", "Equalize"):
        return to_f(ORIGINAL_APPLY_OP(to_u8(img), name, magnitude, interpolation, fill))
    if name == "Solarize":
        return F.solarize(img, magnitude / 255)
    return ORIGINAL_APPLY_OP(img, name, magnitude, interpolation, fill)


fx = {"torchvision": torchvision.__version__}

# -- the colour ops ---------------------------------------------------------------------
img = torch.rand(1, 9, 11)
img[0, 4, 5] = 0.0  # the blur's clamp at black
img[0, 2, 3] = 1.0
fx["sharpness"] = [
    {"input": rec(img), "factor": f, "out": flat(F.adjust_sharpness(img, f))} for f in [0, 0.4, 1, 2.5, 6]
]
tiny = torch.rand(1, 2, 5)
fx["sharpness"].append({"input": rec(tiny), "factor": 3.0, "out": flat(F.adjust_sharpness(tiny, 3.0))})
narrow = 0.3 + 0.2 * torch.rand(1, 6, 7)
flat_img = torch.full((1, 3, 4), 0.4)
fx["autocontrast"] = [{"input": rec(x), "out": flat(F.autocontrast(x))} for x in [narrow, img, flat_img]]

# equalize: torchvision's uint8 op; inputs as levels (uint8), outputs as levels
levels = (torch.randn(1, 32, 32) * 30 + 90).round().clamp(0, 255).to(torch.uint8)
sparse = torch.where(torch.rand(1, 32, 32) < 0.5, 40, 200).to(torch.uint8)
two = torch.full((1, 32, 32), 7, dtype=torch.uint8)
two[0, :3] = 250  # nonzero_hist[:-1].sum() = 928: step 3
fx["equalize"] = [
    {"width": 32, "height": 32, "levels": flat(x), "out": flat(F.equalize(x))}
    for x in [levels, sparse, two]
]

# -- every op of _apply_op, as this library defines it on float images ----------------------
img, u8 = on_grid(9, 11)
cases = []
mags = {
    "Identity": [0.0],
    "ShearX": [0.3, -0.21, 0.99],
    "ShearY": [0.3, -0.17],
    "TranslateX": [4.7, -3.2],
    "TranslateY": [2.0, -4.9],
    "Rotate": [30.0, -13.5, 135.0],
    "Brightness": [0.5, -0.9],
    "Color": [0.6, -0.9],
    "Contrast": [0.7, -0.6],
    "Sharpness": [0.9, -0.8],
    "Posterize": [8.0, 4.0, 2.0, 0.0],
    "Solarize": [255.0, 127.5, 85.0, 0.0],
    "AutoContrast": [0.0],
    "Equalize": [0.0],
    "Invert": [0.0],
}
for name, ms in mags.items():
    for m in ms:
        settings = [("nearest", None)]
        if name in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"):
            settings += [("bilinear", None), ("nearest", [0.5])]
        for mode, fill in settings:
            out = float_op(img, name, m, MODES[mode], fill)
            if name in ("Posterize", "Equalize", "Solarize"):
                # On the 1/255 grid this is torchvision on uint8.
                want = ORIGINAL_APPLY_OP(u8, name, m, MODES[mode], fill)
                assert torch.equal(to_u8(out), want) and torch.allclose(out, want.float() / 255), name
            cases.append({"op": name, "magnitude": m, "interpolation": mode,
                          "fill": fill[0] if fill else None, "out": flat(out)})
fx["ops_input"] = rec(img)
fx["ops"] = cases

# Off the grid: posterize and equalize quantise as convert_image_dtype does.
off = torch.rand(1, 16, 16) * 0.5 + 0.2
fx["ops_off_grid"] = {
    "input": rec(off),
    "cases": [
        {"op": n, "magnitude": m, "out": flat(float_op(off, n, m, MODES["nearest"], None))}
        for n, m in [("Posterize", 3.0), ("Equalize", 0.0), ("Solarize", 100.0), ("AutoContrast", 0.0)]
    ],
}


# -- augmentation spaces and policies ---------------------------------------------------------
def space(d):
    return [
        {"op": k, "signed": s, "magnitudes": flat(m.float()) if m.ndim > 0 else None}
        for k, (m, s) in d.items()
    ]


fx["spaces"] = {
    "autoaugment": space(AA.AutoAugment()._augmentation_space(10, (9, 11))),
    "autoaugment_224": space(AA.AutoAugment()._augmentation_space(10, (224, 200))),
    "randaugment": space(AA.RandAugment()._augmentation_space(31, (9, 11))),
    "randaugment_9": space(AA.RandAugment()._augmentation_space(9, (64, 48))),
    "randaugment_5": space(AA.RandAugment()._augmentation_space(5, (32, 32))),
    "randaugment_40": space(AA.RandAugment()._augmentation_space(40, (320, 256))),
    "trivialaugment": space(AA.TrivialAugmentWide()._augmentation_space(31)),
    "trivialaugment_13": space(AA.TrivialAugmentWide()._augmentation_space(13)),
    "augmix": space(AA.AugMix()._augmentation_space(10, (9, 11))),
    "augmix_basic": space(AA.AugMix(all_ops=False)._augmentation_space(10, (30, 20))),
}
fx["policies"] = {
    p.value: [[list(op) for op in pair] for pair in AA.AutoAugment(p).policies]
    for p in AA.AutoAugmentPolicy
}

# -- whole forward() calls, replayed in the test -------------------------------------------------
LOG = []


def logged_apply_op(img, name, magnitude, interpolation, fill):
    LOG.append({"op": name, "magnitude": magnitude})
    return float_op(img, name, magnitude, interpolation, fill)


AA._apply_op = logged_apply_op
runs = []
img, _ = on_grid(9, 11)
fx["runs_input"] = rec(img)
transforms = [
    ("AutoAugment", {"policy": "imagenet"}, AA.AutoAugment(AA.AutoAugmentPolicy.IMAGENET)),
    ("AutoAugment", {"policy": "svhn", "fill": 0.25},
     AA.AutoAugment(AA.AutoAugmentPolicy.SVHN, fill=[0.25])),
    ("RandAugment", {"numOps": 3, "magnitude": 12}, AA.RandAugment(num_ops=3, magnitude=12)),
    ("RandAugment", {"interpolation": "bilinear"},
     AA.RandAugment(interpolation=InterpolationMode.BILINEAR)),
    ("TrivialAugmentWide", {}, AA.TrivialAugmentWide()),
]
for name, opts, t in transforms:
    for seed in range(8):
        torch.manual_seed(seed)
        LOG.clear()
        out = t(img)
        runs.append({"name": name, "options": opts, "ops": list(LOG), "out": flat(out)})


class LoggedAugMix(AA.AugMix):
    def _sample_dirichlet(self, params):
        d = torch._sample_dirichlet(params)
        DIRICHLET.append(d)
        return d


class TorchWithDepthLog:
    """The torch module as autoaugment.py sees it, logging AugMix's chain-depth draws."""

    def __getattr__(self, name):
        return getattr(torch, name)

    def randint(self, *args, **kwargs):
        r = torch.randint(*args, **kwargs)
        if kwargs.get("low") == 1 and kwargs.get("high") == 4:
            DEPTHS.append(int(r.item()))
        return r


DIRICHLET, DEPTHS = [], []
AA.torch = TorchWithDepthLog()
for opts, kw in [({}, {}), ({"mixtureWidth": 2, "chainDepth": 2, "severity": 10, "allOps": False},
                            {"mixture_width": 2, "chain_depth": 2, "severity": 10, "all_ops": False})]:
    t = LoggedAugMix(**kw)
    for seed in range(4):
        torch.manual_seed(seed)
        LOG.clear()
        DIRICHLET.clear()
        DEPTHS.clear()
        out = t(img)
        m, w = DIRICHLET
        combined = w * m[:, 1].view(1, -1)
        depths = DEPTHS if t.chain_depth <= 0 else [t.chain_depth] * t.mixture_width
        assert len(depths) == t.mixture_width and sum(depths) == len(LOG)
        chains, at = [], 0
        for i, d in enumerate(depths):
            chains.append({"weight": enc(float(combined[0, i])), "ops": LOG[at:at + d]})
            at += d
        runs.append({"name": "AugMix", "options": opts, "original": enc(float(m[0, 0])),
                     "chains": chains, "out": flat(out)})
AA.torch = torch
AA._apply_op = ORIGINAL_APPLY_OP
fx["runs"] = runs

with open(OUT, "w") as f:
    json.dump(fx, f, separators=(",", ":"))
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
