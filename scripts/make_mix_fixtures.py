"""Fixtures for tests/mix_test.ts: MixUp and CutMix as torchvision 0.16's
transforms.v2 compute them, for given lambdas and CutMix centres.

torchvision 0.14 (Debian's) has no v2.MixUp / v2.CutMix, so this script
runs their `_get_params` box arithmetic and `_transform` lines as 0.16
writes them (labels: one_hot(...).float() rolled by one and mixed; images:
`inpt.roll(1, 0).mul_(1.0 - lam).add_(inpt.mul(lam))` and the pasted box),
on torch 1.13 tensors. The lambdas are given, not drawn: torch's Beta
sampler cannot be replayed in Deno. Writes tests/fixtures/mix.json.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


def mix_labels(labels, num_classes, lam):
    y = F.one_hot(labels, num_classes=num_classes).float()
    return y.roll(1, 0).mul_(1.0 - lam).add_(y.mul(lam))


def cutmix_box(lam, r_x, r_y, H, W):
    r_x = torch.tensor([r_x])
    r_y = torch.tensor([r_y])
    r = 0.5 * math.sqrt(1.0 - lam)
    r_w_half = int(r * W)
    r_h_half = int(r * H)
    x1 = int(torch.clamp(r_x - r_w_half, min=0))
    y1 = int(torch.clamp(r_y - r_h_half, min=0))
    x2 = int(torch.clamp(r_x + r_w_half, max=W))
    y2 = int(torch.clamp(r_y + r_h_half, max=H))
    lam_adjusted = float(1.0 - (x2 - x1) * (y2 - y1) / (W * H))
    return (x1, y1, x2, y2), lam_adjusted


mixup = []
for n, c, h, w, k, lam in [(4, 1, 5, 6, 3, 0.3), (3, 2, 4, 4, 3, 0.8125), (1, 1, 3, 3, 2, 0.5),
                           (5, 1, 2, 7, 4, 0.0), (2, 1, 3, 2, 3, 1.0), (6, 3, 4, 5, 5, 0.123456789)]:
    x = torch.randn(n, c, h, w)
    labels = torch.randint(0, k, (n,))
    out = x.roll(1, 0).mul_(1.0 - lam).add_(x.mul(lam))
    mixup.append({"x": ser(x), "labels": ser(labels), "numClasses": k, "lam": lam,
                  "out": ser(out), "y": ser(mix_labels(labels, k, lam))})

cutmix = []
for n, c, h, w, k, lam, rx, ry in [(4, 1, 8, 8, 3, 0.3, 2, 5), (3, 2, 6, 9, 3, 0.9, 8, 0),
                                   (2, 1, 7, 5, 2, 0.0, 4, 6), (3, 1, 5, 5, 3, 1.0, 2, 2),
                                   (5, 1, 10, 12, 4, 0.55, 0, 9), (2, 3, 4, 4, 3, 0.01, 3, 3)]:
    x = torch.randn(n, c, h, w)
    labels = torch.randint(0, k, (n,))
    (x1, y1, x2, y2), lam_adj = cutmix_box(lam, rx, ry, h, w)
    rolled = x.roll(1, 0)
    out = x.clone()
    out[..., y1:y2, x1:x2] = rolled[..., y1:y2, x1:x2]
    cutmix.append({"x": ser(x), "labels": ser(labels), "numClasses": k, "lam": lam, "rx": rx,
                   "ry": ry, "box": [x1, y1, x2, y2], "lamAdjusted": lam_adj, "out": ser(out),
                   "y": ser(mix_labels(labels, k, lam_adj))})

with open(os.path.join(HERE, "..", "tests", "fixtures", "mix.json"), "w") as f:
    json.dump({"torch": torch.__version__, "mixup": mixup, "cutmix": cutmix}, f)
print("mix.json:", len(mixup), "mixup,", len(cutmix), "cutmix cases")
