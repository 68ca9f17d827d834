"""Writes tests/fixtures/vgg_squeezenet.json, the fixture of
tests/vgg_squeezenet_test.ts, from torchvision 0.14's VGG and SqueezeNet.

  structure
      For vgg11 ... vgg19_bn and squeezenet1_0 / squeezenet1_1 with
      torchvision's defaults (3 channels, 1000 classes), and for vgg11_bn
      and the squeezenets with 1 channel and 3 classes (torchvision has no
      input-channel option: features[0] is replaced by the same convolution
      with 1 input channel, as our `inChannels` builds it): the state-dict
      names in order with shapes and dtypes, the parameter count, and every
      module with its class and hyper-parameters (convolution shape, stride,
      padding, groups, bias; batch-norm eps and momentum; dropout p;
      max-pool kernel, stride, padding, ceil mode; adaptive pool size).
      Also torchvision's cfgs.
  numerics
      vgg11_bn at [2, 1, 32, 32] (its minimum size), squeezenet1_0 at
      [2, 1, 21, 21] (its minimum) and squeezenet1_1 at [2, 1, 33, 33]
      (ceil-mode windows past the edge), 1 channel and 3 classes, with every
      parameter and buffer from a formula the test computes too (`fill`, as
      scripts/make_resnet3d_fixtures.py's, vectorised; the squeezenets' final
      convolution bias then 0.7, so that no class's logit is cut to 0 by the
      final ReLU), the input from the same formula (`inputs`): eval logits (float32);
      then in training mode with the dropouts off, in float64 (batch norm in
      training mode on 2 x 2 maps of a batch of 2 is ill-conditioned, so
      torch's own float32 values are compared with float64 ones and their
      difference stored as `noise`), the logits, the cross-entropy loss, the
      input gradient, sum |grad| of every parameter, some gradients (whole,
      or every stride-th value with the sum and sum of squares) and running
      statistics after the step. vgg11_bn's gradients are taken with its batch
      norms in eval mode (see numerics_case: near-ties in its max-pools).

Run: /usr/bin/python3 scripts/make_vgg_squeezenet_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.vgg import cfgs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import enc  # noqa: E402
from make_resnet3d_fixtures import fill, formula  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "vgg_squeezenet.json")

# Our registry's names -> torchvision's builders.
TORCHVISION = {
    "vgg11": "vgg11", "vgg11bn": "vgg11_bn", "vgg13": "vgg13", "vgg13bn": "vgg13_bn",
    "vgg16": "vgg16", "vgg16bn": "vgg16_bn", "vgg19": "vgg19", "vgg19bn": "vgg19_bn",
    "squeezenet1_0": "squeezenet1_0", "squeezenet1_1": "squeezenet1_1",
}


def build(name, options):
    """torchvision's model for a configuration of ours (options use our names)."""
    kwargs = {"num_classes": options.get("numClasses", 1000)}
    if "dropout" in options:
        kwargs["dropout"] = options["dropout"]
    m = getattr(torchvision.models, TORCHVISION[name])(**kwargs)
    c = options.get("inChannels", 3)
    if c != 3:
        old = m.features[0]
        m.features[0] = nn.Conv2d(c, old.out_channels, old.kernel_size, old.stride, old.padding)
    return m


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def describe(m):
    """A module's class and the hyper-parameters we compare."""
    t = type(m).__name__
    if isinstance(m, nn.Conv2d):
        return [t, m.in_channels, m.out_channels, list(m.kernel_size), list(m.stride), list(m.padding),
                m.groups, m.bias is not None]
    if isinstance(m, nn.BatchNorm2d):
        return [t, m.num_features, enc(m.eps), enc(m.momentum)]
    if isinstance(m, nn.Dropout):
        return [t, enc(m.p)]
    if isinstance(m, nn.Linear):
        return [t, m.in_features, m.out_features]
    if isinstance(m, nn.MaxPool2d):
        return [t, pair(m.kernel_size), pair(m.stride), pair(m.padding), pair(m.dilation), m.ceil_mode]
    if isinstance(m, nn.AdaptiveAvgPool2d):
        return [t, pair(m.output_size)]
    return [t]


def structure():
    out = []
    cases = [(name, {}) for name in TORCHVISION] + [
        (name, {"inChannels": 1, "numClasses": 3}) for name in ["vgg11bn", "squeezenet1_0", "squeezenet1_1"]
    ]
    for name, options in cases:
        m = build(name, options)
        out.append({
            "model": name,
            "options": options,
            "numParams": sum(p.numel() for p in m.parameters()),
            "state": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()],
            "modules": [[k, *describe(v)] for k, v in m.named_modules()],
        })
    return out


def inputs(shape):
    """The input batch: the formula in [-1, 1), the second image then scaled by 2 and shifted
    by 0.5 so the two differ in scale and mean (float32 arithmetic, as the test's)."""
    x = formula(1000, shape, -1, 1)
    x[1] = x[1] * 2 + 0.5
    return x


