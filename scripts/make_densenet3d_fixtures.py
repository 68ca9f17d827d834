"""Writes tests/fixtures/densenet3d.json: MONAI 1.3's DenseNet for volumes
(monai.networks.nets.DenseNet121/169/201/264 with spatial_dims=3) against
src/models/densenet3d.ts (tests/densenet3d_test.ts).

MONAI is not installed here, so the architecture is written below in plain
torch 1.13, following monai/networks/nets/densenet.py of MONAI 1.3 for
spatial_dims=3, act relu and norm batch (the defaults), with its module
names: features = conv0 (7x7x7, stride 2, padding 3, no bias), norm0, relu0,
pool0 (MaxPool3d 3, 2, 1), then denseblock{i} (an nn.Sequential of
denselayer{j}, each `layers` = norm1, relu1, conv1 (1x1x1 to bn_size *
growth_rate), norm2, relu2, conv2 (3x3x3, padding 1, to growth_rate) and,
with dropout_prob > 0, dropout (nn.Dropout3d), returning cat([x, layers(x)],
1)), transition{i} (norm, relu, conv 1x1x1 to in // 2, pool AvgPool3d 2, 2)
between blocks and norm5 after the last; class_layers = relu, pool
(AdaptiveAvgPool3d(1)), flatten (nn.Flatten(1)), out (Linear). Convolutions
kaiming_normal_ with its defaults (fan_in, gain sqrt(2)), batch norm 1 / 0,
Linear bias 0.

  structure
      densenet121 (1 channel, 2 classes: the 3d_classification tutorial's
      DenseNet121(spatial_dims=3, in_channels=1, out_channels=2)): every
      state-dict name in order with its shape and dtype, and the parameter
      count; densenet169/201/264 and a small configuration: the parameter
      count, the number of state-dict entries and the last entries (the
      small one with odd counts into its transitions: 61 -> 30, 90 -> 45).
  cases
      Small models whose weights, batch-norm statistics and inputs come from
      a formula both sides compute exactly (`value` below, so no weights
      are stored): eval output, training output, cross-entropy loss, the
      input's and every parameter's gradient, the running statistics
      after. Each gradient also has `noise`, the largest difference between
      torch's float32 gradient and its float64 one, which the test allows
      for. A tensor of more than `full` values is stored as every
      `stride`-th value (about full / 4 of them) plus its sum and sum of
      squares. Growth 8, init features 16, block_config (2, 2) at
      [2, 1, 16, 20, 24]; growth 4, init features 9, bn_size 2,
      block_config (1, 2, 1), 2 channels, 4 classes at [2, 2, 32, 32, 32]
      (an odd channel count into a transition: 13 -> 6, then 14 -> 7).
  sgd
      The first case's model trained 3 steps with SGD (lr 0.05, momentum
      0.9, weight_decay 1e-4) from the formula's weights: each step's loss
      and, after, each parameter's and buffer's sum, sum of squares and
      first 8 values.

Run: /usr/bin/python3 scripts/make_densenet3d_fixtures.py (PyTorch 1.13).
     /usr/bin/python3 scripts/make_densenet3d_fixtures.py --time times
     densenet121 (1 channel, 2 classes) at [1, 1, 64, 64, 64] instead.
"""
import json
import os
import sys
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_json import enc, ser

torch.manual_seed(20260717)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "densenet3d.json")


# ------------------------------------------------ MONAI 1.3, spatial_dims=3, relu, batch

class _DenseLayer(nn.Module):
    def __init__(self, in_channels, growth_rate, bn_size, dropout_prob):
        super().__init__()
        out_channels = bn_size * growth_rate
        self.layers = nn.Sequential()
        self.layers.add_module("norm1", nn.BatchNorm3d(in_channels))
        self.layers.add_module("relu1", nn.ReLU(inplace=True))
        self.layers.add_module("conv1", nn.Conv3d(in_channels, out_channels, kernel_size=1, bias=False))
        self.layers.add_module("norm2", nn.BatchNorm3d(out_channels))
        self.layers.add_module("relu2", nn.ReLU(inplace=True))
        self.layers.add_module("conv2", nn.Conv3d(out_channels, growth_rate, kernel_size=3, padding=1,
                                                  bias=False))
        if dropout_prob > 0:
            self.layers.add_module("dropout", nn.Dropout3d(dropout_prob))

    def forward(self, x):
        new_features = self.layers(x)
        return torch.cat([x, new_features], 1)


