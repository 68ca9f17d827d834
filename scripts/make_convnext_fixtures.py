"""Writes tests/fixtures/convnext.json (tests/convnext_test.ts) from
torchvision 0.14's ConvNeXt.

  "full": convnext_tiny, convnext_small, convnext_base and convnext_large with
      their defaults (3 channels, 1000 classes), built without weights: the
      parameter count, the state-dict names (stored once per distinct list:
      small, base and large share theirs) and shapes in order, and every
      block's stochastic-depth probability. Also the parameter count of
      convnext_tiny for 1 channel and 3 classes (features[0][0] replaced, as a
      CT user does: torchvision's stem takes 3 channels).
  "small": a reduced ConvNeXt built through torchvision's own class,
      ConvNeXt([CNBlockConfig(4, 8, 1), CNBlockConfig(8, 16, 1),
      CNBlockConfig(16, None, 1)], stochastic_depth_prob=0.1, num_classes=3),
      stem replaced by Conv2d(1, 4, 4, stride 4): every module with its class
      and hyper-parameters; all its weights (random, and layer_scale drawn
      from [0.5, 1.5] so the blocks count, where 1e-6 would hide them); for
      x [2, 1, 32, 32]: the eval logits, a random upstream gradient G and the
      gradients of sum(out * G) for x and every parameter; then one
      torch.optim.SGD step (lr 0.1, momentum 0.9, weight decay 1e-4) on that
      loss: the parameters and eval logits after it.

The weights and the input are rounded to 4 significant digits first (short
to store, and exactly the float32 values used); the other values are
written with 9 significant digits (exactly the float32 values).
Deterministic (torch.manual_seed). Run:
/usr/bin/python3 scripts/make_convnext_fixtures.py
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.convnext import CNBlock, CNBlockConfig, ConvNeXt
from torchvision.ops import StochasticDepth
from torchvision.ops.misc import Permute

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import enc, randn, ser  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "convnext.json")
FULL = ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]
# The parameters whose whole gradient and value after the step are stored: each kind of layer.
WHOLE = [
    "features.0.0.weight", "features.0.0.bias", "features.0.1.weight", "features.1.0.layer_scale",
    "features.1.0.block.0.weight", "features.1.0.block.2.weight", "features.1.0.block.3.weight",
    "features.1.0.block.5.bias", "features.2.0.bias", "features.2.1.weight", "features.3.0.block.0.bias",
    "features.5.0.layer_scale", "features.5.0.block.2.bias", "classifier.0.weight", "classifier.2.weight",
    "classifier.2.bias",
]


def replace_stem(m, in_channels):
    """features[0][0] with `in_channels` inputs (same out channels, kernel, stride, bias)."""
    old = m.features[0][0]
    m.features[0][0] = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride, bias=True)
    return m


def probabilities(m):
    return [enc(b.stochastic_depth.p) for b in m.modules() if isinstance(b, CNBlock)]


def full_fixture():
    out, names = [], {}
    for name in FULL:
        m = getattr(torchvision.models, name)()
        keys = list(m.state_dict().keys())
        same = next((k for k, v in names.items() if v == keys), None)
        if same is None:
            names[name] = keys
        out.append({
            "model": name,
            "numParams": sum(p.numel() for p in m.parameters()),
            "keys": keys if same is None else same,
            "shapes": [list(v.shape) for v in m.state_dict().values()],
            "stochasticDepth": probabilities(m),
        })
        if name == "convnext_tiny":
            ct = replace_stem(torchvision.models.convnext_tiny(num_classes=3), 1)
            out[-1]["numParamsCT"] = sum(p.numel() for p in ct.parameters())
    return out


def describe(m):
    """A module's class and the hyper-parameters we compare."""
    t = type(m).__name__
    if isinstance(m, nn.Conv2d):
        return [t, m.in_channels, m.out_channels, list(m.kernel_size), list(m.stride), list(m.padding),
                m.groups, m.bias is not None]
    if isinstance(m, nn.LayerNorm):  # LayerNorm2d too
        return [t, list(m.normalized_shape), enc(m.eps), m.elementwise_affine]
    if isinstance(m, StochasticDepth):
        return [t, enc(m.p), m.mode]
    if isinstance(m, nn.Linear):
        return [t, m.in_features, m.out_features, m.bias is not None]
    if isinstance(m, Permute):
        return [t, list(m.dims)]
    if isinstance(m, nn.GELU):
        return [t, m.approximate]
    if isinstance(m, nn.Flatten):
        return [t, m.start_dim, m.end_dim]
    return [t]


def randomize(m):
    """Weights that make every part count: fan-in scaled convolutions and Linears, norms near 1."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                b = (3.0 / fan_in) ** 0.5
                mod.weight.uniform_(-b, b)
                mod.bias.normal_(0, 0.1)
            elif isinstance(mod, nn.LayerNorm):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.1)
            elif isinstance(mod, CNBlock):
                mod.layer_scale.uniform_(0.5, 1.5)
        for p in m.parameters():
            p.copy_(short(p))


def short(t):
    """t rounded to 4 significant digits: stored short, and read back as the same float32."""
    return torch.tensor([float("%.4g" % v) for v in t.reshape(-1).tolist()]).reshape(t.shape)


def ser_short(t):
    """A tensor that `short` made, written with its 4 digits."""
    data = [float("%.4g" % v) for v in t.detach().reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": [int(v) if v == int(v) else v for v in data]}


def small_fixture():
    setting = [CNBlockConfig(4, 8, 1), CNBlockConfig(8, 16, 1), CNBlockConfig(16, None, 1)]
    m = replace_stem(ConvNeXt(setting, stochastic_depth_prob=0.1, num_classes=3), 1)
    randomize(m)
    weights = {k: ser_short(v) for k, v in m.state_dict().items()}
    x = short(torch.randn(2, 1, 32, 32))
    m.eval()
    with torch.no_grad():
        logits = m(x)
    xg = x.clone().requires_grad_(True)
    out = m(xg)
    g = randn(*out.shape)
    loss = (out * g).sum()
    params = list(m.named_parameters())
    grads = torch.autograd.grad(loss, [xg] + [p for _, p in params])
    # The step, from the same loss (its gradients recomputed by backward).
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    opt.zero_grad()
    (m(x) * g).sum().backward()
    opt.step()
    with torch.no_grad():
        after = m(x)
    return {
        "setting": [[s.input_channels, s.out_channels, s.num_layers] for s in setting],
        "options": {"inChannels": 1, "numClasses": 3, "stochasticDepthProb": 0.1},
        "modules": [[k, *describe(v)] for k, v in m.named_modules()],
        "weights": weights,
        "input": ser_short(x),
        "evalLogits": ser(logits),
        "upstream": ser(g),
        "inputGrad": ser(grads[0]),
        "gradAbsSums": {k: enc(gr.abs().sum().item()) for (k, _), gr in zip(params, grads[1:])},
        "grads": {k: ser(gr) for (k, _), gr in zip(params, grads[1:]) if k in WHOLE},
        "sgd": {"lr": 0.1, "momentum": 0.9, "weightDecay": 1e-4},
        "paramsAfter": {k: ser(p) for k, p in m.named_parameters() if k in WHOLE},
        "logitsAfter": ser(after),
    }


def main():
    torch.manual_seed(20260701)
    fixture = {"full": full_fixture(), "small": small_fixture()}
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
