"""Writes tests/fixtures/habits_s10.json: what PyTorch's `Tensor.view` does
on non-contiguous tensors (tests/habits_s10_test.ts).

Each view case builds x from a base `arange` through a list of view ops
(transpose, permute, narrow, a stepped slice, select, expand, unsqueeze),
then asks for `x.view(shape)`. It stores whether torch views or refuses,
and for a view: the strides, the storage offset, the values, the base
after `v.add_(100)` through the view (not for expanded tensors: torch
refuses in-place writes where elements share memory), and the gradient of
L = sum(v * W) with respect to the base (W = 1, 2, 3, ... in v's shape).
Values are small integers, exact in float32.

The loader cases store what torch's DataLoader (0 workers) says to options
that need workers (persistent_workers, prefetch_factor) and to bad timeouts.

Run with /usr/bin/python3 scripts/make_habits_s10_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_s10.json")


def apply(x, ops):
    """The view ops of a case, as a PyTorch user writes them."""
    for op in ops:
        name, args = op[0], op[1:]
        if name == "t":
            x = x.transpose(*args)
        elif name == "permute":
            x = x.permute(*args[0])
        elif name == "narrow":
            x = x.narrow(*args)
        elif name == "step":  # x[..., ::step] along dim
            dim, step = args
            x = x[(slice(None),) * dim + (slice(None, None, step),)]
        elif name == "select":
            x = x.select(*args)
        elif name == "expand":
            x = x.expand(*args[0])
        elif name == "unsqueeze":
            x = x.unsqueeze(*args)
        else:
            raise ValueError(name)
    return x


def base_of(shape):
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n, dtype=torch.float32).reshape(shape)


def view_case(base, ops, shape):
    x = apply(base_of(base), ops)
    case = {"base": base, "ops": ops, "shape": shape, "xShape": list(x.shape),
            "xStrides": list(x.stride())}
    try:
        v = x.view(shape)
    except RuntimeError as e:
        case["error"] = str(e).split("\n")[0]
        return case
    case["outShape"] = list(v.shape)
    case["strides"] = list(v.stride())
    case["offset"] = v.storage_offset()
    case["values"] = v.reshape(-1).tolist()
    overlaps = any(st == 0 and sz > 1 for st, sz in zip(x.stride(), x.shape))
    if not overlaps:
        b = base_of(base)
        apply(b, ops).view(shape).add_(100)
        case["baseAfterWrite"] = b.reshape(-1).tolist()
    b = base_of(base).requires_grad_(True)
    v = apply(b, ops).view(shape)
    w = torch.arange(1, v.numel() + 1, dtype=torch.float32).reshape(v.shape)
    (v * w).sum().backward()
    case["grad"] = b.grad.reshape(-1).tolist()
    return case


VIEWS = [
    # transposed matrix: its own shape or a split of one dimension views, merging refuses
    ([3, 4], [["t", 0, 1]], [-1]),
    ([3, 4], [["t", 0, 1]], [4, 3]),
    ([3, 4], [["t", 0, 1]], [2, 2, 3]),
    ([3, 4], [["t", 0, 1]], [4, 3, 1]),
    ([3, 4], [["t", 0, 1]], [1, 4, 1, 3]),
    ([3, 4], [["t", 0, 1]], [3, 4]),
    ([2, 3, 4], [["permute", [0, 2, 1]]], [2, -1]),
    ([2, 3, 4], [["permute", [0, 2, 1]]], [2, 2, 2, 3]),
    ([2, 3, 4], [["permute", [0, 2, 1]]], [8, 3]),
    # NCHW -> NHWC: H and W merge, N with them does not
    ([2, 3, 4, 5], [["permute", [0, 2, 3, 1]]], [2, 20, 3]),
    ([2, 3, 4, 5], [["permute", [0, 2, 3, 1]]], [2, -1, 3]),
    ([2, 3, 4, 5], [["permute", [0, 2, 3, 1]]], [-1, 3]),
    ([2, 3, 4, 5], [["permute", [0, 2, 3, 1]]], [2, 2, 2, 5, 3]),
    ([2, 3, 4, 5], [["permute", [0, 2, 3, 1]]], [2, 4, 5, 3, 1]),
    # a narrowed last dimension: the leading dimensions merge, the last cannot join them
    ([2, 3, 4], [["narrow", 2, 0, 2]], [6, 2]),
    ([2, 3, 4], [["narrow", 2, 1, 2]], [2, 3, 2, 1]),
    ([2, 3, 4], [["narrow", 2, 0, 2]], [-1]),
    ([2, 3, 4], [["narrow", 2, 0, 2]], [2, 6]),
    # narrowed first dimension: contiguous with an offset
    ([4, 3], [["narrow", 0, 1, 2]], [-1]),
    # narrowed middle dimension
    ([2, 4, 3], [["narrow", 1, 1, 2]], [2, 6]),
    ([2, 4, 3], [["narrow", 1, 1, 2]], [4, 3]),
    ([2, 4, 3], [["narrow", 1, 1, 2]], [2, 2, 3]),
    # stepped slices (x[::2], x[:, ::2])
    ([6, 4], [["step", 0, 2]], [3, 2, 2]),
    ([6, 4], [["step", 0, 2]], [12]),
    ([6, 4], [["step", 1, 2]], [3, 2, 2]),
    ([6, 4], [["step", 1, 2]], [12]),
    ([6, 4], [["step", 1, 2]], [6, 2, 1]),
    # select leaves a strided matrix
    ([2, 3, 4], [["select", 1, 1]], [2, 2, 2]),
    ([2, 3, 4], [["select", 1, 1]], [8]),
    ([2, 3, 4], [["select", 2, 3]], [6]),
    # expanded (stride 0): size-1 and broadcast dimensions
    ([3, 1], [["expand", [3, 4]]], [12]),
    ([3, 1], [["expand", [3, 4]]], [3, 2, 2]),
    ([1, 4], [["expand", [3, 4]]], [3, 4, 1]),
    ([1, 4], [["expand", [3, 4]]], [3, 2, 2]),
    ([4], [["expand", [2, 3, 4]]], [6, 4]),
    ([4], [["expand", [2, 3, 4]]], [-1]),
    ([2, 1, 3], [["expand", [2, 4, 3]]], [8, 3]),
    ([2, 1, 3], [["expand", [2, 4, 3]]], [2, 2, 2, 3]),
    # size-1 dimensions with odd strides
    ([1, 3, 4], [["permute", [2, 0, 1]]], [4, 3]),
    ([1, 3, 4], [["permute", [2, 0, 1]]], [12]),
    ([2, 3, 8], [["step", 2, 4], ["narrow", 2, 0, 1]], [6]),
    ([2, 3, 8], [["step", 2, 4], ["narrow", 2, 1, 1]], [6, 1]),
    ([2, 3, 8], [["step", 2, 4], ["narrow", 2, 0, 1]], [1, 2, 3]),
    ([3, 4], [["t", 0, 1], ["unsqueeze", 1]], [4, 3]),
    ([3, 4], [["t", 0, 1], ["unsqueeze", 2]], [2, 2, 3]),
    ([3, 4], [["t", 0, 1], ["unsqueeze", 2]], [12]),
    # a transposed then narrowed matrix
    ([4, 6], [["t", 0, 1], ["narrow", 0, 0, 3]], [3, 2, 2]),
    ([4, 6], [["t", 0, 1], ["narrow", 0, 1, 3]], [-1]),
    # empty tensors view as any shape of 0 elements
    ([0, 3], [["t", 0, 1]], [0]),
    ([0, 3], [["t", 0, 1]], [-1]),
    ([0, 3], [["t", 0, 1]], [3, 0, 2]),
    ([0, 3], [["t", 0, 1]], [3, 0]),
    # 0-d and one-element tensors
    ([], [], [1, 1]),
    ([1], [["expand", [1]]], []),
]



def loader_case(options):
    """torch 1.13's DataLoader on these options (0 workers): the error's text, or None."""
    from torch.utils.data import DataLoader, TensorDataset
    try:
        for _ in DataLoader(TensorDataset(torch.arange(4.0)), batch_size=2, **options):
            pass
    except Exception as e:  # ValueError, TypeError, AssertionError: each is a refusal
        return {"options": options, "error": f"{type(e).__name__}: {e}"}
    return {"options": options, "error": None}


LOADER = [{"persistent_workers": True}, {"persistent_workers": True, "num_workers": 0},
          {"prefetch_factor": 4}, {"prefetch_factor": 2}, {"timeout": "1"}, {"timeout": -1},
          {"timeout": 1.5}]

cases = {"view": [view_case(*c) for c in VIEWS], "loader": [loader_case(o) for o in LOADER]}

if __name__ == "__main__":
    with open(OUT, "w") as f:
        json.dump(cases, f, separators=(",", ":"))
        f.write("\n")
    for c in cases["view"]:
        print(c["xShape"], c["xStrides"], "->", c["shape"], c.get("strides", c.get("error")))
    for c in cases["loader"]:
        print(c)
