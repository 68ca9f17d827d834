"""Writes tests/fixtures/resnet3d.json: MONAI 1.3's 3-D ResNet
(monai.networks.nets.resnet10/18/34/50 with spatial_dims=3) against
src/models/resnet3d.ts (tests/resnet3d_test.ts).

MONAI is not installed here, so the architecture is written below in plain
torch 1.13, following monai/networks/nets/resnet.py of MONAI 1.3 for
spatial_dims=3: ResNetBlock / ResNetBottleneck; a stem conv of
conv1_t_size (7) with padding k // 2 and conv1_t_stride (1), BatchNorm3d,
ReLU, MaxPool3d(3, 2, 1) unless no_max_pool; four stages of
block_inplanes * widen_factor (truncated by int()) with stride 1, 2, 2, 2;
the shortcut where the stride or width changes: "B" (default) a 1x1x1
conv with bias_downsample (default True) + BatchNorm3d, "A" an average pool
of kernel 1 with the stride, zero-padded along the channels and detached
(`out.data`); AdaptiveAvgPool3d(1), flatten, Linear(.., num_classes = 400)
unless feed_forward is False. Convolutions kaiming-normal (fan_out, relu),
BatchNorm 1 / 0, Linear bias 0.

  structure
      For resnet10/18/34/50 with MONAI's defaults (3 channels, 400 classes)
      and a few option sets (shortcut "A", feed_forward False with
      bias_downsample False as MedicalNet's checkpoints, a narrow
      widen_factor with an anisotropic stem and no max-pool): the state-dict
      names in order, shapes and dtypes, and the parameter count.
  cases
      Models whose weights, batch-norm statistics and inputs come from a
      formula both sides compute exactly (`value` below, so no weights are
      stored): eval output, training output, loss, the input's and every
      parameter's gradient, the running statistics after. A tensor of more
      than `full` values (1024, 128 or 64 by case) is stored as every
      `stride`-th value (about full / 4 of them) plus its sum and sum of
      squares. resnet10 (widen_factor 1/32) at [2, 1, 16, 32, 32]
      with cross-entropy; resnet18 with shortcut "A", an anisotropic strided
      stem and no max-pool; resnet50 (widen_factor 1/32, feed_forward False,
      bias_downsample False) with loss sum(out * G), its gradients taken in
      eval mode (`mode`). The inputs leave layer4's batch norms at least 8
      values per channel: over 2 (a [2, C, 1, 1, 1] map) the gradient
      through batch norm is 0 in exact arithmetic and amplified rounding
      noise in float32. Even so, the 16 training-mode bottlenecks of the
      narrow resnet50 put torch's own float32 output 4e-4 from its float64
      one, hence eval mode there.
  sgd
      resnet10 (widen_factor 1/32) trained 3 steps with SGD (lr 0.05,
      momentum 0.9, weight_decay 1e-4) from the formula's weights: each
      step's loss and, after, each parameter's sum, sum of squares and
      first 8 values.

Run: /usr/bin/python3 scripts/make_resnet3d_fixtures.py (PyTorch 1.13).
     /usr/bin/python3 scripts/make_resnet3d_fixtures.py --time times
     resnet18 (1 channel, 2 classes) at [2, 1, 32, 96, 96] instead.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_json import enc, ser

torch.manual_seed(20260716)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "resnet3d.json")


# ----------------------------------------------------------------- MONAI 1.3, spatial_dims=3

class ResNetBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv3d(in_planes, planes, kernel_size=3, padding=1, stride=stride, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv3d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)


class ResNetBottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv3d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)


def triple(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v, v)


class ResNet(nn.Module):
    def __init__(self, block, layers, block_inplanes, n_input_channels=3, conv1_t_size=7,
                 conv1_t_stride=1, no_max_pool=False, shortcut_type="B", widen_factor=1.0,
                 num_classes=400, feed_forward=True, bias_downsample=True):
        super().__init__()
        block_inplanes = [int(x * widen_factor) for x in block_inplanes]
        self.in_planes = block_inplanes[0]
        self.no_max_pool = no_max_pool
        self.bias_downsample = bias_downsample
        k = triple(conv1_t_size)
        self.conv1 = nn.Conv3d(n_input_channels, self.in_planes, kernel_size=k,
                               stride=triple(conv1_t_stride), padding=tuple(i // 2 for i in k), bias=False)
        self.bn1 = nn.BatchNorm3d(self.in_planes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool3d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, block_inplanes[0], layers[0], shortcut_type)
        self.layer2 = self._make_layer(block, block_inplanes[1], layers[1], shortcut_type, stride=2)
        self.layer3 = self._make_layer(block, block_inplanes[2], layers[2], shortcut_type, stride=2)
        self.layer4 = self._make_layer(block, block_inplanes[3], layers[3], shortcut_type, stride=2)
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.fc = nn.Linear(block_inplanes[3] * block.expansion, num_classes) if feed_forward else None
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    @staticmethod
    def _downsample_basic_block(x, planes, stride):
        out = F.avg_pool3d(x, kernel_size=1, stride=stride)
        zero_pads = torch.zeros(out.size(0), planes - out.size(1), *out.shape[2:], dtype=out.dtype)
        return torch.cat([out.data, zero_pads], dim=1)

    def _make_layer(self, block, planes, blocks, shortcut_type, stride=1):
        downsample = None
        if stride != 1 or self.in_planes != planes * block.expansion:
            if shortcut_type == "A":
                out = planes * block.expansion
                downsample = lambda x: ResNet._downsample_basic_block(x, out, stride)  # noqa: E731
            else:
                downsample = nn.Sequential(
                    nn.Conv3d(self.in_planes, planes * block.expansion, kernel_size=1, stride=stride,
                              bias=self.bias_downsample),
                    nn.BatchNorm3d(planes * block.expansion),
                )
        layers = [block(self.in_planes, planes, stride=stride, downsample=downsample)]
        self.in_planes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.in_planes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if not self.no_max_pool:
            x = self.maxpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        if self.fc is not None:
            x = self.fc(x)
        return x


DEPTHS = {
    10: (ResNetBlock, [1, 1, 1, 1]),
    18: (ResNetBlock, [2, 2, 2, 2]),
    34: (ResNetBlock, [3, 4, 6, 3]),
    50: (ResNetBottleneck, [3, 4, 6, 3]),
}

# Our option names for MONAI's.
NAMES = {"inChannels": "n_input_channels", "numClasses": "num_classes", "conv1TSize": "conv1_t_size",
         "conv1TStride": "conv1_t_stride", "noMaxPool": "no_max_pool", "shortcutType": "shortcut_type",
         "widenFactor": "widen_factor", "feedForward": "feed_forward", "biasDownsample": "bias_downsample"}


def monai(depth, options):
    block, layers = DEPTHS[depth]
    return ResNet(block, layers, [64, 128, 256, 512], **{NAMES[k]: v for k, v in options.items()})


def num_params(m):
    return sum(p.numel() for p in m.parameters())


def structure():
    option_sets = [(d, {}) for d in DEPTHS] + [
        (18, {"inChannels": 1, "numClasses": 2, "shortcutType": "A"}),
        (50, {"inChannels": 1, "feedForward": False, "biasDownsample": False}),
        (34, {"inChannels": 2, "numClasses": 5, "widenFactor": 0.25, "conv1TSize": [3, 7, 7],
              "conv1TStride": [1, 2, 2], "noMaxPool": True}),
    ]
    out = []
    for depth, options in option_sets:
        m = monai(depth, options)
        out.append({
            "depth": depth,
            "options": options,
            "numParams": num_params(m),
            "state": [[k, list(v.shape), str(v.dtype).replace("torch.", "")]
                      for k, v in m.state_dict().items()],
        })
        del m
    return out


# ------------------------------------------------------------------------- formula values

def value(p, n):
    """The numbers in [0, 1) of tensor number p, elements 0 .. n-1: exact integer arithmetic
    and one division, which TypeScript computes to the same doubles (vectorised: VGG's
    fixtures fill 130M-parameter models with it)."""
    i = np.arange(n, dtype=np.int64)
    return ((i * 7919 + (p + 1) * 104729) % 10007) / 10007


def formula(p, shape, lo, hi):
    n = math.prod(shape)
    return torch.from_numpy((lo + (hi - lo) * value(p, n)).astype(np.float32)).reshape(shape)


def fill(model):
    """Every parameter and buffer from the formula, by its index in the state dict:
    weights U(-b, b) with b = sqrt(6 / fan_in), biases U(-0.1, 0.1), batch-norm weight
    U(0.5, 1.5), bias and running mean U(-0.2, 0.2), running var U(0.5, 1.5)."""
    state = model.state_dict()
    new = {}
    for p, (k, v) in enumerate(state.items()):
        if k.endswith("num_batches_tracked"):
            new[k] = v
            continue
        name = k.split(".")[-1]
        is_bn = v.dim() == 1 and (k.rsplit(".", 1)[0] + ".running_mean") in state
        if name == "weight" and not is_bn:
            b = math.sqrt(6 / (v[0].numel()))
            new[k] = formula(p, list(v.shape), -b, b)
        elif name == "weight":
            new[k] = formula(p, list(v.shape), 0.5, 1.5)
        elif name == "running_var":
            new[k] = formula(p, list(v.shape), 0.5, 1.5)
        elif is_bn or name == "running_mean":
            new[k] = formula(p, list(v.shape), -0.2, 0.2)
        else:
            new[k] = formula(p, list(v.shape), -0.1, 0.1)
    model.load_state_dict(new)


def stored(t, full):
    """The tensor whole up to `full` values, else about `full` / 4 values (every stride-th),
    its sum and its sum of squares."""
    t = t.detach()
    if t.numel() <= full:
        return ser(t)
    flat = t.reshape(-1).double()
    stride = math.ceil(t.numel() / (full // 4))
    return {"shape": list(t.shape), "stride": stride, "data": [enc(v) for v in flat[::stride].tolist()],
            "sum": enc(flat.sum().item()), "sumsq": enc((flat * flat).sum().item())}


def case(label, depth, options, shape, target, full, mode="train"):
    m = monai(depth, options)
    fill(m)
    x = formula(1000, shape, -1, 1)
    m.eval()
    with torch.no_grad():
        eval_out = m(x)
    m.train(mode == "train")
    xg = x.clone().requires_grad_(True)
    out = m(xg)
    if target is not None:
        loss = F.cross_entropy(out, torch.tensor(target))
    else:
        loss = (out * formula(1001, list(out.shape), -1, 1)).sum()
    loss.backward()
    return {
        "label": label,
        "mode": mode,
        "depth": depth,
        "options": options,
        "input": shape,
        "target": target,
        "numParams": num_params(m),
        "evalOut": ser(eval_out),
        "trainOut": ser(out),
        "loss": loss.item(),
        "inputGrad": stored(xg.grad, full),
        "grads": {k: stored(p.grad, full) for k, p in m.named_parameters()},
        "buffersAfter": {k: stored(v, full) for k, v in m.named_buffers()},
    }


def sgd():
    options = {"inChannels": 1, "numClasses": 3, "widenFactor": 1 / 32}
    m = monai(10, options)
    fill(m)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    y = torch.tensor([2, 0])
    losses = []
    for step in range(3):
        x = formula(2000 + step, [2, 1, 16, 32, 32], -1, 1)
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    after = {}
    for k, v in m.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        f = v.reshape(-1).double()
        after[k] = {"sum": enc(f.sum().item()), "sumsq": enc((f * f).sum().item()),
                    "first": [enc(e) for e in f[:8].tolist()]}
    return {"options": options, "input": [2, 1, 16, 32, 32], "target": y.tolist(), "lr": 0.05,
            "momentum": 0.9, "weightDecay": 1e-4, "losses": losses, "after": after}


def main():
    torch.set_num_threads(1)
    fixture = {
        "structure": structure(),
        "cases": [
            case("resnet10, widenFactor 1/32, cross-entropy", 10,
                 {"inChannels": 1, "numClasses": 3, "widenFactor": 1 / 32}, [2, 1, 16, 32, 32], [2, 0], 1024),
            case("resnet18, shortcut A, stem [3, 5, 5] stride [1, 2, 2], no max-pool", 18,
                 {"inChannels": 2, "numClasses": 4, "widenFactor": 1 / 32, "shortcutType": "A",
                  "conv1TSize": [3, 5, 5], "conv1TStride": [1, 2, 2], "noMaxPool": True},
                 [2, 2, 16, 32, 32], [3, 1], 128),
            case("resnet50, widenFactor 1/32, no fc, no downsample bias", 50,
                 {"inChannels": 1, "widenFactor": 1 / 32, "feedForward": False, "biasDownsample": False},
                 [2, 1, 16, 32, 32], None, 64, "eval"),
        ],
        "sgd": sgd(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")


def timing():
    """resnet18 (1 channel, 2 classes) at [2, 1, 32, 96, 96]: forward (eval, no_grad) and
    forward + backward (train), the median of 3 after a warm-up."""
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    m = monai(18, {"inChannels": 1, "numClasses": 2})
    x = torch.randn(2, 1, 32, 96, 96)
    y = torch.tensor([0, 1])

    def fwd():
        m.eval()
        with torch.no_grad():
            m(x)

    def step():
        m.train()
        m.zero_grad()
        F.cross_entropy(m(x), y).backward()

    for name, fn in [("forward", fwd), ("forward+backward", step)]:
        fn()
        times = []
        for _ in range(3):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads) resnet18 3-D "
              f"[2, 1, 32, 96, 96] {name}: median {sorted(times)[1] * 1000:.0f} ms "
              f"({', '.join(f'{t * 1000:.0f}' for t in times)})")


if __name__ == "__main__":
    timing() if "--time" in sys.argv else main()
