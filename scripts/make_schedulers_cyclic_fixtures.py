"""Learning-rate and momentum traces of torch.optim.lr_scheduler.CyclicLR and
ChainedScheduler for tests/schedulers_cyclic_test.ts.

CyclicLR in every mode, with step_size_down, a scale_fn by cycle and by
iteration, per-group lists over two groups, SGD without momentum, RMSprop,
cycle_momentum=False, last_epoch, made after another schedule, and over an
optimizer that gains a group mid-run; ChainedScheduler over the chainable
schedules, with CyclicLR, OneCycleLR, SequentialLR and
CosineAnnealingWarmRestarts in the chain. 30+ steps each. Each case holds
every group's lr and momentum at step 0 and after each step(). Floats are
written as Python's repr (exact doubles), to compare at 1e-12.

Run with Debian's python3-torch: /usr/bin/python3 scripts/make_schedulers_cyclic_fixtures.py
"""
import json
import pathlib
import warnings

import torch

warnings.filterwarnings("ignore")
L = torch.optim.lr_scheduler


def params(k):
    return [torch.nn.Parameter(torch.zeros(1)) for _ in range(k)]


def sgd(momentum=0.9):
    return torch.optim.SGD(params(1), lr=0.5, momentum=momentum)


def sgd2():
    """Two groups: lr 0.5 / momentum 0.9 and lr 0.05 / momentum 0.5."""
    a, b = params(2)
    return torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.05, "momentum": 0.5}], lr=0.5, momentum=0.9)


def read(opt):
    lrs = [g["lr"] for g in opt.param_groups]
    momenta = [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]
    return lrs, momenta


def trace(opt, make, steps, add_at=None):
    """Every group's lr and momentum at step 0 and after each of `steps` step()s.

    With `add_at`, a group {lr 0.05, momentum 0.3} is added after that many
    steps (its entry recorded just after the add).
    """
    sched = make(opt)
    lrs, momenta = [], []

    def record():
        lr, m = read(opt)
        lrs.append(lr)
        momenta.append(m)

    record()
    for k in range(steps):
        if add_at == k:
            opt.add_param_group({"params": params(1), "lr": 0.05, "momentum": 0.3})
            record()
        opt.step()
        sched.step()
        record()
    return {"lrs": lrs, "momenta": momenta}


cases = {}
C = L.CyclicLR
cases["triangular"] = trace(sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=4), 30)
cases["triangular_down"] = trace(sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=3, step_size_down=7), 35)
cases["triangular2"] = trace(
    sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=4, step_size_down=2, mode="triangular2"), 35
)
cases["exp_range"] = trace(sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.95), 35)
cases["fn_cycle"] = trace(sgd(), lambda o: C(o, 0.02, 0.2, step_size_up=3, scale_fn=lambda x: 1.0 / x), 30)
cases["fn_iterations"] = trace(
    sgd(),
    lambda o: C(o, 0.02, 0.2, step_size_up=3, scale_fn=lambda x: 0.97 ** x, scale_mode="iterations"),
    30,
)
cases["fractional"] = trace(sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=2.5, step_size_down=1.5), 30)
cases["groups"] = trace(
    sgd2(),
    lambda o: C(
        o,
        [0.01, 0.001],
        [0.1, 0.02],
        step_size_up=3,
        mode="triangular2",
        base_momentum=[0.8, 0.85],
        max_momentum=[0.9, 0.95],
    ),
    32,
)
cases["groups_exp_range"] = trace(
    sgd2(), lambda o: C(o, 0.01, [0.1, 0.05], step_size_up=4, mode="exp_range", gamma=0.9), 30
)
# SGD made without momentum: torch's SGD has the key (0), so the momentum cycles.
cases["sgd_no_momentum"] = trace(sgd(0), lambda o: C(o, 0.01, 0.1, step_size_up=4), 30)
cases["cycle_off"] = trace(sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=4, cycle_momentum=False), 30)
cases["rmsprop"] = trace(
    torch.optim.RMSprop(params(1), lr=0.5), lambda o: C(o, 0.001, 0.01, step_size_up=6, max_momentum=0.95), 30
)
cases["adagrad_off"] = trace(
    torch.optim.Adagrad(params(1), lr=0.5), lambda o: C(o, 0.001, 0.01, step_size_up=4, cycle_momentum=False), 30
)


