"""Writes tests/fixtures/autocast.json: PyTorch's CPU autocast to bfloat16.

Each case runs an op (or a small model) under
`torch.autocast("cpu", dtype=torch.bfloat16)` on fp32 inputs and stores the
inputs, the output (PyTorch's bfloat16 result, widened to fp32), a fixed
upstream gradient G and the fp32 gradients of L = sum(out * G) at the fp32
inputs, as they arrive through autocast's casts. The tests compare
`autocast("bfloat16", ...)` with them at bf16's tolerance.

Inputs are rounded to 6 significant digits before use, so the stored
decimals are the exact float32 values PyTorch computed with. Run with
/usr/bin/python3 scripts/make_autocast_fixtures.py (Debian's python3-torch).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(20261203)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "autocast.json")


def rounded(shape, scale=1.0):
    t = torch.randn(*shape) * scale
    return torch.tensor([float("%.6g" % v) for v in t.reshape(-1).tolist()]).reshape(shape)


def ser(t):
    t = t.detach().float()
    return {"shape": list(t.shape), "data": [float("%.8g" % v) for v in t.reshape(-1).tolist()]}


def outputs(fn, inputs, g, enabled):
    """fn's output and the gradients of sum(out * g) at its inputs, with or without autocast."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
        out = fn(*leaves)
    g = rounded(out.shape) if g is None else g
    (out.float() * g).sum().backward()
    return out, g, [t.grad for t in leaves]


def run(fn, inputs):
    """A case: under autocast, and in fp32 (PyTorch's own spread around the exact result)."""
    out, g, grads = outputs(fn, inputs, None, True)
    out32, _, grads32 = outputs(fn, inputs, g, False)
    return {
        "inputs": [ser(t) for t in inputs],
        "out": ser(out),
        "out_dtype": str(out.dtype).replace("torch.", ""),
        "G": ser(g),
        "grads": [ser(t) for t in grads],
        "fp32": {"out": ser(out32), "grads": [ser(t) for t in grads32]},
    }


def conv_case(n, c, h, w, k, r, stride, padding, groups=1):
    x = rounded((n, c, h, w))
    wt = rounded((k, c // groups, r, r), scale=(c // groups * r * r) ** -0.5)
    b = rounded((k,), scale=0.1)
    case = run(lambda x, wt, b: F.conv2d(x, wt, b, stride=stride, padding=padding,
                                         groups=groups), [x, wt, b])
    case["options"] = {"stride": stride, "padding": padding, "groups": groups}
    return case


def model_case():
    """Conv-BN-ReLU-pool-Linear with cross-entropy: the loss and every gradient."""
    torch.manual_seed(7)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 3))
    for p in model.parameters():
        p.data = torch.tensor([float("%.6g" % v) for v in p.data.reshape(-1).tolist()]
                              ).reshape(p.shape)
    x = rounded((4, 1, 12, 12))
    y = torch.tensor([0, 2, 1, 2])
    state = {k: ser(v) for k, v in model.state_dict().items() if v.dtype == torch.float32}
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    logits32 = model(x)
    F.cross_entropy(logits32, y).backward()
    grads32 = {k: ser(p.grad) for k, p in model.named_parameters()}
    model.load_state_dict(initial)
    model.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
        loss = F.cross_entropy(logits, y)
    loss.backward()
    return {
        "fp32": {"logits": ser(logits32), "grads": grads32},
        "state": state,
        "x": ser(x),
        "y": y.tolist(),
        "logits": ser(logits),
        "logits_dtype": str(logits.dtype).replace("torch.", ""),
        "loss": loss.item(),
        "loss_dtype": str(loss.dtype).replace("torch.", ""),
        "grads": {k: ser(p.grad) for k, p in model.named_parameters()},
        "running": {k: ser(v) for k, v in model.state_dict().items() if "running" in k},
    }


def rule_case(fn, inputs):
    """Which precision PyTorch's autocast picks for an op at the edge of its list: the
    output's dtype under autocast (bfloat16: lowered), the output, and the fp32 output."""
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = fn(*inputs)
    return {
        "inputs": [ser(t) for t in inputs],
        "out": ser(out),
        "out_dtype": str(out.dtype).replace("torch.", ""),
        "fp32": ser(fn(*inputs)),
    }


