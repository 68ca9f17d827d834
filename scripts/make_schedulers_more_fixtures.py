"""Learning-rate traces of torch.optim.lr_scheduler for tests/schedulers_more_test.ts.

The schedules added after the first set (ExponentialLR, PolynomialLR,
MultiplicativeLR, CosineAnnealingWarmRestarts with step(epoch), OneCycleLR's
epochs / anneal_strategy / three_phase), 30+ steps each, and every schedule
over an optimizer that gains a parameter group mid-run (add_param_group).
Floats are written as Python's repr (exact doubles), to compare at 1e-12.

Run with Debian's python3-torch: /usr/bin/python3 scripts/make_schedulers_more_fixtures.py
"""
import json
import pathlib
import warnings

import torch

warnings.filterwarnings("ignore")
L = torch.optim.lr_scheduler


def lrs_of(opt):
    return [g["lr"] for g in opt.param_groups]


def momenta_of(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def trace(make, steps, adam=False, momentum=False):
    """One group at lr 0.5: the lr (or momentum) at step 0 and after each step() or step(x)."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.5) if adam else torch.optim.SGD([p], lr=0.5, momentum=0.9)
    sched = make(opt)
    read = momenta_of if momentum else lrs_of
    out = [read(opt)[0]]
    for x in steps:
        opt.step()
        if x is None:
            sched.step()
        else:
            sched.step(x)
        out.append(read(opt)[0])
    return out


def n(k):
    return [None] * k


def grown(make, pre, post, after_add=None, metrics=None, steps=None, lr=0.5, new_lr=0.05):
    """SGD([a], lr=0.5, momentum=0.9); `pre` steps; add_param_group({b, lr=0.05}); `post` steps.

    Gives both groups' lrs at step 0, after each step, and just after the add
    (entry pre + 1), with base_lrs at the end (what torch keeps).
    """
    a = torch.nn.Parameter(torch.zeros(1))
    b = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([a], lr=lr, momentum=0.9)
    sched = make(opt)
    metrics = list(metrics or [])
    out = [lrs_of(opt)]
    momenta = [momenta_of(opt)]

    def one(x=None):
        opt.step()
        if metrics:
            sched.step(metrics.pop(0))
        elif x is None:
            sched.step()
        else:
            sched.step(x)
        out.append(lrs_of(opt))
        momenta.append(momenta_of(opt))

    for _ in range(pre):
        one()
    opt.add_param_group({"params": [b], "lr": new_lr})
    if after_add is not None:
        after_add(opt, sched)
    out.append(lrs_of(opt))
    momenta.append(momenta_of(opt))
    for x in steps if steps is not None else n(post):
        one(x)
    assert not metrics, "every metric is stepped"
    return {
        "lrs": out,
        "momenta": momenta,
        "base_lrs": list(getattr(sched, "base_lrs", [])),
    }


cases = {}
# --- traces of the new schedules, 30+ steps ---
cases["exponential"] = trace(lambda o: L.ExponentialLR(o, gamma=0.9), n(35))
cases["exponential_up"] = trace(lambda o: L.ExponentialLR(o, gamma=1.1), n(31))
cases["polynomial"] = trace(lambda o: L.PolynomialLR(o, total_iters=20, power=2.0), n(35))
cases["polynomial_default"] = trace(lambda o: L.PolynomialLR(o), n(32))
cases["polynomial_sqrt"] = trace(lambda o: L.PolynomialLR(o, total_iters=25, power=0.5), n(33))
cases["multiplicative"] = trace(
    lambda o: L.MultiplicativeLR(o, lambda e: 0.95 if e % 3 else 0.8), n(35)
)
cases["cawr"] = trace(lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.01), n(35))
cases["cawr_mult"] = trace(lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), n(40))
# Once per batch, as torch's docs: step(epoch + i / iters).
iters = 4
cases["cawr_batches"] = trace(
    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.001),
    [e + i / iters for e in range(9) for i in range(iters)],
)
cases["cawr_batches_mult1"] = trace(
    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.001),
    [e + i / 5 for e in range(7) for i in range(5)],
)
# step() and step(epoch) mixed, back in time, and on restart boundaries where
# torch's int(math.log(x, T_mult)) truncates 2.9999999999999996 to 2.
cases["cawr_mixed"] = trace(
    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3),
    [None, 2.5, None, None, 7.75, 0.3, None, 8, 26, 25.999, None, 80, 79.5, None, None]
    + [3.0, 0.0, None, 1.999, 2, 8.0, 100.25] + n(10),
)
cases["cawr_log_boundaries"] = trace(
    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=10, eta_min=0.01),
    [1, 11, 111, 1111, 110.5, 0.5, 10, 1110, 11111, 111111] + n(25),
)
# OneCycleLR's other options
cases["onecycle_epochs"] = trace(
    lambda o: L.OneCycleLR(o, max_lr=0.2, epochs=4, steps_per_epoch=10), n(40)
)
cases["onecycle_linear"] = trace(
    lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=30, anneal_strategy="linear"), n(30)
)
cases["onecycle_three"] = trace(
    lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=31, three_phase=True), n(31)
)
cases["onecycle_three_linear"] = trace(
    lambda o: L.OneCycleLR(
        o,
        max_lr=0.3,
        total_steps=32,
        three_phase=True,
        anneal_strategy="linear",
        pct_start=0.25,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    n(32),
)
cases["onecycle_three_momentum"] = trace(
    lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=31, three_phase=True), n(31), momentum=True
)
cases["onecycle_linear_beta1"] = trace(
    lambda o: L.OneCycleLR(
        o, max_lr=0.2, epochs=3, steps_per_epoch=11, anneal_strategy="linear",
        base_momentum=0.8, max_momentum=0.9,
    ),
    n(33),
    adam=True,
    momentum=True,
)
# Longer traces of the first set, through SequentialLR's milestones.
cases["sequential_poly_cawr"] = trace(
    lambda o: L.SequentialLR(
        o,
        [L.PolynomialLR(o, total_iters=4, power=2.0), L.CosineAnnealingWarmRestarts(o, T_0=4, eta_min=0.02)],
        [6],
    ),
    n(30),
)
cases["sequential_exp_mult_cos"] = trace(
    lambda o: L.SequentialLR(
        o,
        [
            L.ExponentialLR(o, gamma=0.8),
            L.MultiplicativeLR(o, lambda e: 0.9),
            L.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
        ],
        [5, 12],
    ),
    n(32),
)
# A schedule made after OneCycleLR starts from its initial_lr (max_lr / div_factor).
cases["sequential_onecycle_cos"] = trace(
    lambda o: L.SequentialLR(
        o,
        [L.OneCycleLR(o, max_lr=0.2, total_steps=12), L.CosineAnnealingLR(o, T_max=8, eta_min=0.001)],
        [12],
    ),
    n(30),
)

# --- add_param_group mid-run, every schedule ---
grow = {}
# The audit's repro.
grow["cosine_repro"] = grown(lambda o: L.CosineAnnealingLR(o, T_max=10), 1, 30, lr=0.1, new_lr=0.01)
# T_max 3: the step back up at the bottom of each cycle zips with base_lrs (the new group stays).
grow["cosine"] = grown(lambda o: L.CosineAnnealingLR(o, T_max=3, eta_min=0.01), 2, 30)
grow["step"] = grown(lambda o: L.StepLR(o, step_size=3, gamma=0.5), 2, 30)
grow["multistep"] = grown(lambda o: L.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5), 3, 30)
grow["exponential"] = grown(lambda o: L.ExponentialLR(o, gamma=0.9), 2, 30)
grow["polynomial"] = grown(lambda o: L.PolynomialLR(o, total_iters=10, power=2.0), 3, 30)
# The new group is multiplied back up at total_iters without having been lowered: torch's.
grow["constant"] = grown(lambda o: L.ConstantLR(o, factor=0.5, total_iters=4), 1, 30)
grow["linear"] = grown(lambda o: L.LinearLR(o, start_factor=0.25, total_iters=6), 2, 30)
grow["lambda"] = grown(lambda o: L.LambdaLR(o, lambda e: 0.9 ** e), 2, 30)
grow["multiplicative"] = grown(lambda o: L.MultiplicativeLR(o, lambda e: 0.9), 2, 30)
grow["cawr"] = grown(lambda o: L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2), 2, 30)
grow["cawr_epochs"] = grown(
    lambda o: L.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.01),
    2,
    0,
    steps=[2.25, 2.5, None, 4.0, 7.5, None, None, 1.0] + n(24),
)
grow["sequential_before"] = grown(
    lambda o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=4), L.CosineAnnealingLR(o, T_max=5, eta_min=0.01)], [4]
    ),
    2,
    30,
)
grow["sequential_after"] = grown(
    lambda o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=4), L.CosineAnnealingLR(o, T_max=5, eta_min=0.01)], [4]
    ),
    6,
    30,
)
grow["sequential_three"] = grown(
    lambda o: L.SequentialLR(
        o,
        [
            L.ConstantLR(o, factor=0.5, total_iters=2),
            L.MultiplicativeLR(o, lambda e: 0.8),
            L.LambdaLR(o, lambda e: 1.0 / (e + 1)),
            L.CosineAnnealingWarmRestarts(o, T_0=3),
            L.ExponentialLR(o, gamma=0.9),
        ],
        [3, 7, 11, 18],
    ),
    1,
    31,
)
plateau_metrics = [1.0, 0.9, 0.9, 0.9, 0.95] + [0.8] * 6 + [0.7, 0.7, 0.7, 0.75, 0.7] * 4


def min_lr_for_new_group(value):
    """torch >= 2.2's answer (1.13 fails with IndexError at the next reduction)."""
    return lambda o, s: s.min_lrs.append(value)


grow["plateau"] = grown(
    lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=0.004),
    3,
    len(plateau_metrics) - 3,
    after_add=min_lr_for_new_group(0.004),
    metrics=plateau_metrics,
)
grow["plateau_per_group"] = grown(
    lambda o: L.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=[0.1]),
    3,
    len(plateau_metrics) - 3,
    after_add=min_lr_for_new_group(0.002),
    metrics=plateau_metrics,
)


def onecycle_keys(o, s):
    """torch's way on through OneCycleLR: the keys its constructor writes, for the new group."""
    g = o.param_groups[-1]
    g["initial_lr"] = 0.02 / 25
    g["max_lr"] = 0.02
    g["min_lr"] = g["initial_lr"] / 1e4
    g["max_momentum"] = 0.95
    g["base_momentum"] = 0.85


grow["onecycle"] = grown(lambda o: L.OneCycleLR(o, max_lr=0.2, total_steps=40), 7, 33, after_add=onecycle_keys)

cases["grow"] = grow
out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "schedulers_more.json"
out.write_text(json.dumps(cases))
print(f"wrote {out}")
