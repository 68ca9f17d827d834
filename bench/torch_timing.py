"""What the PyTorch workers of the side-by-side benchmarks share
(interpolate_torch.py, pool_indices_torch.py, grid_sample_torch.py, driven
by bench/vs_torch.ts): the request loop on stdin/stdout and the timing loop.
The workers are run as scripts from bench/, so Python finds this module
next to them.
"""
import json
import sys
import time

import torch


def serve(threads, answer):
    """Sets the thread count and seed, prints {"torch": version, "threads": n},
    then answers each JSON line on stdin with the JSON line of answer(request)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        print(json.dumps(answer(json.loads(line))), flush=True)


def time_runs(f, inputs, g, reps):
    """{"fwd": [ms...], "both": [ms...]}: `reps` runs of f(*inputs) without
    gradients and of f(*copies).backward(g) into copies of the inputs that
    require gradients, after one warm-up run that is not kept."""
    grads = [t.clone().requires_grad_() for t in inputs]
    fwd, both = [], []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        with torch.no_grad():
            f(*inputs)
        t1 = time.perf_counter()
        f(*grads).backward(g)
        t2 = time.perf_counter()
        for t in grads:
            t.grad = None
        if i > 0:  # the first is a warm-up
            fwd.append((t1 - t0) * 1e3)
            both.append((t2 - t1) * 1e3)
    return {"fwd": fwd, "both": both}
