"""Writes tests/fixtures/review_view.json: PyTorch 1.13's numbers for the
review of `x.view` on non-contiguous tensors and of nn.utils.parametrize
(tests/review_view_test.ts).

- unflatten: `x.unflatten(dim, sizes)` of a non-contiguous x (transposed,
  permuted, stepped, narrowed) is a view in torch: its strides and storage
  offset, the base after `add_(100)` through it, and the gradient of
  sum(y * W) (W = 1, 2, 3, ... in y's shape) with respect to the base.
  Values are small integers, exact in float32.
- spectral: spectral_norm on layers whose shape is read by `print(model)`
  or a getter, or whose forward takes `output_size` (ConvTranspose1d/2d,
  Conv1d, Conv3d, Embedding, Bilinear). Each step prints the model, reads
  its shape attributes, then runs forward (output stored) and an SGD step
  (lr 0.1) of L = sum(out * G); torch's print and attribute reads run no
  power iteration, so u, v and the outputs follow one iteration per
  forward. The state right after registration is stored, so the test loads
  torch's random u and v.
- functional_call: torch 1.13's functional_call(m, {"weight": W}, x) on a
  parametrized Linear uses W as the weight (the parametrization skipped).

Inputs are float32 written with 9 significant digits (exact round trip).
Run with /usr/bin/python3 scripts/make_review_view_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn
from torch.nn.utils import parametrizations
from torch.nn.utils.stateless import functional_call

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "review_view.json")


def ser(t):
    t = t.detach()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "data": t.reshape(-1).tolist(), "dtype": "int32"}
    t = t.to(torch.float32)
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in t.reshape(-1).tolist()]}


def state(m):
    return {k: ser(v) for k, v in m.state_dict().items() if v.dtype.is_floating_point}


def apply(x, ops):
    """View ops as a PyTorch user writes them (as make_habits_s10_fixtures.py)."""
    for op in ops:
        name, args = op[0], op[1:]
        if name == "t":
            x = x.transpose(*args)
        elif name == "permute":
            x = x.permute(*args[0])
        elif name == "narrow":
            x = x.narrow(*args)
        elif name == "step":
            dim, step = args
            x = x[(slice(None),) * dim + (slice(None, None, step),)]
        else:
            raise ValueError(name)
    return x


def base_of(shape, grad=False):
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n, dtype=torch.float32).reshape(shape).requires_grad_(grad)


def unflatten_cases():
    specs = [
        ([3, 4], [["t", 0, 1]], 0, [2, 2]),
        ([3, 4], [["t", 0, 1]], 1, [3, 1]),
        ([3, 4], [["t", 0, 1]], 1, [1, -1]),
        ([2, 3, 4], [["permute", [2, 0, 1]]], 0, [2, -1]),
        ([2, 3, 4], [["permute", [0, 2, 1]]], 2, [3, 1]),
        ([4, 6], [["step", 1, 2]], 1, [3, 1]),
        ([4, 6], [["narrow", 1, 1, 4], ["t", 0, 1]], 0, [2, 2]),
        ([2, 6, 5], [["permute", [1, 2, 0]]], 0, [2, 3]),
    ]
    cases = []
    for base, ops, dim, sizes in specs:
        x = apply(base_of(base), ops)
        y = x.unflatten(dim, sizes)
        b = base_of(base)
        apply(b, ops).unflatten(dim, sizes).add_(100)
        g = base_of(base, True)
        yy = apply(g, ops).unflatten(dim, sizes)
        w = torch.arange(1, yy.numel() + 1, dtype=torch.float32).reshape(yy.shape)
        (yy * w).sum().backward()
        cases.append({
            "base": base, "ops": ops, "dim": dim, "sizes": sizes,
            "outShape": list(y.shape), "strides": list(y.stride()),
            "offset": y.storage_offset(), "values": y.reshape(-1).tolist(),
            "baseAfterWrite": b.reshape(-1).tolist(), "grad": g.grad.reshape(-1).tolist(),
        })
    return cases


SPECTRAL = [
    {"name": "ConvTranspose2d with output_size", "module": "convT2d", "x": [2, 2, 4, 4],
     "outputSize": [10, 10]},
    {"name": "ConvTranspose1d with output_size", "module": "convT1d", "x": [2, 2, 4],
     "outputSize": [10]},
    {"name": "Conv1d", "module": "conv1d", "x": [2, 2, 6]},
    {"name": "Conv3d", "module": "conv3d", "x": [1, 2, 4, 4, 4]},
    {"name": "Embedding", "module": "embedding", "x": [2, 3]},
    {"name": "Bilinear", "module": "bilinear", "x": [2, 3]},
]


def make(kind):
    if kind == "convT2d":
        return nn.ConvTranspose2d(2, 3, 3, stride=2)
    if kind == "convT1d":
        return nn.ConvTranspose1d(2, 3, 3, stride=2)
    if kind == "conv1d":
        return nn.Conv1d(2, 3, 3)
    if kind == "conv3d":
        return nn.Conv3d(2, 3, 2)
    if kind == "embedding":
        return nn.Embedding(6, 4)
    return nn.Bilinear(3, 4, 5)


SHAPE_ATTRS = ["in_channels", "out_channels", "kernel_size", "num_embeddings",
               "embedding_dim", "in1_features", "in2_features", "out_features"]


def call(m, spec, xs):
    if spec["module"] == "bilinear":
        return m(xs[0], xs[1])
    if "outputSize" in spec:
        return m(xs[0], output_size=spec["outputSize"])
    return m(xs[0])


def spectral_case(spec):
    m = make(spec["module"])
    init = state(m)
    parametrizations.spectral_norm(m)
    registered = state(m)
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    steps = []
    for _ in range(2):
        repr(m)  # torch's print reads no weight
        for a in SHAPE_ATTRS:
            getattr(m, a, None)
        if spec["module"] == "embedding":
            xs = [torch.randint(0, 6, spec["x"])]
        elif spec["module"] == "bilinear":
            xs = [torch.randn(spec["x"]), torch.randn([2, 4])]
        else:
            xs = [torch.randn(spec["x"])]
        opt.zero_grad()
        out = call(m, spec, xs)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        opt.step()
        steps.append({"xs": [ser(x) for x in xs], "g": ser(g), "out": ser(out)})
    return {**spec, "init": init, "registered": registered, "steps": steps, "after": state(m)}


def functional_call_case():
    m = parametrizations.orthogonal(nn.Linear(3, 3))
    w = torch.randn(3, 3)
    x = torch.randn(2, 3)
    out = functional_call(m, {"weight": w}, (x,))
    return {"state": state(m), "w": ser(w), "x": ser(x), "out": ser(out)}


def main():
    fixture = {
        "unflatten": unflatten_cases(),
        "spectral": [spectral_case(s) for s in SPECTRAL],
        "functionalCall": functional_call_case(),
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
