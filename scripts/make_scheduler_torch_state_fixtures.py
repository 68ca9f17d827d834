"""Writes tests/fixtures/scheduler_torch_state/: LR schedulers' state dicts
saved by PyTorch 1.13's torch.save, and expected.json with the lrs torch's
runs went on with (tests/scheduler_torch_state_test.ts).

For each case: an SGD over two groups (lr 0.1 and 0.05, momentum 0.9), the
schedule made over it, `before` steps, then {"optimizer": opt.state_dict(),
"scheduler": sched.state_dict()} saved to <name>.pth, then `after` more
steps whose lrs (and momenta, for the schedules that cycle it) are
recorded at full precision. ReduceLROnPlateau steps on the metrics listed;
the fractional CosineAnnealingWarmRestarts case on the epochs listed.

torch 1.13's dicts hold a few things its own torch.load(weights_only=True)
refuses, and io.load with it: OneCycleLR's and SWALR's anneal_func (a method: the whole
schedule, optimizer included, would be pickled; OneCycleLR's is saved as
torch >= 2.2 saves it, `_anneal_func_type`, SWALR's left out) and
CyclicLR's `_scale_fn_ref` (a WeakMethod torch.save cannot pickle; left
out, as torch >= 2.1's state_dict does). MultiStepLR's Counter is saved as
it is: io.load reads it, as torch >= 2.1's weights-only loader does.

The other way, checked once here: a Deno script (below) loads each .pth
into this library's schedule and writes `sched.stateDict({ format:
"torch" })` with io.save to ours/<name>.pth; torch then loads it into a
fresh schedule of its own (torch.load, load_state_dict) and must step on to
the very lrs recorded. The test checks that the writer still gives the dict
of each ours/<name>.pth.

Run with /usr/bin/python3 scripts/make_scheduler_torch_state_fixtures.py (PyTorch 1.13, and
deno on PATH).
"""
import json
import os
import subprocess
import warnings

import torch
from torch.optim import lr_scheduler as L
from torch.optim.swa_utils import SWALR

warnings.filterwarnings("ignore")
torch.set_num_threads(1)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DIR = os.path.join(ROOT, "tests", "fixtures", "scheduler_torch_state")
OURS = os.path.join(DIR, "ours")
os.makedirs(OURS, exist_ok=True)


def optimizer():
    p0, p1 = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))
    return torch.optim.SGD([{"params": [p0]}, {"params": [p1], "lr": 0.05}], lr=0.1,
                           momentum=0.9)


