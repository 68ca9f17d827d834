"""Writes tests/fixtures/nn_gaps.json: PyTorch's numbers for the torch.nn pieces
that the nn docs audit found missing: the activations SELU, CELU, GLU,
Hardtanh, Hardshrink, Softshrink, Softsign, Tanhshrink, Threshold,
LogSigmoid and RReLU (evaluation), the constants of AlphaDropout,
ChannelShuffle, Bilinear, F.conv2d with "same" padding of even kernels, and
the state-dict names of ParameterList and ParameterDict.

Every differentiable case stores its inputs, output, a fixed random upstream
gradient G and the gradients of L = sum(out * G). Activation inputs hold the
kinks exactly (the bounds, the thresholds, 0), where torch's gradient
convention is what is checked. Tensors are float32; inputs are written with
9 significant digits (exact float32 round trip).

Run with /usr/bin/python3 scripts/make_nn_gaps_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "nn_gaps.json")


def enc(v, digits=9):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    r = float("%.*g" % (digits, v))
    if r == 0 and math.copysign(1.0, r) < 0:
        return -0.0
    return int(r) if r == int(r) and abs(r) < 1e15 else r


def ser(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [enc(v) for v in t.reshape(-1).tolist()]}


def randn(*shape, scale=1.0):
    return (torch.randn(shape) * scale).to(torch.float32).requires_grad_(True)


def backward_case(name, inputs, fn, extra=None):
    """Forward fn(*inputs), then grads of sum(out * G) for every input."""
    out = fn(*inputs)
    g = torch.randn(out.shape)
    grads = torch.autograd.grad(out, inputs, g, allow_unused=True)
    case = {
        "name": name,
        "inputs": [ser(t) for t in inputs],
        "out": ser(out),
        "g": ser(g),
        "grads": [ser(gr) if gr is not None else None for gr in grads],
    }
    if extra:
        case.update(extra)
    return case


def with_kinks(kinks):
    """The kinks themselves, then 24 random values around them."""
    base = torch.tensor(kinks, dtype=torch.float32)
    rnd = torch.randn(24) * 2
    return torch.cat([base, rnd]).requires_grad_(True)


cases = {}

# ---- activations: F name, args, kinks ------------------------------------------
acts = [
    ("hardtanh", [], [-2, -1, -0.5, 0, 0.5, 1, 2]),
    ("hardtanh", [-2, 3], [-3, -2, 0, 3, 4]),
    ("hardtanh", [0, 6], [-1, 0, 6, 7]),
    ("hardshrink", [], [-1, -0.5, -0.25, 0, 0.25, 0.5, 1]),
    ("hardshrink", [1.5], [-1.5, 1.5, 2, -2]),
    ("softshrink", [], [-1, -0.5, -0.25, 0, 0.25, 0.5, 1]),
    ("softshrink", [1], [-1, 1, 2, -2]),
    ("softshrink", [0], [0, 1, -1]),
    ("threshold", [0.1, 20], [0.1, 0, 0.2, -1]),
    ("threshold", [-1, -3], [-1, -2, 0]),
    ("softsign", [], [0, -30, 30, 1, -1]),
    ("tanhshrink", [], [0, -30, 30, 1e-3, -1e-3]),
    ("logsigmoid", [], [0, -30, 30, -100, 100, 15, -15]),
    ("selu", [], [0, -30, 30, 1e-3, -1e-3]),
    ("celu", [], [0, -30, 30, -1]),
    ("celu", [2], [0, -5, 5]),
    ("celu", [0.5], [0, -5, 5]),
    ("rrelu", [], [0, -1, 1]),
    ("rrelu", [0.1, 0.3], [0, -1, 1]),
]
fns = {
    "hardtanh": F.hardtanh, "hardshrink": F.hardshrink, "softshrink": F.softshrink,
    "threshold": F.threshold, "softsign": F.softsign, "tanhshrink": F.tanhshrink,
    "logsigmoid": F.logsigmoid, "selu": F.selu, "celu": F.celu,
    "rrelu": lambda x, *a: F.rrelu(x, *a, training=False),
}
cases["activations"] = [
    backward_case(f"{name}{tuple(args)}", [with_kinks(kinks)],
                  lambda x, n=name, a=args: fns[n](x, *a), {"fn": name, "args": args})
    for name, args, kinks in acts
]

cases["glu"] = [
    backward_case(f"glu {shape} dim {dim}", [randn(*shape)], lambda x, d=dim: F.glu(x, d),
                  {"dim": dim})
    for shape, dim in [([3, 4], -1), ([2, 6, 3], 1), ([4, 3], 0)]
]

# ---- alpha dropout: the constants of its kept and dropped elements -------------
alpha = []
for p in [0.2, 0.5]:
    x = torch.rand(4000) + 1
    torch.manual_seed(7)
    y = F.alpha_dropout(x, p, True)
    torch.manual_seed(7)
    y0 = F.alpha_dropout(torch.zeros(4000), p, True)
    dropped = y0.min().item()
    keep = y0 != dropped
    shift = y0[keep][0].item()
    scale = ((y[keep] - shift) / x[keep]).mean().item()
    alpha.append({"p": p, "scale": enc(scale), "shift": enc(shift), "dropped": enc(dropped),
                  "keptFraction": enc(keep.float().mean().item(), 4)})
cases["alphaDropout"] = alpha

# ---- channel shuffle ------------------------------------------------------------
# torch 1.13 has no derivative for channel_shuffle: the gradient is that of the
# same moves as views (checked equal to channel_shuffle's forward here).
def shuffle_views(x, g):
    n, c = x.shape[:2]
    return x.reshape(n, g, c // g, *x.shape[2:]).transpose(1, 2).reshape(x.shape)


shuffle = []
for shape, g in [([2, 6, 2, 2], 3), ([2, 6, 2, 2], 2), ([2, 4, 3], 2), ([1, 6, 1, 1, 2], 6)]:
    case = backward_case(f"channel_shuffle {shape} groups {g}", [randn(*shape)],
                         lambda x, g=g: shuffle_views(x, g), {"groups": g})
    x = torch.tensor(case["inputs"][0]["data"]).reshape(shape)
    assert torch.equal(F.channel_shuffle(x, g), shuffle_views(x, g))
    shuffle.append(case)
cases["channelShuffle"] = shuffle

# ---- bilinear -------------------------------------------------------------------
bil = []
for s1, s2, out, bias in [([5, 3], [5, 4], 2, True), ([2, 3, 3], [2, 3, 4], 2, True),
                          ([4, 2], [4, 5], 3, False)]:
    ins = [randn(*s1), randn(*s2), randn(out, s1[-1], s2[-1])] + ([randn(out)] if bias else [])
    bil.append(backward_case(f"bilinear {s1} {s2} -> {out}{'' if bias else ' no bias'}", ins,
                             lambda *t: F.bilinear(*t)))
cases["bilinear"] = bil
m = torch.nn.Bilinear(20, 30, 40)
cases["bilinearInit"] = {"bound": enc(1 / math.sqrt(20)), "weightShape": list(m.weight.shape),
                         "keys": list(m.state_dict().keys())}

# ---- F.conv2d with "same" padding of even kernels -------------------------------
conv = []
for xs, ws, dil, bias in [([2, 2, 7, 6], [3, 2, 2, 4], 1, True), ([1, 2, 5, 5], [2, 2, 3, 2], [2, 1], False),
                          ([1, 1, 6, 6], [1, 1, 4, 4], 2, True), ([1, 3, 4, 5], [2, 3, 3, 3], 1, True)]:
    ins = [randn(*xs), randn(*ws)] + ([randn(ws[0])] if bias else [])
    conv.append(backward_case(
        f"conv2d x {xs} w {ws} dilation {dil} same", ins,
        lambda x, w, b=None, d=dil: F.conv2d(x, w, b, padding="same", dilation=d),
        {"dilation": dil}))
cases["conv2dSame"] = conv


# ---- ParameterList / ParameterDict names ----------------------------------------
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.params = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(2, 3)),
                                              torch.nn.Parameter(torch.randn(3))])
        self.pd = torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.ones(3)),
                                          "shift": torch.nn.Parameter(torch.zeros(3))})
        self.fc = torch.nn.Linear(3, 2)


net = Net()
cases["parameterContainers"] = {
    "stateDict": list(net.state_dict().keys()),
    "namedParameters": [n for n, _ in net.named_parameters()],
}

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(f"wrote {OUT}: {os.path.getsize(OUT)} bytes")
