"""Writes tests/fixtures/losses_more.json: PyTorch's numbers for
binary_cross_entropy, l1_loss, smooth_l1_loss, huber_loss, kl_div and
cross_entropy with probability targets or one unbatched sample
(tests/losses_more_test.ts).

Each case stores its inputs (input, target and, where given, the weight),
its options under this library's names (camelCase), its output, a fixed
random upstream gradient G of the output's shape (non-uniform, also for a
0-d loss) and the gradients of L = sum(out * G) for every input that
requires one. Inputs hold the kinks: BCE's p = 0 and 1 and the -100 clamp,
d = 0 and |d| = beta / delta, KL's zero and negative targets. NaN and the
infinities are the strings "nan", "inf" and "-inf" (JSON has none).

Run with /usr/bin/python3 scripts/make_losses_more_fixtures.py (PyTorch 1.13).
"""
import json
import os
import warnings

import torch
import torch.nn.functional as F

from fixture_json import ser

warnings.simplefilter("ignore")  # kl_div's "mean" warning
torch.set_num_threads(1)
torch.manual_seed(20260712)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "losses_more.json")
NAN, INF = float("nan"), float("inf")


def leaf(values, grad=True):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(grad)


def randn(*shape, grad=True):
    return torch.randn(shape).requires_grad_(grad)


def probs(*shape, dim=-1, grad=True):
    return torch.softmax(torch.randn(shape), dim).requires_grad_(grad)


def uniform(*shape, lo=0.0, hi=1.0, grad=True):
    return (torch.rand(shape) * (hi - lo) + lo).requires_grad_(grad)


CASES = []


def case(name, op, inputs, fn, opts=None):
    """fn(*inputs) -> the loss; gradients of sum(out * G) for inputs that require one."""
    for t in inputs:
        t.grad = None  # leaves are shared between cases
    out = fn(*inputs)
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "out": ser(out)}
    for t, s in zip(inputs, c["inputs"]):
        if t.requires_grad:
            s["grad"] = True
    if out.requires_grad:
        g = torch.rand(out.shape) * 2 + 0.5  # in [0.5, 2.5): no cancellation to 0
        (out * g).sum().backward()
        c["G"] = ser(g)
        c["grads"] = [ser(t.grad) if t.requires_grad else None for t in inputs]
    CASES.append(c)


RED = {"reduction": "none"}

# ---- binary_cross_entropy ----
p = leaf([0.0, 1.0, 0.5, 0.0, 1.0, 1e-30, 1e-45, 1 - 1e-7, 0.3, 0.999])
y = leaf([0.0, 1.0, 0.3, 1.0, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0])
case("bce none: p at 0 and 1, the -100 clamp", "binaryCrossEntropy", [p, y],
     lambda p, y: F.binary_cross_entropy(p, y, reduction="none"), RED)
case("bce mean random", "binaryCrossEntropy", [uniform(3, 4), uniform(3, 4)],
     lambda p, y: F.binary_cross_entropy(p, y))
case("bce sum, weight [4]", "binaryCrossEntropy",
     [uniform(3, 4), uniform(3, 4), uniform(4, lo=0.5, hi=2, grad=False)],
     lambda p, y, w: F.binary_cross_entropy(p, y, weight=w, reduction="sum"),
     {"reduction": "sum"})
case("bce mean, weight [2, 1, 3], hard targets", "binaryCrossEntropy",
     [uniform(2, 4, 3), torch.randint(0, 2, (2, 4, 3)).float(),
      uniform(2, 1, 3, lo=0.5, hi=2, grad=False)],
     lambda p, y, w: F.binary_cross_entropy(p, y, weight=w))
case("bce none, weight, p at 0 and 1", "binaryCrossEntropy",
     [leaf([0.0, 1.0, 0.25]), leaf([1.0, 1.0, 0.0], grad=False),
      leaf([2.0, 3.0, 0.5], grad=False)],
     lambda p, y, w: F.binary_cross_entropy(p, y, weight=w, reduction="none"), RED)
case("bce 0-d", "binaryCrossEntropy", [leaf(0.8), leaf(0.25)],
     lambda p, y: F.binary_cross_entropy(p, y))

