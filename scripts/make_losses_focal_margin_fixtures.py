"""Writes tests/fixtures/losses_focal_margin.json: PyTorch's numbers for
torchvision.ops.sigmoid_focal_loss, a multi-class focal loss (the direct
formula below), margin_ranking_loss, hinge_embedding_loss,
soft_margin_loss, multilabel_soft_margin_loss, cosine_embedding_loss,
triplet_margin_loss, gaussian_nll_loss and poisson_nll_loss
(tests/losses_focal_margin_test.ts).

Each case stores its tensors in call order ("inputs"; the names in "opt_tensors"
are the last ones, passed as options), its options under this library's
names (camelCase), its output, a fixed random upstream gradient G of the
output's shape and the gradients of L = sum(out * G) for every tensor that
requires one. Inputs hold the kinks (hinges at exactly 0, ties of swap,
var below eps, targets 0 and 1 of Stirling's term) and non-finite values
where torch gives specific ones. NaN and the infinities are the strings
"nan", "inf" and "-inf".

The multi-class focal loss has no torch function: it is checked against
focal_ref, the direct formula (log_softmax, gather, (1 - p_t)^gamma), and
gamma 0 against F.cross_entropy.

Run with /usr/bin/python3 scripts/make_losses_focal_margin_fixtures.py (PyTorch 1.13).
"""
import json
import math
import os

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

from fixture_json import ser

torch.set_num_threads(1)
torch.manual_seed(20260801)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "losses_focal_margin.json")
NAN, INF = float("nan"), float("inf")
TINY = 1.1754943508222875e-38  # the smallest normal float32


def leaf(values, grad=True):
    return torch.tensor(values, dtype=torch.float32).requires_grad_(grad)


def randn(*shape, scale=1.0, grad=True):
    return (torch.randn(shape) * scale).requires_grad_(grad)


def uniform(*shape, lo=0.0, hi=1.0, grad=True):
    return (torch.rand(shape) * (hi - lo) + lo).requires_grad_(grad)


def signs(*shape):
    return (torch.randint(0, 2, shape) * 2 - 1).float()


def labels(n, c, *rest):
    return torch.randint(0, c, (n, *rest))


CASES = []


def case(name, op, inputs, fn, opts=None, opt_tensors=()):
    """fn(*inputs) -> the loss; gradients of sum(out * G) for inputs that require one."""
    for t in inputs:
        t.grad = None  # leaves may be shared between cases
    out = fn(*inputs)
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "out": ser(out)}
    if opt_tensors:
        c["opt_tensors"] = list(opt_tensors)
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
SUM = {"reduction": "sum"}

# ---- torchvision sigmoid_focal_loss (default reduction "none") ----
case("sigmoidFocal default (none) hard targets", "sigmoidFocalLoss",
     [randn(4, 3, scale=2), torch.randint(0, 2, (4, 3)).float()],
     lambda x, y: sigmoid_focal_loss(x, y))
case("sigmoidFocal mean alpha 0.5 gamma 1", "sigmoidFocalLoss",
     [randn(3, 5, scale=2), torch.randint(0, 2, (3, 5)).float()],
     lambda x, y: sigmoid_focal_loss(x, y, alpha=0.5, gamma=1, reduction="mean"),
     {"alpha": 0.5, "gamma": 1, "reduction": "mean"})
case("sigmoidFocal sum alpha off gamma 0 (BCE), soft targets with grad", "sigmoidFocalLoss",
     [randn(6, scale=2), uniform(6)],
     lambda x, y: sigmoid_focal_loss(x, y, alpha=-1, gamma=0, reduction="sum"),
     {"alpha": -1, "gamma": 0, "reduction": "sum"})
case("sigmoidFocal none gamma 1.5, large logits", "sigmoidFocalLoss",
     [leaf([-30.0, -5.0, 0.0, 5.0, 30.0, 100.0, -100.0, 0.5]),
      leaf([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.25], grad=False)],
     lambda x, y: sigmoid_focal_loss(x, y, gamma=1.5), {"gamma": 1.5})
