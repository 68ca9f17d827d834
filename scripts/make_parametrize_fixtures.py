"""Writes tests/fixtures/parametrize.json: PyTorch 1.13's numbers for
torch.nn.utils.parametrize (register_parametrization, assignment through
right_inverse, chains, several originals, remove_parametrizations, cached)
and torch.nn.utils.parametrizations (orthogonal with each map, spectral_norm).

Each training case stores the state dict right after registration (so the
tests can load torch's random draws: the u and v of spectral_norm, the random
columns of a rectangular orthogonal base), then per SGD step (lr 0.1) the
input x, the output, a fixed upstream gradient G of L = sum(out * G) and the
gradients of the parameters; then the state after the last step and an eval
forward. Tensors are
float32, written with 9 significant digits (exact float32 round trip).

Run with /usr/bin/python3 scripts/make_parametrize_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as P
from torch.nn.utils import parametrizations
from torchvision.models.resnet import Bottleneck

torch.set_num_threads(1)
torch.manual_seed(20260701)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "parametrize.json")


def ser(t):
    t = t.detach().to(torch.float32)
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in t.reshape(-1).tolist()]}


def state(m):
    return {k: ser(v) for k, v in m.state_dict().items() if v.dtype.is_floating_point}


class Symmetric(nn.Module):
    def forward(self, x):
        return x.triu() + x.triu(1).T

    def right_inverse(self, a):
        return a.triu()


class Scale(nn.Module):
    def forward(self, x):
        return x * 2

    def right_inverse(self, y):
        return y / 2


class SplitSum(nn.Module):
    """Two originals: the upper and the strictly lower triangle."""

    def forward(self, a, b):
        return a + b

    def right_inverse(self, z):
        return z.triu(), z.tril(-1)


def linear_step(m, x, g):
    out = m(x)
    (out * g).sum().backward()
    return out


def custom_cases():
    res = {}
    m = nn.Linear(4, 4)
    init = state(m)
    P.register_parametrization(m, "weight", Symmetric())
    x, g = torch.randn(3, 4), torch.randn(3, 4)
    out = linear_step(m, x, g)
    a = torch.randn(4, 4)
    a = a + a.T
    case = {
        "init": init, "keys": list(m.state_dict().keys()), "registered": state(m),
        "weight": ser(m.weight), "x": ser(x), "g": ser(g), "out": ser(out),
        "grads": {k: ser(p.grad) for k, p in m.named_parameters()},
        "param_names": [k for k, _ in m.named_parameters()], "assign": ser(a),
    }
    m.weight = a
    case["assigned"] = state(m)
    case["assigned_weight"] = ser(m.weight)
    res["symmetric"] = case

    m = nn.Linear(4, 4)
    init = state(m)
    P.register_parametrization(m, "weight", Symmetric())
    P.register_parametrization(m, "weight", Scale())
    a = torch.randn(4, 4)
    a = a + a.T
    case = {"init": init, "registered": state(m), "weight": ser(m.weight), "assign": ser(a),
            "keys": list(m.state_dict().keys())}
    m.weight = a
    case["assigned"] = state(m)
    P.remove_parametrizations(m, "weight", leave_parametrized=True)
    case["removed"] = state(m)
    case["removed_keys"] = list(m.state_dict().keys())
    res["chain"] = case

    m = nn.Linear(3, 3)
    init = state(m)
    P.register_parametrization(m, "weight", SplitSum())
    case = {"init": init, "registered": state(m), "keys": list(m.state_dict().keys()),
            "weight": ser(m.weight)}
    P.remove_parametrizations(m, "weight", leave_parametrized=True)
    case["removed"] = state(m)
    case["removed_keys"] = list(m.state_dict().keys())
    res["multi"] = case
    return res


def make_module(spec):
    kind = spec["module"]
    if kind == "linear":
        return nn.Linear(spec["in"], spec["out"])
    if kind == "conv":
        return nn.Conv2d(spec["in"], spec["out"], spec["kernel"])
    return nn.ConvTranspose2d(spec["in"], spec["out"], spec["kernel"])


def input_for(spec, n=2):
    if spec["module"] == "linear":
        return torch.randn(n, spec["in"])
    return torch.randn(1, spec["in"], 4, 4)


def train_case(spec, register):
    steps = 2 if spec["module"] != "linear" else 3
    m = make_module(spec)
    init = state(m)
    register(m)
    case = dict(spec, init=init, keys=list(m.state_dict().keys()), registered=state(m),
                param_names=[k for k, _ in m.named_parameters()], steps=[])
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    for _ in range(steps):
        x = input_for(spec)
        opt.zero_grad()
        out = m(x)
        g = torch.randn(out.shape)
        (out * g).sum().backward()
        step = {"x": ser(x), "g": ser(g), "out": ser(out),
                "grads": {k: ser(p.grad) for k, p in m.named_parameters()}}
        opt.step()
        case["steps"].append(step)
    case["after"] = state(m)
    before_eval = {k: v.clone() for k, v in m.state_dict().items()}
    m.eval()
    x = input_for(spec)
    with torch.no_grad():
        case["eval"] = {"x": ser(x), "out": ser(m(x))}
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in before_eval.items())
    m.train()
    return case, m


def orthogonal_cases():
    specs = [
        dict(name="linear square (matrix_exp)", module="linear", **{"in": 4}, out=4),
        dict(name="linear tall (householder)", module="linear", **{"in": 3}, out=5),
        dict(name="linear wide cayley", module="linear", **{"in": 5}, out=3, map="cayley"),
        dict(name="linear tall matrix_exp", module="linear", **{"in": 3}, out=5, map="matrix_exp"),
        dict(name="linear square householder no trivialization", module="linear", **{"in": 4},
             out=4, map="householder", triv=False),
        dict(name="linear wide householder no trivialization", module="linear", **{"in": 5},
             out=3, map="householder", triv=False),
        dict(name="linear square cayley no trivialization", module="linear", **{"in": 4}, out=4,
             map="cayley", triv=False),
        dict(name="conv 3x3 (matrix_exp over the kernels)", module="conv", **{"in": 2}, out=3,
             kernel=3),
        dict(name="conv 3x2 (householder over the kernels)", module="conv", **{"in": 2}, out=3,
             kernel=[3, 2]),
    ]
    cases = []
    for spec in specs:
        def register(m, spec=spec):
            parametrizations.orthogonal(m, "weight", spec.get("map"),
                                        use_trivialization=spec.get("triv", True))
        case, m = train_case(spec, register)
        cases.append(case)
        # remove with leave_parametrized true and false, from the state after training
        for leave in (True, False):
            mm = make_module(spec)
            register(mm)
            mm.load_state_dict(m.state_dict())
            P.remove_parametrizations(mm, "weight", leave_parametrized=leave)
            case["removed_leave" if leave else "removed_original"] = ser(mm.weight)
    return cases


def spectral_cases():
    specs = [
        dict(name="linear", module="linear", **{"in": 5}, out=7),
        dict(name="linear, 3 iterations, dim 1", module="linear", **{"in": 6}, out=4,
             iters=3, dim=1),
        dict(name="conv", module="conv", **{"in": 2}, out=3, kernel=3),
        dict(name="conv transpose (dim 1)", module="convT", **{"in": 2}, out=2, kernel=2),
    ]
    cases = []
    for spec in specs:
        def register(m, spec=spec):
            parametrizations.spectral_norm(m, "weight", spec.get("iters", 1), 1e-12,
                                           spec.get("dim"))
        case, m = train_case(spec, register)
        r = case["registered"]["parametrizations.weight.original"]
        w = torch.tensor(r["data"]).reshape(r["shape"])  # as registered, before the steps
        dim = spec.get("dim", 1 if spec["module"] == "convT" else 0)
        mat = w.movedim(dim, 0).flatten(1)
        case["sigma"] = float(torch.linalg.matrix_norm(mat, 2))
        cases.append(case)
    return cases


def cached_case():
    m = nn.Linear(5, 4)
    parametrizations.spectral_norm(m)
    start = state(m)
    with P.cached():
        w1 = m.weight
        w2 = m.weight
        assert w1 is w2
    once = state(m)
    m.weight
    m.weight
    twice = state(m)
    return {"start": start, "once": once, "twice": twice, "init_keys": list(start.keys())}


def bottleneck_case():
    torch.manual_seed(7)
    b = Bottleneck(8, 2)
    for bn in (b.bn1, b.bn2, b.bn3):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 1.5)
        nn.init.uniform_(bn.weight, 0.5, 1.5)
        nn.init.uniform_(bn.bias, -0.5, 0.5)
    parametrizations.spectral_norm(b.conv3)
    parametrizations.orthogonal(b.conv2)
    b.eval()
    x = torch.randn(1, 8, 4, 4, requires_grad=True)
    out = b(x)
    g = torch.randn(out.shape)
    (out * g).sum().backward()
    return {"state": state(b), "keys": list(b.state_dict().keys()), "x": ser(x), "g": ser(g),
            "out": ser(out), "grad_x": ser(x.grad),
            "grads": {k: ser(p.grad) for k, p in b.named_parameters()}}


def main():
    fixtures = {
        "custom": custom_cases(),
        "orthogonal": orthogonal_cases(),
        "spectral": spectral_cases(),
        "cached": cached_case(),
        "bottleneck": bottleneck_case(),
    }
    with open(OUT, "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT) // 1024} KB)")


if __name__ == "__main__":
    main()
