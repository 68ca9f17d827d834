"""Writes tests/fixtures/pool_indices.json: PyTorch 1.13's F.max_pool2d and
F.max_pool3d with `dilation` and `return_indices` (tests/pool_indices_test.ts),
and F.max_unpool1d/2d/3d (tests/max_unpool_test.ts).

Each pool case stores the input (ties and NaN in some), the kernel and options
under this library's names (camelCase), the values, the indices (torch's int64,
as int32), and the gradient of L = sum(values * G) for a fixed random G where
the case has one (not for a window with no tap inside the input, whose torch
index lies past the input). Each unpool case stores the values x, the indices,
the kernel and options, the output, and the gradient of L = sum(out * G). The
round trips store a pool -> unpool chain and the input's gradient through
both. NaN and the infinities are the strings "nan", "inf" and "-inf".

Run with /usr/bin/python3 scripts/make_pool_indices_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260811)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "pool_indices.json")
NAN = float("nan")
INF = float("inf")
SNAKE = {"ceilMode": "ceil_mode", "outputSize": "output_size"}
POOLS = {2: F.max_pool2d, 3: F.max_pool3d}
UNPOOLS = {1: F.max_unpool1d, 2: F.max_unpool2d, 3: F.max_unpool3d}


def snake(opts):
    return {SNAKE.get(k, k): v for k, v in opts.items()}


def pool(name, nd, x, kernel, grad=True, **opts):
    x = x.clone().requires_grad_(grad)
    values, indices = POOLS[nd](x, kernel, return_indices=True, **snake(opts))
    out = {"name": name, "nd": nd, "x": ser(x), "kernel": kernel, "options": opts,
           "values": ser(values), "indices": {**ser(indices), "dtype": "int32"}}
    if grad:
        g = torch.randn(values.shape)
        (values * g).sum().backward()
        out["G"] = ser(g)
        out["grad"] = ser(x.grad)
    return out


def small_ints(*shape, top=3):
    """Values from a few integers: many ties."""
    return torch.randint(0, top, shape).float()


def with_nans(*shape, rate=0.2):
    x = torch.randn(*shape)
    x[torch.rand(*shape) < rate] = NAN
    return x


pools = [
    pool("2-D kernel 2", 2, torch.randn(2, 3, 6, 6), 2),
    pool("2-D kernel 3, stride 2, padding 1", 2, torch.randn(2, 2, 7, 8), 3, stride=2, padding=1),
    pool("2-D dilation 2, stride 1", 2, torch.randn(1, 3, 7, 7), 3, dilation=2, stride=1),
    pool("2-D dilation [2, 3], stride [2, 1], padding 1, ceil mode", 2, torch.randn(2, 2, 9, 10),
         [3, 2], dilation=[2, 3], stride=[2, 1], padding=1, ceilMode=True),
    pool("2-D ceil mode, odd size", 2, torch.randn(1, 2, 7, 9), 3, stride=2, ceilMode=True),
    pool("2-D kernel [2, 3], stride [1, 2], padding [1, 0]", 2, torch.randn(2, 2, 5, 7), [2, 3],
         stride=[1, 2], padding=[1, 0]),
    pool("2-D unbatched [C, H, W], dilation 2", 2, torch.randn(3, 8, 7), 2, dilation=2, stride=2,
         padding=1),
    pool("2-D ties: the first maximum", 2, small_ints(2, 2, 6, 6), 3, stride=1, padding=1),
    pool("2-D ties with dilation 2", 2, small_ints(1, 2, 7, 7), 2, dilation=2, stride=1,
         padding=1),
    pool("2-D NaN: the last NaN of each window", 2, with_nans(2, 2, 6, 6), 3, stride=1,
         padding=1),
    pool("2-D NaN with dilation 2, ceil mode", 2, with_nans(1, 2, 8, 7), 2, dilation=2, stride=2,
         ceilMode=True),
    pool("2-D -inf inputs", 2,
         torch.tensor([[[[-INF, -INF, 1, -INF], [-INF, -INF, -INF, -INF], [2, -INF, -INF, 0]]]]),
         2, stride=1, padding=1),
    pool("2-D a window with no tap inside", 2, torch.tensor([[[[3., 4.], [1., 2.]]]]), 2,
         grad=False, stride=1, padding=1, dilation=3),
    pool("3-D kernel 2", 3, torch.randn(2, 2, 4, 4, 6), 2),
    pool("3-D kernel 3, stride 2, padding 1", 3, torch.randn(1, 2, 5, 6, 5), 3, stride=2,
         padding=1),
    pool("3-D dilation [1, 2, 2], ceil mode", 3, torch.randn(1, 2, 5, 7, 8), [2, 2, 3],
         dilation=[1, 2, 2], stride=[1, 2, 2], padding=[1, 0, 1], ceilMode=True),
    pool("3-D unbatched [C, D, H, W]", 3, torch.randn(2, 4, 5, 6), [2, 3, 2], stride=[2, 1, 2],
         padding=[0, 1, 1]),
    pool("3-D ties: the first maximum", 3, small_ints(1, 2, 4, 5, 5), 3, stride=1, padding=1),
    pool("3-D NaN: the last NaN of each window", 3, with_nans(1, 2, 4, 4, 5, rate=0.1), 2,
         stride=1),
    pool("3-D a window with no tap inside along depth", 3, torch.randn(1, 1, 2, 4, 4), [2, 2, 2],
         grad=False, dilation=[3, 1, 1], padding=1, stride=1),
]


def unpool(name, nd, x, indices, kernel, **opts):
    x = x.clone().detach().requires_grad_(True)
    out = UNPOOLS[nd](x, indices, kernel, **snake(opts))
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    return {"name": name, "nd": nd, "x": ser(x), "indices": {**ser(indices), "dtype": "int32"},
            "kernel": kernel, "options": opts, "out": ser(out), "G": ser(g),
            "grad": ser(x.grad)}


def pooled(nd, shape, kernel, **opts):
    x = torch.randn(*shape)
    if nd == 1:
        return F.max_pool1d(x, kernel, return_indices=True, **snake(opts))
    return POOLS[nd](x, kernel, return_indices=True, **snake(opts))


unpools = []
v, i = pooled(1, (2, 3, 8), 2)
unpools.append(unpool("1-D kernel 2", 1, v, i, 2))
v, i = pooled(1, (2, 2, 9), 3, stride=2, padding=1)
unpools.append(unpool("1-D kernel 3, stride 2, padding 1, outputSize", 1, v, i, 3, stride=2,
                      padding=1, outputSize=[9]))
v, i = pooled(1, (3, 7), 2)
unpools.append(unpool("1-D unbatched [C, L], outputSize", 1, v, i, 2, outputSize=[7]))
v, i = pooled(2, (2, 3, 6, 6), 2)
unpools.append(unpool("2-D kernel 2", 2, v, i, 2))
v, i = pooled(2, (1, 2, 7, 9), 3, stride=2, padding=1)
unpools.append(unpool("2-D kernel 3, stride 2, padding 1, outputSize", 2, v, i, 3, stride=2,
                      padding=1, outputSize=[7, 9]))
v, i = pooled(2, (2, 2, 5, 7), 2)
unpools.append(unpool("2-D outputSize with N and C", 2, v, i, 2, outputSize=[2, 2, 5, 7]))
v, i = pooled(2, (1, 2, 5, 5), 3, stride=1, padding=1)
unpools.append(unpool("2-D overlapping windows: repeated indices", 2, v, i, 3, stride=1,
                      padding=1))
unpools.append(unpool("2-D repeated indices, different values: the last stays", 2,
                      torch.randn(1, 2, 2, 3), torch.tensor([[[[0, 4, 4], [1, 0, 3]],
                                                              [[5, 5, 5], [2, 7, 2]]]]), 2))
v, i = pooled(2, (3, 6, 4), [2, 1], stride=[2, 1])
unpools.append(unpool("2-D unbatched [C, H, W], kernel [2, 1]", 2, v, i, [2, 1], stride=[2, 1]))
v, i = pooled(3, (2, 2, 4, 4, 6), 2)
unpools.append(unpool("3-D kernel 2", 3, v, i, 2))
v, i = pooled(3, (1, 2, 3, 5, 5), [1, 2, 2], stride=[1, 2, 2])
unpools.append(unpool("3-D kernel [1, 2, 2], outputSize", 3, v, i, [1, 2, 2], stride=[1, 2, 2],
                      outputSize=[3, 5, 5]))
v, i = pooled(3, (2, 3, 4, 5), 2, stride=1)
unpools.append(unpool("3-D unbatched, stride 1", 3, v, i, 2, stride=1))


def round_trip(name, nd, x, kernel, **opts):
    """pool -> unpool (outputSize: the input's size), and x's gradient through both."""
    x = x.clone().requires_grad_(True)
    values, indices = POOLS[nd](x, kernel, return_indices=True, **snake(opts))
    out = UNPOOLS[nd](values, indices, kernel, output_size=x.shape, **snake(opts))
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    return {"name": name, "nd": nd, "x": ser(x), "kernel": kernel, "options": opts,
            "out": ser(out), "G": ser(g), "grad": ser(x.grad)}


trips = [
    round_trip("2-D kernel 2 on 5 x 7", 2, torch.randn(2, 2, 5, 7), 2),
    round_trip("2-D kernel 3, stride 2, padding 1", 2, torch.randn(1, 3, 8, 6), 3, stride=2,
               padding=1),
    round_trip("3-D kernel 2 on 5 x 4 x 5", 3, torch.randn(1, 2, 5, 4, 5), 2),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "pools": pools, "unpools": unpools,
               "trips": trips}, f)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
