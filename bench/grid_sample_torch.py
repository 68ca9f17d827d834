"""The PyTorch side of bench/grid_sample_vs_torch.ts: a worker that times
torch.nn.functional.grid_sample on the same shapes and grids, one request
at a time, so that the two libraries' runs alternate in time.

Each request is one JSON line on stdin:
  {"c": 1, "mode": "bilinear", "padding": "zeros", "align": false, "reps": 10}
and its answer one JSON line on stdout: {"fwd": [ms...], "both": [ms...]}
(forward without gradients; forward + backward of out.backward(G) into the
input and the grid). The first line out is {"torch": version, "threads": n}.

Usage: /usr/bin/python3 bench/grid_sample_torch.py N H W THREADS
"""
import math
import sys

import torch
import torch.nn.functional as F

from torch_timing import serve, time_runs


def thetas(n):
    """The bench's affine maps: image i turned by 0.1 i rad, zoomed by 1.1, shifted."""
    rows = []
    for i in range(n):
        a = 0.1 * i
        rows.append([[math.cos(a) * 1.1, -math.sin(a), 0.05],
                     [math.sin(a), math.cos(a) * 1.1, -0.03]])
    return torch.tensor(rows)


def main():
    n, h, w, threads = (int(v) for v in sys.argv[1:5])
    inputs = {}

    def answer(q):
        c, align = q["c"], q["align"]
        key = (c, align)
        if key not in inputs:
            x = torch.randn(n, c, h, w)
            grid = F.affine_grid(thetas(n), [n, c, h, w], align_corners=align)
            inputs[key] = (x, grid, torch.randn(n, c, h, w))
        x, grid, g = inputs[key]
        opts = dict(mode=q["mode"], padding_mode=q["padding"], align_corners=align)
        return time_runs(lambda a, b: F.grid_sample(a, b, **opts), [x, grid], g, q["reps"])

    serve(threads, answer)


if __name__ == "__main__":
    main()
