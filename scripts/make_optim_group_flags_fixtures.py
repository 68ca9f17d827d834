"""Writes tests/fixtures/optim_group_flags.json: PyTorch 1.13's parameters
after steps of RMSprop, Adagrad and Adamax whose parameter groups set their
own `centered` / `maximize` (tests/optim_group_flags_test.ts).

Each case has two groups of one parameter each: the optimizer's defaults
(options under this library's names, camelCase), each group's own options,
the starting values, and the values after each of 3 steps of
L = sum((p - target)^2 * scale). A "saved" case also steps an optimizer
made with other flags that loads the first one's state dict half-way
(torch's state dict carries each group's flags).

Run with /usr/bin/python3 scripts/make_optim_group_flags_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "optim_group_flags.json")
STEPS = 3
SNAKE = {"weightDecay": "weight_decay", "lrDecay": "lr_decay"}
CLASSES = {"RMSprop": torch.optim.RMSprop, "Adagrad": torch.optim.Adagrad,
           "Adamax": torch.optim.Adamax}


def torch_options(o):
    return {SNAKE.get(k, k): v for k, v in o.items()}


def loss(params, targets):
    return sum(((p - t) ** 2 * (i + 1.5)).sum() for i, (p, t) in enumerate(zip(params, targets)))


def case(name, cls, defaults, groups):
    start = [torch.randn(5) for _ in groups]
    targets = [torch.randn(5) for _ in groups]
    params = [s.clone().requires_grad_(True) for s in start]
    opt = CLASSES[cls]([{"params": [p], **torch_options(g)} for p, g in zip(params, groups)],
                       **torch_options(defaults))
    trace = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss(params, targets).backward()
        opt.step()
        trace.append([ser(p) for p in params])
    return {"name": name, "cls": cls, "defaults": defaults, "groups": groups,
            "start": [ser(s) for s in start], "targets": [ser(t) for t in targets],
            "trace": trace}


def saved_case():
    """Centered RMSprop saved after 2 steps, loaded into a non-centered one, stepped once."""
    start = [torch.randn(5) for _ in range(2)]
    targets = [torch.randn(5) for _ in range(2)]
    params = [s.clone().requires_grad_(True) for s in start]
    groups = [{"centered": True}, {"maximize": True}]
    opt = torch.optim.RMSprop([{"params": [p], **g} for p, g in zip(params, groups)],
                              lr=0.01, momentum=0.5)
    for _ in range(2):
        opt.zero_grad()
        loss(params, targets).backward()
        opt.step()
    mid = [ser(p) for p in params]
    sd = opt.state_dict()
    fresh = torch.optim.RMSprop([{"params": [p]} for p in params], lr=0.01, momentum=0.5)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[0]["centered"] and fresh.param_groups[1]["maximize"]
    fresh.zero_grad()
    loss(params, targets).backward()
    fresh.step()
    return {"start": [ser(s) for s in start], "targets": [ser(t) for t in targets],
            "groups": groups, "mid": mid, "after": [ser(p) for p in params]}


cases = [
    case("RMSprop: group 1 centered", "RMSprop", {"lr": 0.01}, [{}, {"centered": True}]),
    case("RMSprop: group 1 maximize", "RMSprop", {"lr": 0.01, "momentum": 0.9},
         [{}, {"maximize": True}]),
    case("RMSprop: centered and maximize by default, group 1 neither", "RMSprop",
         {"lr": 0.01, "centered": True, "maximize": True, "weightDecay": 0.1},
         [{}, {"centered": False, "maximize": False}]),
    case("Adagrad: group 1 maximize", "Adagrad", {"lr": 0.1, "lrDecay": 0.01},
         [{}, {"maximize": True}]),
    case("Adagrad: maximize by default, group 1 not", "Adagrad", {"lr": 0.1, "maximize": True},
         [{}, {"maximize": False}]),
    case("Adamax: group 1 maximize", "Adamax", {"lr": 0.1, "weightDecay": 0.05},
         [{}, {"maximize": True}]),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "saved": saved_case()}, f)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
