"""PyTorch's side of bench/gpu/lits_profile.ts: the same training step
(fp32, TF32 off, cuDNN autotuning on), its CUDA kernels' time per step
summed by kernel name with torch.profiler.

Usage: python3 bench/gpu/torch_profile.py MODEL BATCH SIZE [STEPS]
"""
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from torch_step import training_step  # beside this file


def main():
    model, batch, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    steps = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    step = training_step(model, batch, size)
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    print(f"{model} batch {batch} {size}x{size}: step {(time.perf_counter() - t0) * 1e3 / steps:.1f} ms")
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            step()
    rows = {}
    for e in prof.key_averages():
        t = getattr(e, "self_device_time_total", None)
        if t is None:
            t = e.self_cuda_time_total
        if t > 0:
            rows[e.key] = (t, e.count)
    total = sum(t for t, _ in rows.values())
    print(f"kernels {total / 1e3 / steps:.1f} ms/step")
    print("ms/step  calls/step  kernel")
    for k, (t, c) in sorted(rows.items(), key=lambda r: -r[1][0])[:40]:
        print(f"{t / 1e3 / steps:7.2f} {c / steps:6.0f}  {k[:110]}")


if __name__ == "__main__":
    main()
