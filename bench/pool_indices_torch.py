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
import sys

import torch
import torch.nn.functional as F

from torch_timing import serve, time_runs


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


def answer(q):
    f = CASES[q["case"]](q["shape"])
    x = torch.randn(*q["shape"])
    g = torch.randn(*f(x).shape)
    return time_runs(f, [x], g, q["reps"])


def main():
    serve(int(sys.argv[1]), answer)


if __name__ == "__main__":
    main()
