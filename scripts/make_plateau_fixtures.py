"""ReduceLROnPlateau trajectories of torch.optim.lr_scheduler (PyTorch 1.13) for
tests/plateau_test.ts: every option (mode, threshold mode, cooldown, per-group
min_lr, eps) on one metric sequence, two parameter groups.

Run with Debian's python3-torch: /usr/bin/python3 scripts/make_plateau_fixtures.py
"""
import json
import pathlib

import torch

# Plateaus, small improvements below and above the thresholds, and a rise.
METRICS = [1.0, 0.99995, 0.99, 0.99, 0.99, 0.99, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
           0.4999, 0.49, 0.49, 0.49, 0.49, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]

CASES = {
    "defaults_patience2": {"patience": 2},
    "max_mode": {"mode": "max", "factor": 0.5, "patience": 1},
    "abs_threshold": {"factor": 0.5, "patience": 1, "threshold": 0.005, "threshold_mode": "abs"},
    "max_abs": {"mode": "max", "factor": 0.5, "patience": 0, "threshold": 0.05,
                "threshold_mode": "abs"},
    "cooldown": {"factor": 0.5, "patience": 1, "cooldown": 2},
    "min_lr_per_group": {"factor": 0.1, "patience": 0, "min_lr": [0.01, 0.0]},
    "min_lr_scalar": {"factor": 0.5, "patience": 0, "min_lr": 0.05},
    "eps_skips_small_changes": {"factor": 0.5, "patience": 0, "eps": 0.02},
}

CAMEL = {"threshold_mode": "thresholdMode", "min_lr": "minLr"}


def trajectory(kwargs, metrics):
    a = torch.nn.Parameter(torch.zeros(1))
    b = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=1.0)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for m in metrics:
        opt.step()
        sched.step(m)
        lrs.append([g["lr"] for g in opt.param_groups])
    state = {"best": sched.best, "numBadEpochs": sched.num_bad_epochs,
             "cooldownCounter": sched.cooldown_counter, "lastEpoch": sched.last_epoch}
    return lrs, state


out_cases = []
for name, kwargs in CASES.items():
    lrs, state = trajectory(kwargs, METRICS)
    options = {CAMEL.get(k, k): v for k, v in kwargs.items()}
    out_cases.append({"name": name, "options": options, "lrs": lrs, "state": state})

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "plateau.json"
out.write_text(json.dumps({"torch": torch.__version__, "groupLrs": [1.0, 0.3],
                           "metrics": METRICS, "cases": out_cases}))
print(f"wrote {out}")
