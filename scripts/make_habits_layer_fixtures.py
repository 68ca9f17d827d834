"""Writes tests/fixtures/habits_layers.json from PyTorch: the containers,
activations, BatchNorm1d and losses of issue 12 ("PyTorch habits").

  activations  nn.LeakyReLU / Sigmoid / Tanh / GELU / Softmax / LogSoftmax:
               input, output, upstream gradient G, input gradient
  batchNorm1d  [N, C] and [N, C, L], several training steps (outputs,
               gradients of input, weight and bias, running statistics,
               num_batches_tracked), then evaluation; momentum, momentum None,
               affine False, track_running_stats False, eps
  losses       NLLLoss, BCEWithLogitsLoss, MSELoss with their options:
               loss, G and gradients of input (and target where torch has one)
  containers   a model with nn.ModuleList and nn.ModuleDict: its state dict
               (names in torch's order, values) and outputs in train and eval

Every backward uses L = sum(out * G) with a random G. Inputs are rounded to 6
significant digits before use (the stored decimals are the float32 values
torch used), outputs to 8. Run: /usr/bin/python3 scripts/make_habits_layer_fixtures.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(12012)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "habits_layers.json")


def flat(t):
    return t.detach().reshape(-1).tolist()


def enc_out(v):
    if math.isnan(v) or math.isinf(v):
        return None
    r = float("%.8g" % v)
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ser(t):
    t = t.detach()
    if t.dtype.is_floating_point:
        return {"shape": list(t.shape), "data": [enc_out(v) for v in flat(t)]}
    return {"shape": list(t.shape), "data": [int(v) for v in flat(t)], "dtype": "int32"}


def rounded(t):
    return torch.tensor([float("%.6g" % v) for v in flat(t)], dtype=torch.float32).reshape(t.shape)


def randn(*shape, scale=1.0, grad=True):
    return rounded(torch.randn(shape) * scale).requires_grad_(grad)


def state(m):
    return [[k, ser(v)] for k, v in m.state_dict().items()]


def backward_case(out, *inputs):
    """G, and the gradient of sum(out * G) for each input (None without grad)."""
    G = rounded(torch.randn(out.shape))
    (out * G).sum().backward()
    return [float(v) for v in flat(G)], [ser(t.grad) if t.grad is not None else None for t in inputs]


# ---------------------------------------------------------------- activations


def activations():
    cases = []
    x = randn(4, 6, scale=2.0, grad=False)
    x.view(-1)[:6] = torch.tensor([0.0, -0.0, 10.0, -10.0, 1e-3, -30.0])
    specs = [
        ("LeakyReLU", [], lambda: nn.LeakyReLU()),
        ("LeakyReLU", [0.2], lambda: nn.LeakyReLU(0.2)),
        ("Sigmoid", [], lambda: nn.Sigmoid()),
        ("Tanh", [], lambda: nn.Tanh()),
        ("GELU", [], lambda: nn.GELU()),
        ("GELU", ["tanh"], lambda: nn.GELU(approximate="tanh")),
        ("Softmax", [1], lambda: nn.Softmax(dim=1)),
        ("Softmax", [0], lambda: nn.Softmax(dim=0)),
        ("LogSoftmax", [-1], lambda: nn.LogSoftmax(dim=-1)),
    ]
    for kind, args, make in specs:
        xi = x.clone().requires_grad_(True)
        y = make()(xi)
        G, (gx,) = backward_case(y, xi)
        cases.append({"kind": kind, "args": args, "input": ser(x), "out": ser(y), "G": G,
                      "inputGrad": gx})
    return cases


# ---------------------------------------------------------------- BatchNorm1d


def batch_norm_1d():
    cases = []
    specs = [
        ("[N, C] defaults", (6, 3), {}),
        ("[N, C, L] momentum 0.3", (4, 3, 5), {"momentum": 0.3}),
        ("[N, C] momentum None (cumulative)", (5, 3), {"momentum": None}),
        ("[N, C, L] eps 1e-3, affine False", (3, 3, 4), {"eps": 1e-3, "affine": False}),
        ("[N, C] trackRunningStats False", (6, 3), {"track_running_stats": False}),
    ]
    for name, shape, kw in specs:
        m = nn.BatchNorm1d(3, **kw)
        if m.affine:
            with torch.no_grad():
                m.weight.copy_(rounded(torch.rand(3) + 0.5))
                m.bias.copy_(rounded(torch.randn(3)))
        init = state(m)
        steps = []
        m.train()
        for _ in range(3):
            m.zero_grad()
            x = randn(*shape, scale=2.0)
            with torch.no_grad():
                x += rounded(torch.randn(1, 3, *([1] * (len(shape) - 2))))  # per-channel offset
            x = rounded(x).requires_grad_(True)
            y = m(x)
            G, (gx,) = backward_case(y, x)
            grads = {k: ser(p.grad) for k, p in m.named_parameters()}
            steps.append({"input": ser(x), "out": ser(y), "G": G, "inputGrad": gx,
                          "grads": grads, "state": state(m)})
        m.eval()
        xe = randn(*shape, grad=False)
        ye = m(xe)
        opts = {"eps": kw.get("eps"), "momentum": kw.get("momentum", 0.1),
                "affine": kw.get("affine", True),
                "trackRunningStats": kw.get("track_running_stats", True)}
        if "eps" not in kw:
            del opts["eps"]
        cases.append({"name": name, "opts": opts, "state": init, "steps": steps,
                      "evalInput": ser(xe), "evalOut": ser(ye)})
    return cases


# ---------------------------------------------------------------- losses


def losses():
    cases = []

    def add(loss, kind, opts, fn, inp, target, weights=None):
        out = fn(inp, target)
        G, (gi, gt) = backward_case(out, inp, target)
        case = {"loss": loss, "kind": kind, "opts": opts, "input": ser(inp), "target": ser(target),
                "out": ser(out), "G": G, "inputGrad": gi}
        if target.dtype.is_floating_point and target.requires_grad:
            case["targetGrad"] = gt
        for k, v in (weights or {}).items():
            case[k] = ser(v)
        cases.append(case)

    # NLLLoss on log-probabilities [N, C] and [N, C, d].
    logp = F.log_softmax(randn(7, 4, scale=2.0, grad=False), 1)
    t = torch.tensor([0, 3, 1, 2, -100, 3, 1])
    w = rounded(torch.rand(4) + 0.2)
    for red in ["mean", "sum", "none"]:
        add("NLLLoss", red, {"reduction": red}, nn.NLLLoss(reduction=red),
            rounded(logp).requires_grad_(True), t)
    add("NLLLoss", "weight mean", {}, nn.NLLLoss(weight=w), rounded(logp).requires_grad_(True), t,
        {"weight": w})
    add("NLLLoss", "weight sum ignoreIndex 3", {"ignoreIndex": 3, "reduction": "sum"},
        nn.NLLLoss(weight=w, ignore_index=3, reduction="sum"), rounded(logp).requires_grad_(True),
        torch.tensor([0, 3, 1, 2, 2, 3, 1]), {"weight": w})
    add("NLLLoss", "weight mean ignoreIndex 1", {"ignoreIndex": 1},
        nn.NLLLoss(weight=w, ignore_index=1), rounded(logp).requires_grad_(True),
        torch.tensor([0, 3, 1, 2, 2, 3, 1]), {"weight": w})
    lp3 = rounded(F.log_softmax(torch.randn(2, 3, 5), 1)).requires_grad_(True)
    add("NLLLoss", "[N, C, d] mean", {}, nn.NLLLoss(), lp3, torch.randint(0, 3, (2, 5)))

    # BCEWithLogitsLoss, with large logits and soft targets.
    x = randn(4, 3, scale=3.0, grad=False)
    x.view(-1)[:4] = torch.tensor([60.0, -60.0, 200.0, -200.0])
    y = rounded(torch.rand(4, 3))
    y.view(-1)[:4] = torch.tensor([0.0, 1.0, 1.0, 0.0])
    wb = rounded(torch.rand(4, 3) + 0.1)
    pw = rounded(torch.rand(3) * 3 + 0.5)
    for red in ["mean", "sum", "none"]:
        add("BCEWithLogitsLoss", red, {"reduction": red}, nn.BCEWithLogitsLoss(reduction=red),
            x.clone().requires_grad_(True), y.clone().requires_grad_(True))
    add("BCEWithLogitsLoss", "weight posWeight mean", {},
        nn.BCEWithLogitsLoss(weight=wb, pos_weight=pw), x.clone().requires_grad_(True),
        y.clone().requires_grad_(True), {"weight": wb, "posWeight": pw})
    add("BCEWithLogitsLoss", "weight [3] sum", {"reduction": "sum"},
        nn.BCEWithLogitsLoss(weight=pw, reduction="sum"), x.clone().requires_grad_(True),
        y.clone(), {"weight": pw})
    add("BCEWithLogitsLoss", "posWeight none", {"reduction": "none"},
        nn.BCEWithLogitsLoss(pos_weight=pw, reduction="none"), x.clone().requires_grad_(True),
        y.clone(), {"posWeight": pw})

    # MSELoss.
    a, b = randn(3, 5), randn(3, 5)
    for red in ["mean", "sum", "none"]:
        add("MSELoss", red, {"reduction": red}, nn.MSELoss(reduction=red),
            a.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True))
    return cases


# ---------------------------------------------------------------- containers


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 6)
        self.blocks = nn.ModuleList([nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Linear(6, 6)])
        self.stages = nn.ModuleList([nn.ModuleList([nn.Linear(6, 6)]),
                                     nn.Sequential(nn.Linear(6, 6), nn.GELU())])
        self.heads = nn.ModuleDict({"liver": nn.Linear(6, 2), "lesion": nn.Linear(6, 3)})

    def forward(self, x):
        x = F.relu(self.stem(x))
        for b in self.blocks:
            x = b(x)
        x = self.stages[0][0](x).tanh()
        x = self.stages[1](x)
        return self.heads["liver"](x), self.heads["lesion"](x)


def containers():
    net = Net()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(rounded(p))
        net.blocks[1].running_mean.copy_(rounded(torch.randn(6) * 0.1))
        net.blocks[1].running_var.copy_(rounded(torch.rand(6) + 0.5))
    sd = state(net)
    x = randn(5, 4, grad=False)
    net.train()
    liver, lesion = net(x)
    after = state(net)
    net.eval()
    eliver, elesion = net(x)
    return {"state": sd, "input": ser(x), "trainOut": [ser(liver), ser(lesion)],
            "stateAfterTrain": after, "evalOut": [ser(eliver), ser(elesion)]}


if __name__ == "__main__":
    data = {"activations": activations(), "batchNorm1d": batch_norm_1d(), "losses": losses(),
            "containers": containers()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
