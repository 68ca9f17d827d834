"""Writes tests/fixtures/bf16_grads.json (tests/bf16_grads_test.ts): how far
PyTorch 1.13's CPU autocast to bfloat16 moves each parameter's gradient from
its fp32 gradient, on whole models, in training and evaluation mode.

Models (batch 8 of 1 x 64 x 64 images, 3 classes, cross-entropy loss):
  resnet18   torchvision's, conv1 replaced by Conv2d(1, 64, 7, 2, 3), as a CT
             user does; "train" (batch statistics) and "eval" modes.
  simple_bn  the library's simple CNN (models.create("simple", { imageSize: 64,
             dropout: 0, batchNorm: true })) rebuilt with the same names;
             "train" and "eval".
  simple     the same without batch norm; "train" only (no layer that eval
             changes; dropout 0, as dropout's masks cannot match).
  vit        torchvision's VisionTransformer(64, patch 8, 2 layers, 4 heads,
             hidden 32, MLP 64, 3 classes), conv_proj for 1 channel; "train"
             only (nothing that eval changes). LayerNorm runs in fp32 under
             autocast: 1.13's CPU autocast cannot run it on the bf16 output
             of a Linear; later releases run it in fp32.

The weights and the input are not stored: they come from a counter-based
hash (lowbias32) seeded by each parameter's name, which the test reproduces
bit for bit (`value` below and `value` in the test). Conv and Linear weights
are uniform with bound sqrt(6 / fan_in), 1-D weights (norms) 1 +- 0.2, the
rest (biases, class token, position embedding) +-0.1, the input uniform
with variance 1, labels i % 3. Batch-norm running statistics are set by one
training-mode forward pass with momentum 1 (the batch's own statistics),
so evaluation mode normalises as a trained model's would.

Stored per model, mode and parameter (in `namedParameters` order):
  [name, norm, err, p1, p2, noise]
  norm   ||g32||, the fp32 gradient's norm
  err    ||g16 - g32|| / ||g32||: autocast's gradient g16 against g32
  p1, p2 sqrt(n) <g32, r> / (||g32|| ||r||) for two hashed vectors r:
         a fingerprint of g32, with which the test checks that its own fp32
         gradient is the same one (so the same weights and input)
  noise  1 where g32 is itself rounding noise (more than 1e-3 from the fp64
         gradient: a convolution bias before training-mode batch norm, whose
         exact gradient is 0), else 0
and the losses in fp32 and under autocast. 9 significant digits.
Run: /usr/bin/python3 scripts/make_bf16_grad_fixtures.py (PyTorch 1.13).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import enc  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(0)  # nothing below draws from torch's generator; set for the builders
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "bf16_grads.json")
M32 = np.uint64(0xFFFFFFFF)
BATCH, SIZE = 8, 64


def fnv1a(s):
    h = 0x811C9DC5
    for c in s.encode():
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(n, seed):
    """n values in [-1, 1): lowbias32(i * 0x9E3779B9 + seed), its top 24 bits."""
    x = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B9) + np.uint64(seed)) & M32
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & M32
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & M32
    x ^= x >> np.uint64(16)
    return (x >> np.uint64(8)).astype(np.float64) / 2.0 ** 24 * 2.0 - 1.0


def value(name, shape):
    """The parameter `name`'s values (float64 arithmetic, then rounded to float32)."""
    u = uniform(int(np.prod(shape)), fnv1a(name))
    if name.endswith("weight") and len(shape) >= 2:
        v = u * np.sqrt(6.0 / int(np.prod(shape[1:])))
    elif name.endswith("weight"):
        v = 1.0 + 0.2 * u
    else:
        v = 0.1 * u
    return torch.from_numpy(v.astype(np.float32)).reshape(shape)


