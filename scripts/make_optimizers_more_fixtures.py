"""Writes tests/fixtures/optimizers_more.json: torch.optim's RMSprop, Adagrad,
Adamax, NAdam and RAdam (PyTorch 1.13, single-tensor algorithm, float32) step
by step (tests/optimizers_more_test.ts).

One problem: parameters p0 [2, 3] and p1 [4] under the quadratic loss
L = sum(a0 * (p0 - c0)^2) + sum(a1 * (p1 - c1)^2), and p2 [2], which is in
the optimizer but never gets a gradient (skipped, no state). Each run stores
its options under this library's names (camelCase), its parameter groups
(indices into [p0, p1, p2] and each group's own options), an optional StepLR
(stepped after every optimizer step), and after construction and after every
step: the loss before the step, every parameter, each group's lr, and the
state of every parameter that has one (step, and the state tensors under
torch's names: square_avg, momentum_buffer, grad_avg, sum, exp_avg, exp_inf,
exp_avg_sq, mu_product).

Run with /usr/bin/python3 scripts/make_optimizers_more_fixtures.py (PyTorch 1.13).
"""
import json
import os
import re

import torch

from fixture_json import enc, ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "optimizers_more.json")
STEPS = 8  # RAdam's rho_t passes 5 at step 7 with beta2 0.999: both branches run

P0 = torch.randn(2, 3)
P1 = torch.randn(4)
P2 = torch.randn(2)
A0, A1 = torch.rand(2, 3) + 0.5, torch.rand(4) + 0.5
C0, C1 = torch.randn(2, 3), torch.randn(4)

CLASSES = {
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
    "Adamax": torch.optim.Adamax,
    "NAdam": torch.optim.NAdam,
    "RAdam": torch.optim.RAdam,
}


def snake(k):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), k)


def torch_opts(o):
    return {snake(k): (tuple(v) if isinstance(v, list) else v) for k, v in o.items()}


def loss_of(params):
    p0, p1, _ = params
    return (A0 * (p0 - C0) ** 2).sum() + (A1 * (p1 - C1) ** 2).sum()


def snapshot(opt, params, loss=None):
    index = {id(p): i for i, p in enumerate(params)}
    state = {}
    for p, s in opt.state.items():
        tensors = {}
        for k, v in s.items():
            if k == "step":
                continue
            tensors[k] = ser(v)
        step = s["step"]
        state[str(index[id(p)])] = {"step": int(float(step)), "tensors": tensors}
    out = {
        "params": [ser(p) for p in params],
        "lr": [enc(g["lr"]) for g in opt.param_groups],
        "state": state,
    }
    if loss is not None:
        out["loss"] = enc(loss)
    return out


PROBLEM = {"a0": ser(A0), "c0": ser(C0), "a1": ser(A1), "c1": ser(C1)}


def camel(k):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k)


# Each class's defaults under this library's names (torch-only ones left out).
DEFAULTS = {
    name: {camel(k): (list(v) if isinstance(v, tuple) else v)
           for k, v in cls([torch.zeros(1, requires_grad=True)]).defaults.items()
           if k not in ("foreach", "differentiable", "capturable", "fused")}
    for name, cls in CLASSES.items()
}

RUNS = []


def run(optimizer, options=None, groups=None, scheduler=None):
    """groups: [(param indices, own options)], default one group of p0, p1, p2."""
    options = options or {}
    groups = groups or [([0, 1, 2], {})]
    params = [t.clone().requires_grad_() for t in (P0, P1, P2)]
    torch_groups = [{"params": [params[i] for i in ids], **torch_opts(own)} for ids, own in groups]
    opt = CLASSES[optimizer](torch_groups, **torch_opts(options))
    sched = None
    if scheduler:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=scheduler["stepSize"],
                                                gamma=scheduler["gamma"])
    trace = [snapshot(opt, params)]
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_of(params)
        loss.backward()
        opt.step()
        if sched:
            sched.step()
        trace.append(snapshot(opt, params, loss.item()))
    r = {"optimizer": optimizer, "options": options,
         "groups": [{"params": ids, "options": own} for ids, own in groups], "trace": trace}
    if scheduler:
        r["scheduler"] = scheduler
    RUNS.append(r)


TWO = [([0, 2], {}), ([1], {"lr": 0.003})]

run("RMSprop")
run("RMSprop", {"lr": 0.01, "alpha": 0.9, "weightDecay": 0.1})
run("RMSprop", {"lr": 0.01, "momentum": 0.9})
run("RMSprop", {"lr": 0.01, "centered": True})
run("RMSprop", {"lr": 0.02, "momentum": 0.5, "centered": True, "weightDecay": 0.05,
                "maximize": True, "eps": 1e-4})
run("RMSprop", {"lr": 0.02, "momentum": 0.9}, TWO)
run("RMSprop", {"lr": 0.05, "momentum": 0.9}, scheduler={"stepSize": 2, "gamma": 0.5})

run("Adagrad")
run("Adagrad", {"lr": 0.1, "lrDecay": 0.1})
run("Adagrad", {"lr": 0.1, "weightDecay": 0.1, "initialAccumulatorValue": 0.5})
run("Adagrad", {"lr": 0.1, "maximize": True, "eps": 1e-6})
run("Adagrad", {"lr": 0.2, "lrDecay": 0.05}, [([0, 2], {}), ([1], {"lr": 0.03, "lrDecay": 0})])
run("Adagrad", {"lr": 0.2}, scheduler={"stepSize": 3, "gamma": 0.1})

run("Adamax")
run("Adamax", {"lr": 0.01, "betas": [0.8, 0.9], "weightDecay": 0.1})
run("Adamax", {"lr": 0.05, "maximize": True, "eps": 1e-3})
run("Adamax", {"lr": 0.05}, TWO)

run("NAdam")
run("NAdam", {"lr": 0.01, "betas": [0.8, 0.95], "weightDecay": 0.1, "momentumDecay": 0.01})
run("NAdam", {"lr": 0.05, "eps": 1e-3}, TWO)
run("NAdam", {"lr": 0.05}, scheduler={"stepSize": 2, "gamma": 0.5})

run("RAdam")
run("RAdam", {"lr": 0.01, "betas": [0.8, 0.9], "weightDecay": 0.1})
run("RAdam", {"lr": 0.05, "eps": 1e-3}, TWO)
run("RAdam", {"lr": 0.05}, scheduler={"stepSize": 4, "gamma": 0.5})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "steps": STEPS, "problem": PROBLEM,
               "defaults": DEFAULTS, "runs": RUNS}, f,
              separators=(",", ":"))
print(f"wrote {OUT}: {len(RUNS)} runs, {os.path.getsize(OUT)} bytes")
