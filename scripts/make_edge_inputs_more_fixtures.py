"""Writes tests/fixtures/edge_inputs_more.json: PyTorch's numbers for
avg_pool2d with divisor_override (tests/edge_inputs_more_test.ts), across
ceil mode, padding, count_include_pad, stride and unbatched inputs.

Each case stores the input, its options under this library's names
(camelCase), the output, a fixed random upstream gradient G of the output's
shape and the input's gradient of L = sum(out * G).

Also recorded (as notes, no numbers): what torch 1.13 does with a
convolution of 0 input channels, which this library refuses instead.

Run with /usr/bin/python3 scripts/make_edge_inputs_more_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261206)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "edge_inputs_more.json")

# (input shape, kernel, options as this library names them)
SPECS = [
    ([2, 3, 6, 7], 2, {"divisorOverride": 3}),
    ([1, 2, 7, 7], 3, {"stride": 2, "padding": 1, "divisorOverride": 5}),
    ([1, 2, 7, 7], 3, {"stride": 2, "padding": 1, "countIncludePad": False, "divisorOverride": 4}),
    ([1, 2, 8, 9], [3, 2], {"stride": [2, 3], "padding": [1, 1], "ceilMode": True,
                            "divisorOverride": 7}),
    ([2, 1, 5, 6], 3, {"stride": 2, "padding": 1, "ceilMode": True, "countIncludePad": False,
                       "divisorOverride": 2}),
    ([1, 1, 5, 5], 2, {"stride": 2, "ceilMode": True, "divisorOverride": -3}),
    ([3, 5, 4], 2, {"stride": 1, "divisorOverride": 1}),  # unbatched [C, H, W]
]


def torch_opts(o):
    names = {"stride": "stride", "padding": "padding", "ceilMode": "ceil_mode",
             "countIncludePad": "count_include_pad", "divisorOverride": "divisor_override"}
    return {names[k]: v for k, v in o.items()}


cases = []
for shape, kernel, opts in SPECS:
    x = torch.randn(shape).requires_grad_(True)
    y = F.avg_pool2d(x, kernel, **torch_opts(opts))
    g = torch.randn(y.shape)
    (y * g).sum().backward()
    cases.append({"kernel": kernel, "opts": opts, "x": ser(x), "out": ser(y), "G": ser(g),
                  "dx": ser(x.grad)})

# torch 1.13 on a convolution of 0 input channels: an empty [N, 0, ...] result, whatever the
# weight's output channels and the bias (this library refuses it).
y0 = F.conv2d(torch.randn(2, 0, 4, 4), torch.randn(3, 0, 3, 3), torch.randn(3), padding=1)
notes = {"conv2d_zero_channels_shape": list(y0.shape)}

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "avgPool2d": cases, "notes": notes}, f)
    f.write("\n")
print("wrote", OUT, len(cases), "cases")