case("sigmoidFocal mean spatial [2, 3, 2, 2] alpha 0", "sigmoidFocalLoss",
     [randn(2, 3, 2, 2), torch.randint(0, 2, (2, 3, 2, 2)).float()],
     lambda x, y: sigmoid_focal_loss(x, y, alpha=0, reduction="mean"),
     {"alpha": 0, "reduction": "mean"})


# ---- multi-class focal loss: the direct formula ----
def focal_ref(x, t, gamma=2.0, weight=None, alpha=None, ignore_index=-100, reduction="mean"):
    if x.dim() == 1:  # one sample [C] with a 0-d target
        out = focal_ref(x[None], t[None], gamma, weight, alpha, ignore_index, reduction)
        return out[0] if reduction == "none" else out
    logp = F.log_softmax(x, 1)
    valid = t != ignore_index
    ts = torch.where(valid, t, torch.zeros_like(t))
    logpt = logp.gather(1, ts.unsqueeze(1)).squeeze(1)
    focal = (-torch.expm1(logpt)).clamp_min(TINY) ** gamma if gamma != 0 else 1.0
    w = weight[ts] if weight is not None else torch.ones_like(logpt)
    a = alpha[ts] if alpha is not None else 1.0
    loss = torch.where(valid, -w * a * focal * logpt, torch.zeros_like(logpt))
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / torch.where(valid, w, torch.zeros_like(w)).sum()


def focal_case(name, inputs, opt_names, **kw):
    opts = {k: v for k, v in kw.items()}
    if "ignore_index" in opts:
        opts["ignoreIndex"] = opts.pop("ignore_index")

    def fn(x, t, *extra):
        named = dict(zip(opt_names, extra))
        return focal_ref(x, t, kw.get("gamma", 2.0), named.get("weight"), named.get("alpha"),
                         kw.get("ignore_index", -100), kw.get("reduction", "mean"))
    case(name, "focalLoss", inputs, fn, opts, opt_names)


w4 = uniform(4, lo=0.5, hi=3, grad=False)
a4 = uniform(4, lo=0.1, hi=0.9, grad=False)
focal_case("focal mean default gamma", [randn(5, 4, scale=2), labels(5, 4)], ())
focal_case("focal none gamma 2", [randn(5, 4, scale=2), labels(5, 4)], (), reduction="none")
focal_case("focal sum gamma 1", [randn(5, 4, scale=2), labels(5, 4)], (), gamma=1.0,
           reduction="sum")
focal_case("focal none gamma 0.5, p_t rounding to 1, a -inf logit of another class",
           [leaf([[30.0, 0.0, 0.0, 0.0], [100.0, 0.0, -2.0, 1.0], [0.0, 1.0, -INF, 2.0],
                  [-3.0, 2.0, 0.5, 0.0]]),
            torch.tensor([0, 0, 3, 2])], (), gamma=0.5, reduction="none")
focal_case("focal mean weight (weighted mean), ignoreIndex 1",
           [randn(6, 4, scale=2), torch.tensor([0, 1, 2, 3, 1, 2]), w4], ("weight",),
           ignore_index=1)
focal_case("focal mean alpha (plain mean)", [randn(6, 4, scale=2), labels(6, 4), a4], ("alpha",))
focal_case("focal sum weight and alpha, gamma 3",
           [randn(6, 4, scale=2), labels(6, 4), w4, a4], ("weight", "alpha"), gamma=3.0,
           reduction="sum")
focal_case("focal mean spatial [2, 3, 2, 2], weight, ignoreIndex -1",
           [randn(2, 3, 2, 2, scale=2), torch.tensor([[[0, 1], [2, -1]], [[2, 2], [-1, 0]]]),
            uniform(3, lo=0.5, hi=2, grad=False)], ("weight",), ignore_index=-1)
focal_case("focal none spatial [2, 3, 4] alpha", [randn(2, 3, 4, scale=2), labels(2, 3, 4),
                                                 uniform(3, lo=0.2, hi=1, grad=False)],
           ("alpha",), reduction="none")
