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
import json
import sys
import time

import torch
import torch.nn.functional as F


def main():
    torch.set_num_threads(int(sys.argv[1]))
    torch.manual_seed(0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        q = json.loads(line)
        x = torch.randn(*q["shape"])
        opts = q["opts"]
        g = torch.randn(*F.interpolate(x, **opts).shape)
        xg = x.clone().requires_grad_()
        fwd, both = [], []
        for i in range(q["reps"] + 1):
            t0 = time.perf_counter()
            with torch.no_grad():
                F.interpolate(x, **opts)
            t1 = time.perf_counter()
            F.interpolate(xg, **opts).backward(g)
            t2 = time.perf_counter()
            xg.grad = None
            if i > 0:  # the first is a warm-up
                fwd.append((t1 - t0) * 1e3)
                both.append((t2 - t1) * 1e3)
        print(json.dumps({"fwd": fwd, "both": both}), flush=True)


if __name__ == "__main__":
    main()
