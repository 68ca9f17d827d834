"""Writes tests/fixtures/winograd_accuracy.json (tests/winograd_accuracy_test.ts): float64
references for a 3x3 convolution (stride 1, padding 1) on ResNet-50's layer3 shape, so the
test can hold Winograd F(4x4, 3x3) (native/cpu/conv_winograd4.c) to a bound on its float32
rounding error, beside PyTorch 1.13's own float32 error on the same inputs.

Inputs come from the formula of make_resnet3d_fixtures.py (`value`; tests/model_fixture.ts
computes the same float32 numbers), with trained-like statistics: x = relu(U(-0.5, 1.5))
(post-ReLU activations with a mean offset), weights U(-b, b) with b = sqrt(6 / (9 c)) (He
uniform), upstream gradient U(-1, 1). Stored: the forward y whole, the input gradient dx and
the weight gradient dw sampled (every `stride`-th value) with their largest magnitude, all
in float64 with 12 significant digits; and PyTorch float32's error on the same samples,
max |err| / max |ref| (its `torchErr`).

Deterministic. Run: /usr/bin/python3 scripts/make_winograd_accuracy_fixtures.py
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_resnet3d_fixtures import formula  # noqa: E402

torch.set_num_threads(2)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "winograd_accuracy.json")


def sig(v, digits=12):
    return float("%.*g" % (digits, v))


def passes(x, w, dy, dtype):
    xg = x.to(dtype).clone().requires_grad_(True)
    wg = w.to(dtype).clone().requires_grad_(True)
    y = F.conv2d(xg, wg, None, padding=1)
    y.backward(dy.to(dtype))
    return {"y": y.detach().double(), "dx": xg.grad.double(), "dw": wg.grad.double()}


def case(name, n, c, k, s):
    shape_x, shape_w, shape_y = [n, c, s, s], [k, c, 3, 3], [n, k, s, s]
    b = math.sqrt(6 / (9 * c))
    x = torch.relu(formula(1, shape_x, -0.5, 1.5))
    w = formula(2, shape_w, -b, b)
    dy = formula(3, shape_y, -1, 1)
    ref, t32 = passes(x, w, dy, torch.float64), passes(x, w, dy, torch.float32)
    out = {"name": name, "x": shape_x, "w": shape_w, "bound": b}
    for key, stride in (("y", 1), ("dx", 49), ("dw", 18)):
        r, t = ref[key].flatten(), t32[key].flatten()
        most = r.abs().max().item()
        out[key] = {
            "stride": stride,
            "maxAbs": sig(most),
            "data": [sig(v) for v in r[::stride].tolist()],
            "torchErr": sig((t[::stride] - r[::stride]).abs().max().item() / most, 3),
        }
    return out


def main():
    data = {"cases": [case("resnet50 layer3 3x3 256 -> 8 at 14 x 14", 1, 256, 8, 14)]}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
