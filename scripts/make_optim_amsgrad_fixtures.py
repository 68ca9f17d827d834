"""Writes tests/fixtures/optim_amsgrad.json: PyTorch 1.13's parameters after
steps of Adam / AdamW with `amsgrad` and of SGD / Adam / AdamW with
`maximize` (tests/optim_amsgrad_test.ts, tests/optim_maximize_test.ts), and
OneCycleLR's lr and momentum per step with per-group momentum lists.

Each optimizer case has two groups of one parameter each: the optimizer's
defaults (options under this library's names, camelCase), each group's own
options, the starting values, and the values after each of STEPS steps of
L = sum(sign_i * ((p_i - target_i)^2 * (i + 1.5) + cos(2 p_i))), sign_i -1
where group i maximizes (so that it climbs toward the same optimum as the
others descend to, and its gradients shrink too). beta2 0.6 in most Adam
cases lets exp_avg_sq fall as the gradients shrink, so AMSGrad's maximum
differs from the moment (checked below). The "saved" cases step an
optimizer, take its state dict half-way, load it into one made without the
flags (torch's load takes the saved groups' flags) and step on.

Run with /usr/bin/python3 scripts/make_optim_amsgrad_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260912)
warnings.filterwarnings("ignore")  # lr_scheduler.step() before optimizer.step()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "optim_amsgrad.json")
STEPS = 6
SNAKE = {"weightDecay": "weight_decay"}
CLASSES = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "SGD": torch.optim.SGD}
SHAPES = [[5], [2, 3]]


def torch_options(o):
    return {SNAKE.get(k, k): (tuple(v) if k == "betas" else v) for k, v in o.items()}


def loss(params, targets, signs):
    return sum(s * ((p - t) ** 2 * (i + 1.5) + torch.cos(2 * p)).sum()
               for i, (p, t, s) in enumerate(zip(params, targets, signs)))


def signs_of(defaults, groups):
    """-1 for a group that maximizes: it climbs -L to where the others descend L."""
    return [-1 if g.get("maximize", defaults.get("maximize", False)) else 1 for g in groups]


def run(opt, params, targets, steps, signs):
    trace = []
    for _ in range(steps):
        opt.zero_grad()
        loss(params, targets, signs).backward()
        opt.step()
        trace.append([ser(p) for p in params])
    return trace


def case(name, cls, defaults, groups):
    start = [torch.randn(s) for s in SHAPES]
    targets = [torch.randn(s) for s in SHAPES]
    params = [s.clone().requires_grad_(True) for s in start]
    opt = CLASSES[cls]([{"params": [p], **torch_options(g)} for p, g in zip(params, groups)],
                       **torch_options(defaults))
    signs = signs_of(defaults, groups)
    trace = run(opt, params, targets, STEPS, signs)
    mattered = False
    for g, p in zip(opt.param_groups, params):
        st = opt.state[p]
        if g.get("amsgrad"):
            mattered |= bool((st["max_exp_avg_sq"] > st["exp_avg_sq"]).any())
        elif cls != "SGD":
            assert "max_exp_avg_sq" not in st, name
    # The maximum must matter, or the case would not tell amsgrad from Adam.
    assert mattered or not any(g.get("amsgrad") for g in opt.param_groups), name
    return {"name": name, "cls": cls, "defaults": defaults, "groups": groups,
            "signs": signs, "start": [ser(s) for s in start],
            "targets": [ser(t) for t in targets], "trace": trace}


def saved_case(cls, defaults, groups, plain):
    """Steps 3 times, saves, loads into one made with `plain` options, steps 3 more."""
    start = [torch.randn(s) for s in SHAPES]
    targets = [torch.randn(s) for s in SHAPES]
    params = [s.clone().requires_grad_(True) for s in start]
    opt = CLASSES[cls]([{"params": [p], **torch_options(g)} for p, g in zip(params, groups)],
                       **torch_options(defaults))
    signs = signs_of(defaults, groups)
    mid = run(opt, params, targets, 3, signs)[-1]
    sd = opt.state_dict()
    state = {str(i): {k: ser(v) for k, v in s.items() if k != "step"}
             for i, s in sd["state"].items()}
    fresh = CLASSES[cls]([{"params": [p]} for p in params], **torch_options(plain))
    fresh.load_state_dict(sd)
    for g, want in zip(fresh.param_groups, groups):
        for k, v in want.items():
            assert g[SNAKE.get(k, k)] == v, (k, v)
    after = run(fresh, params, targets, 3, signs)
    return {"cls": cls, "defaults": defaults, "groups": groups, "plain": plain, "signs": signs,
            "start": [ser(s) for s in start], "targets": [ser(t) for t in targets],
            "mid": mid, "state": state, "after": after}


def onecycle(cls, defaults, options, steps):
    """Each group's lr and momentum (beta1 for Adam) after construction and each step."""
    params = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    opt = CLASSES[cls]([{"params": [p]} for p in params], **torch_options(defaults))
    snake = {"maxLr": "max_lr", "totalSteps": "total_steps", "baseMomentum": "base_momentum",
             "maxMomentum": "max_momentum", "threePhase": "three_phase",
             "pctStart": "pct_start", "annealStrategy": "anneal_strategy"}
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, **{snake[k]: v for k, v in options.items()})

    def now():
        return [[g["lr"], g["betas"][0] if "betas" in g else g["momentum"]]
                for g in opt.param_groups]

    trace = [now()]
    for _ in range(steps):
        opt.step()
        sched.step()
        trace.append(now())
    return {"cls": cls, "defaults": defaults, "options": options, "trace": trace}


