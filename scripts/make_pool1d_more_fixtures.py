"""Writes tests/fixtures/pool1d_more.json: PyTorch 1.13's F.max_pool1d with
`dilation` and `return_indices` (tests/pool1d_more_test.ts).

Each case stores the input (ties and NaN in some), the options under this
library's names (camelCase), the values, the indices (torch's int64, as
int32), and the gradient of L = sum(out * G) for a fixed random G where
the case has one (not for a window with no tap inside the input, whose
torch index lies past the input). NaN and the infinities are the strings
"nan", "inf" and "-inf".

Run with /usr/bin/python3 scripts/make_pool1d_more_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260802)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "pool1d_more.json")
NAN = float("nan")
SNAKE = {"ceilMode": "ceil_mode"}


def case(name, x, kernel, grad=True, **opts):
    x = x.clone().requires_grad_(grad)
    kw = {SNAKE.get(k, k): v for k, v in opts.items()}
    values, indices = F.max_pool1d(x, kernel, return_indices=True, **kw)
    out = {"name": name, "x": ser(x), "kernel": kernel, "options": opts, "values": ser(values),
           "indices": {**ser(indices), "dtype": "int32"}}
    if grad:
        g = torch.randn(values.shape)
        (values * g).sum().backward()
        out["G"] = ser(g)
        out["grad"] = ser(x.grad)
    return out


ties = torch.tensor([[[2., 2, 2, 1, 5, 5, 0, 3, 3, 3, 1]]])
nans = torch.tensor([[[1., NAN, 2, NAN, 0, 4, 4, NAN, -1, 2]]])
cases = [
    case("dilation 2", torch.randn(2, 3, 12), 3, dilation=2, stride=1),
    case("dilation 2, stride 2, padding 1", torch.randn(2, 2, 11), 3, dilation=2, stride=2,
         padding=1),
    case("dilation 3, ceil mode", torch.randn(1, 2, 13), 2, dilation=3, stride=2, padding=1,
         ceilMode=True),
    case("dilation 1 with indices, padding 1", torch.randn(2, 3, 9), 3, stride=2, padding=1),
    case("ties: the first maximum", ties, 3, stride=1, padding=1),
    case("ties with dilation 2", ties, 2, dilation=2, stride=1, padding=1),
    case("NaN: the last NaN of each window", nans, 3, stride=1, padding=1),
    case("NaN with dilation 2", nans, 3, stride=1, dilation=2),
    case("unbatched [C, L]", torch.randn(3, 10), 4, dilation=2, stride=3, padding=2),
    case("a window with no tap inside", torch.tensor([[[3., 4.]]]), 2, grad=False, stride=1,
         padding=1, dilation=3),
    case("-inf inputs", torch.tensor([[[-float("inf"), -float("inf"), 1, -float("inf")]]]), 2,
         stride=1, dilation=2, padding=1),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
