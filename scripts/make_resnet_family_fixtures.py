"""Writes tests/fixtures/resnet_family.json (tests/resnet_family_test.ts) from
torchvision 0.14's resnet101, resnet152, resnext50_32x4d, resnext101_32x8d,
wide_resnet50_2 and wide_resnet101_2.

  structure
      For each, at 3 channels / 1000 classes: the parameter count, the number
      of state-dict entries and the SHA-256 of their "name|shape|dtype" lines
      (one per entry, in order, joined by newlines; the test hashes its own
      the same way), the first block's convolutions of each stage
      (in, out, kernel, stride, groups), and for resnext50_32x4d the whole
      state dict, so a difference can be read.
  numerics
      resnext50_32x4d and wide_resnet50_2 (the grouped and the wide path), 1
      channel (conv1 replaced, as torchvision users do) and 3 classes, every
      parameter and buffer filled by the formula of
      make_resnet3d_fixtures.py (`fill`; tests/model_fixture.ts computes the
      same) and each block's bn3 weight tamed (`tame`), input [2, 1, 64, 64]
      by that formula. In float64 (with torch's
      float32 difference as `noise`): evaluation logits; for an upstream
      gradient G (the formula again) the gradients of sum(logits * G) in
      evaluation mode for the input and a few parameters (the grouped 3x3
      ones among them), whole or sampled; and the training-mode logits
      (batch statistics: the convolution-moments path with groups).

Deterministic. Run: /usr/bin/python3 scripts/make_resnet_family_fixtures.py
"""
import hashlib
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_resnet3d_fixtures import fill, formula  # noqa: E402
from make_vgg_squeezenet_fixtures import stored  # noqa: E402

torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "resnet_family.json")
NAMES = ["resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2",
         "wide_resnet101_2"]


def lines(m):
    return [f"{k}|{','.join(map(str, v.shape))}|{str(v.dtype).replace('torch.', '')}"
            for k, v in m.state_dict().items()]


def conv(c):
    return [c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.groups]


def structure():
    out = []
    for name in NAMES:
        m = getattr(torchvision.models, name)()
        entries = lines(m)
        case = {
            "model": name,
            "numParams": sum(p.numel() for p in m.parameters()),
            "entries": len(entries),
            "sha256": hashlib.sha256("\n".join(entries).encode()).hexdigest(),
            "firstBlocks": [[conv(b.conv1), conv(b.conv2), conv(b.conv3)]
                            for b in (m.layer1[0], m.layer2[0], m.layer3[0], m.layer4[0])],
        }
        if name == "resnext50_32x4d":
            case["state"] = entries
        out.append(case)
        del m
    return out


def build(name):
    m = getattr(torchvision.models, name)(num_classes=3)
    m.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return m


def tame(m):
    """After `fill`: each block's last batch-norm weight from the formula in [0.1, 0.3] (by its
    state-dict index, as fill numbers them), so a residual branch adds a fifth of its input's
    size or less. With fill's [0.5, 1.5] the 16 blocks grow the activations to 1e9 in
    evaluation, where float32 rounding, not the code, decides the gradients."""
    state = m.state_dict()
    with torch.no_grad():
        for p, (k, v) in enumerate(state.items()):
            if k.endswith("bn3.weight"):
                v.copy_(formula(p, list(v.shape), 0.1, 0.3))


def numerics_case(name, grads):
    m = build(name)
    fill(m)
    tame(m)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    x = formula(1000, [2, 1, 64, 64], -1, 1)
    out = {}
    for dtype in (torch.float32, torch.float64):
        m = build(name)
        m.load_state_dict(state)
        m = m.to(dtype).eval()
        xg = x.to(dtype).clone().requires_grad_(True)
        logits = m(xg)
        g = formula(1001, list(logits.shape), -1, 1).to(dtype)
        params = dict(m.named_parameters())
        wanted = [xg] + [params[k] for k in grads]
        got = torch.autograd.grad(logits, wanted, g)
        m.train()
        with torch.no_grad():
            train_logits = m(x.to(dtype))
        out[dtype] = (logits, got, train_logits)
    (l32, g32, t32), (l64, g64, t64) = out[torch.float32], out[torch.float64]
    return {
        "model": name,
        "options": {"inChannels": 1, "numClasses": 3},
        "input": [2, 1, 64, 64],
        "evalLogits": stored(l64, 64, l32),
        "inputGrad": stored(g64[0], 1024, g32[0]),
        "grads": {k: stored(g64[i + 1], full, g32[i + 1]) for i, (k, full) in enumerate(grads.items())},
        "trainLogits": stored(t64, 64, t32),
    }


def numerics():
    grads = {"conv1.weight": 512, "layer1.0.conv2.weight": 512, "layer3.5.conv2.weight": 512,
             "layer4.2.bn2.weight": 256, "fc.weight": 512, "fc.bias": 8}
    return [numerics_case("resnext50_32x4d", grads), numerics_case("wide_resnet50_2", grads)]


def main():
    data = {"structure": structure(), "numerics": numerics()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
