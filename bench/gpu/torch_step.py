"""The PyTorch side of `deno task gpu:check`'s timing: the same models,
shapes, optimizer and loop as bench/gpu/lits_step.ts, on the same GPU, in
fp32 with TF32 off (as this library's default), cuDNN autotuning on (as this
library's algorithm search). Prints one JSON line.

Usage: python3 bench/gpu/torch_step.py MODEL WARMUP STEPS BATCH SIZE
"""
import json
import sys
import time

import torch
import torch.nn as nn


def simple_cnn(size):
    """The course model: 4 x [conv3x3 pad 1, ReLU, maxpool 2], 16..128 channels, 256 hidden."""
    layers, c = [], 1
    for k in (16, 32, 64, 128):
        layers += [nn.Conv2d(c, k, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        c = k
    s = size // 16
    return nn.Sequential(nn.Sequential(*layers), nn.Flatten(), nn.Linear(128 * s * s, 256),
                         nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 3))


def resnet50():
    import torchvision
    m = torchvision.models.resnet50(num_classes=3)
    m.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)  # one CT channel
    return m


def main():
    model, warm, steps, batch, size = sys.argv[1:6]
    warm, steps, batch, size = int(warm), int(steps), int(batch), int(size)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    dev = torch.device("cuda")
    net = (simple_cnn(size) if model == "simple" else resnet50()).to(dev).train()
    x = torch.randn(batch, 1, size, size, device=dev)
    y = (torch.arange(batch) % 3).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for i in range(warm + steps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        loss.item()  # the step is done when its loss is on the host
        t1 = time.perf_counter()
        if i >= warm:
            times.append((t1 - t0) * 1e3)
    print(json.dumps({
        "times": times,
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "peakBytes": torch.cuda.max_memory_allocated(),
    }))


if __name__ == "__main__":
    main()