def resumed(o):
    """torch's resume: initial_lr as the run that saved it set it, the momentum at base."""
    for g in o.param_groups:
        g["initial_lr"] = 0.01
        g["momentum"] = 0.8
    return C(o, 0.01, 0.1, step_size_up=4, last_epoch=5)


cases["last_epoch"] = trace(sgd(), resumed, 22)
# Made after another schedule: step 0 is that schedule's initial lr (torch computes it from there).
cases["after_exponential"] = trace(
    sgd(), lambda o: (L.ExponentialLR(o, gamma=0.9), C(o, 0.01, 0.1, step_size_up=4))[1], 30
)
cases["grown"] = trace(sgd(), lambda o: C(o, 0.01, 0.1, step_size_up=4), 30, add_at=5)
# In SequentialLR: at its milestone CyclicLR starts from batch 0 (torch's step(0)).
cases["sequential_linear_cyclic"] = trace(
    sgd(),
    lambda o: L.SequentialLR(
        o, [L.LinearLR(o, start_factor=0.1, total_iters=5), C(o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9)], [5]
    ),
    30,
)
cases["sequential_cyclic_cos"] = trace(
    sgd(),
    lambda o: L.SequentialLR(o, [C(o, 0.01, 0.1, step_size_up=4), L.CosineAnnealingLR(o, T_max=10, eta_min=0.001)], [12]),
    30,
)

# --- ChainedScheduler ---
Ch = L.ChainedScheduler
cases["chain_doc"] = trace(sgd(), lambda o: Ch([L.ConstantLR(o, factor=0.1, total_iters=2), L.ExponentialLR(o, gamma=0.9)]), 30)
cases["chain_warm_cos"] = trace(
    sgd2(),
    lambda o: Ch([L.LinearLR(o, start_factor=0.1, total_iters=5), L.CosineAnnealingLR(o, T_max=10, eta_min=0.01)]),
    30,
)
cases["chain_three"] = trace(
    sgd2(),
    lambda o: Ch(
        [L.StepLR(o, step_size=3, gamma=0.5), L.MultiStepLR(o, milestones=[5, 10], gamma=0.8), L.ExponentialLR(o, gamma=0.95)]
    ),
    30,
)
cases["chain_cyclic_exp"] = trace(
    sgd2(), lambda o: Ch([C(o, [0.01, 0.002], 0.1, step_size_up=4), L.ExponentialLR(o, gamma=0.9)]), 30
)
cases["chain_exp_cyclic"] = trace(
    sgd(), lambda o: Ch([L.ExponentialLR(o, gamma=0.9), C(o, 0.01, 0.1, step_size_up=4, mode="triangular2")]), 30
)
cases["chain_sequential"] = trace(
    sgd(),
    lambda o: Ch(
        [
            L.SequentialLR(o, [L.LinearLR(o, start_factor=0.2, total_iters=4), L.ExponentialLR(o, gamma=0.9)], [4]),
            L.MultiplicativeLR(o, lambda e: 0.98),
        ]
    ),
    30,
)
cases["chain_cawr_constant"] = trace(
    sgd(), lambda o: Ch([L.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2), L.ConstantLR(o, factor=0.5, total_iters=6)]), 30
)
cases["chain_lambda_step"] = trace(
    sgd2(), lambda o: Ch([L.LambdaLR(o, lambda e: 1.0 / (e + 1)), L.StepLR(o, step_size=4, gamma=0.5)]), 30
)
cases["chain_onecycle_exp"] = trace(
    sgd(), lambda o: Ch([L.OneCycleLR(o, max_lr=0.2, total_steps=40), L.ExponentialLR(o, gamma=0.98)]), 30
)
cases["chain_nested"] = trace(
    sgd(),
    lambda o: Ch([Ch([L.ConstantLR(o, factor=0.5, total_iters=3), L.ExponentialLR(o, gamma=0.9)]), L.StepLR(o, step_size=5)]),
    30,
)
cases["chain_grown"] = trace(
    sgd(), lambda o: Ch([L.ExponentialLR(o, gamma=0.9), L.StepLR(o, step_size=3, gamma=0.5)]), 30, add_at=4
)

out = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "schedulers_cyclic.json"
out.write_text(json.dumps(cases))
print(f"wrote {out}")
