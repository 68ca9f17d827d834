"""Writes tests/fixtures/nn_docs.json: PyTorch 1.13's numbers for the torch.nn
docs examples that a port could not run as written (tests/nn_docs_test.ts):
Conv2d with padding_mode "reflect", "replicate" and "circular" and with
padding="same" for an even kernel (torch pads one more after than before),
and nn.Fold / nn.Unfold built from keywords only, as their docs do
(`nn.Fold(output_size=(4, 5), kernel_size=(2, 2))`, `nn.Unfold(kernel_size=(2, 3))`).

Each case stores the layer's state dict, the input, the output, a fixed
random upstream gradient G and the gradients of L = sum(out * G) for the
input and the parameters. Inputs are float32, written with 9 significant
digits (an exact float32 round trip).

Run with /usr/bin/python3 scripts/make_nn_docs_fixtures.py (PyTorch 1.13).
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_json import ser  # noqa: E402

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "nn_docs.json")


def case(name, module, shape, opts):
    """`opts`: the options object of the port (our spellings), for the test to build it."""
    x = torch.randn(shape).requires_grad_(True)
    out = module(x)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    return {
        "name": name,
        "opts": opts,
        "state": {k: ser(v) for k, v in module.state_dict().items()},
        "input": ser(x),
        "out": ser(out),
        "G": ser(g),
        "inputGrad": ser(x.grad),
        "paramGrads": {k: ser(p.grad) for k, p in module.named_parameters()},
    }


conv2d = []
for name, args, kw, shape, opts in [
    ("reflect", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (2, 2, 5, 6),
     {"padding": 1, "paddingMode": "reflect"}),
    ("replicate stride 2", (2, 3, 3), dict(stride=2, padding=(1, 2), padding_mode="replicate"),
     (1, 2, 7, 6), {"stride": 2, "padding": [1, 2], "paddingMode": "replicate"}),
    ("circular dilation", (2, 3, (3, 2)), dict(padding=(2, 1), dilation=(2, 1),
                                               padding_mode="circular"), (1, 2, 6, 5),
     {"padding": [2, 1], "dilation": [2, 1], "paddingMode": "circular"}),
    ("same even kernel", (2, 3, (3, 4)), dict(padding="same", dilation=(2, 1)), (1, 2, 7, 8),
     {"padding": "same", "dilation": [2, 1]}),
    ("same 2x2 groups", (4, 6, 2), dict(padding="same", groups=2, bias=False), (1, 4, 5, 5),
     {"padding": "same", "groups": 2, "bias": False}),
    ("same even reflect", (2, 3, (2, 4)), dict(padding="same", padding_mode="reflect"),
     (1, 2, 6, 7), {"padding": "same", "paddingMode": "reflect"}),
    ("valid circular", (2, 3, 3), dict(padding="valid", padding_mode="circular"), (1, 2, 5, 5),
     {"padding": "valid", "paddingMode": "circular"}),
]:
    m = nn.Conv2d(*args, **kw)
    c = case(name, m, shape, opts)
    c["args"] = [a if isinstance(a, int) else list(a) for a in args]
    conv2d.append(c)

# The docs' own examples, with keywords only.
fold = case("Fold docs", nn.Fold(output_size=(4, 5), kernel_size=(2, 2)), (1, 3 * 2 * 2, 12),
            {"outputSize": [4, 5], "kernelSize": [2, 2]})
unfold = case("Unfold docs", nn.Unfold(kernel_size=(2, 3)), (1, 5, 3, 4), {"kernelSize": [2, 3]})
fold_opts = case("Fold keywords with options",
                 nn.Fold(output_size=(6, 7), kernel_size=(2, 3), dilation=(1, 2), padding=1,
                         stride=(2, 1)), (1, 6, 4 * 5),
                 {"outputSize": [6, 7], "kernelSize": [2, 3], "dilation": [1, 2], "padding": 1,
                  "stride": [2, 1]})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "conv2d": conv2d, "fold": [fold, fold_opts],
               "unfold": [unfold]}, f)
print("wrote", OUT)