# name: (torch's schedule over opt, ours as the test builds it, before, after)
CASES = {
    "step": (lambda o: L.StepLR(o, step_size=3, gamma=0.5),
             {"cls": "StepLR", "options": {"stepSize": 3, "gamma": 0.5}}, 4, 6),
    "multistep": (lambda o: L.MultiStepLR(o, milestones=[2, 5, 5, 7], gamma=0.5),
                  {"cls": "MultiStepLR", "options": {"milestones": [2, 5, 5, 7], "gamma": 0.5}},
                  3, 6),
    "cosine": (lambda o: L.CosineAnnealingLR(o, T_max=4, eta_min=0.01),
               {"cls": "CosineAnnealingLR", "options": {"tMax": 4, "etaMin": 0.01}}, 3, 8),
    "exponential": (lambda o: L.ExponentialLR(o, gamma=0.9),
                    {"cls": "ExponentialLR", "options": {"gamma": 0.9}}, 2, 3),
    "polynomial": (lambda o: L.PolynomialLR(o, total_iters=5, power=2.0),
                   {"cls": "PolynomialLR", "options": {"totalIters": 5, "power": 2}}, 2, 5),
    "multiplicative": (lambda o: L.MultiplicativeLR(o, lr_lambda=lambda e: 0.95),
                       {"cls": "MultiplicativeLR", "lambdas": ["0.95"]}, 2, 3),
    "lambda": (lambda o: L.LambdaLR(o, lr_lambda=[lambda e: 0.9 ** e, lambda e: 1 / (e + 1)]),
               {"cls": "LambdaLR", "lambdas": ["0.9 ** e", "1 / (e + 1)"]}, 3, 3),
    "linear": (lambda o: L.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
               {"cls": "LinearLR", "options": {"startFactor": 0.25, "endFactor": 1,
                                               "totalIters": 4}}, 2, 4),
    "constant": (lambda o: L.ConstantLR(o, factor=0.5, total_iters=3),
                 {"cls": "ConstantLR", "options": {"factor": 0.5, "totalIters": 3}}, 2, 3),
    "restarts": (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.001),
                 {"cls": "CosineAnnealingWarmRestarts",
                  "options": {"t0": 2, "tMult": 2, "etaMin": 0.001}}, 3, 6),
    # Stepped per batch, step(epoch + i / 2): T_cur is fractional when saved.
    "restarts_frac": (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3),
                      {"cls": "CosineAnnealingWarmRestarts", "options": {"t0": 3}},
                      [0.5, 1.0, 1.5], [2.0, 2.5, 3.0, 3.5, 4.0]),
    "onecycle": (lambda o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=10),
                 {"cls": "OneCycleLR", "options": {"maxLr": [1, 0.5], "totalSteps": 10}}, 4, 6),
    "onecycle_linear3": (lambda o: L.OneCycleLR(o, max_lr=0.5, total_steps=12,
                                                anneal_strategy="linear", three_phase=True,
                                                pct_start=0.25),
                         {"cls": "OneCycleLR", "options": {"maxLr": 0.5, "totalSteps": 12,
                                                           "annealStrategy": "linear",
                                                           "threePhase": True,
                                                           "pctStart": 0.25}}, 5, 6),
    "cyclic": (lambda o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=2,
                                    step_size_down=3, mode="exp_range", gamma=0.9),
               {"cls": "CyclicLR", "options": {"baseLr": 0.01, "maxLr": 0.1, "stepSizeUp": 2,
                                               "stepSizeDown": 3, "mode": "exp_range",
                                               "gamma": 0.9}}, 4, 6),
    "plateau": (lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=1, cooldown=1,
                                              min_lr=[0, 0.02]),
                {"cls": "ReduceLROnPlateau", "options": {"factor": 0.5, "patience": 1,
                                                         "cooldown": 1, "minLr": [0, 0.02]}},
                [1.0, 0.9, 0.95, 0.95], [0.96, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6]),
    "swalr": (lambda o: SWALR(o, swa_lr=[0.02, 0.01], anneal_epochs=4, anneal_strategy="linear"),
              {"cls": "SWALR", "options": {"swaLr": [0.02, 0.01], "annealEpochs": 4,
                                           "annealStrategy": "linear"}}, 2, 4),
    "sequential_before": (
        lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.5, total_iters=3),
                                     L.MultiStepLR(o, milestones=[2, 4], gamma=0.5)],
                                 milestones=[3]),
        {"cls": "SequentialLR", "milestones": [3], "children": [
            {"cls": "LinearLR", "options": {"startFactor": 0.5, "totalIters": 3}},
            {"cls": "MultiStepLR", "options": {"milestones": [2, 4], "gamma": 0.5}}]}, 2, 6),
    "sequential_after": (
        lambda o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.5, total_iters=3),
                                     L.MultiStepLR(o, milestones=[2, 4], gamma=0.5)],
                                 milestones=[3]),
        {"cls": "SequentialLR", "milestones": [3], "children": [
            {"cls": "LinearLR", "options": {"startFactor": 0.5, "totalIters": 3}},
            {"cls": "MultiStepLR", "options": {"milestones": [2, 4], "gamma": 0.5}}]}, 4, 4),
    "chained": (lambda o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=2),
                                              L.ExponentialLR(o, gamma=0.9)]),
                {"cls": "ChainedScheduler", "children": [
                    {"cls": "ConstantLR", "options": {"factor": 0.5, "totalIters": 2}},
                    {"cls": "ExponentialLR", "options": {"gamma": 0.9}}]}, 1, 4),
}


