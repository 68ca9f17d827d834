"""Writes tests/fixtures/optim_docs.json: torch.optim's and lr_scheduler's
docstring examples, ported verbatim, run by PyTorch 1.13 (tests/optim_docs_test.ts).

Optimizers: the documented loop `optimizer.step(closure)` (the closure
zeroes the gradients, computes the loss and calls backward) for 30 steps of
L = sum(a0 * (p0 - c0)^2) + sum(a1 * (p1 - c1)^2 + cos(2 p1)), p0 [2, 3],
p1 [4], with the documented options that earlier fixtures left out (SGD's
dampening and nesterov with weight decay, the per-parameter-group example of
torch.optim's page, Adagrad's lr_decay / initial_accumulator_value / eps,
RMSprop centered with momentum, NAdam's momentum_decay, ...). At step 15 a
group holding p2 [3] (its own loss term) joins through add_param_group
(not for Adagrad, whose 1.13 step fails on a group added after construction); the
test also moves the state through stateDict / loadStateDict at step 22, which
torch's run needs no counterpart for. Each case stores the options under
this library's names, every parameter after each step and the closure's loss.

Schedules: each docstring example (lr, groups, arguments as documented) for
30-100 steps, with every group's get_last_lr() (and momentum where cycled)
at the start and after each step. Floats of the schedules are Python's repr
(exact doubles); tensors 9 significant digits.

Run with /usr/bin/python3 scripts/make_optim_docs_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os
import warnings

import torch

from fixture_json import enc, ser

torch.set_num_threads(1)
torch.manual_seed(20261206)
warnings.filterwarnings("ignore")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "optim_docs.json")
STEPS, JOIN = 30, 15
L = torch.optim.lr_scheduler
SNAKE = {"weightDecay": "weight_decay", "lrDecay": "lr_decay",
         "initialAccumulatorValue": "initial_accumulator_value", "momentumDecay": "momentum_decay"}


def f32(shape, lo, hi):
    return (torch.rand(shape) * (hi - lo) + lo).to(torch.float32)


def torch_opts(o):
    return {SNAKE.get(k, k): (tuple(v) if isinstance(v, list) else v) for k, v in o.items()}


START = [f32([2, 3], -1, 1), f32([4], -1, 1), f32([3], -1, 1)]
SCALE = [f32([2, 3], 0.5, 2), f32([4], 0.5, 2), f32([3], 0.5, 2)]
TARGET = [f32([2, 3], -1, 1), f32([4], -1, 1), f32([3], -1, 1)]


def loss_of(ps):
    total = (SCALE[0] * (ps[0] - TARGET[0]) ** 2).sum()
    total = total + (SCALE[1] * (ps[1] - TARGET[1]) ** 2 + torch.cos(2 * ps[1])).sum()
    if len(ps) > 2:
        total = total + (SCALE[2] * (ps[2] - TARGET[2]) ** 2).sum()
    return total


def optimizer_case(name, cls, defaults, groups, joined):
    """groups: [own options] for p0 and p1 (None: one plain list); joined: p2's group options."""
    ps = [torch.nn.Parameter(t.clone()) for t in START]
    if groups is None:
        opt = cls(ps[:2], **torch_opts(defaults))
    else:
        opt = cls([{"params": [p], **torch_opts(g)} for p, g in zip(ps[:2], groups)],
                  **torch_opts(defaults))
    trace, losses = [], []
    for i in range(STEPS):
        if i == JOIN and joined is not None:
            opt.add_param_group({"params": [ps[2]], **torch_opts(joined)})
        live = ps if i >= JOIN and joined is not None else ps[:2]

        def closure():
            opt.zero_grad()
            loss = loss_of(live)
            loss.backward()
            return loss
        losses.append(enc(opt.step(closure).item()))
        trace.append([ser(p) for p in ps])
    return {"name": name, "cls": cls.__name__, "defaults": defaults, "groups": groups,
            "joined": joined, "losses": losses, "trace": trace}


OPTIMIZERS = [
    ("sgd_doc", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}, None, {"lr": 0.01}),
    ("sgd_groups_doc", torch.optim.SGD, {"lr": 1e-2, "momentum": 0.9}, [{}, {"lr": 1e-3}],
     {"momentum": 0.5}),
    ("sgd_dampening", torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weightDecay": 0.01}, None,
     {"dampening": 0.0}),
    ("sgd_nesterov", torch.optim.SGD,
     {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weightDecay": 0.01}, None,
     {"nesterov": False, "maximize": False}),
    ("adam_doc", torch.optim.Adam, {"lr": 0.05}, None, {"amsgrad": True}),
    ("adamw_doc", torch.optim.AdamW, {"lr": 0.05, "betas": [0.8, 0.9], "weightDecay": 0.1},
     None, {"weightDecay": 0.0}),
    ("adagrad_options", torch.optim.Adagrad,
     {"lr": 0.1, "lrDecay": 0.01, "initialAccumulatorValue": 0.5, "eps": 1e-6}, None, None),
    ("rmsprop_centered_momentum", torch.optim.RMSprop,
     {"lr": 0.01, "momentum": 0.9, "centered": True, "weightDecay": 0.01}, None,
     {"centered": False}),
    ("adamax_doc", torch.optim.Adamax, {"lr": 0.05, "weightDecay": 0.01}, None, {"lr": 0.01}),
    ("nadam_momentum_decay", torch.optim.NAdam, {"lr": 0.02, "momentumDecay": 0.01}, None,
     {"momentumDecay": 0.004}),
    ("radam_doc", torch.optim.RAdam, {"lr": 0.02, "weightDecay": 0.01}, None, {"lr": 0.01}),
]


