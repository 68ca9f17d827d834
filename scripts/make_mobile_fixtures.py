"""Writes tests/fixtures/mobile.json: torchvision 0.14's EfficientNet-B1..B7,
MobileNetV3 (Large, Small) and ShuffleNetV2 (x0.5 .. x2.0) against
src/models/efficientnet_b.ts, mobilenet_v3.ts and shufflenet.ts
(tests/mobile_zoo_test.ts).

  structure
      Each full-size model as torchvision's builder makes it (3 channels,
      1000 classes): the parameter count, and the count with 1 input channel
      and 3 classes (the stem convolution replaced as a CT user does, the
      builder's num_classes=3). Its state dict, one line per entry ("name
      shape dtype"), and its module tree, one line per module ("name class
      hyper-parameters": convolution channels, kernel, stride, padding,
      dilation, groups, bias; batch-norm eps and momentum, dropout and
      stochastic-depth p, each times 1e9 rounded, so both sides print the
      same integers; max-pool kernel, stride, padding), each stored gzip'd
      (mtime 0) and base64-encoded to keep the file small; the test inflates
      and compares them line by line.
  cases
      One reduced configuration per family, built through torchvision's own
      classes, 1 input channel (stem replaced), 3 classes: EfficientNet with
      B5's setting (norm eps 1e-3, momentum 0.01, dropout 0.4) at width
      0.25, depth 0.5, on 64 x 64; mobilenet_v3_large(width_mult=0.25);
      mobilenet_v3_small(width_mult=0.5, reduced_tail=True, dilated=True);
      ShuffleNetV2([2, 3, 2], [8, 16, 32, 64, 96]) on 64 x 64; the others on 32 x 32.
      Weights, batch-norm
      statistics and the input come from the formula of
      make_resnet3d_fixtures.py (`fill`, `formula`; nothing stored). In eval
      mode: the logits, and the gradients of sum(out * G) (G from the
      formula) for the input and a few parameters. Then in training mode
      (dropout and stochastic depth 0, so it is deterministic): the logits
      and a few batch norms' running statistics after that forward. A tensor
      of more than 256 values is stored as every stride-th value plus its sum
      and sum of squares (`stored`).

Run: /usr/bin/python3 scripts/make_mobile_fixtures.py (PyTorch 1.13, torchvision 0.14).
"""
import base64
import gzip
import json
import math
import os
import sys
from functools import partial

import torch
import torch.nn as nn
import torchvision
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf
from torchvision.models.shufflenetv2 import ShuffleNetV2
from torchvision.ops import StochasticDepth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import enc, ser  # noqa: E402
from make_resnet3d_fixtures import fill, formula, stored  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mobile.json")

# Registry name -> torchvision builder.
MODELS = {f"efficientnetb{i}": f"efficientnet_b{i}" for i in range(1, 8)}
MODELS.update({
    "mobilenetv3large": "mobilenet_v3_large",
    "mobilenetv3small": "mobilenet_v3_small",
    "shufflenetv2x0_5": "shufflenet_v2_x0_5",
    "shufflenetv2x1_0": "shufflenet_v2_x1_0",
    "shufflenetv2x1_5": "shufflenet_v2_x1_5",
    "shufflenetv2x2_0": "shufflenet_v2_x2_0",
})


def replace_stem(m, in_channels):
    """The stem convolution with `in_channels` inputs, as a CT user writes it."""
    holder, key = (m.conv1, 0) if isinstance(m, ShuffleNetV2) else (m.features[0], 0)
    old = holder[key]
    holder[key] = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride, old.padding,
                            bias=False)
    return m


def num_params(m):
    return sum(p.numel() for p in m.parameters())


def scaled(v):
    """A float hyper-parameter as an integer both languages print alike."""
    return math.floor(v * 1e9 + 0.5)


def describe(name, m):
    t = type(m).__name__
    if isinstance(m, nn.Conv2d):
        f = [m.in_channels, m.out_channels, *m.kernel_size, *m.stride, *m.padding, *m.dilation, m.groups,
             int(m.bias is not None)]
    elif isinstance(m, nn.BatchNorm2d):
        f = [m.num_features, scaled(m.eps), scaled(m.momentum)]
    elif isinstance(m, nn.Dropout):
        f = [scaled(m.p)]
    elif isinstance(m, StochasticDepth):
        f = [scaled(m.p), m.mode]
    elif isinstance(m, nn.Linear):
        f = [m.in_features, m.out_features]
    elif isinstance(m, nn.MaxPool2d):
        f = [m.kernel_size, m.stride, m.padding]
    else:
        f = []
    return " ".join(str(v) for v in [name or "-", t, *f])


def state_line(k, v):
    """"name 32,3,3,3 float32"; a scalar's shape is empty."""
    return f"{k} {','.join(str(d) for d in v.shape)} {str(v.dtype).replace('torch.', '')}"


def packed(lines):
    return base64.b64encode(gzip.compress("\n".join(lines).encode(), mtime=0)).decode()