def savable(sd):
    """sd as io.load (torch 1.13's weights-only subset) can read it: see the module doc."""
    sd = dict(sd)
    if "anneal_func" in sd:
        fn = sd.pop("anneal_func")
        if "total_steps" in sd:  # OneCycleLR: torch >= 2.2's key
            sd["_anneal_func_type"] = "cos" if fn.__name__ == "_annealing_cos" else "linear"
    sd.pop("_scale_fn_ref", None)
    if "_schedulers" in sd:
        sd["_schedulers"] = [savable(s) for s in sd["_schedulers"]]
    return sd


def stepper(sched, plan):
    """plan: a count of plain steps, or the metrics (plateau) / epochs (restarts_frac)."""
    if isinstance(plan, int):
        return [lambda: sched.step()] * plan
    return [(lambda v=v: sched.step(v)) for v in plan]


def momenta(opt):
    return [g["momentum"] for g in opt.param_groups]


def run(name, make, plan_before, plan_after, load=None):
    opt = optimizer()
    sched = make(opt)
    if load is None:
        for s in stepper(sched, plan_before):
            s()
        torch.save({"optimizer": opt.state_dict(), "scheduler": savable(sched.state_dict())},
                   os.path.join(DIR, f"{name}.pth"))
    else:
        ckpt = torch.load(load)
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
    lrs, moms = [], []
    for s in stepper(sched, plan_after):
        s()
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta(opt))
    return lrs, moms


expected = []
for name, (make, ours, before, after) in CASES.items():
    lrs, moms = run(name, make, before, after)
    case = {"name": name, "ours": ours, "before": before, "after": after, "lrs": lrs}
    if ours["cls"] in ("OneCycleLR", "CyclicLR"):
        case["momenta"] = moms
    expected.append(case)

with open(os.path.join(DIR, "expected.json"), "w") as f:
    json.dump({"torch": torch.__version__, "cases": expected}, f, separators=(",", ":"))

# The other way: this library writes each case's torch dict, torch resumes from it.
WRITE = """
import { io } from "../../../../mod.ts";
import { makeCase } from "../../../scheduler_torch_state_cases.ts";
const fx = JSON.parse(await Deno.readTextFile("expected.json"));
for (const c of fx.cases) {
  const { opt, sched } = makeCase(c.ours);
  const ckpt = await io.load(`${c.name}.pth`) as Record<string, never>;
  opt.loadStateDict(ckpt.optimizer);
  sched.loadStateDict(ckpt.scheduler);
  await io.save(`ours/${c.name}.pth`, { scheduler: sched.stateDict({ format: "torch" }) });
}
"""
script = os.path.join(OURS, "write.ts")
with open(script, "w") as f:
    f.write(WRITE)
try:
    subprocess.run(["deno", "run", "-A", script], cwd=DIR, check=True)
finally:
    os.remove(script)
for case in expected:
    name = case["name"]
    make = CASES[name][0]
    # The optimizer as torch saved it (its groups' lr), the schedule as this library wrote it.
    opt = optimizer()
    sched = make(opt)
    opt.load_state_dict(torch.load(os.path.join(DIR, f"{name}.pth"))["optimizer"])
    sched.load_state_dict(torch.load(os.path.join(OURS, f"{name}.pth"))["scheduler"])
    got = []
    for s in stepper(sched, case["after"]):
        s()
        got.append([g["lr"] for g in opt.param_groups])
    assert got == case["lrs"], (name, got, case["lrs"])
    if "momenta" in case:
        assert momenta(opt) == case["momenta"][-1], name
print("torch resumed every schedule this library wrote:", ", ".join(c["name"] for c in expected))

files = [os.path.join(DIR, n) for n in os.listdir(DIR)] + [os.path.join(OURS, n)
                                                           for n in os.listdir(OURS)]
total = sum(os.path.getsize(p) for p in files if os.path.isfile(p))
print(f"wrote {DIR}: {len(files)} files, {total} bytes")
