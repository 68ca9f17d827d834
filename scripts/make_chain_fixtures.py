"""Writes tests/fixtures/resnet_chain.json: two torchvision Bottlenecks
(stride 2 with a downsampling shortcut, then an identity one) in evaluation
under `torch.autocast("cpu", dtype=torch.bfloat16)`, for the channels-last
bf16 chain of src/models/resnet_chain.ts.

PyTorch rounds to bf16 after every op of the blocks (its convolutions,
batch norms, adds and ReLUs return bf16 tensors); the chain rounds once per
convolution, after its batch norm, residual and ReLU. The fixture holds the
state dict, the input, PyTorch's bf16 output (widened) and its fp32 output,
so that the test can hold the chain to PyTorch's bf16 result at bf16's
tolerance and to the fp32 result as closely as PyTorch's bf16 is.

Values are rounded to 6 significant digits before use, so the stored
decimals are the exact float32 values PyTorch computed with. Run with
/usr/bin/python3 scripts/make_chain_fixtures.py (Debian's python3-torch and
python3-torchvision).
"""
import json
import os

import torch
import torch.nn as nn
from torchvision.models.resnet import Bottleneck

torch.set_num_threads(1)
torch.manual_seed(20261204)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "resnet_chain.json")


def rounded(t):
    return torch.tensor([float("%.6g" % v) for v in t.reshape(-1).tolist()]).reshape(t.shape)


def ser(t):
    t = t.detach().float()
    return {"shape": list(t.shape), "data": [float("%.8g" % v) for v in t.reshape(-1).tolist()]}


shortcut = nn.Sequential(nn.Conv2d(32, 64, 1, stride=2, bias=False), nn.BatchNorm2d(64))
blocks = nn.Sequential(Bottleneck(32, 16, stride=2, downsample=shortcut), Bottleneck(64, 16))
with torch.no_grad():
    for name, t in blocks.state_dict().items():
        if t.dtype != torch.float32:
            continue
        if name.endswith("running_var"):
            t.copy_(rounded(torch.rand(t.shape) + 0.5))
        elif name.endswith("running_mean") or name.endswith(".bias"):
            t.copy_(rounded(torch.randn(t.shape) * 0.1))
        elif name.endswith(".weight") and t.ndim == 1:  # batch norm's gamma
            t.copy_(rounded(torch.rand(t.shape) + 0.5))
        else:  # convolution weights, He-scaled
            fan_in = t[0].numel()
            t.copy_(rounded(torch.randn(t.shape) * (2 / fan_in) ** 0.5))
blocks.eval()
x = rounded(torch.randn(2, 32, 10, 10))
with torch.no_grad():
    out32 = blocks(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = blocks(x)

fixture = {
    "state": {k: ser(v) for k, v in blocks.state_dict().items() if v.dtype == torch.float32},
    "x": ser(x),
    "out": ser(out),
    "out_dtype": str(out.dtype).replace("torch.", ""),
    "fp32": ser(out32),
    "torch": torch.__version__,
}
with open(OUT, "w") as f:
    json.dump(fixture, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