def einsum_case(eq, *shapes):
    return rule_case(lambda *xs: torch.einsum(eq, *xs), [rounded(s) for s in shapes])


cases = {
    "conv2d": {
        "3x3 pad 1": conv_case(2, 3, 9, 11, 8, 3, 1, 1),
        "1x1 stride 2": conv_case(2, 16, 8, 8, 12, 1, 2, 0),
        "7x7 stride 2 pad 3": conv_case(1, 1, 20, 20, 6, 7, 2, 3),
        "3x3 groups 2": conv_case(2, 8, 7, 7, 6, 3, 1, 1, groups=2),
    },
    "linear": run(lambda x, w, b: F.linear(x, w, b),
                  [rounded((5, 24)), rounded((7, 24), 24 ** -0.5), rounded((7,), 0.1)]),
    "matmul": run(torch.matmul, [rounded((6, 20)), rounded((20, 9))]),
    "bmm": run(torch.matmul, [rounded((3, 5, 16)), rounded((3, 16, 4))]),
    "model": model_case(),
}
# After the others, so that their inputs stay the draws they were.
rules = {
    "dot": rule_case(torch.dot, [rounded((64,)), rounded((64,))]),
    "mv": rule_case(torch.mv, [rounded((5, 64)), rounded((64,))]),
    "outer": rule_case(torch.outer, [rounded((5,)), rounded((4,))]),
    "bilinear": rule_case(F.bilinear, [rounded((3, 8)), rounded((3, 6)), rounded((4, 8, 6), 0.2),
                                       rounded((4,), 0.1)]),
    "conv_transpose2d": rule_case(F.conv_transpose2d, [rounded((1, 4, 6, 6)),
                                                       rounded((4, 3, 3, 3), 0.3)]),
    "prelu": rule_case(F.prelu, [rounded((2, 3, 4)), rounded((3,), 0.3)]),
    "matmul 1-D": rule_case(torch.matmul, [rounded((64,)), rounded((64,))]),
    "matmul 2-D 1-D": rule_case(torch.matmul, [rounded((5, 64)), rounded((64,))]),
    "inner": rule_case(torch.inner, [rounded((3, 64)), rounded((2, 64))]),
    "einsum i,j->ij": einsum_case("i,j->ij", (5,), (4,)),
    "einsum ij,ij->ij": einsum_case("ij,ij->ij", (4, 6), (4, 6)),
    "einsum ij,i->ij": einsum_case("ij,i->ij", (4, 6), (4,)),
    "einsum ij,ij->i": einsum_case("ij,ij->i", (4, 64), (4, 64)),
    "einsum i,i->": einsum_case("i,i->", (64,), (64,)),
    "einsum bij,bjk->bik": einsum_case("bij,bjk->bik", (2, 3, 32), (2, 32, 5)),
    "einsum ab,ab,ab->a": einsum_case("ab,ab,ab->a", (3, 64), (3, 64), (3, 64)),
}
cases["rules"] = rules
# The other lowered ops, after the rules for the same reason.
cases["more"] = {
    "conv1d": run(lambda x, w, b: F.conv1d(x, w, b, padding=1),
                  [rounded((2, 6, 17)), rounded((5, 6, 3), 18 ** -0.5), rounded((5,), 0.1)]),
    "conv3d": run(lambda x, w, b: F.conv3d(x, w, b, stride=(1, 2, 2), padding=1),
                  [rounded((1, 2, 4, 6, 6)), rounded((3, 2, 3, 3, 3), 54 ** -0.5),
                   rounded((3,), 0.1)]),
    "addmm": run(lambda a, b, i: torch.addmm(i, a, b, beta=0.5, alpha=2.0),
                 [rounded((6, 20)), rounded((20, 9)), rounded((6, 9))]),
    "baddbmm": run(lambda a, b, i: torch.baddbmm(i, a, b, beta=0.5, alpha=2.0),
                   [rounded((3, 5, 16)), rounded((3, 16, 4)), rounded((3, 5, 4))]),
}
cases["torch"] = torch.__version__

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
