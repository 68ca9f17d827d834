"""Writes tests/fixtures/nn_utils.json: PyTorch 1.13's torch.nn.utils.prune on
small Linear and Conv2d layers: the masks chosen (magnitudes with ties: torch's
topk picks among equal values in a fixed way, which the tests match), the
state-dict keys in order and their values, forward outputs and gradients
through pruned layers, iterative pruning (PruningContainer), remove(), pruning
again after remove (zeros tie), global pruning across two layers, and the
amount rounding (Python's round: halves to even); parameters_to_vector and
vector_to_parameters on a small Sequential.

Weights are set from stored values (float32, 9 significant digits); "tied"
weights are multiples of 0.25, so many magnitudes are equal.

Run with /usr/bin/python3 scripts/make_nn_utils_fixtures.py (PyTorch 1.13).
"""
import json
import os

import torch
import torch.nn.utils.prune as prune
from fixture_json import randn, ser

torch.set_num_threads(1)
torch.manual_seed(20260701)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "nn_utils.json")


def tied(*shape):
    """Multiples of 0.25 in [-1, 1]: equal magnitudes everywhere."""
    return torch.randint(-4, 5, shape).float() / 4


def linear(w, b):
    m = torch.nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        m.weight.copy_(w)
        m.bias.copy_(b)
    return m


def conv(w, b):
    m = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2])
    with torch.no_grad():
        m.weight.copy_(w)
        m.bias.copy_(b)
    return m


def state(m):
    return {"keys": list(m.state_dict().keys()), "values": [ser(t) for t in m.state_dict().values()],
            "parameters": [k for k, _ in m.named_parameters()]}


def masks(m):
    return {k: ser(v) for k, v in m.named_buffers() if k.endswith("_mask")}


def grads_case(m, x):
    m.zero_grad()
    x = x.clone().requires_grad_(True)
    y = m(x)
    g = randn(*y.shape)
    (y * g).sum().backward()
    return {"x": ser(x), "y": ser(y), "g": ser(g),
            "grads": {k: ser(p.grad) for k, p in m.named_parameters()}, "gx": ser(x.grad)}


cases = {}

# Single prunings of a tied Linear weight: each (method, args) on a fresh layer.
w, b = tied(6, 5), randn(6)
single = []
for spec in [("l1", 0.3), ("l1", 7), ("l1", 0), ("l1", 0.5), ("ln", 0.5, 1, 0), ("ln", 2, 2, 1),
             ("ln", 0.4, float("inf"), 0), ("ln", 3, float("-inf"), 0), ("ln", 2, "fro", -1),
             ("ln", 2, 0, 0), ("l1_bias", 0.5)]:
    m = linear(w, b)
    if spec[0] == "l1":
        prune.l1_unstructured(m, "weight", amount=spec[1])
    elif spec[0] == "l1_bias":
        prune.l1_unstructured(m, "bias", amount=spec[1])
    else:
        prune.ln_structured(m, "weight", amount=spec[1], n=spec[2], dim=spec[3])
    n = spec[2] if spec[0] == "ln" else None
    single.append({"spec": [spec[0], spec[1], ("inf" if n == float("inf") else "-inf"
                   if n == float("-inf") else n), spec[3] if spec[0] == "ln" else None],
                   "state": state(m), "weight": ser(m.weight if spec[0] != "l1_bias" else m.bias)})
cases["single"] = {"w": ser(w), "b": ser(b), "runs": single}

# Sizes where a fraction lands on a half: round(0.5 * 5) = 2, round(0.5 * 7) = 4, ...
rounding = []
for size, amount in [(5, 0.5), (7, 0.5), (10, 0.25), (10, 0.15), (9, 0.5), (3, 0.5), (6, 0.75)]:
    m = linear(randn(1, size), randn(1))
    prune.l1_unstructured(m, "weight", amount=amount)
    rounding.append({"size": size, "amount": amount, "w": ser(m.weight_orig),
                     "pruned": int((m.weight_mask == 0).sum())})
cases["rounding"] = rounding