class _DenseBlock(nn.Sequential):
    def __init__(self, layers, in_channels, bn_size, growth_rate, dropout_prob):
        super().__init__()
        for i in range(layers):
            layer = _DenseLayer(in_channels, growth_rate, bn_size, dropout_prob)
            in_channels += growth_rate
            self.add_module("denselayer%d" % (i + 1), layer)


class _Transition(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.add_module("norm", nn.BatchNorm3d(in_channels))
        self.add_module("relu", nn.ReLU(inplace=True))
        self.add_module("conv", nn.Conv3d(in_channels, out_channels, kernel_size=1, bias=False))
        self.add_module("pool", nn.AvgPool3d(kernel_size=2, stride=2))


class DenseNet(nn.Module):
    def __init__(self, in_channels, out_channels, init_features=64, growth_rate=32,
                 block_config=(6, 12, 24, 16), bn_size=4, dropout_prob=0.0):
        super().__init__()
        self.features = nn.Sequential(OrderedDict([
            ("conv0", nn.Conv3d(in_channels, init_features, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm0", nn.BatchNorm3d(init_features)),
            ("relu0", nn.ReLU(inplace=True)),
            ("pool0", nn.MaxPool3d(kernel_size=3, stride=2, padding=1)),
        ]))
        in_channels = init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(layers=num_layers, in_channels=in_channels, bn_size=bn_size,
                                growth_rate=growth_rate, dropout_prob=dropout_prob)
            self.features.add_module(f"denseblock{i + 1}", block)
            in_channels += num_layers * growth_rate
            if i == len(block_config) - 1:
                self.features.add_module("norm5", nn.BatchNorm3d(in_channels))
            else:
                _out_channels = in_channels // 2
                self.features.add_module(f"transition{i + 1}", _Transition(in_channels, _out_channels))
                in_channels = _out_channels
        self.class_layers = nn.Sequential(OrderedDict([
            ("relu", nn.ReLU(inplace=True)),
            ("pool", nn.AdaptiveAvgPool3d(1)),
            ("flatten", nn.Flatten(1)),
            ("out", nn.Linear(in_channels, out_channels)),
        ]))
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(torch.as_tensor(m.weight))
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                nn.init.constant_(torch.as_tensor(m.weight), 1)
                nn.init.constant_(torch.as_tensor(m.bias), 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(torch.as_tensor(m.bias), 0)

    def forward(self, x):
        return self.class_layers(self.features(x))


BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32), 264: (6, 12, 64, 48)}

# Our option names for MONAI's.
NAMES = {"inChannels": "in_channels", "numClasses": "out_channels", "initFeatures": "init_features",
         "growthRate": "growth_rate", "blockConfig": "block_config", "bnSize": "bn_size",
         "dropoutProb": "dropout_prob"}


def monai(depth, options):
    """MONAI's DenseNet{depth} (its block_config unless the options give one)."""
    kwargs = {NAMES[k]: v for k, v in options.items()}
    if depth is not None:
        kwargs.setdefault("block_config", BLOCKS[depth])
    return DenseNet(**kwargs)


def num_params(m):
    return sum(p.numel() for p in m.parameters())


def entries(m):
    return [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in m.state_dict().items()]


def structure():
    tutorial = {"inChannels": 1, "numClasses": 2}
    m = monai(121, tutorial)
    full = {"depth": 121, "options": tutorial, "numParams": num_params(m), "state": entries(m)}
    del m
    others = []
    for depth, options in [(169, tutorial), (201, {"inChannels": 2, "numClasses": 3}),
                           (264, {"inChannels": 1, "numClasses": 5}),
                           (121, {"inChannels": 3, "numClasses": 4, "initFeatures": 25, "growthRate": 12,
                                  "blockConfig": [3, 5, 7], "bnSize": 2, "dropoutProb": 0.2})]:
        m = monai(depth, options)
        state = entries(m)
        others.append({"depth": depth, "options": options, "numParams": num_params(m),
                       "numEntries": len(state), "last": state[-12:]})
        del m
    return {"full": full, "others": others}


# ------------------------------------------------------------------------- formula values

# The weights' formula and the stored-tensor form are the 3-D ResNet's (tests/model_fixture.ts
# is their TypeScript side).
from make_resnet3d_fixtures import fill, formula, stored  # noqa: E402


def gradients(options, shape, target, dtype):
    """The training pass in `dtype`: the model, its output, loss and the input's gradient."""
    m = monai(None, options)
    fill(m)
    m.to(dtype).train()
    xg = formula(1000, shape, -1, 1).to(dtype).requires_grad_(True)
    out = m(xg)
    loss = F.cross_entropy(out, torch.tensor(target))
    loss.backward()
    return m, out, loss, xg


def noise(a, b):
    """How far torch's float32 gradient is from its float64 one (max |a - b|): rounding the
    test allows for, as a gradient through a training-mode batch norm cancels."""
    return enc((a.double() - b.double()).abs().max().item())


def case(label, options, shape, target, full):
    m = monai(None, options)
    fill(m)
    x = formula(1000, shape, -1, 1)
    m.eval()
    with torch.no_grad():
        eval_out = m(x)
    m, out, loss, xg = gradients(options, shape, target, torch.float32)
    m64, _, _, xg64 = gradients(options, shape, target, torch.float64)
    grads64 = dict(m64.named_parameters())
    return {
        "label": label,
        "options": options,
        "input": shape,
        "target": target,
        "numParams": num_params(m),
        "evalOut": ser(eval_out),
        "trainOut": ser(out),
        "loss": loss.item(),
        "inputGrad": {**stored(xg.grad, full), "noise": noise(xg.grad, xg64.grad)},
        "grads": {k: {**stored(p.grad, full), "noise": noise(p.grad, grads64[k].grad)}
                  for k, p in m.named_parameters()},
        "buffersAfter": {k: stored(v, full) for k, v in m.named_buffers()},
    }


SMALL = {"inChannels": 1, "numClasses": 3, "initFeatures": 16, "growthRate": 8, "blockConfig": [2, 2]}


def sgd():
    m = monai(None, SMALL)
    fill(m)
    m.train()
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    y = torch.tensor([2, 0])
    shape = [2, 1, 16, 20, 24]
    losses = []
    for step in range(3):
        x = formula(2000 + step, shape, -1, 1)
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
    return {"options": SMALL, "input": shape, "target": y.tolist(), "lr": 0.05, "momentum": 0.9,
            "weightDecay": 1e-4, "losses": losses, "after": after}


def main():
    torch.set_num_threads(1)
    fixture = {
        "structure": structure(),
        "cases": [
            case("growth 8, init features 16, blocks (2, 2) at [2, 1, 16, 20, 24]", SMALL,
                 [2, 1, 16, 20, 24], [2, 0], 256),
            case("growth 4, init features 9, bnSize 2, blocks (1, 2, 1), 2 channels at [2, 2, 32, 32, 32]",
                 {"inChannels": 2, "numClasses": 4, "initFeatures": 9, "growthRate": 4, "bnSize": 2,
                  "blockConfig": [1, 2, 1]},
                 [2, 2, 32, 32, 32], [3, 1], 128),
        ],
        "sgd": sgd(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(f"{OUT}: {os.path.getsize(OUT):,} bytes")


def timing():
    """densenet121 (1 channel, 2 classes) at [1, 1, 64, 64, 64]: forward (eval, no_grad) and
    forward + backward (train), the fastest of 3 after a warm-up."""
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    m = monai(121, {"inChannels": 1, "numClasses": 2})
    x = torch.randn(1, 1, 64, 64, 64)
    y = torch.tensor([1])

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
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads) densenet121 3-D "
              f"[1, 1, 64, 64, 64] {name}: fastest {min(times) * 1000:.0f} ms "
              f"({', '.join(f'{t * 1000:.0f}' for t in times)})")


if __name__ == "__main__":
    timing() if "--time" in sys.argv else main()
