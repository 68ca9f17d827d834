"""Writes tests/fixtures/habits_s11.json: PyTorch's answers for two habits of
tests/habits_s11_test.ts.

- "strides": tensors with a zero-size dimension. For each shape, torch's
  x.stride() and x.is_contiguous() of torch.zeros(shape), and of the views
  and reshapes PyTorch code applies to it (transpose, permute, view,
  reshape, flatten, unsqueeze, squeeze, expand, narrow to no elements,
  contiguous of a transposed one): the op list in the order applied, then
  the result's shape, strides and contiguity. (clone is left out: torch's
  keeps a transposed tensor's strides, empty or not, where ours makes it
  row-major.)
- "weightNorm": torch.nn.utils.weight_norm on a layer whose weight is frozen
  (requires_grad False), and remove_weight_norm after weight_g / weight_v
  were frozen: requires_grad of each Parameter and whether .grad is None.

No random numbers are drawn (the values of empty tensors do not exist; the
weight-norm flags do not depend on values).

Run with /usr/bin/python3 scripts/make_habits_s11_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
from torch import nn
from torch.nn.utils import remove_weight_norm, weight_norm

torch.set_num_threads(1)
torch.manual_seed(20260701)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_s11.json")

SHAPES = [[2, 0], [0, 3], [2, 0, 4], [0], [3, 0, 0], [0, 1], [1, 0], [2, 1, 0], [0, 2, 3],
          [4, 0, 1, 2]]


def apply(x, ops):
    for name, *a in ops:
        if name == "t":
            x = x.transpose(a[0], a[1])
        elif name == "permute":
            x = x.permute(*a[0])
        elif name == "view":
            x = x.view(*a[0])
        elif name == "reshape":
            x = x.reshape(*a[0])
        elif name == "flatten":
            x = x.flatten(a[0])
        elif name == "unsqueeze":
            x = x.unsqueeze(a[0])
        elif name == "squeeze":
            x = x.squeeze() if not a else x.squeeze(a[0])
        elif name == "expand":
            x = x.expand(*a[0])
        elif name == "narrow":
            x = x.narrow(a[0], a[1], a[2])
        elif name == "contiguous":
            x = x.contiguous()
        else:
            raise ValueError(name)
    return x


def op_lists(shape):
    n = len(shape)
    lists = [[], [["reshape", [-1]]], [["view", [-1, 1]]], [["view", shape[::-1]]],
             [["flatten", 0]]]
    lists += [[["unsqueeze", d]] for d in range(n + 1)]
    if 1 in shape:
        lists.append([["squeeze"]])
    if n >= 2:
        lists += [
            [["t", 0, 1]],
            [["permute", list(range(n))[::-1]]],
            [["t", 0, 1], ["contiguous"]],
            [["t", 0, 1], ["reshape", [shape[1], shape[0], *shape[2:]]]],
            [["t", 0, 1], ["view", [-1]]],
            [["t", 0, 1], ["unsqueeze", 1]],
            [["flatten", 1]],
            [["expand", [2, *shape]]],
        ]
    return lists


def strides_cases():
    cases = []
    for shape in SHAPES:
        for ops in op_lists(shape):
            y = apply(torch.zeros(shape), ops)
            cases.append({"shape": shape, "ops": ops, "outShape": list(y.shape),
                          "strides": list(y.stride()), "contiguous": y.is_contiguous()})
    # No elements left by narrowing a non-empty tensor: the strides stay.
    for shape, ops in [([3, 4], [["narrow", 1, 2, 0]]), ([2, 3, 4], [["narrow", 0, 1, 0]]),
                       ([3, 4], [["narrow", 1, 2, 0], ["view", [-1]]]),
                       ([2, 3, 4], [["narrow", 2, 1, 0], ["t", 0, 2]])]:
        y = apply(torch.zeros(shape), ops)
        cases.append({"shape": shape, "ops": ops, "outShape": list(y.shape),
                      "strides": list(y.stride()), "contiguous": y.is_contiguous()})
    return cases


def flags(p):
    return {"requiresGrad": p.requires_grad, "gradIsNone": p.grad is None}


def weight_norm_cases():
    out = {}
    # A frozen weight: weight_g and weight_v are new, trainable Parameters.
    m = nn.Linear(3, 2)
    m.weight.requires_grad_(False)
    weight_norm(m)
    out["frozenLinear"] = {"g": flags(m.weight_g), "v": flags(m.weight_v),
                           "names": [n for n, _ in m.named_parameters()]}
    c = nn.Conv2d(2, 3, 3)
    c.weight.requires_grad_(False)
    weight_norm(c, "weight", None)
    out["frozenConvDimNone"] = {"g": flags(c.weight_g), "v": flags(c.weight_v),
                                "names": [n for n, _ in c.named_parameters()]}
    # A weight with a gradient: weight_v starts with none (a new Parameter).
    m = nn.Linear(3, 2)
    m(torch.ones(1, 3)).sum().backward()
    weight_norm(m)
    out["weightWithGrad"] = {"g": flags(m.weight_g), "v": flags(m.weight_v)}
    # remove_weight_norm after a backward and with g, v frozen: a new trainable Parameter.
    m = nn.Linear(3, 2)
    weight_norm(m)
    m(torch.ones(1, 3)).sum().backward()
    m.weight_g.requires_grad_(False)
    m.weight_v.requires_grad_(False)
    remove_weight_norm(m)
    out["removedFrozen"] = {"weight": flags(m.weight),
                            "names": [n for n, _ in m.named_parameters()]}
    return out


def main():
    data = {"strides": strides_cases(), "weightNorm": weight_norm_cases()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(data['strides'])} stride cases")


if __name__ == "__main__":
    main()
