"""Writes tests/fixtures/module_hooks.json: PyTorch's numbers for a module's
full backward hooks (register_full_backward_hook: the gradInput and
gradOutput each hook sees, and a hook that replaces gradInput) and forward
pre-hooks (register_forward_pre_hook replacing the input), on
Sequential(Conv2d(1, 2, 3), ReLU(), Flatten(), Linear(32, 3)), plus a
two-input module whose second input needs no gradient.

Run with /usr/bin/python3 scripts/make_module_hooks_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "module_hooks.json")


def make():
    torch.manual_seed(5)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3))


def opt(g):
    return None if g is None else ser(g)


net = make()
state = {k: ser(v) for k, v in net.state_dict().items()}
x = torch.randn(2, 1, 6, 6)
G = torch.randn(2, 3)

# Every layer's gradInput / gradOutput, in the order the hooks ran.
calls = []
for i, m in enumerate(net):
    m.register_full_backward_hook(
        lambda m, gi, go, i=i: calls.append(
            {"layer": i, "gradInput": [opt(g) for g in gi], "gradOutput": [opt(g) for g in go]}))
net(x).backward(G)
seen = {"calls": calls, "weight0": ser(net[0].weight.grad)}

# The ReLU's hook halves gradInput; the input itself requires grad.
net = make()
net[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
xr = x.clone().requires_grad_()
net(xr).backward(G)
replaced = {"weight0": ser(net[0].weight.grad), "input": ser(xr.grad),
            "weight3": ser(net[3].weight.grad)}

# A forward pre-hook that doubles the Linear's input.
net = make()
net[3].register_forward_pre_hook(lambda m, args: (args[0] * 2,))
out = net(x)
out.backward(G)
pre = {"out": ser(out), "weight3": ser(net[3].weight.grad)}


class Two(nn.Module):
    def forward(self, a, b):
        return a * b


two = []
t = Two()
t.register_full_backward_hook(
    lambda m, gi, go: two.append({"gradInput": [opt(g) for g in gi],
                                  "gradOutput": [opt(g) for g in go]}))
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.tensor([3.0, 4.0])
t(a, b).sum().backward()

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "state": state, "x": ser(x), "G": ser(G),
               "seen": seen, "replaced": replaced, "pre": pre, "two": two[0]}, f)
print("wrote", OUT)
