"""Writes tests/fixtures/set_weight_decay_more.json: torchvision 0.14's
`set_weight_decay` (references/classification/utils.py, copied in
scripts/make_recipe_flags_fixtures.py: the reference scripts are not part of
the torchvision package) with `norm_classes` and `custom_keys_weight_decay`
(tests/set_weight_decay_more_test.ts).

Two models: torchvision's resnet18(num_classes=3), and "net", a small
module with a parameter of its own ("token"), nested blocks and three norm
classes, whose names tests/set_weight_decay_more_test.ts rebuilds. Each
case: the options in the library's camelCase (classes by their nn name;
torchvision's train.py puts --bias-weight-decay's ("bias", x) first among
the custom keys, which "biasWeightDecay" stands for), and the groups:
each one's weight decay and parameter names, in order.

Run with /usr/bin/python3 scripts/make_set_weight_decay_more_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torchvision
from torch import nn

# torchvision's set_weight_decay (its generator runs as __main__ only).
from make_recipe_flags_fixtures import set_weight_decay

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "set_weight_decay_more.json")


# --- the models ------------------------------------------------------------------------------

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.ln = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 4)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, 4))
        self.stem = nn.Conv2d(1, 2, 3)
        self.blocks = nn.Sequential(Block(), Block())
        self.norm = nn.GroupNorm(2, 4)
        self.head = nn.Linear(4, 3)


MODELS = {"resnet18": torchvision.models.resnet18(num_classes=3), "net": Net()}
CLASSES = {"BatchNorm2d": nn.BatchNorm2d, "LayerNorm": nn.LayerNorm, "GroupNorm": nn.GroupNorm,
           "Linear": nn.Linear, "Conv2d": nn.Conv2d}

CASES = [
    ("resnet18", 1e-4, {"normWeightDecay": 0.0, "normClasses": ["BatchNorm2d"]}),
    ("resnet18", 1e-4, {"normWeightDecay": 0.0, "normClasses": ["Linear"],
                        "biasWeightDecay": 0.0}),
    ("resnet18", 1e-4, {"customKeysWeightDecay": [["weight", 0.1]]}),
    ("resnet18", 1e-4, {"normWeightDecay": 0.0,
                        "customKeysWeightDecay": [["fc.weight", 0.3], ["bias", 0.0]]}),
    # A dotted key is a full name: "downsample.1.weight" is no parameter's full name.
    ("resnet18", 1e-4, {"normWeightDecay": 0.0,
                        "customKeysWeightDecay": [["layer1.0.bn1.weight", 0.2],
                                                  ["downsample.1.weight", 0.7],
                                                  ["layer2.0.downsample.1.bias", 0.5]]}),
    ("resnet18", 5e-5, {"normWeightDecay": 0.01, "biasWeightDecay": 0.0,
                        "customKeysWeightDecay": [["fc.weight", 0.0]]}),
    ("net", 1e-2, {"normWeightDecay": 0.0,
                   "customKeysWeightDecay": [["token", 0.0], ["blocks.1.fc.weight", 0.5],
                                             ["bias", 0.1]]}),
    ("net", 1e-2, {"customKeysWeightDecay": [["blocks.0.ln.weight", 0.0]]}),
    ("net", 1e-2, {"normWeightDecay": 0.001, "normClasses": ["LayerNorm"]}),
    ("net", 1e-2, {"normWeightDecay": 0.001, "normClasses": ["LayerNorm", "GroupNorm"],
                   "customKeysWeightDecay": [["norm.weight", 0.2]]}),
    # An empty norm_classes is torchvision's default list.
    ("net", 1e-2, {"normWeightDecay": 0.0, "normClasses": []}),
    # Keys that match nothing leave no group; the root's own parameter has no prefix.
    ("net", 1e-2, {"customKeysWeightDecay": [["nothing", 0.3], ["stem", 0.1],
                                             ["token.weight", 0.2]]}),
    ("net", 0.0, {"normWeightDecay": 0.5, "normClasses": ["Conv2d"],
                  "customKeysWeightDecay": [["weight", 0.25]]}),
]


def groups_of(model, wd, opts):
    names = {id(p): n for n, p in model.named_parameters()}
    custom = ([("bias", opts["biasWeightDecay"])] if "biasWeightDecay" in opts else []) + \
        [tuple(kv) for kv in opts.get("customKeysWeightDecay", [])]
    classes = [CLASSES[c] for c in opts["normClasses"]] if "normClasses" in opts else None
    return [{"weightDecay": g["weight_decay"], "names": [names[id(p)] for p in g["params"]]}
            for g in set_weight_decay(model, wd, norm_weight_decay=opts.get("normWeightDecay"),
                                      norm_classes=classes,
                                      custom_keys_weight_decay=custom or None)]


out = [{"model": m, "weightDecay": wd, "options": opts, "groups": groups_of(MODELS[m], wd, opts)}
       for m, wd, opts in CASES]
with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "torchvision": torchvision.__version__,
               "names": {m: [n for n, _ in model.named_parameters()]
                         for m, model in MODELS.items()},
               "cases": out}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(out)} groupings to {os.path.relpath(OUT)}")
