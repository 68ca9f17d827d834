"""Writes tests/fixtures/densenet.json: torchvision 0.14's DenseNet against
src/models/densenet.ts (tests/densenet_test.ts).

  structure
      For densenet121 (3 channels, 1000 classes): torchvision's state-dict
      names in order, shapes and dtypes, and the parameter count. For
      densenet121 with 1 channel and 3 classes, densenet161, densenet169 and
      densenet201 (full lists would be ~250 KB): the parameter count, the number of keys,
      the SHA-256 of the lines "name shape dtype\\n" in order, and the first
      and last names.
  tiny
      A small torchvision DenseNet (growth_rate 4, block_config (2, 3, 2),
      num_init_features 8, bn_size 2, 1 input channel, 3 classes) with
      random weights, batch-norm affine parameters and running statistics:
      its state dict, eval logits of x [2, 1, 32, 32], and one training step
      (logits, cross-entropy loss, input gradient, every parameter's
      gradient, the running statistics after), and pytorch-grad-cam's GradCAM
      maps of class 2 at features.denseblock3 (our default layer) and
      features.norm5 (pytorch-grad-cam's choice, `model.features[-1]`; taken
      before the final ReLU, see grad_cam).

torchvision's DenseNet has no input-channel option: features.conv0 is
replaced by Conv2d(C, num_init_features, 7, 2, 3, bias=False), as one does
for grey images. Deterministic (torch.manual_seed).
Run: /usr/bin/python3 scripts/make_densenet_fixtures.py (PyTorch 1.13).
"""
import hashlib
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.densenet import DenseNet

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260714)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "densenet.json")


def with_channels(m, c):
    """torchvision's DenseNet with `c` input channels (conv0 replaced)."""
    if c != 3:
        out = m.features.conv0.out_channels
        m.features.conv0 = nn.Conv2d(c, out, kernel_size=7, stride=2, padding=3, bias=False)
    return m


def lines(m):
    return [f"{k} {list(v.shape)} {str(v.dtype).replace('torch.', '')}"
            for k, v in m.state_dict().items()]


def num_params(m):
    return sum(p.numel() for p in m.parameters())


def structure():
    out = []
    m = torchvision.models.densenet121()
    out.append({
        "model": "densenet121",
        "options": {},
        "numParams": num_params(m),
        "state": [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()],
    })
    hashed = [("densenet121", {"inChannels": 1, "numClasses": 3}), ("densenet161", {}), ("densenet169", {}),
              ("densenet201", {})]
    for name, options in hashed:
        m = with_channels(getattr(torchvision.models, name)(num_classes=options.get("numClasses", 1000)),
                          options.get("inChannels", 3))
        text = "".join(line + "\n" for line in lines(m))
        keys = list(m.state_dict().keys())
        out.append({
            "model": name,
            "options": options,
            "numParams": num_params(m),
            "numKeys": len(keys),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "first": keys[0],
            "last": keys[-1],
        })
    return out


def randomize(model):
    """Non-trivial batch-norm affine parameters and running statistics."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(4)
        elif isinstance(m, nn.Linear):
            with torch.no_grad():
                m.bias.normal_(0, 0.1)


def grad_cam(m, layer, x, target):
    """pytorch-grad-cam's GradCAM of class `target` at `layer` (eval mode): ReLU of the
    activations weighted by their gradient's spatial mean, bilinear to the input's size
    (align_corners=False), min-max scaled per image.

    The hook hands on a copy, so the activations stay the layer's own output: torchvision's
    DenseNet.forward applies F.relu(features, inplace=True) to norm5's output, which would
    turn them into post-ReLU values (pytorch-grad-cam then pairs those with pre-ReLU
    gradients); our forward's ReLU is out of place, and so is this reference's."""
    acts = {}

    def keep(_m, _i, o):
        acts["a"] = o
        return o.clone()

    handle = layer.register_forward_hook(keep)
    out = m(x)
    handle.remove()
    a = acts["a"]
    g = torch.autograd.grad(out[:, target].sum(), a)[0]
    cam = F.relu((g.mean((2, 3), keepdim=True) * a.detach()).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    lo = cam.amin((1, 2), keepdim=True)
    hi = cam.amax((1, 2), keepdim=True)
    return ser((cam - lo) / (hi - lo))


def tiny():
    options = {"inChannels": 1, "numClasses": 3, "growthRate": 4, "blockConfig": [2, 3, 2],
               "numInitFeatures": 8, "bnSize": 2}
    m = with_channels(DenseNet(growth_rate=4, block_config=(2, 3, 2), num_init_features=8, bn_size=2,
                               num_classes=3), 1)
    randomize(m)
    state = [[k, ser(v)] for k, v in m.state_dict().items()]
    x = torch.randn(2, 1, 32, 32)
    y = torch.tensor([2, 0])
    m.eval()
    with torch.no_grad():
        eval_logits = m(x)
    cams = {name: grad_cam(m, layer, x, 2) for name, layer in
            [("features.denseblock3", m.features.denseblock3), ("features.norm5", m.features.norm5)]}
    m.train()
    xg = x.clone().requires_grad_(True)
    logits = m(xg)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return {
        "options": options,
        "numParams": num_params(m),
        "state": state,
        "input": ser(x),
        "target": y.tolist(),
        "evalLogits": ser(eval_logits),
        "trainLogits": ser(logits),
        "loss": loss.item(),
        "inputGrad": ser(xg.grad),
        "grads": {k: ser(p.grad) for k, p in m.named_parameters()},
        "buffersAfter": [[k, ser(v)] for k, v in m.named_buffers()],
        "camTarget": 2,
        "cams": cams,
    }


def main():
    fixture = {"structure": structure(), "tiny": tiny()}
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")


if __name__ == "__main__":
    main()
