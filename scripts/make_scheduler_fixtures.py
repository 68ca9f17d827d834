"""Learning-rate trajectories of torch.optim.lr_scheduler for tests/optim_scheduler_test.ts.

Run with Debian's python3-torch: /usr/bin/python3 scripts/make_scheduler_fixtures.py
"""
import json
import pathlib

import torch


def trajectory(make, steps, metrics=None, by_hand=None):
    """The lr after each step; by_hand = (at, lr) sets it to lr after `at` steps."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.5)
    sched = make(opt)
    lrs = [opt.param_groups[0]["lr"]]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        if by_hand is not None and i + 1 == by_hand[0]:
            opt.param_groups[0]["lr"] = by_hand[1]
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


plateau_metrics = [1.0, 0.9, 0.9, 0.9, 0.95, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7]
cases = {
    "step": trajectory(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 10),
    # A milestone listed twice multiplies twice.
    "multistep": trajectory(
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5], gamma=0.5), 8
    ),
    "cosine": trajectory(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.01), 8),
    # Past tMax: the cosine comes back up, as torch's does.
    "cosine_long": trajectory(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01), 13
    ),
    # A step() after each of the 20 batches: torch allows the 20th.
    "onecycle": trajectory(
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=20), 20
    ),
    "plateau": trajectory(
        lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2),
        len(plateau_metrics),
        plateau_metrics,
    ),
    "plateau_metrics": plateau_metrics,
}


def momentum_trajectory(make_opt, key, steps):
    """OneCycleLR's momentum (SGD) or beta1 (Adam) cycle, with its default cycle_momentum=True."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = make_opt([p])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=20)
    read = (lambda g: g["betas"][0]) if key == "betas" else (lambda g: g["momentum"])
    values = [read(opt.param_groups[0])]
    for _ in range(steps):
        opt.step()
        sched.step()
        values.append(read(opt.param_groups[0]))
    return values


def chained(steps):
    """StepLR and CosineAnnealingLR on one optimizer: torch multiplies their effects."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.5)
    a = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    b = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(steps):
        opt.step()
        a.step()
        b.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


# The lr set by hand to 0.3 after 6 steps: chainable schedules carry on from it.
cases["step_by_hand"] = trajectory(
    lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5), 12, by_hand=(6, 0.3)
)
cases["cosine_by_hand"] = trajectory(
    lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10), 9, by_hand=(6, 0.3)
)
cases["chained"] = chained(10)
cases["onecycle_momentum"] = momentum_trajectory(lambda ps: torch.optim.SGD(ps, lr=0.5), "momentum", 19)
cases["onecycle_beta1"] = momentum_trajectory(lambda ps: torch.optim.Adam(ps, lr=0.5), "betas", 19)
L = torch.optim.lr_scheduler
# Warm-ups: step 0 changes the lr when the schedule is made.
cases["lambda"] = trajectory(lambda o: L.LambdaLR(o, lambda e: min(1.0, (e + 1) / 4) * 0.9 ** e), 8)
cases["linear"] = trajectory(lambda o: L.LinearLR(o), 8)
cases["linear_down"] = trajectory(
    lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=4), 7
)
cases["constant"] = trajectory(lambda o: L.ConstantLR(o, factor=0.25, total_iters=3), 6)
cases["sequential_linear_cosine"] = trajectory(
    lambda o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=3), L.CosineAnnealingLR(o, T_max=6)], [3]
    ),
    12,
)
cases["sequential_three"] = trajectory(
    lambda o: L.SequentialLR(
        o,
        [
            L.ConstantLR(o, factor=0.5, total_iters=2),
            L.LambdaLR(o, lambda e: 1.0 / (e + 1)),
            L.MultiStepLR(o, milestones=[2, 3], gamma=0.5),
        ],
        [2, 5],
    ),
    9,
)
out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "schedulers.json"
out.write_text(json.dumps(cases))
print(f"wrote {out}")