class SimpleCNN(nn.Module):
    """The library's simple CNN at 64 x 64 (src/models/simple_cnn.ts), its names."""

    def __init__(self, bn):
        super().__init__()
        layers, c = [], 1
        for k in (16, 32, 64, 128):
            layers += [nn.Conv2d(c, k, 3, padding=1)]
            layers += [nn.BatchNorm2d(k)] if bn else []
            layers += [nn.ReLU(), nn.MaxPool2d(2)]
            c = k
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(128 * 4 * 4, 256), nn.ReLU(), nn.Dropout(0.0),
                                        nn.Linear(256, 3))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def resnet18():
    m = torchvision.models.resnet18(num_classes=3)
    m.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
    return m


def vit():
    m = VisionTransformer(SIZE, 8, 2, 4, 32, 64, num_classes=3)
    m.conv_proj = nn.Conv2d(1, 32, 8, stride=8)
    return m


MODELS = {
    "resnet18": (resnet18, ["train", "eval"]),
    "simple_bn": (lambda: SimpleCNN(True), ["train", "eval"]),
    "simple": (lambda: SimpleCNN(False), ["train"]),
    "vit": (vit, ["train"]),
}

x = torch.from_numpy((uniform(BATCH * SIZE * SIZE, fnv1a("input")) * np.sqrt(3.0))
                     .astype(np.float32)).reshape(BATCH, 1, SIZE, SIZE)
y = torch.arange(BATCH) % 3


def calibrate(m):
    """Running statistics = the batch's statistics (one training-mode pass, momentum 1)."""
    bns = [b for b in m.modules() if isinstance(b, nn.BatchNorm2d)]
    for b in bns:
        b.momentum = 1.0
    m.train()
    with torch.no_grad():
        m(x)
    for b in bns:
        b.momentum = 0.1


def fp32_layer_norm(self, t):
    return F.layer_norm(t.float(), self.normalized_shape, self.weight, self.bias, self.eps)


def gradients(m, state, mode, bf16=False, dtype=torch.float32):
    """The loss and every parameter's gradient (float64 numpy), from `state`."""
    m.to(dtype).load_state_dict(state)
    m.zero_grad(set_to_none=True)
    m.train(mode == "train")
    plain = nn.LayerNorm.forward
    nn.LayerNorm.forward = fp32_layer_norm if bf16 else plain
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(m(x.to(dtype)).float(), y)
    finally:
        nn.LayerNorm.forward = plain
    loss.backward()
    grads = [p.grad.detach().double().reshape(-1).numpy() for _, p in m.named_parameters()]
    m.float()
    return loss.item(), grads


def fingerprint(name, g):
    n = g.size
    out = []
    for j in (1, 2):
        r = uniform(n, fnv1a(f"{name}#{j}"))
        out.append(np.sqrt(n) * float(g @ r) / (np.linalg.norm(g) * np.linalg.norm(r)))
    return out


def case(build, modes):
    m = build()
    with torch.no_grad():
        for k, p in m.named_parameters():
            p.copy_(value(k, list(p.shape)))
    calibrate(m)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    names = [k for k, _ in m.named_parameters()]
    out = {}
    for mode in modes:
        loss32, g32 = gradients(m, state, mode)
        loss16, g16 = gradients(m, state, mode, bf16=True)
        _, g64 = gradients(m, {k: v.double() if v.is_floating_point() else v
                               for k, v in state.items()}, mode, dtype=torch.float64)
        rows = []
        for k, a, b, c in zip(names, g32, g16, g64):
            norm = np.linalg.norm(a)
            noise = np.linalg.norm(a - c) > 1e-3 * np.linalg.norm(c)
            rows.append([k, enc(norm), enc(np.linalg.norm(b - a) / norm),
                         *[enc(v) for v in fingerprint(k, a)], int(noise)])
        out[mode] = {"loss": {"fp32": enc(loss32), "bf16": enc(loss16)}, "params": rows}
        print(mode, "loss fp32 %.6f bf16 %.6f" % (loss32, loss16),
              "noise:", [r[0] for r in rows if r[5]])
    return out


fixture = {"torch": torch.__version__, "batch": BATCH, "size": SIZE, "models": {}}
for name, (build, modes) in MODELS.items():
    print(name)
    fixture["models"][name] = case(build, modes)
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
