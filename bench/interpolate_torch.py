"""The PyTorch side of bench/interpolate_bench.ts: a worker that times
torch.nn.functional.interpolate on the same shapes, one request at a time,
so that the two libraries' runs alternate in time.

Each request is one JSON line on stdin:
  {"shape": [16, 1, 512, 512], "opts": {"size": [224, 224], "mode": "bilinear"}, "reps": 5}
(opts in torch's names) and its answer one JSON line on stdout:
{"fwd": [ms...], "both": [ms...]} (forward without gradients; forward +
backward of out.backward(G) into the input). The first line out is
{"torch": version, "threads": n}.

Usage: /usr/bin/python3 bench/interpolate_torch.py THREADS
"""
import sys

import torch
import torch.nn.functional as F

from torch_timing import serve, time_runs


def answer(q):
    x = torch.randn(*q["shape"])
    opts = q["opts"]
    g = torch.randn(*F.interpolate(x, **opts).shape)
    return time_runs(lambda t: F.interpolate(t, **opts), [x], g, q["reps"])


def main():
    serve(int(sys.argv[1]), answer)


if __name__ == "__main__":
    main()