focal_case("focal unbatched mean gamma 1", [randn(4, scale=2), torch.tensor(2)], (), gamma=1.0)
focal_case("focal unbatched none", [randn(4, scale=2), torch.tensor(1)], (), reduction="none")
xg0, tg0 = randn(6, 4, scale=2), torch.tensor([0, 1, 2, 3, 1, 2])
focal_case("focal gamma 0 is cross-entropy: weight, ignoreIndex 2", [xg0, tg0, w4], ("weight",),
           gamma=0.0, ignore_index=2)
ce = F.cross_entropy(xg0, tg0, weight=w4, ignore_index=2)
assert abs(CASES[-1]["out"]["data"][0] - ce.item()) <= 1e-6 * abs(ce.item())
CASES[-1]["cross_entropy"] = ser(ce)

# ---- margin_ranking_loss ----
x1 = leaf([1.0, 2.0, 0.5, -1.0, 3.0, 0.0])
x2 = leaf([0.5, 2.0, 1.0, 0.0, 3.5, 0.0])
y6 = leaf([1.0, -1.0, 1.0, -1.0, 1.0, -1.0], grad=False)
case("marginRanking none margin 0: hinges at 0", "marginRankingLoss", [x1, x2, y6],
     lambda a, b, y: F.margin_ranking_loss(a, b, y, reduction="none"), RED)
case("marginRanking none margin 0.5: a hinge at 0", "marginRankingLoss", [x1, x2, y6],
     lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.5, reduction="none"),
     {"margin": 0.5, "reduction": "none"})
case("marginRanking mean random, target grad", "marginRankingLoss",
     [randn(8), randn(8), randn(8)], lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.2),
     {"margin": 0.2})
case("marginRanking sum broadcast [4, 3] [1, 3] [4, 1]", "marginRankingLoss",
     [randn(4, 3), randn(1, 3), signs(4, 1)],
     lambda a, b, y: F.margin_ranking_loss(a, b, y, margin=0.1, reduction="sum"),
     {"margin": 0.1, "reduction": "sum"})

# ---- hinge_embedding_loss ----
d = leaf([0.0, 0.5, 1.0, 1.5, 2.0, -0.5, 0.3, 0.7])
yh = leaf([1.0, -1.0, -1.0, -1.0, 1.0, -1.0, 0.0, 2.0], grad=False)
case("hingeEmbedding none margin 1: the kink, targets 0 and 2", "hingeEmbeddingLoss", [d, yh],
     lambda a, y: F.hinge_embedding_loss(a, y, reduction="none"), RED)
case("hingeEmbedding mean margin 2 random", "hingeEmbeddingLoss",
     [uniform(3, 4, hi=3), signs(3, 4)],
     lambda a, y: F.hinge_embedding_loss(a, y, margin=2.0), {"margin": 2.0})
case("hingeEmbedding sum target [4] against [3, 4]", "hingeEmbeddingLoss",
     [uniform(3, 4, hi=2), signs(4)],
     lambda a, y: F.hinge_embedding_loss(a, y, reduction="sum"), SUM)

# ---- soft_margin_loss ----
case("softMargin none: large margins (inf past 88)", "softMarginLoss",
     [leaf([-100.0, 100.0, 50.0, 0.0, 3.0, -2.0]),
      leaf([1.0, -1.0, -1.0, 1.0, 1.0, -1.0], grad=False)],
     lambda a, y: F.soft_margin_loss(a, y, reduction="none"), RED)
case("softMargin mean random", "softMarginLoss", [randn(3, 4, scale=2), signs(3, 4)],
     lambda a, y: F.soft_margin_loss(a, y))
case("softMargin sum target [1] broadcast", "softMarginLoss", [randn(5), leaf([-1.0], grad=False)],
     lambda a, y: F.soft_margin_loss(a, y, reduction="sum"), SUM)

# ---- multilabel_soft_margin_loss ----
case("multilabelSoftMargin mean", "multilabelSoftMarginLoss",
     [randn(4, 5, scale=2), torch.randint(0, 2, (4, 5)).float()],
     lambda a, y: F.multilabel_soft_margin_loss(a, y))