# ---- l1 / smooth l1 / huber ----
x = leaf([0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, 0.25, 1.5])
t = leaf([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, -0.5])
nonfinite_x = leaf([NAN, INF, -INF, 1.0])
nonfinite_t = leaf([0.0, 0.0, 0.0, INF], grad=False)
case("l1 none kinks", "l1Loss", [x, t], lambda a, b: F.l1_loss(a, b, reduction="none"), RED)
case("l1 mean random", "l1Loss", [randn(2, 3, 4), randn(2, 3, 4)], lambda a, b: F.l1_loss(a, b))
case("l1 sum", "l1Loss", [randn(5), randn(5)], lambda a, b: F.l1_loss(a, b, reduction="sum"),
     {"reduction": "sum"})
case("l1 none nonfinite", "l1Loss", [nonfinite_x, nonfinite_t],
     lambda a, b: F.l1_loss(a, b, reduction="none"), RED)
for beta in [1.0, 0.0, 2.0, 0.5]:
    case(f"smoothL1 none kinks beta {beta}", "smoothL1Loss", [x, t],
         lambda a, b: F.smooth_l1_loss(a, b, reduction="none", beta=beta),
         {"reduction": "none", "beta": beta})
case("smoothL1 mean random default beta", "smoothL1Loss", [randn(3, 4), randn(3, 4)],
     lambda a, b: F.smooth_l1_loss(a, b))
case("smoothL1 sum beta 0.5", "smoothL1Loss", [randn(2, 5), randn(2, 5)],
     lambda a, b: F.smooth_l1_loss(a, b, reduction="sum", beta=0.5),
     {"reduction": "sum", "beta": 0.5})
case("smoothL1 none nonfinite", "smoothL1Loss", [nonfinite_x, nonfinite_t],
     lambda a, b: F.smooth_l1_loss(a, b, reduction="none"), RED)
for delta in [1.0, 2.0, 0.5]:
    case(f"huber none kinks delta {delta}", "huberLoss", [x, t],
         lambda a, b: F.huber_loss(a, b, reduction="none", delta=delta),
         {"reduction": "none", "delta": delta})
case("huber mean random default delta", "huberLoss", [randn(3, 4), randn(3, 4)],
     lambda a, b: F.huber_loss(a, b))
case("huber sum delta 0.3", "huberLoss", [randn(2, 5), randn(2, 5)],
     lambda a, b: F.huber_loss(a, b, reduction="sum", delta=0.3),
     {"reduction": "sum", "delta": 0.3})
case("huber none nonfinite", "huberLoss", [nonfinite_x, nonfinite_t],
     lambda a, b: F.huber_loss(a, b, reduction="none"), RED)

# ---- kl_div ----
lp = leaf([-1.0, -2.0, 0.5, -0.3, -0.7])
kt = leaf([0.0, 0.5, -0.2, 1.0, 0.25])
case("klDiv none: zero and negative targets", "klDiv", [lp, kt],
     lambda a, b: F.kl_div(a, b, reduction="none"), RED)
case("klDiv mean (per element)", "klDiv",
     [F.log_softmax(torch.randn(3, 4), 1).requires_grad_(), probs(3, 4)],
     lambda a, b: F.kl_div(a, b))
case("klDiv batchmean", "klDiv",
     [F.log_softmax(torch.randn(3, 4), 1).requires_grad_(), probs(3, 4)],
     lambda a, b: F.kl_div(a, b, reduction="batchmean"), {"reduction": "batchmean"})
case("klDiv sum, a zero target", "klDiv",
     [F.log_softmax(torch.randn(2, 3), 1).requires_grad_(),
      leaf([[0.2, 0.8, 0.0], [0.5, 0.25, 0.25]])],
     lambda a, b: F.kl_div(a, b, reduction="sum"), {"reduction": "sum"})
case("klDiv batchmean logTarget", "klDiv",
     [F.log_softmax(torch.randn(2, 2, 3), 1).requires_grad_(),
      F.log_softmax(torch.randn(2, 2, 3), 1).requires_grad_()],
     lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=True),
     {"reduction": "batchmean", "logTarget": True})