def structure():
    out = {}
    for ours, theirs in MODELS.items():
        m = getattr(torchvision.models, theirs)()
        small = replace_stem(getattr(torchvision.models, theirs)(num_classes=3), 1)
        out[ours] = {
            "torchvision": theirs,
            "numParams": num_params(m),
            "numParams1ch3": num_params(small),
            "stateLines": len(m.state_dict()),
            "state": packed([state_line(k, v) for k, v in m.state_dict().items()]),
            "modules": packed([describe(k, v) for k, v in m.named_modules()]),
        }
        print(ours, out[ours]["numParams"], out[ours]["numParams1ch3"])
    return out


def build(family, quiet=False):
    """The reduced model of a family; `quiet`: dropout and stochastic depth 0."""
    drop = 0.0 if quiet else None
    if family == "efficientnet":
        setting, last = _efficientnet_conf("efficientnet_b5", width_mult=0.25, depth_mult=0.5)
        m = EfficientNet(setting, 0.4 if drop is None else drop, last_channel=last, num_classes=3,
                         stochastic_depth_prob=0.2 if drop is None else 0.0,
                         norm_layer=partial(nn.BatchNorm2d, eps=0.001, momentum=0.01))
    elif family == "mobilenetv3large":
        setting, last = _mobilenet_v3_conf("mobilenet_v3_large", width_mult=0.25)
        m = MobileNetV3(setting, last, num_classes=3, dropout=0.2 if drop is None else drop)
    elif family == "mobilenetv3small":
        setting, last = _mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.5, reduced_tail=True,
                                           dilated=True)
        m = MobileNetV3(setting, last, num_classes=3, dropout=0.2 if drop is None else drop)
    else:
        m = ShuffleNetV2([2, 3, 2], [8, 16, 32, 64, 96], num_classes=3)
    return replace_stem(m, 1)


CASES = {
    "efficientnet": {
        # 64: at 32 the last maps are 1 x 1, and training-mode batch norm over 2 values puts
        # torch's own float32 logits 1.2e-3 from its float64 ones (1.6e-6 at 64).
        "size": 64,
        "grads": ["features.0.0.weight", "features.1.0.block.1.fc1.weight", "features.2.0.block.0.1.weight",
                  "features.4.1.block.2.fc2.bias", "features.8.0.weight", "classifier.1.weight"],
        "buffers": ["features.0.1.running_mean", "features.4.1.block.3.1.running_var",
                    "features.8.1.running_mean", "features.8.1.num_batches_tracked"],
    },
    "mobilenetv3large": {
        "size": 32,
        "grads": ["features.0.0.weight", "features.1.block.0.0.weight", "features.4.block.2.fc1.weight",
                  "features.4.block.2.fc2.bias", "features.13.block.3.1.weight", "classifier.0.weight",
                  "classifier.3.bias"],
        "buffers": ["features.0.1.running_var", "features.5.block.1.1.running_mean",
                    "features.16.1.running_var"],
    },
    "mobilenetv3small": {
        "size": 32,
        "grads": ["features.0.0.weight", "features.1.block.1.fc2.weight", "features.9.block.1.0.weight",
                  "features.11.block.2.fc1.bias", "classifier.3.weight"],
        "buffers": ["features.1.block.0.1.running_mean", "features.10.block.1.1.running_var",
                    "features.12.1.running_mean"],
    },
    "shufflenet": {
        "size": 64,
        "grads": ["conv1.0.weight", "stage2.0.branch1.0.weight", "stage2.1.branch2.3.weight",
                  "stage3.2.branch2.4.bias", "conv5.0.weight", "fc.bias"],
        "buffers": ["conv1.1.running_mean", "stage2.0.branch1.1.running_var", "stage3.1.branch2.6.running_mean",
                    "conv5.1.running_var"],
    },
}


def case(family, spec):
    m = build(family)
    fill(m)
    x = formula(1000, [2, 1, spec["size"], spec["size"]], -2, 2)
    m.eval()
    xg = x.clone().requires_grad_(True)
    out = m(xg)
    g = formula(1001, list(out.shape), -1, 1)
    (out * g).sum().backward()
    params = dict(m.named_parameters())
    quiet = build(family, quiet=True)
    quiet.load_state_dict(m.state_dict())
    quiet.train()
    with torch.no_grad():
        train_out = quiet(x)
    buffers = dict(quiet.named_buffers())
    return {
        "family": family,
        "size": spec["size"],
        "numParams": num_params(m),
        "state": packed([state_line(k, v) for k, v in m.state_dict().items()]),
        "modules": packed([describe(k, v) for k, v in m.named_modules()]),
        "evalOut": ser(out),
        "inputGrad": stored(xg.grad, 256),
        "grads": {k: stored(params[k].grad, 256) for k in spec["grads"]},
        "trainOut": ser(train_out),
        "buffersAfter": {k: stored(buffers[k], 256) for k in spec["buffers"]},
    }


def main():
    fixture = {
        "structure": structure(),
        "cases": [case(f, spec) for f, spec in CASES.items()],
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