def stored(t, full, ref32=None):
    """The tensor (float64) whole up to `full` values, else about `full` / 4 values (every
    stride-th), its sum and its sum of squares; with `ref32`, torch's float32 value of the
    same, `noise` = max |float32 - float64|."""
    t = t.detach().double()
    flat = t.reshape(-1)
    if t.numel() <= full:
        out = {"shape": list(t.shape), "data": [enc(v) for v in flat.tolist()]}
    else:
        stride = math.ceil(t.numel() / (full // 4))
        out = {"shape": list(t.shape), "stride": stride, "data": [enc(v) for v in flat[::stride].tolist()],
               "sum": enc(flat.sum().item()), "sumsq": enc((flat * flat).sum().item())}
    if ref32 is not None:
        out["noise"] = enc((ref32.detach().double() - t).abs().max().item())
    return out


def step(name, options, state, x, y, dtype, bn_eval=False):
    """A forward and backward from `state` in training mode with the dropouts off (in eval
    mode), and with `bn_eval` the batch norms too: the model, logits, loss and input grad."""
    m = build(name, options)
    m.load_state_dict(state)
    m = m.to(dtype).train()
    for d in m.modules():
        if isinstance(d, nn.Dropout) or (bn_eval and isinstance(d, nn.BatchNorm2d)):
            d.eval()
    xg = x.to(dtype).clone().requires_grad_(True)
    logits = m(xg)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return m, logits, loss, xg.grad


def numerics_case(name, shape, grads, buffers, grad_mode="train"):
    """`grad_mode` "eval": the gradients with the batch norms in eval mode (running
    statistics). VGG's 2 x 2 max-pools have windows whose two largest values differ by only
    2e-5 in training mode (32,768 windows of batch-normalised values), within float32's
    rounding of the batch statistics, so float32 on either side may route a gradient to the
    other element; with running statistics the values carry far less rounding."""
    options = {"inChannels": 1, "numClasses": 3}
    m = build(name, options)
    fill(m)
    if name.startswith("squeezenet"):
        # Past the final ReLU, every class's logit positive (from 0.04 to 0.83), so all pass gradient.
        with torch.no_grad():
            m.classifier[1].bias.fill_(0.7)
    x = inputs(shape)
    y = torch.tensor([2, 0])
    m.eval()
    with torch.no_grad():
        eval_logits = m(x)
    state = {k: v.clone() for k, v in m.state_dict().items()}
    del m
    m32, logits32, loss32, xgrad32 = step(name, options, state, x, y, torch.float32)
    b32 = {k: v.clone() for k, v in m32.state_dict().items()}
    m64, logits, loss, xgrad = step(name, options, state, x, y, torch.float64)
    after = {k: v.clone() for k, v in m64.state_dict().items()}
    if grad_mode == "eval":
        del m32, m64
        m32, _, _, xgrad32 = step(name, options, state, x, y, torch.float32, bn_eval=True)
        m64, _, _, xgrad = step(name, options, state, x, y, torch.float64, bn_eval=True)
    p32 = {k: p.grad.clone() for k, p in m32.named_parameters()}
    params = dict(m64.named_parameters())
    return {
        "model": name,
        "options": options,
        "input": shape,
        "target": y.tolist(),
        "gradMode": grad_mode,
        "evalLogits": stored(eval_logits, 64),
        "trainLogits": stored(logits, 64, logits32),
        "loss": enc(loss.item()),
        "lossNoise": enc(abs(loss32.item() - loss.item())),
        "inputGrad": stored(xgrad, 512, xgrad32),
        "gradAbsSums": {k: enc(p.grad.abs().sum().item()) for k, p in params.items()},
        "grads": {k: stored(params[k].grad, full, p32[k]) for k, full in grads.items()},
        "buffersAfter": {k: stored(after[k], 64, b32[k]) for k in buffers},
    }


def numerics():
    return [
        numerics_case(
            "vgg11bn", [2, 1, 32, 32],
            grads={"features.0.weight": 1024, "features.0.bias": 64, "features.4.weight": 128,
                   "features.22.weight": 512, "features.26.bias": 512, "classifier.0.weight": 512,
                   "classifier.3.bias": 512, "classifier.6.weight": 512, "classifier.6.bias": 8},
            buffers=["features.1.running_mean", "features.26.running_var"], grad_mode="eval",
        ),
        numerics_case(
            "squeezenet1_0", [2, 1, 21, 21],
            grads={"features.0.weight": 512, "features.3.squeeze.weight": 256,
                   "features.12.expand3x3.weight": 512, "classifier.1.weight": 512, "classifier.1.bias": 8},
            buffers=[],
        ),
        numerics_case(
            "squeezenet1_1", [2, 1, 33, 33],
            grads={"features.0.weight": 1024, "features.3.expand1x1.weight": 256,
                   "features.12.expand3x3.bias": 256, "classifier.1.weight": 512, "classifier.1.bias": 8},
            buffers=[],
        ),
    ]


def main():
    torch.set_num_threads(2)
    fixture = {
        "cfgs": {k: v for k, v in cfgs.items()},
        "structure": structure(),
        "numerics": numerics(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")
    for c in fixture["numerics"]:
        print(c["model"], "eval", c["evalLogits"]["data"], "train", c["trainLogits"]["data"], "loss", c["loss"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
