"""Writes tests/fixtures/layers_more.json: PyTorch's numbers for prelu, mish,
softmin, Softmax2d, local_response_norm, pairwise_distance,
CosineSimilarity, Unflatten and the padding layers (ZeroPad2d,
ConstantPad1d/2d/3d, ReflectionPad1d/2d/3d, ReplicationPad1d/2d/3d)
(tests/layers_more_test.ts).

Each case names a torch module (`module`, its constructor arguments under
this library's names in `args`) and, where torch has one, the functional
form (`op`, with `opts`). It stores the inputs, the output, a fixed random
upstream gradient G of the output's shape, the gradients of
L = sum(out * G) for every input that requires one, and, for modules with
parameters, the parameters (state dict order and names) and their
gradients. NaN and the infinities are the strings "nan", "inf" and "-inf".

Run with /usr/bin/python3 scripts/make_layers_more_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20261205)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "layers_more.json")
INF = float("inf")

CASES = []


def leaf(values, grad=True):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(grad)


def randn(*shape, scale=1.0, grad=True):
    return (torch.randn(shape) * scale).requires_grad_(grad)


def case(name, module, args, inputs, make, op=None, opts=None):
    """make() -> the torch module; out = module(*inputs). op/opts: the F form, if any."""
    m = make()
    out = m(*inputs)
    c = {"name": name, "module": module, "args": args, "op": op, "opts": opts or {},
         "inputs": [ser(t) for t in inputs], "out": ser(out),
         "state": {k: ser(v) for k, v in m.state_dict().items()}}
    for t, s in zip(inputs, c["inputs"]):
        if t.requires_grad:
            s["grad"] = True
    g = torch.rand(out.shape) * 2 + 0.5  # in [0.5, 2.5): no cancellation to 0
    (out * g).sum().backward()
    c["G"] = ser(g)
    c["grads"] = [ser(t.grad) if t.requires_grad else None for t in inputs]
    c["paramGrads"] = {k: ser(p.grad) for k, p in m.named_parameters()}
    CASES.append(c)


# ---- PReLU / F.prelu ----
def prelu_case(name, x, n, init=0.25, weight=None):
    def make():
        m = nn.PReLU(n, init)
        if weight is not None:
            with torch.no_grad():
                m.weight.copy_(torch.tensor(weight))
        return m
    case(name, "PReLU", {"numParameters": n, "init": init}, [x], make, "prelu")


kinks = [[-2.0, -0.5, 0.0, 0.5, 3.0], [1.0, -1.0, 0.0, -3.0, 2.0]]
prelu_case("prelu 1 parameter, [2, 3, 4, 4]", randn(2, 3, 4, 4), 1)
prelu_case("prelu 3 parameters, [2, 3, 4, 4]", randn(2, 3, 4, 4), 3, weight=[0.1, -0.3, 0.7])
prelu_case("prelu 5 parameters, [2, 5] with zeros", leaf(kinks), 5,
           weight=[0.1, 0.2, 0.3, 0.4, 0.5])
prelu_case("prelu 4 parameters, 3-d [2, 4, 3] (dim 1 is the channel)", randn(2, 4, 3), 4,
           weight=[0.2, -1.0, 0.5, 2.0])
prelu_case("prelu 1-d input, init 0.1", randn(6), 1, init=0.1)
prelu_case("prelu 0-d input", leaf(-1.5), 1)
prelu_case("prelu 1 parameter on [2, 3, 2, 2, 2]", randn(2, 3, 2, 2, 2), 1, init=-0.5)

# ---- Mish ----
case("mish kinks and large values", "Mish", {}, [leaf([-100.0, -30.0, -5.0, -1.0, 0.0, 0.5, 2.0,
                                                       19.0, 21.0, 30.0, 100.0])],
     lambda: nn.Mish(), "mish")
case("mish [2, 3, 4]", "Mish", {}, [randn(2, 3, 4, scale=3.0)], lambda: nn.Mish(), "mish")

# ---- Softmin / Softmax2d ----
case("softmin dim 1", "Softmin", {"dim": 1}, [randn(2, 5)], lambda: nn.Softmin(1), "softmin",
     {"dim": 1})
case("softmin dim 0", "Softmin", {"dim": 0}, [randn(3, 4)], lambda: nn.Softmin(0), "softmin",
     {"dim": 0})
case("softmin dim -1, [2, 3, 4]", "Softmin", {"dim": -1}, [randn(2, 3, 4)],
     lambda: nn.Softmin(-1), "softmin", {"dim": -1})
case("softmax2d [2, 3, 4, 5]", "Softmax2d", {}, [randn(2, 3, 4, 5)], lambda: nn.Softmax2d())
case("softmax2d unbatched [3, 4, 5]", "Softmax2d", {}, [randn(3, 4, 5)],
     lambda: nn.Softmax2d())

# ---- LocalResponseNorm ----
def lrn_case(name, x, size, alpha=1e-4, beta=0.75, k=1.0):
    args = {"size": size, "alpha": alpha, "beta": beta, "k": k}
    case(name, "LocalResponseNorm", args, [x],
         lambda: nn.LocalResponseNorm(size, alpha, beta, k), "localResponseNorm", args)


lrn_case("lrn size 5 (AlexNet), torch's defaults, [2, 6, 4, 4]", randn(2, 6, 4, 4, scale=3.0), 5)
lrn_case("lrn size 5, alpha 1e-2, [2, 7, 3, 3]", randn(2, 7, 3, 3, scale=3.0), 5, alpha=1e-2)
lrn_case("lrn size 2 (even), alpha 0.1, beta 0.5, k 2", randn(2, 5, 3, 2, scale=2.0), 2,
         alpha=0.1, beta=0.5, k=2.0)
lrn_case("lrn size 4 (even), 3-d [2, 5, 7]", randn(2, 5, 7, scale=2.0), 4, alpha=0.2)
lrn_case("lrn size 3, 5-d [2, 4, 3, 2, 2]", randn(2, 4, 3, 2, 2, scale=2.0), 3, alpha=0.3,
         beta=1.0)
lrn_case("lrn size 7 larger than C = 3", randn(2, 3, 2, 2, scale=2.0), 7, alpha=0.5)
lrn_case("lrn size 1", randn(1, 4, 2, 3, scale=2.0), 1, alpha=0.5, beta=0.25, k=0.5)

# ---- PairwiseDistance / CosineSimilarity ----
def pd_case(name, a, b, p=2.0, eps=1e-6, keepdim=False):
    args = {"p": "inf" if p == INF else p, "eps": eps, "keepdim": keepdim}
    case(name, "PairwiseDistance", args, [a, b], lambda: nn.PairwiseDistance(p, eps, keepdim),
         "pairwiseDistance", args)


pd_case("pairwise p 2, [4, 5]", randn(4, 5), randn(4, 5))
pd_case("pairwise p 1, [4, 5]", randn(4, 5), randn(4, 5), p=1.0)
pd_case("pairwise p inf, [4, 5]", randn(4, 5), randn(4, 5), p=INF)
pd_case("pairwise p 3, keepdim", randn(3, 4), randn(3, 4), p=3.0, keepdim=True)
pd_case("pairwise p 0.5, eps 1e-3", randn(3, 4), randn(3, 4), p=0.5, eps=1e-3)
pd_case("pairwise broadcast [4, 1, 3] and [2, 3]", randn(4, 1, 3), randn(2, 3))
pd_case("pairwise broadcast [2, 3] and [3], p 1", randn(2, 3), randn(3), p=1.0)
pd_case("pairwise 1-d [5]", randn(5), randn(5))
pd_case("pairwise 1-d [5] keepdim", randn(5), randn(5), keepdim=True)
same = randn(2, 3)
pd_case("pairwise equal rows, eps 0 (a zero norm)", same, same.detach().clone(), eps=0.0)
pd_case("pairwise p inf with ties", leaf([[1.0, -1.0, 0.5], [2.0, 0.0, -2.0]]),
        leaf([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], grad=False), p=INF, eps=0.0)

for dim, shape in [(1, (4, 5)), (0, (3, 4)), (-1, (2, 3, 4))]:
    case(f"cosine similarity module dim {dim}", "CosineSimilarity", {"dim": dim, "eps": 1e-8},
         [randn(*shape), randn(*shape)], lambda: nn.CosineSimilarity(dim))
case("cosine similarity module, broadcast, eps 0.5", "CosineSimilarity", {"dim": 1, "eps": 0.5},
     [randn(3, 4), randn(1, 4, scale=0.1)], lambda: nn.CosineSimilarity(1, 0.5))

# ---- Unflatten ----
case("unflatten dim 1 to [3, 4]", "Unflatten", {"dim": 1, "size": [3, 4]}, [randn(2, 12)],
     lambda: nn.Unflatten(1, (3, 4)))
case("unflatten dim -1 to [2, -1, 3]", "Unflatten", {"dim": -1, "size": [2, -1, 3]},
     [randn(2, 3, 12)], lambda: nn.Unflatten(-1, (2, -1, 3)))
case("unflatten dim 0 to [1, 4]", "Unflatten", {"dim": 0, "size": [1, 4]}, [randn(4, 2)],
     lambda: nn.Unflatten(0, [1, 4]))

# ---- padding layers ----
PADS = {
    "ZeroPad2d": lambda p, v: nn.ZeroPad2d(p),
    "ConstantPad1d": nn.ConstantPad1d,
    "ConstantPad2d": nn.ConstantPad2d,
    "ConstantPad3d": nn.ConstantPad3d,
    "ReflectionPad1d": lambda p, v: nn.ReflectionPad1d(p),
    "ReflectionPad2d": lambda p, v: nn.ReflectionPad2d(p),
    "ReflectionPad3d": lambda p, v: nn.ReflectionPad3d(p),
    "ReplicationPad1d": lambda p, v: nn.ReplicationPad1d(p),
    "ReplicationPad2d": lambda p, v: nn.ReplicationPad2d(p),
    "ReplicationPad3d": lambda p, v: nn.ReplicationPad3d(p),
}


def pad_case(cls, padding, shape, value=None):
    args = {"padding": list(padding) if isinstance(padding, tuple) else padding}
    if value is not None:
        args["value"] = value
    case(f"{cls}({padding}{'' if value is None else ', ' + str(value)}) on {list(shape)}", cls,
         args, [randn(*shape)], lambda: PADS[cls](padding, value))


for cls in ["ZeroPad2d", "ReflectionPad2d", "ReplicationPad2d"]:
    pad_case(cls, 2, (1, 2, 4, 5))
    pad_case(cls, (1, 2, 0, 3), (2, 4, 5))
    pad_case(cls, (-1, 2, 1, -2), (1, 2, 4, 5))
pad_case("ReplicationPad2d", (5, 0, 6, 1), (1, 1, 2, 3))
pad_case("ZeroPad2d", 1, (3, 4))
pad_case("ConstantPad2d", 1, (1, 2, 3, 3), 3.5)
pad_case("ConstantPad2d", (0, 1, 2, -1), (2, 3, 4), -1.0)
pad_case("ConstantPad2d", 2, (3, 4), 0.5)
pad_case("ConstantPad1d", 2, (2, 3, 4), 1.5)
pad_case("ConstantPad1d", (1, -2), (5,), -2.0)
pad_case("ConstantPad3d", 1, (1, 1, 2, 2, 2), 0.25)
for cls in ["ReflectionPad1d", "ReplicationPad1d"]:
    pad_case(cls, 2, (2, 3, 5))
    pad_case(cls, (3, -1), (3, 5))
for cls in ["ReflectionPad3d", "ReplicationPad3d"]:
    pad_case(cls, 1, (1, 2, 3, 3, 3))
    pad_case(cls, (1, 0, 2, 1, 0, 1), (2, 3, 4, 3))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(OUT)}")
