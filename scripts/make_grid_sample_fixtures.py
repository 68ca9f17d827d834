"""Writes tests/fixtures/grid_sample.json: PyTorch 1.13's numbers for
F.affine_grid and F.grid_sample (tests/grid_sample_test.ts).

One input [2, 3, 5, 7] and one grid [2, 4, 5, 2] serve every mode x
padding_mode x align_corners: the grid holds the image's corners (+-1),
positions that unnormalise to pixel centres under either align_corners,
points outside [-1, 1] (one and several reflections) and random ones. Each
case stores the output and the gradients of L = sum(out * G) for the input
and the grid. A 1x1 image gets the same treatment; non-finite grids (NaN,
+-inf, 1e20) get every combination's output and, where torch's backward is
defined, its gradients (its bilinear backward with border or reflection
padding reads outside the input for a NaN coordinate and crashes, so those
store the output only). affine_grid: 2-D and 3-D, both align_corners, with
its theta gradient, and sizes of one.

Run with /usr/bin/python3 scripts/make_grid_sample_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "grid_sample.json")
NAN = float("nan")
INF = float("inf")
MODES = ["bilinear", "nearest", "bicubic"]
PADS = ["zeros", "border", "reflection"]


def sample_cases(x, grid, G, backward=lambda mode, pad: True):
    cases = []
    for mode in MODES:
        for pad in PADS:
            for align in [False, True]:
                xi = x.clone().requires_grad_(True)
                gi = grid.clone().requires_grad_(True)
                out = F.grid_sample(xi, gi, mode=mode, padding_mode=pad, align_corners=align)
                c = {"mode": mode, "paddingMode": pad, "alignCorners": align, "out": ser(out)}
                if backward(mode, pad):
                    (out * G).sum().backward()
                    c["gInput"] = ser(xi.grad)
                    c["gGrid"] = ser(gi.grad)
                cases.append(c)
    return cases


# ---- the main input: [2, 3, 5, 7], H = 5, W = 7 ----
H, W = 5, 7
x = torch.randn(2, 3, H, W)
centre_false_x = [(2 * k + 1) / W - 1 for k in range(W)]  # pixel k's centre, align_corners False
centre_false_y = [(2 * k + 1) / H - 1 for k in range(H)]
centre_true_x = [2 * k / (W - 1) - 1 for k in range(W)]  # align_corners True
centre_true_y = [2 * k / (H - 1) - 1 for k in range(H)]
special = [
    (-1, -1), (1, 1), (-1, 1), (1, -1),
    (centre_false_x[0], centre_false_y[0]), (centre_false_x[3], centre_false_y[2]),
    (centre_false_x[6], centre_false_y[4]), (centre_true_x[1], centre_true_y[1]),
    (centre_true_x[3], centre_true_y[2]), (centre_true_x[6], centre_true_y[4]),
    (-1.3, 0.2), (1.2, -1.1), (-2.6, 2.9), (3.7, -4.4), (0.0, 0.0),
    (-1.05, 1.05), (9.3, 0.3), (0.45, -7.7), (centre_true_x[5], -1.2), (1.5, centre_false_y[1]),
]
rest = (torch.rand(20, 2) * 2.8 - 1.4).tolist()
grid = torch.tensor([special, rest], dtype=torch.float32).reshape(2, 4, 5, 2)
G = torch.randn(2, 3, 4, 5)
main = {"input": ser(x), "grid": ser(grid), "G": ser(G), "cases": sample_cases(x, grid, G)}

# ---- a 1x1 image ----
x1 = torch.randn(1, 2, 1, 1)
grid1 = torch.tensor([[-1.5, -1.0], [-1.0, 0.0], [-0.3, 0.6], [0.0, 0.0], [0.7, -0.2],
                      [1.0, 1.0], [2.2, -2.7], [0.5, 3.5]], dtype=torch.float32).reshape(1, 2, 4, 2)
G1 = torch.randn(1, 2, 2, 4)
one = {"input": ser(x1), "grid": ser(grid1), "G": ser(G1), "cases": sample_cases(x1, grid1, G1)}

# ---- non-finite and huge coordinates ----
xn = torch.randn(1, 2, 3, 4)
gridn = torch.tensor([[NAN, 0.2], [0.3, NAN], [INF, 0.1], [-INF, 0.1], [0.1, 1e20], [NAN, NAN],
                      [1e10, -1e10], [-0.2, 0.4]], dtype=torch.float32).reshape(1, 2, 4, 2)
Gn = torch.randn(1, 2, 2, 4)
nonfinite = {
    "input": ser(xn), "grid": ser(gridn), "G": ser(Gn),
    "cases": sample_cases(xn, gridn, Gn, lambda mode, pad: mode != "bilinear" or pad == "zeros"),
}

# ---- the identity: affine_grid(identity) then grid_sample gives the input back ----
# (checked in the test itself; the main input is reused)

# ---- affine_grid ----
affine = []
for size, shape in [([2, 3, 4, 5], [2, 2, 3]), ([2, 1, 1, 3], [2, 2, 3]), ([1, 1, 6, 1], [1, 2, 3]),
                    ([2, 1, 3, 4, 5], [2, 3, 4]), ([1, 2, 1, 2, 17], [1, 3, 4])]:
    theta = torch.randn(*shape)
    for align in [False, True]:
        t = theta.clone().requires_grad_(True)
        out = F.affine_grid(t, size, align_corners=align)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        affine.append({"size": size, "alignCorners": align, "theta": ser(theta), "out": ser(out),
                       "G": ser(g), "gTheta": ser(t.grad)})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "main": main, "one": one, "nonfinite": nonfinite,
               "affine": affine}, f, separators=(",", ":"))
print(OUT, os.path.getsize(OUT))
