"""The PyTorch side of `deno task gpu:check`'s timing: the same models,
shapes, optimizer and loop as bench/gpu/lits_step.ts, on the same GPU, in
fp32 with TF32 off (as this library's default), cuDNN autotuning on (as this
library's algorithm search). Prints one JSON line. PRECISION bf16 runs the
forward and the loss under torch.autocast(device, dtype=torch.bfloat16), as
lits_step.ts runs them under autocast("bfloat16"); fp32 (the default)
without.

Usage: python3 bench/gpu/torch_step.py MODEL WARMUP STEPS BATCH SIZE [PRECISION]
"""
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from torch_models import build  # noqa: E402


def training_step(model, batch, size, device="cuda", precision="fp32"):
    """The timed step (zero_grad, forward, backward, Adam, loss on the host)
    of a fresh model on a fixed random batch, fp32 with TF32 off (the forward
    and the loss under bf16 autocast with precision "bf16"), cuDNN autotuning
    on; bench/gpu/torch_profile.py times the same one."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    dev = torch.device(device)
    net = build(model, size).to(dev).train()
    x = torch.randn(batch, 1, size, size, device=dev)
    y = (torch.arange(batch) % 3).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)  # as lits' zeroGrad(); 1.13's default zeroes them
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        loss.item()  # the step is done when its loss is on the host

    return step


def main():
    model, warm, steps, batch, size = sys.argv[1:6]
    precision = sys.argv[6] if len(sys.argv) > 6 else "fp32"
    if precision not in ("fp32", "bf16"):
        raise SystemExit(f"torch_step.py: PRECISION is fp32 or bf16, got {precision}")
    warm, steps, batch, size = int(warm), int(steps), int(batch), int(size)
    step = training_step(model, batch, size, precision=precision)
    times = []
    for i in range(warm + steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        t1 = time.perf_counter()
        if i >= warm:
            times.append((t1 - t0) * 1e3)
    print(json.dumps({
        "times": times,
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "peakBytes": torch.cuda.max_memory_allocated(),
        "reservedBytes": torch.cuda.max_memory_reserved(),
    }))


if __name__ == "__main__":
    main()