case("klDiv none logTarget", "klDiv", [lp, leaf([-1.0, 0.0, 0.5, -3.0, -0.1])],
     lambda a, b: F.kl_div(a, b, reduction="none", log_target=True),
     {"reduction": "none", "logTarget": True})
case("klDiv batchmean 0-d (the sum)", "klDiv", [leaf(-1.0), leaf(0.5)],
     lambda a, b: F.kl_div(a, b, reduction="batchmean"), {"reduction": "batchmean"})

# ---- cross_entropy: probabilities ----
w4 = uniform(4, lo=0.5, hi=3, grad=False)
case("ce probs mean", "crossEntropyProbs", [randn(3, 4), probs(3, 4)],
     lambda a, b: F.cross_entropy(a, b))
case("ce probs mean weight", "crossEntropyProbs", [randn(3, 4), probs(3, 4), w4],
     lambda a, b, w: F.cross_entropy(a, b, weight=w))
case("ce probs mean labelSmoothing 0.2", "crossEntropyProbs", [randn(3, 4), probs(3, 4)],
     lambda a, b: F.cross_entropy(a, b, label_smoothing=0.2), {"labelSmoothing": 0.2})
case("ce probs sum weight labelSmoothing 0.3", "crossEntropyProbs",
     [randn(3, 4), probs(3, 4), w4],
     lambda a, b, w: F.cross_entropy(a, b, weight=w, label_smoothing=0.3, reduction="sum"),
     {"labelSmoothing": 0.3, "reduction": "sum"})
case("ce probs none weight", "crossEntropyProbs", [randn(3, 4), probs(3, 4), w4],
     lambda a, b, w: F.cross_entropy(a, b, weight=w, reduction="none"), RED)
case("ce probs mean, weight requires grad, ignoreIndex -1", "crossEntropyProbs",
     [randn(2, 4), probs(2, 4), uniform(4, lo=0.5, hi=2)],
     lambda a, b, w: F.cross_entropy(a, b, weight=w, ignore_index=-1), {"ignoreIndex": -1})
case("ce probs spatial mean weight labelSmoothing", "crossEntropyProbs",
     [randn(2, 3, 2, 2), probs(2, 3, 2, 2, dim=1), uniform(3, lo=0.5, hi=2, grad=False)],
     lambda a, b, w: F.cross_entropy(a, b, weight=w, label_smoothing=0.1),
     {"labelSmoothing": 0.1})
case("ce probs spatial none", "crossEntropyProbs", [randn(2, 3, 2), probs(2, 3, 2, dim=1)],
     lambda a, b: F.cross_entropy(a, b, reduction="none"), RED)
case("ce probs unbatched mean weight", "crossEntropyProbs", [randn(4), probs(4), w4],
     lambda a, b, w: F.cross_entropy(a, b, weight=w))
case("ce probs unbatched none labelSmoothing", "crossEntropyProbs", [randn(4), probs(4)],
     lambda a, b: F.cross_entropy(a, b, reduction="none", label_smoothing=0.25),
     {"reduction": "none", "labelSmoothing": 0.25})

# ---- cross_entropy: one unbatched sample ----
idx = torch.tensor(2)
case("ce unbatched mean", "crossEntropyUnbatched", [randn(4), idx],
     lambda a, b: F.cross_entropy(a, b))
case("ce unbatched none", "crossEntropyUnbatched", [randn(4), idx],
     lambda a, b: F.cross_entropy(a, b, reduction="none"), RED)
case("ce unbatched mean weight labelSmoothing", "crossEntropyUnbatched", [randn(4), idx, w4],
     lambda a, b, w: F.cross_entropy(a, b, weight=w, label_smoothing=0.1),
     {"labelSmoothing": 0.1})
case("ce unbatched sum weight", "crossEntropyUnbatched", [randn(4), torch.tensor(0), w4],
     lambda a, b, w: F.cross_entropy(a, b, weight=w, reduction="sum"), {"reduction": "sum"})

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(OUT)}")
