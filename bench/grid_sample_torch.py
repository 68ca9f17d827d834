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
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


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
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    inputs = {}
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        q = json.loads(line)
        c, align = q["c"], q["align"]
        key = (c, align)
        if key not in inputs:
            x = torch.randn(n, c, h, w)
            grid = F.affine_grid(thetas(n), [n, c, h, w], align_corners=align)
            inputs[key] = (x, grid, torch.randn(n, c, h, w))
        x, grid, g = inputs[key]
        opts = dict(mode=q["mode"], padding_mode=q["padding"], align_corners=align)
        fwd, both = [], []
        xg, gg = x.clone().requires_grad_(), grid.clone().requires_grad_()
        for i in range(q["reps"] + 1):
            t0 = time.perf_counter()
            with torch.no_grad():
                F.grid_sample(x, grid, **opts)
            t1 = time.perf_counter()
            F.grid_sample(xg, gg, **opts).backward(g)
            t2 = time.perf_counter()
            xg.grad = gg.grad = None
            if i > 0:  # the first is a warm-up
                fwd.append((t1 - t0) * 1e3)
                both.append((t2 - t1) * 1e3)
        print(json.dumps({"fwd": fwd, "both": both}), flush=True)


if __name__ == "__main__":
    main()
