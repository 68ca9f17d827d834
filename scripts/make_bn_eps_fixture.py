"""Writes tests/fixtures/bn_eps.json from PyTorch: nn.BatchNorm2d(3, eps=0.1)
in training mode, alone and followed by a ReLU and a 1x1 convolution (which
keeps the ReLU's output unwritten, so our fused batch norm + ReLU backward
runs): output, gradients of input, weight and bias under L = sum(out * G),
and the running statistics after the step.

The input's spread (variance about 0.04) is small against eps, so an eps
other than 0.1 anywhere in the forward or backward changes the numbers far
beyond the tolerance. Inputs are rounded to 6 significant digits before use
(the stored decimals are the float32 values torch used).
Run: /usr/bin/python3 scripts/make_bn_eps_fixture.py
"""
import json
import os

import torch
import torch.nn as nn

torch.set_num_threads(1)
torch.manual_seed(1310)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "bn_eps.json")


def rounded(t):
    return torch.tensor([float(f"{v:.6g}") for v in t.reshape(-1).tolist()],
                        dtype=torch.float32).reshape(t.shape)


def stored(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]}


def case(relu):
    x = rounded(torch.randn(2, 3, 4, 5) * 0.2 + 0.5).requires_grad_(True)
    weight = rounded(torch.rand(3) + 0.5)
    bias = rounded(torch.randn(3) * 0.1)
    conv = rounded(torch.randn(4, 3, 1, 1)) if relu else None
    g = rounded(torch.randn(2, 4 if relu else 3, 4, 5))
    bn = nn.BatchNorm2d(3, eps=0.1)
    with torch.no_grad():
        bn.weight.copy_(weight)
        bn.bias.copy_(bias)
    bn.train()
    out = bn(x)
    if relu:
        out = torch.nn.functional.conv2d(torch.relu(out), conv)
    (out * g).sum().backward()
    return {
        "relu": relu,
        "input": stored(x),
        "weight": stored(weight),
        "bias": stored(bias),
        "conv": stored(conv) if relu else None,
        "G": stored(g),
        "out": stored(out),
        "inputGrad": stored(x.grad),
        "weightGrad": stored(bn.weight.grad),
        "biasGrad": stored(bn.bias.grad),
        "runningMean": stored(bn.running_mean),
        "runningVar": stored(bn.running_var),
    }


with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "eps": 0.1, "cases": [case(False), case(True)]}, f)
    f.write("\n")
print("wrote", OUT)
