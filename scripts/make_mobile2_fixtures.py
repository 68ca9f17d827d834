"""Writes tests/fixtures/mobile2.json: torchvision 0.14's EfficientNetV2 (S, M, L) and RegNets
against src/models/efficientnet_v2.ts, fused_mbconv.ts, regnet*.ts (tests/mobile2_test.ts).

  blockParams
      For every RegNet builder of torchvision 0.14 (regnet_y_400mf .. regnet_y_128gf,
      regnet_x_400mf .. regnet_x_32gf): its design (BlockParams.from_init_params'
      arguments, read from the builder's source) and the per-stage depths, widths, group
      widths and strides torchvision computes from it.
  structure
      Each full-size model up to 55M parameters as torchvision's builder makes it (3
      channels, 1000 classes): the parameter count, and the count with 1 input channel and
      3 classes (the stem convolution replaced as a CT user does, the builder's
      num_classes=3). Its state dict, one line per entry ("name shape dtype"), and its
      module tree, one line per module ("name class hyper-parameters", as
      make_mobile_fixtures.py's `describe`), each gzip'd (mtime 0) and base64-encoded.
  counts
      The larger ones (efficientnet_v2_l, regnet_y_16gf, regnet_y_32gf, regnet_x_32gf):
      the parameter count and number of state-dict entries only (the same code as the
      others, so the key list adds nothing but fixture size). regnet_y_128gf (645M
      parameters) is checked through its block parameters alone.
  cases
      One reduced configuration per family, built through torchvision's own classes, 1
      input channel (stem replaced), 3 classes: EfficientNet with explicit stages (a
      Fused-MBConv stage without expansion and with the residual, one with expansion 4,
      two MBConv stages), last channel 64, batch-norm eps 1e-3 (V2's), dropout 0.2 and
      stochastic depth 0.2, on 32 x 32; RegNetY from the design depth 6, w_0 16, w_a 6,
      w_m 1.5, group width 8, SE 0.25 and RegNetX from depth 6, w_0 16, w_a 6, w_m 1.5,
      group width 16, on 64 x 64. Weights, batch-norm statistics and the input from the
      formula of make_resnet3d_fixtures.py (`fill`, `formula`). In eval mode: the logits
      and the gradients of sum(out * G) for the input and a few parameters. Then in
      training mode (dropout and stochastic depth 0): the logits and a few running
      statistics after that forward. A tensor of more than 256 values is stored sampled
      (`stored`).

Run: /usr/bin/python3 scripts/make_mobile2_fixtures.py (PyTorch 1.13, torchvision 0.14).
"""
import inspect
import json
import os
import re
import sys
from functools import partial

import torch
import torch.nn as nn
import torchvision
from torchvision.models import regnet as tv_regnet
from torchvision.models.efficientnet import EfficientNet, FusedMBConvConfig, MBConvConfig
from torchvision.models.regnet import BlockParams, RegNet

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import ser  # noqa: E402
from make_mobile_fixtures import describe, num_params, packed, state_line  # noqa: E402
from make_resnet3d_fixtures import fill, formula, stored  # noqa: E402

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mobile2.json")

REGNETS = [n for n in tv_regnet.__all__ if n.startswith("regnet_")]


def ours(tv):
    """The registry's name: regnet_y_1_6gf -> regnety1_6gf, efficientnet_v2_s -> efficientnetv2s."""
    return re.sub(r"^(regnet|efficientnet)_(\w\d?)_", r"\1\2", tv)


# Full structure (state dict, module tree) for these; counts only for the larger ones.
STRUCTURE = ["efficientnet_v2_s", "efficientnet_v2_m"] + [
    n for n in REGNETS if n[len("regnet_y_"):] in ("400mf", "800mf", "1_6gf", "3_2gf", "8gf")
] + ["regnet_x_16gf"]
COUNTS = ["efficientnet_v2_l", "regnet_y_16gf", "regnet_y_32gf", "regnet_x_32gf"]


def design_of(name):
    """A builder's from_init_params arguments, read from its source."""
    src = inspect.getsource(getattr(tv_regnet, name))
    args = re.search(r"from_init_params\((.*?)\*\*kwargs", src, re.S).group(1)
    a = dict(re.findall(r"(\w+)=([\d.]+)", args))
    d = {"depth": int(a["depth"]), "w0": int(a["w_0"]), "wa": float(a["w_a"]), "wm": float(a["w_m"]),
         "groupWidth": int(a["group_width"])}
    if "se_ratio" in a:
        d["seRatio"] = float(a["se_ratio"])
    return d