cases = [
    case("Adam amsgrad", "Adam", {"lr": 0.05, "amsgrad": True, "betas": [0.9, 0.6]}, [{}, {}]),
    case("Adam amsgrad, weight decay", "Adam",
         {"lr": 0.05, "amsgrad": True, "betas": [0.9, 0.6], "weightDecay": 0.1}, [{}, {}]),
    case("Adam amsgrad, betas (0.5, 0.7), eps 1e-3, group 1 lr", "Adam",
         {"lr": 0.1, "amsgrad": True, "betas": [0.5, 0.7], "eps": 1e-3}, [{}, {"lr": 0.01}]),
    case("AdamW amsgrad", "AdamW", {"lr": 0.05, "amsgrad": True, "betas": [0.8, 0.6]},
         [{}, {}]),
    case("AdamW amsgrad, weight decay 0", "AdamW",
         {"lr": 0.05, "amsgrad": True, "betas": [0.8, 0.6], "weightDecay": 0}, [{}, {}]),
    case("AdamW amsgrad and maximize, weight decay", "AdamW",
         {"lr": 0.05, "amsgrad": True, "maximize": True, "betas": [0.9, 0.6],
          "weightDecay": 0.2}, [{}, {}]),
    case("Adam amsgrad and maximize, weight decay", "Adam",
         {"lr": 0.05, "amsgrad": True, "maximize": True, "betas": [0.9, 0.6],
          "weightDecay": 0.1}, [{}, {}]),
    case("Adam group 1 amsgrad, group 0 maximize", "Adam",
         {"lr": 0.05, "betas": [0.9, 0.6]}, [{"maximize": True}, {"amsgrad": True}]),
    case("AdamW amsgrad by default, group 1 maximize without amsgrad", "AdamW",
         {"lr": 0.05, "amsgrad": True, "betas": [0.9, 0.6], "weightDecay": 0.1},
         [{}, {"amsgrad": False, "maximize": True}]),
    case("Adam maximize, weight decay", "Adam",
         {"lr": 0.05, "maximize": True, "weightDecay": 0.1}, [{}, {}]),
    case("AdamW maximize, weight decay", "AdamW",
         {"lr": 0.05, "maximize": True, "weightDecay": 0.1}, [{}, {}]),
    case("SGD maximize, momentum, dampening, weight decay", "SGD",
         {"lr": 0.02, "momentum": 0.9, "dampening": 0.1, "weightDecay": 0.05,
          "maximize": True}, [{}, {}]),
    case("SGD maximize, nesterov, weight decay", "SGD",
         {"lr": 0.02, "momentum": 0.9, "nesterov": True, "weightDecay": 0.05,
          "maximize": True}, [{}, {}]),
    case("SGD maximize, plain, weight decay", "SGD",
         {"lr": 0.02, "weightDecay": 0.1, "maximize": True}, [{}, {}]),
    case("SGD group 1 maximize, momentum", "SGD",
         {"lr": 0.02, "momentum": 0.5}, [{}, {"maximize": True}]),
]
assert len({c["name"] for c in cases}) == len(cases)

saved = [
    saved_case("Adam", {"lr": 0.05, "betas": [0.9, 0.6]},
               [{"amsgrad": True}, {"maximize": True}], {"lr": 0.05, "betas": [0.9, 0.6]}),
    saved_case("AdamW", {"lr": 0.05, "betas": [0.9, 0.6], "weightDecay": 0.1},
               [{"amsgrad": True, "maximize": True}, {}],
               {"lr": 0.05, "betas": [0.9, 0.6], "weightDecay": 0.1}),
    saved_case("SGD", {"lr": 0.02, "momentum": 0.9},
               [{"maximize": True}, {}], {"lr": 0.02, "momentum": 0.9}),
]

cycles = [
    onecycle("SGD", {"lr": 0.1, "momentum": 0.9},
             {"maxLr": [0.1, 0.01], "totalSteps": 12, "baseMomentum": [0.8, 0.85],
              "maxMomentum": [0.9, 0.95]}, 12),
    onecycle("Adam", {"lr": 0.001},
             {"maxLr": 0.01, "totalSteps": 10, "baseMomentum": 0.8,
              "maxMomentum": [0.9, 0.95], "threePhase": True}, 10),
    onecycle("AdamW", {"lr": 0.001},
             {"maxLr": [0.01, 0.02], "totalSteps": 8, "baseMomentum": [0.5, 0.7],
              "annealStrategy": "linear"}, 7),
]

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases, "saved": saved, "cycles": cycles}, f)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