case("multilabelSoftMargin none weight [5], soft targets with grad", "multilabelSoftMarginLoss",
     [randn(4, 5, scale=2), uniform(4, 5), uniform(5, lo=0.5, hi=2, grad=False)],
     lambda a, y, w: F.multilabel_soft_margin_loss(a, y, weight=w, reduction="none"), RED,
     ("weight",))
case("multilabelSoftMargin sum [2, 3, 4], weight with grad", "multilabelSoftMarginLoss",
     [randn(2, 3, 4), torch.randint(0, 2, (2, 3, 4)).float(), uniform(4, lo=0.5, hi=2)],
     lambda a, y, w: F.multilabel_soft_margin_loss(a, y, weight=w, reduction="sum"), SUM,
     ("weight",))
case("multilabelSoftMargin one sample [C], large logits", "multilabelSoftMarginLoss",
     [leaf([-100.0, 100.0, 30.0, -30.0, 0.0]), leaf([1.0, 0.0, 1.0, 0.0, 1.0], grad=False)],
     lambda a, y: F.multilabel_soft_margin_loss(a, y))

# ---- cosine_embedding_loss ----
case("cosineEmbedding none margin 0", "cosineEmbeddingLoss",
     [randn(5, 3), randn(5, 3), leaf([1.0, -1.0, 1.0, -1.0, 0.0], grad=False)],
     lambda a, b, y: F.cosine_embedding_loss(a, b, y, reduction="none"), RED)
case("cosineEmbedding mean margin 0.3, zero vector", "cosineEmbeddingLoss",
     [leaf([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]),
      leaf([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 0.2, 0.0], [-1.0, 1.0, 0.0]]),
      leaf([1.0, 1.0, -1.0, -1.0], grad=False)],
     lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.3), {"margin": 0.3})
case("cosineEmbedding sum broadcast [4, 3] [1, 3], target [1]", "cosineEmbeddingLoss",
     [randn(4, 3), randn(1, 3), leaf([-1.0], grad=False)],
     lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=-0.5, reduction="sum"),
     {"margin": -0.5, "reduction": "sum"})
case("cosineEmbedding one pair, 0-d target", "cosineEmbeddingLoss",
     [randn(4), randn(4), leaf(1.0, grad=False)],
     lambda a, b, y: F.cosine_embedding_loss(a, b, y))

# ---- triplet_margin_loss ----
for p in [2.0, 1.0, 3.0, INF]:
    case(f"tripletMargin none p {p}", "tripletMarginLoss", [randn(4, 5), randn(4, 5), randn(4, 5)],
         lambda a, b, c: F.triplet_margin_loss(a, b, c, p=p, reduction="none"),
         {"p": p if p != INF else "inf", "reduction": "none"})
case("tripletMargin mean swap margin 0.5", "tripletMarginLoss",
     [randn(6, 3), randn(6, 3), randn(6, 3)],
     lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=0.5, swap=True),
     {"margin": 0.5, "swap": True})
case("tripletMargin none swap tie, hinge at 0, eps 0", "tripletMarginLoss",
     [leaf([[0.0, 0.0], [0.0, 0.0]]), leaf([[1.0, 0.0], [3.0, 4.0]]),
      leaf([[1.0, 1.0], [0.0, 5.0]])],
     lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=0.0, eps=0.0, swap=True,
                                           reduction="none"),
     {"margin": 0, "eps": 0, "swap": True, "reduction": "none"})
case("tripletMargin sum broadcast anchor [1, 4], eps 0.01", "tripletMarginLoss",
     [randn(1, 4), randn(3, 4), randn(3, 4)],
     lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=2.0, eps=0.01, reduction="sum"),
     {"margin": 2.0, "eps": 0.01, "reduction": "sum"})
case("tripletMargin one triplet [D]", "tripletMarginLoss", [randn(5), randn(5), randn(5)],
     lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=3.0), {"margin": 3.0})
