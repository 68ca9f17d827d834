"""The PyTorch side of bench/pool_indices_bench.ts: a worker that times
torch's max pools with return_indices (and dilation), the adaptive max pool
and max_unpool on the same shapes, one request at a time, so that the two
libraries' runs alternate in time.

Each request is one JSON line on stdin: {"case": name, "shape": [...],
"reps": 4}, and its answer one JSON line on stdout: {"fwd": [ms...],
"both": [ms...]} (forward without gradients; forward + backward of
out.backward(G) into the input). The first line out is {"torch": version,
"threads": n}.

Usage: /usr/bin/python3 bench/pool_indices_torch.py THREADS
"""
import json
import sys
import time

import torch
import torch.nn.functional as F


def unpool_of(shape):
    """F.max_unpool2d of x (the values of a 2x2 pool of a [.., 2h, 2w] input) at its indices."""
    n, c, h, w = shape
    _, idx = F.max_pool2d(torch.randn(n, c, 2 * h, 2 * w), 2, return_indices=True)
    return lambda x: F.max_unpool2d(x, idx, 2)


def segnet(x):
    v, i = F.max_pool2d(x, 2, return_indices=True)
    return F.max_unpool2d(v, i, 2)


CASES = {
    "maxPool2d k2 indices": lambda s: lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
    "maxPool2d k3s2p1 indices": lambda s: lambda x: F.max_pool2d(
        x, 3, stride=2, padding=1, return_indices=True)[0],
    "maxPool2d k3 dilation 2": lambda s: lambda x: F.max_pool2d(x, 3, dilation=2),
    "maxPool1d k3s2 indices": lambda s: lambda x: F.max_pool1d(
        x, 3, stride=2, return_indices=True)[0],
    "maxPool3d k2 indices": lambda s: lambda x: F.max_pool3d(x, 2, return_indices=True)[0],
    "adaptiveMaxPool2d 7x7 indices": lambda s: lambda x: F.adaptive_max_pool2d(
        x, 7, return_indices=True)[0],
    "maxUnpool2d k2": unpool_of,
    "pool+unpool (SegNet) k2": lambda s: segnet,
}


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        q = json.loads(line)
        f = CASES[q["case"]](q["shape"])
        x = torch.randn(*q["shape"])
        g = torch.randn(*f(x).shape)
        xg = x.clone().requires_grad_()
        fwd, both = [], []
        for i in range(q["reps"] + 1):
            t0 = time.perf_counter()
            with torch.no_grad():
                f(x)
            t1 = time.perf_counter()
            f(xg).backward(g)
            t2 = time.perf_counter()
            xg.grad = None
            if i > 0:  # the first is a warm-up
                fwd.append((t1 - t0) * 1e3)
                both.append((t2 - t1) * 1e3)
        print(json.dumps({"fwd": fwd, "both": both}), flush=True)


if __name__ == "__main__":
    main()
