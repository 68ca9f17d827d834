"""The PyTorch side of `deno task bench:step`: the same models, shapes,
optimizer and loop as bench/step/lits_worker.ts; prints one JSON line.

Usage: python3 bench/step/torch_worker.py MODEL MODE WARMUP STEPS BATCH SIZE THREADS
"""
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from torch_models import build  # noqa: E402


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def peak_rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return float("nan")


def main():
    model, mode, warm, steps, batch, size, threads = sys.argv[1:8]
    warm, steps, batch, size = int(warm), int(steps), int(batch), int(size)
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    net = build(model, size)
    x = torch.randn(batch, 1, size, size)
    y = torch.arange(batch) % 3
    times, faults = [], []
    # The -bf16 variants: forward and loss under CPU autocast, as lits_worker.ts.
    bf16 = os.environ.get("BENCH_PRECISION") == "bf16"
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)
    if mode == "train":
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
        loss_fn = nn.CrossEntropyLoss()
        for i in range(warm + steps):
            f0, t0 = minor_faults(), time.perf_counter()
            # set_to_none as lits' zeroGrad() (1.13's default zeroes every gradient first).
            opt.zero_grad(set_to_none=True)
            with autocast:
                loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            loss.item()
            t1, f1 = time.perf_counter(), minor_faults()
            if i >= warm:
                times.append((t1 - t0) * 1e3)
                faults.append(f1 - f0)
    else:
        net.eval()
        with torch.no_grad():
            for i in range(warm + steps):
                f0, t0 = minor_faults(), time.perf_counter()
                with autocast:
                    net(x).float().numpy()
                t1, f1 = time.perf_counter(), minor_faults()
                if i >= warm:
                    times.append((t1 - t0) * 1e3)
                    faults.append(f1 - f0)
    print(json.dumps({"times": times, "faults": faults, "peakRssKb": peak_rss_kb()}))


if __name__ == "__main__":
    main()
