"""Writes tests/fixtures/conv_transpose.json: PyTorch's numbers for
F.conv_transpose2d and nn.ConvTranspose2d (tests/conv_transpose_test.ts).

`cases`: small transposed convolutions over strides 1-3, paddings 0-2,
output paddings 0-2 (below the stride or the dilation), dilations 1-3,
groups 1, 2 and 4, kernels 1-5, rectangular kernels, strides and paddings,
batches 1 and 3, odd sizes, unbatched input, with and without bias. Each
stores x, weight, bias, the output, a random G and the gradients of
L = sum(out * G) for x, weight and bias, computed in float64 (so the
reference holds no float32 rounding of its own) and written as float32.

`layers`: nn.ConvTranspose2d's state dict, an input, its output (and one
with forward's output_size). `unet`: a small U-Net (conv, batch norm in
training, ReLU, max pool, ConvTranspose2d stride 2 then ReLU, cat with the
skip, conv) in float32: state dict, input, output, G, and the gradients of
the input and of every parameter.

Run with /usr/bin/python3 scripts/make_conv_transpose_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "conv_transpose.json")


def pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def case(name, x_shape, cin, cout, k, stride=1, padding=0, output_padding=0, groups=1,
         dilation=1, bias=True):
    kh, kw = pair(k)
    x = torch.randn(x_shape, dtype=torch.float64, requires_grad=True)
    w = torch.randn(cin, cout // groups, kh, kw, dtype=torch.float64, requires_grad=True)
    b = torch.randn(cout, dtype=torch.float64, requires_grad=True) if bias else None
    out = F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    g = torch.randn(out.shape, dtype=torch.float64)
    (out * g).sum().backward()
    f = lambda t: ser(t.float()) if t is not None else None
    return {
        "name": name,
        "opts": {"stride": pair(stride), "padding": pair(padding),
                 "outputPadding": pair(output_padding), "groups": groups,
                 "dilation": pair(dilation)},
        "x": f(x), "weight": f(w), "bias": f(b), "out": f(out), "G": f(g),
        "grads": [f(x.grad), f(w.grad), f(b.grad) if b is not None else None],
    }


CASES = [
    case("k3 s1 p0", (1, 2, 4, 5), 2, 3, 3),
    case("k3 s2 p1 op1 batch 3 (U-Net up)", (3, 3, 5, 4), 3, 2, 3, 2, 1, 1),
    case("k5 s3 p2 op2 odd sizes", (1, 2, 3, 5), 2, 3, 5, 3, 2, 2),
    case("k3 s1 op1 dilation 2 (op >= stride)", (2, 2, 4, 3), 2, 2, 3, 1, 0, 1, 1, 2),
    case("k3 s2 op2 dilation 3 (op >= stride)", (1, 2, 3, 4), 2, 3, 3, 2, 1, 2, 1, 3),
    case("k3 s2 p1 op1 dilation 2", (1, 3, 4, 4), 3, 2, 3, 2, 1, 1, 1, 2),
    case("groups 2", (2, 4, 3, 4), 4, 6, 3, 1, 1, 0, 2),
    case("groups 4 depthwise", (1, 4, 5, 5), 4, 4, 3, 2, 1, 1, 4),
    case("groups 4 multiplier 2 no bias", (3, 4, 3, 3), 4, 8, 2, 2, 0, 0, 4, 1, False),
    case("k1 s1", (1, 3, 3, 4), 3, 2, 1),
    case("k1 s2 op1", (2, 2, 3, 3), 2, 3, 1, 2, 0, 1),
    case("k2 s2 no bias", (1, 4, 4, 4), 4, 2, 2, 2, bias=False),
    case("k4 s2 p1", (1, 2, 5, 3), 2, 2, 4, 2, 1),
    case("k3 p2 (large padding)", (1, 2, 5, 6), 2, 2, 3, 1, 2),
    case("k1 p1", (1, 2, 4, 5), 2, 3, 1, 1, 1),
    case("rectangular k(2,3) s(1,2) p(0,1) op(0,1) d(2,1)", (2, 3, 4, 5), 3, 2, (2, 3),
         (1, 2), (0, 1), (0, 1), 1, (2, 1)),
    case("rectangular k(5,2) s(3,1) p(2,0) op(1,0)", (1, 2, 3, 4), 2, 4, (5, 2), (3, 1),
         (2, 0), (1, 0), 2),
    case("k3 s3 op2 no bias", (1, 1, 2, 3), 1, 1, 3, 3, 0, 2, bias=False),
    case("k3 s2 p1 op(1,0) batch 3 odd", (3, 3, 5, 3), 3, 4, 3, 2, 1, (1, 0)),
    case("long sums: 16 -> 8, k3 s2", (1, 16, 4, 3), 16, 8, 3, 2, 1, 1),
    case("unbatched", (3, 4, 5), 3, 2, 3, 2, 1, 1),
]

# ---- layers ----
LAYERS = []
for args, kw, x_shape, output_size in [
    ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 5, 5), None),
    ((3, 2, (2, 3)), dict(stride=(2, 1), bias=False), (1, 3, 4, 4), None),
    ((4, 6, 3), dict(stride=2, padding=1), (1, 4, 5, 5), [10, 10]),
    ((2, 3, 4), dict(stride=3, padding=1, dilation=2), (1, 2, 3, 4), [1, 3, 12, 15]),
]:
    m = nn.ConvTranspose2d(*args, **kw)
    x = torch.randn(x_shape)
    out = m(x, output_size=output_size) if output_size else m(x)
    LAYERS.append({
        "args": list(args), "kw": {("outputPadding" if k == "output_padding" else k): v
                                   for k, v in kw.items()},
        "state": {k: ser(v) for k, v in m.state_dict().items()}, "x": ser(x),
        "outputSize": output_size, "out": ser(out.detach()),
    })


# ---- a small U-Net ----
class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.conv3 = nn.Conv2d(8, 2, 3, padding=1)

    def forward(self, x):
        skip = F.relu(self.bn1(self.conv1(x)))
        d = F.relu(self.bn2(self.conv2(F.max_pool2d(skip, 2))))
        u = F.relu(self.up(d))
        return self.conv3(torch.cat([u, skip], 1))


net = UNet()
state = {k: ser(v) for k, v in net.state_dict().items()}
x = torch.randn(2, 1, 8, 8, requires_grad=True)
out = net(x)
g = torch.randn(out.shape)
(out * g).sum().backward()
UNET = {
    "state": state, "x": ser(x), "out": ser(out), "G": ser(g), "xGrad": ser(x.grad),
    "grads": {k: ser(p.grad) for k, p in net.named_parameters()},
}

with open(OUT, "w") as f:
    json.dump({"cases": CASES, "layers": LAYERS, "unet": UNET}, f, separators=(",", ":"))
print(f"wrote {OUT}: {len(CASES)} cases, {len(LAYERS)} layers, a U-Net")