case("tripletMargin none [2, 3, 4]", "tripletMarginLoss",
     [randn(2, 3, 4), randn(2, 3, 4), randn(2, 3, 4)],
     lambda a, b, c: F.triplet_margin_loss(a, b, c, reduction="none"), RED)

# ---- gaussian_nll_loss ----
case("gaussianNll mean same shape", "gaussianNllLoss",
     [randn(4, 3), randn(4, 3), uniform(4, 3, lo=0.1, hi=2)],
     lambda m, y, v: F.gaussian_nll_loss(m, y, v))
case("gaussianNll none full, var below eps and 0 (clamped, gradient passes)", "gaussianNllLoss",
     [randn(6), randn(6), leaf([1e-8, 0.0, 1e-6, 0.5, 2.0, 1e-7])],
     lambda m, y, v: F.gaussian_nll_loss(m, y, v, full=True, reduction="none"),
     {"full": True, "reduction": "none"})
case("gaussianNll sum var one dimension short [4]", "gaussianNllLoss",
     [randn(4, 3), randn(4, 3), uniform(4, lo=0.1, hi=2)],
     lambda m, y, v: F.gaussian_nll_loss(m, y, v, reduction="sum"), SUM)
case("gaussianNll mean var [4, 1], eps 0.5", "gaussianNllLoss",
     [randn(4, 3), randn(4, 3), uniform(4, 1, lo=0.1, hi=2)],
     lambda m, y, v: F.gaussian_nll_loss(m, y, v, eps=0.5), {"eps": 0.5})
case("gaussianNll none target [3] broadcast, var [2, 3, 1]", "gaussianNllLoss",
     [randn(2, 3, 3), randn(3), uniform(2, 3, 1, lo=0.1, hi=2)],
     lambda m, y, v: F.gaussian_nll_loss(m, y, v, reduction="none"), RED)
case("gaussianNll mean [N] with a 0-d var", "gaussianNllLoss",
     [randn(5), randn(5), leaf(0.7)], lambda m, y, v: F.gaussian_nll_loss(m, y, v))

# ---- poisson_nll_loss ----
counts = leaf([0.0, 1.0, 2.0, 3.0, 0.5, 7.0, 1.5, 10.0])
case("poissonNll mean logInput", "poissonNllLoss", [randn(8), counts],
     lambda x, y: F.poisson_nll_loss(x, y))
case("poissonNll none logInput full (targets 0, 1, fractional)", "poissonNllLoss",
     [randn(8), counts], lambda x, y: F.poisson_nll_loss(x, y, full=True, reduction="none"),
     {"full": True, "reduction": "none"})
case("poissonNll sum rate input", "poissonNllLoss", [uniform(8, lo=0.1, hi=5), counts],
     lambda x, y: F.poisson_nll_loss(x, y, log_input=False, reduction="sum"),
     {"logInput": False, "reduction": "sum"})
case("poissonNll none rate input 0, eps 0.1, full", "poissonNllLoss",
     [leaf([0.0, 0.5, 2.0, 0.0]), leaf([0.0, 2.0, 3.0, 5.0], grad=False)],
     lambda x, y: F.poisson_nll_loss(x, y, log_input=False, eps=0.1, full=True,
                                     reduction="none"),
     {"logInput": False, "eps": 0.1, "full": True, "reduction": "none"})
case("poissonNll none rate input 0, eps 0 (log 0)", "poissonNllLoss",
     [leaf([0.0, 0.0, 1.0]), leaf([0.0, 2.0, 1.0], grad=False)],
     lambda x, y: F.poisson_nll_loss(x, y, log_input=False, eps=0.0, reduction="none"),
     {"logInput": False, "eps": 0, "reduction": "none"})
case("poissonNll mean [3, 4] target [4] broadcast", "poissonNllLoss",
     [randn(3, 4), uniform(4, hi=5, grad=False)], lambda x, y: F.poisson_nll_loss(x, y))

with open(OUT, "w") as f:
    json.dump({"torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(OUT)}")
