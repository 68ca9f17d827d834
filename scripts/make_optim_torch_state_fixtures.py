"""Writes tests/fixtures/optim_torch_state/: optimizer state dicts saved by
PyTorch 1.13's torch.save, and expected.json with how torch's runs went on
after them (tests/optim_torch_state_test.ts).

For each run: parameters p0 [2, 3] and p1 [4] in two groups with their own
lr (and other options), under the quadratic loss
L = sum(a0 * (p0 - c0)^2) + sum(a1 * (p1 - c1)^2). torch takes `before`
steps, then saves {"optimizer": opt.state_dict(), "params": [p0, p1]} to
<name>.pt, then takes `after` more steps. expected.json has, for each of
those later steps, the gradients torch stepped with (the test sets the same
ones) and the parameters after it, and after the last one the state of each
parameter under torch's names (step as a number) and each group's lr.

Adam's run has a StepLR attached before saving (its groups carry initial_lr,
and an lr that is not the initial one: savedLr); after loading, torch makes
a LambdaLR over the optimizer, whose base_lrs are the saved initial_lr, and
steps it after each step (its lrs are recorded).
Also: a fresh Adam's state dict (state {}) and dicts the test must refuse:
foreach=True, fused=True, NAdam's torch 2 option decoupled_weight_decay.

Run with /usr/bin/python3 scripts/make_optim_torch_state_fixtures.py (PyTorch 1.13).
"""
import json
import os
import re

import torch

from fixture_json import enc, ser

torch.set_num_threads(1)
torch.manual_seed(20260915)

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "optim_torch_state")
os.makedirs(DIR, exist_ok=True)

P0, P1 = torch.randn(2, 3), torch.randn(4)
A0, A1 = torch.rand(2, 3) + 0.5, torch.rand(4) + 0.5
C0, C1 = torch.randn(2, 3), torch.randn(4)


def loss_of(p0, p1):
    return (A0 * (p0 - C0) ** 2).sum() + (A1 * (p1 - C1) ** 2).sum()


def camel(k):
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k)


def state_of(opt, params):
    out = {}
    for i, p in enumerate(params):
        if p not in opt.state:
            continue
        s = opt.state[p]
        entry = {"tensors": {}}
        for k, v in s.items():
            if k == "step":
                entry["step"] = int(float(v))
            elif v is None:
                entry["tensors"][k] = None
            else:
                entry["tensors"][k] = ser(v)
        out[str(i)] = entry
    return out


RUNS = []


def run(name, cls, options, groups, before=3, after=2, schedule=False):
    """groups: the own options of p0's group and of p1's (torch's names)."""
    params = [t.clone().requires_grad_() for t in (P0, P1)]
    opt = cls([{"params": [params[0]], **groups[0]}, {"params": [params[1]], **groups[1]}],
              **options)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5) if schedule else None

    def step():
        opt.zero_grad()
        loss_of(*params).backward()
        grads = [ser(p.grad) for p in params]
        opt.step()
        return grads

    for _ in range(before):
        step()
        if sched:
            sched.step()
    saved_lr = [enc(g["lr"]) for g in opt.param_groups]
    torch.save({"optimizer": opt.state_dict(), "params": [p.detach().clone() for p in params]},
               os.path.join(DIR, f"{name}.pt"))
    resumed = None
    if schedule:
        # A schedule made after loading: its base_lrs are the saved initial_lr.
        resumed = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.8 ** e)
    steps = []
    for _ in range(after):
        grads = step()
        record = {"grads": grads}
        if resumed:
            resumed.step()
            record["lr"] = [enc(g["lr"]) for g in opt.param_groups]
        record["params"] = [ser(p) for p in params]
        steps.append(record)
    r = {
        "name": name,
        "optimizer": cls.__name__,
        "options": {camel(k): (list(v) if isinstance(v, tuple) else v)
                    for k, v in options.items()},
        "groups": [{camel(k): (list(v) if isinstance(v, tuple) else v) for k, v in g.items()}
                   for g in groups],
        "steps": steps,
        "savedLr": saved_lr,
        "state": state_of(opt, params),
        "lr": [enc(g["lr"]) for g in opt.param_groups],
    }
    if resumed:
        r["schedule"] = {"lrLambda": "0.8 ** e", "baseLrs": [enc(v) for v in resumed.base_lrs],
                         "initialLr": [enc(g["initial_lr"]) for g in opt.param_groups]}
    RUNS.append(r)


O = torch.optim
# SGD: Nesterov in p0's group; p1's group has momentum 0, so its momentum_buffer is None.
run("sgd", O.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    [{}, {"lr": 0.05, "momentum": 0}])
run("sgd_dampening", O.SGD, {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
    [{}, {"lr": 0.02, "maximize": True}])
run("adam", O.Adam, {"lr": 0.01, "weight_decay": 0.01}, [{}, {"lr": 0.05, "amsgrad": True}],
    schedule=True)
run("adamw", O.AdamW, {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1},
    [{}, {"lr": 0.03, "maximize": True}])
run("rmsprop", O.RMSprop, {"lr": 0.01, "momentum": 0.5, "centered": True},
    [{}, {"lr": 0.02, "alpha": 0.9, "centered": False, "weight_decay": 0.01}])
run("adagrad", O.Adagrad, {"lr": 0.1, "lr_decay": 0.1, "initial_accumulator_value": 0.1},
    [{}, {"lr": 0.05, "weight_decay": 0.01}])
run("adamax", O.Adamax, {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.01},
    [{}, {"lr": 0.05}])
run("nadam", O.NAdam, {"lr": 0.02, "weight_decay": 0.01}, [{}, {"lr": 0.05,
                                                                "momentum_decay": 0.01}])
# RAdam's rectification starts at step 6 (beta2 0.999): loaded at 5, both branches run.
run("radam", O.RAdam, {"lr": 0.02, "weight_decay": 0.01}, [{}, {"lr": 0.05}], before=5, after=3)

# A fresh optimizer's dict (state {}, a dict with no keys) and dicts to refuse.
fresh = O.Adam([torch.zeros(2, 3, requires_grad=True), torch.zeros(4, requires_grad=True)],
               lr=0.003, betas=(0.8, 0.9))
torch.save({"optimizer": fresh.state_dict()}, os.path.join(DIR, "adam_fresh.pt"))
for name, kw in [("adam_foreach", {"foreach": True}), ("adam_fused", {"fused": True})]:
    sd = fresh.state_dict()
    sd["param_groups"][0].update(kw)  # as saved where they were on (fused needs CUDA to step)
    torch.save({"optimizer": sd}, os.path.join(DIR, f"{name}.pt"))
sd = O.NAdam([torch.zeros(2, 3, requires_grad=True), torch.zeros(4, requires_grad=True)],
             ).state_dict()
sd["param_groups"][0]["decoupled_weight_decay"] = False  # torch 2's NAdam option
torch.save({"optimizer": sd}, os.path.join(DIR, "nadam_torch2.pt"))

with open(os.path.join(DIR, "expected.json"), "w") as f:
    json.dump({"torch": torch.__version__, "runs": RUNS}, f, separators=(",", ":"))
total = sum(os.path.getsize(os.path.join(DIR, n)) for n in os.listdir(DIR))
print(f"wrote {DIR}: {sorted(os.listdir(DIR))}, {total} bytes")