def lrs(opt):
    return [g["lr"] for g in opt.param_groups]


def schedule_case(name, lr, make, steps, groups=1, metrics=None, epoch_of=None, momentum=False):
    ps = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in ps], lr=lr, momentum=0.9)
    sched = make(opt)
    trace = [sched.get_last_lr() if hasattr(sched, "get_last_lr") else lrs(opt)]
    moms = [[g["momentum"] for g in opt.param_groups]]
    for i in range(steps):
        opt.step()
        if metrics is not None:
            sched.step(metrics[i])
        elif epoch_of is not None:
            sched.step(epoch_of(i))
        else:
            sched.step()
        # ReduceLROnPlateau has no get_last_lr in 1.13: the groups' lr.
        trace.append(sched.get_last_lr() if hasattr(sched, "get_last_lr") else lrs(opt))
        moms.append([g["momentum"] for g in opt.param_groups])
    out = {"name": name, "lr": lr, "groups": groups, "steps": steps, "lrs": trace}
    if metrics is not None:
        out["metrics"] = metrics
    if momentum:
        out["momentum"] = moms
    return out


ITERS = 5  # CosineAnnealingWarmRestarts' example: len(dataloader)
PLATEAU = [1.0 - 0.05 * i for i in range(8)] + [0.65] * 25 + [0.6] + [0.6 + 1e-6 * i for i in range(26)]
SCHEDULES = [
    schedule_case("StepLR", 0.05, lambda o: L.StepLR(o, step_size=30, gamma=0.1), 100),
    schedule_case("MultiStepLR", 0.05, lambda o: L.MultiStepLR(o, milestones=[30, 80], gamma=0.1),
                  100),
    schedule_case("LambdaLR", 0.05,
                  lambda o: L.LambdaLR(o, lr_lambda=[lambda e: e // 30, lambda e: 0.95 ** e]), 100,
                  groups=2),
    schedule_case("MultiplicativeLR", 0.05, lambda o: L.MultiplicativeLR(o, lr_lambda=lambda e: 0.95),
                  50),
    schedule_case("ConstantLR", 0.05, lambda o: L.ConstantLR(o, factor=0.5, total_iters=4), 30),
    schedule_case("LinearLR", 0.05, lambda o: L.LinearLR(o, start_factor=0.5, total_iters=4), 30),
    schedule_case("ExponentialLR", 0.05, lambda o: L.ExponentialLR(o, gamma=0.9), 40),
    schedule_case("SequentialLR", 1.0, lambda o: L.SequentialLR(
        o, schedulers=[L.ConstantLR(o, factor=0.1, total_iters=2), L.ExponentialLR(o, gamma=0.9)],
        milestones=[2]), 30),
    schedule_case("ChainedScheduler", 1.0, lambda o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.1, total_iters=2), L.ExponentialLR(o, gamma=0.9)]), 30),
    schedule_case("PolynomialLR", 0.001, lambda o: L.PolynomialLR(o, total_iters=4, power=1.0), 30),
    schedule_case("CosineAnnealingLR", 0.05, lambda o: L.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
                  50),
    schedule_case("CosineAnnealingWarmRestarts", 0.05,
                  lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.001), 40,
                  epoch_of=lambda k: (k // ITERS) + (k % ITERS) / ITERS),
    schedule_case("ReduceLROnPlateau", 0.1, lambda o: L.ReduceLROnPlateau(o, "min"), len(PLATEAU),
                  metrics=PLATEAU),
    schedule_case("CyclicLR", 0.1, lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1), 40,
                  momentum=True),
    schedule_case("CyclicLR_short", 0.1,
                  lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=8,
                                       mode="exp_range", gamma=0.97), 40, momentum=True),
    schedule_case("OneCycleLR", 0.1,
                  lambda o: L.OneCycleLR(o, max_lr=0.01, steps_per_epoch=5, epochs=10), 50,
                  momentum=True),
]

data = {
    "torch": torch.__version__,
    "start": [ser(t) for t in START],
    "scale": [ser(t) for t in SCALE],
    "target": [ser(t) for t in TARGET],
    "steps": STEPS,
    "join": JOIN,
    "optimizers": [optimizer_case(*c) for c in OPTIMIZERS],
    "schedules": SCHEDULES,
}
with open(OUT, "w") as f:
    json.dump(data, f, separators=(",", ":"))
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
