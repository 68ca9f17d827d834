"""Writes the fixtures of tests/mobile_models_test.ts from torchvision 0.14's
MobileNetV2 and EfficientNet.

  tests/fixtures/mobile_models/structure.json
      For mobilenet_v2 and efficientnet_b0, 3 channels / 1000 classes and 1
      channel / 3 classes (torchvision has no input-channel option: the stem
      convolution features[0][0] is replaced, as for the ResNets): the
      state-dict names in order with shapes and dtypes, the parameter count,
      and every module with its class and hyper-parameters (convolution
      shape, stride, padding, groups, bias; batch-norm eps and momentum;
      dropout p; stochastic-depth p and mode), so the whole tree is compared.
  tests/fixtures/mobile_models/numerics.json
  tests/fixtures/mobile_models/{mobilenet,efficientnet}_small.safetensors
      Reduced models built through torchvision's own code paths
      (MobileNetV2(width_mult=0.25); EfficientNet(_efficientnet_conf(
      "efficientnet_b0", width_mult=0.25, depth_mult=0.5))), 1 channel and 3
      classes, with random batch-norm parameters and running statistics,
      saved as safetensors. For each: eval logits (default dropout and
      stochastic depth, which eval mode skips) on a [2, 1, 40, 40] input;
      then, with dropout and stochastic depth 0 so training mode is
      deterministic, and in float64 (see numerics_case), the training-mode
      logits, the cross-entropy loss, the input gradient, sum |grad| of every
      parameter, whole gradients of a few parameters and running statistics
      after the step.

Values are stored with 9 significant digits (exactly the float32 values).
Deterministic (torch.manual_seed). Run:
/usr/bin/python3 scripts/make_mobile_models_fixtures.py
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision
from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf
from torchvision.ops import StochasticDepth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_pth import write_safetensors  # noqa: E402
from fixture_json import enc, ser  # noqa: E402

torch.set_num_threads(1)
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "mobile_models")


def replace_stem(m, in_channels):
    """torchvision's stem convolution with `in_channels` inputs (same out, kernel, stride, padding)."""
    old = m.features[0][0]
    m.features[0][0] = nn.Conv2d(
        in_channels, old.out_channels, old.kernel_size, old.stride, old.padding, bias=False
    )
    nn.init.kaiming_normal_(m.features[0][0].weight, mode="fan_out")
    return m


def build(name, options):
    """torchvision's model for a configuration of ours (options use our names)."""
    k = options.get("numClasses", 1000)
    if name == "mobilenetv2":
        m = torchvision.models.mobilenet_v2(
            num_classes=k, width_mult=options.get("widthMult", 1.0), dropout=options.get("dropout", 0.2)
        )
    else:
        setting, last = _efficientnet_conf(
            "efficientnet_b0", width_mult=options.get("widthMult", 1.0), depth_mult=options.get("depthMult", 1.0)
        )
        m = EfficientNet(
            setting, options.get("dropout", 0.2), last_channel=last, num_classes=k,
            stochastic_depth_prob=options.get("stochasticDepthProb", 0.2),
        )
    c = options.get("inChannels", 3)
    return replace_stem(m, c) if c != 3 else m


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
    if isinstance(m, StochasticDepth):
        return [t, enc(m.p), m.mode]
    if isinstance(m, nn.Linear):
        return [t, m.in_features, m.out_features]
    return [t]


def structure_fixture():
    out = []
    for name, options in [
        ("mobilenetv2", {}),
        ("mobilenetv2", {"inChannels": 1, "numClasses": 3}),
        ("efficientnetb0", {}),
        ("efficientnetb0", {"inChannels": 1, "numClasses": 3}),
    ]:
        m = build(name, options)
        out.append({
            "model": name,
            "options": options,
            "numParams": sum(p.numel() for p in m.parameters()),
            "state": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()],
            "modules": [[k, *describe(v)] for k, v in m.named_modules()],
        })
    return out


def randomize_bn(model, batches=3):
    """Non-trivial batch-norm parameters and running statistics."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(batches)


def numerics_case(name, options, file, whole, buffers):
    m = build(name, options)
    randomize_bn(m)
    write_safetensors(os.path.join(OUT_DIR, file), m.state_dict(), {"format": "pt"})
    x = torch.randn(2, 1, 40, 40)
    y = torch.tensor([2, 0])
    m.eval()
    with torch.no_grad():
        eval_logits = m(x)
    # Training mode, deterministic: the same weights without dropout and stochastic depth, in
    # float64. Batch norm on the last 2 x 2 maps of a batch of 2 is ill-conditioned: torch's own
    # float32 gradients differ from these by up to 1e-4 of their largest value (and some
    # elements by 15%), so float32 on either side is compared with the float64 values.
    quiet = build(name, {**options, "dropout": 0.0, "stochasticDepthProb": 0.0})
    quiet.load_state_dict(m.state_dict())
    quiet.double().train()
    xg = x.double().requires_grad_(True)
    logits = quiet(xg)
    loss = nn.functional.cross_entropy(logits, y)
    loss.backward()
    params = dict(quiet.named_parameters())
    state = dict(quiet.state_dict())
    return {
        "model": name,
        "options": options,
        "weights": file,
        "input": ser(x),
        "target": y.tolist(),
        "evalLogits": ser(eval_logits),
        "trainLogits": ser(logits),
        "loss": enc(loss.item()),
        "inputGrad": ser(xg.grad),
        "gradAbsSums": {k: enc(p.grad.abs().sum().item()) for k, p in params.items()},
        "grads": {k: ser(params[k].grad) for k in whole},
        "buffersAfter": {k: ser(state[k]) for k in buffers},
    }


def numerics_fixture():
    mobile = numerics_case(
        "mobilenetv2", {"inChannels": 1, "numClasses": 3, "widthMult": 0.25}, "mobilenet_small.safetensors",
        whole=["features.0.0.weight", "features.1.conv.0.0.weight", "features.3.conv.1.1.weight",
               "features.3.conv.2.weight", "features.18.1.bias", "classifier.1.bias"],
        buffers=["features.0.1.running_mean", "features.3.conv.3.running_var", "features.18.1.running_mean"],
    )
    efficient = numerics_case(
        "efficientnetb0", {"inChannels": 1, "numClasses": 3, "widthMult": 0.25, "depthMult": 0.5},
        "efficientnet_small.safetensors",
        whole=["features.0.0.weight", "features.1.0.block.1.fc1.weight", "features.1.0.block.1.fc2.bias",
               "features.4.1.block.1.0.weight", "features.4.1.block.2.fc1.bias", "features.4.1.block.3.1.weight",
               "classifier.1.bias"],
        buffers=["features.0.1.running_var", "features.4.1.block.3.1.running_mean", "features.8.1.running_var"],
    )
    return [mobile, efficient]


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(20240612)
    with open(os.path.join(OUT_DIR, "structure.json"), "w") as f:
        json.dump(structure_fixture(), f, separators=(",", ":"))
    with open(os.path.join(OUT_DIR, "numerics.json"), "w") as f:
        json.dump(numerics_fixture(), f, separators=(",", ":"))
    for name in sorted(os.listdir(OUT_DIR)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT_DIR, name)):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