# Iterative pruning of a tied Conv2d weight (PruningContainer): masks after each step.
cw, cb = tied(4, 3, 3, 3), randn(4)
m = conv(cw, cb)
steps = []
prune.l1_unstructured(m, "weight", amount=0.3)
steps.append(masks(m)["weight_mask"])
prune.ln_structured(m, "weight", amount=1, n=1, dim=0)
steps.append(masks(m)["weight_mask"])
prune.l1_unstructured(m, "weight", amount=10)
steps.append(masks(m)["weight_mask"])
prune.ln_structured(m, "weight", amount=0.5, n=2, dim=1)
steps.append(masks(m)["weight_mask"])
x = randn(2, 3, 5, 5)
cases["iterative"] = {"w": ser(cw), "b": ser(cb), "steps": steps, "state": state(m),
                      "forward": grads_case(m, x)}
prune.remove(m, "weight")
cases["iterative"]["removed"] = state(m)
# Pruned again after remove: the zeros tie with each other and with small weights.
prune.l1_unstructured(m, "weight", amount=0.6)
cases["iterative"]["again"] = masks(m)["weight_mask"]

# Forward and gradients through a pruned Linear (weight and bias both pruned).
lw, lb = randn(3, 4), randn(3)
m = linear(lw, lb)
prune.l1_unstructured(m, "weight", amount=5)
prune.l1_unstructured(m, "bias", amount=1)
cases["linear_forward"] = {"w": ser(lw), "b": ser(lb), "state": state(m),
                           "forward": grads_case(m, randn(2, 4))}

# Global pruning across a Conv2d and a Linear, one of them pruned before.
gw, gb, hw, hb = tied(2, 2, 3, 3), randn(2), randn(3, 4), randn(3)
a, h = conv(gw, gb), linear(hw, hb)
prune.l1_unstructured(h, "weight", amount=2)
prune.global_unstructured([(a, "weight"), (h, "weight")], pruning_method=prune.L1Unstructured,
                          amount=0.4)
first = {"a": masks(a)["weight_mask"], "h": masks(h)["weight_mask"]}
prune.global_unstructured([(a, "weight"), (h, "weight"), (h, "bias")],
                          pruning_method=prune.L1Unstructured, amount=6)
cases["global"] = {"a_w": ser(gw), "a_b": ser(gb), "h_w": ser(hw), "h_b": ser(hb), "first": first,
                   "second": {"a": masks(a), "h": masks(h)}, "a_state": state(a),
                   "h_state": state(h)}

# Global pruning with importance scores for one of the parameters.
a, h = conv(gw, gb), linear(hw, hb)
scores = randn(3, 4).abs()
prune.global_unstructured([(a, "weight"), (h, "weight")], pruning_method=prune.L1Unstructured,
                          importance_scores={(h, "weight"): scores}, amount=0.5)
cases["global_scores"] = {"scores": ser(scores), "a": masks(a)["weight_mask"],
                          "h": masks(h)["weight_mask"]}

# custom_from_mask composed with an l1 pruning; identity.
m = linear(lw, lb)
prune.l1_unstructured(m, "weight", amount=3)
cmask = (torch.rand(3, 4) > 0.5).float()
prune.custom_from_mask(m, "weight", mask=cmask)
i = linear(lw, lb)
prune.identity(i, "weight")
cases["custom"] = {"mask": ser(cmask), "combined": masks(m)["weight_mask"], "identity": state(i)}

# l1 with importance scores on one layer.
m = linear(lw, lb)
imp = randn(3, 4)
prune.l1_unstructured(m, "weight", amount=4, importance_scores=imp)
cases["importance"] = {"scores": ser(imp), "mask": masks(m)["weight_mask"]}

# parameters_to_vector (order, gradient back to each parameter) and vector_to_parameters.
seq = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 2), torch.nn.BatchNorm2d(3), torch.nn.Flatten(),
                          torch.nn.Linear(3, 2))
with torch.no_grad():
    for p in seq.parameters():
        p.copy_(randn(*p.shape))
before = {k: ser(v) for k, v in seq.state_dict().items()}
vec = torch.nn.utils.parameters_to_vector(seq.parameters())
G = randn(*vec.shape)
(vec * G).sum().backward()
new = randn(*vec.shape)
torch.nn.utils.vector_to_parameters(new, seq.parameters())
cases["vector"] = {"before": before, "vec": ser(vec), "G": ser(G),
                   "grads": {k: ser(p.grad) for k, p in seq.named_parameters()}, "new": ser(new),
                   "after": {k: ser(v) for k, v in seq.state_dict().items()}}

with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print("wrote", OUT, os.path.getsize(OUT), "bytes")