def block_params():
    out = {}
    for n in REGNETS:
        d = design_of(n)
        p = BlockParams.from_init_params(depth=d["depth"], w_0=d["w0"], w_a=d["wa"], w_m=d["wm"],
                                         group_width=d["groupWidth"], se_ratio=d.get("seRatio"))
        out[ours(n)] = {"torchvision": n, "design": d, "depths": p.depths, "widths": p.widths,
                        "groupWidths": p.group_widths, "strides": p.strides}
    return out


def replace_stem(m, in_channels):
    """The stem convolution with `in_channels` inputs, as a CT user writes it."""
    holder = m.stem if isinstance(m, RegNet) else m.features[0]
    old = holder[0]
    holder[0] = nn.Conv2d(in_channels, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False)
    return m


def structure():
    out = {}
    for theirs in STRUCTURE + COUNTS:
        m = getattr(torchvision.models, theirs)()
        small = replace_stem(getattr(torchvision.models, theirs)(num_classes=3), 1)
        entry = {
            "torchvision": theirs,
            "numParams": num_params(m),
            "numParams1ch3": num_params(small),
            "stateLines": len(m.state_dict()),
        }
        if theirs in STRUCTURE:
            entry["state"] = packed([state_line(k, v) for k, v in m.state_dict().items()])
            entry["modules"] = packed([describe(k, v) for k, v in m.named_modules()])
        out[ours(theirs)] = entry
        print(ours(theirs), entry["numParams"], entry["numParams1ch3"])
        del m, small
    return out


# The reduced EfficientNetV2: block, expansion, kernel, stride, in, out, layers.
V2_STAGES = [
    ("FusedMBConv", 1, 3, 1, 8, 8, 2),
    ("FusedMBConv", 4, 3, 2, 8, 16, 2),
    ("MBConv", 4, 3, 2, 16, 24, 2),
    ("MBConv", 6, 3, 1, 24, 32, 1),
]
REGNET_Y = {"depth": 6, "w0": 16, "wa": 6.0, "wm": 1.5, "groupWidth": 8, "seRatio": 0.25}
REGNET_X = {"depth": 6, "w0": 16, "wa": 6.0, "wm": 1.5, "groupWidth": 16}


def build(family, quiet=False):
    """The reduced model of a family; `quiet`: dropout and stochastic depth 0."""
    if family == "efficientnetv2":
        setting = [FusedMBConvConfig(*row[1:]) if row[0] == "FusedMBConv" else MBConvConfig(*row[1:])
                   for row in V2_STAGES]
        m = EfficientNet(setting, 0.0 if quiet else 0.2, stochastic_depth_prob=0.0 if quiet else 0.2,
                         num_classes=3, norm_layer=partial(nn.BatchNorm2d, eps=1e-3), last_channel=64)
    else:
        d = REGNET_Y if family == "regnety" else REGNET_X
        p = BlockParams.from_init_params(depth=d["depth"], w_0=d["w0"], w_a=d["wa"], w_m=d["wm"],
                                         group_width=d["groupWidth"], se_ratio=d.get("seRatio"))
        m = RegNet(p, num_classes=3, norm_layer=partial(nn.BatchNorm2d, eps=1e-05, momentum=0.1))
    return replace_stem(m, 1)


CASES = {
    "efficientnetv2": {
        "size": 32,
        "grads": ["features.0.0.weight", "features.1.0.block.0.0.weight", "features.2.1.block.1.1.weight",
                  "features.3.0.block.2.fc1.weight", "features.4.0.block.3.1.bias", "features.5.0.weight",
                  "classifier.1.weight"],
        "buffers": ["features.0.1.running_mean", "features.1.1.block.0.1.running_var",
                    "features.2.1.block.1.1.running_mean", "features.5.1.running_var"],
    },
    "regnety": {
        "size": 64,
        "grads": ["stem.0.weight", "trunk_output.block1.block1-0.proj.0.weight",
                  "trunk_output.block2.block2-1.f.b.0.weight", "trunk_output.block3.block3-0.f.se.fc1.bias",
                  "trunk_output.block4.block4-0.f.c.1.weight", "fc.weight", "fc.bias"],
        "buffers": ["stem.1.running_mean", "trunk_output.block2.block2-1.f.a.1.running_var",
                    "trunk_output.block4.block4-0.proj.1.running_mean"],
    },
    "regnetx": {
        "size": 64,
        "grads": ["stem.0.weight", "trunk_output.block2.block2-0.f.b.0.weight",
                  "trunk_output.block3.block3-1.f.c.0.weight", "fc.weight"],
        "buffers": ["trunk_output.block1.block1-0.f.b.1.running_var",
                    "trunk_output.block4.block4-0.f.c.1.running_mean"],
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
        "blockParams": block_params(),
        "structure": structure(),
        "cases": [case(f, spec) for f, spec in CASES.items()],
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
