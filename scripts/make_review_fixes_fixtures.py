"""Writes tests/fixtures/review_fixes.json: the torch 1.13 and sklearn 1.2.1
numbers behind the review fixes (tests/review_fixes_sched_test.ts,
tests/review_fixes_metrics_test.ts, tests/layers_1d_more_test.ts):

- "sgd": Nesterov SGD under CyclicLR with base_momentum 0 (the momentum
  reaches 0 mid-training), step by step: the group's momentum and lr after
  each scheduler step and the weights after each optimizer step.
- "lastLr": a schedule's get_last_lr() right after load_state_dict, into a
  fresh schedule whose optimizer's lr differs from the saved one.
- "metrics": sklearn calls (labels as [N, 1] columns, rocAuc and
  average_precision with a sample_weight that zeroes every positive of a
  label, classification_report text where a label's samples all weigh 0).
  NaN is written as "nan".
- "layers": conv_transpose1d (values and gradients of L = sum(out * G)),
  nn.ConvTranspose1d with output_size, and dropout1d where it is
  deterministic (p 0, p 1, eval).

Run with /usr/bin/python3 scripts/make_review_fixes_fixtures.py.
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn import metrics

from fixture_json import enc, ser

warnings.filterwarnings("ignore")
torch.set_num_threads(1)
torch.manual_seed(20261207)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "review_fixes.json")


def nums(v):
    """A number or a (nested) list of them, NaN as "nan"."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [nums(x) for x in v]
    return enc(float(v))


# ---- SGD + CyclicLR, Nesterov, base_momentum 0 ----
def sgd_trace(weight_decay=0.0):
    w = torch.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
    o = torch.optim.SGD([w], lr=0.1, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    s = torch.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2, base_momentum=0)
    steps = []
    for _ in range(6):
        o.zero_grad()
        (w * w * w).sum().backward()
        o.step()
        s.step()
        steps.append({"momentum": enc(o.param_groups[0]["momentum"]),
                      "lastLr": nums(s.get_last_lr()), "w": nums(w.tolist())})
    return {"w0": [1.0, -2.0, 3.0, 0.5], "weightDecay": weight_decay, "steps": steps}


SGD = [sgd_trace(), sgd_trace(0.01)]


# ---- lastLr after load_state_dict ----
def last_lr(name, make, steps):
    p = torch.zeros(2, requires_grad=True)
    o = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    s = make(o)
    for _ in range(steps):
        o.step()
        s.step()
    sd = s.state_dict()
    saved = s.get_last_lr()
    p2 = torch.zeros(2, requires_grad=True)
    o2 = torch.optim.SGD([p2], lr=0.1, momentum=0.9)
    s2 = make(o2)
    o2.param_groups[0]["lr"] = 0.5  # the lr now differs from the saved one
    s2.load_state_dict(sd)
    return {"name": name, "steps": steps, "saved": nums(saved), "loaded": nums(s2.get_last_lr()),
            "groupLr": enc(o2.param_groups[0]["lr"])}


LAST_LR = [
    last_lr("StepLR", lambda o: torch.optim.lr_scheduler.StepLR(o, 2, gamma=0.5), 5),
    last_lr("ExponentialLR", lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9), 3),
    last_lr("CyclicLR", lambda o: torch.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=3),
            4),
]


# ---- metrics ----
METRICS = []


def call(name, fn, args, kwargs, ours):
    """One sklearn call; `ours` is how the test calls the library (fn, options)."""
    try:
        out = fn(*args, **kwargs)
        res = {"value": nums(out) if not isinstance(out, str) else out}
    except ValueError as e:
        res = {"error": str(e)}
    METRICS.append(dict({"name": name, "args": [nums(np.asarray(a).tolist()) for a in args]},
                        **ours, **res))


col_t = [[0], [1], [2], [2], [1], [0]]
col_p = [[0], [2], [2], [2], [1], [1]]
flat_p = [0, 2, 2, 2, 1, 1]
call("accuracy of [N, 1] columns", metrics.accuracy_score, [np.array(col_t), np.array(col_p)], {},
     {"fn": "accuracyScore"})
call("f1 macro of [N, 1] yTrue and [N] yPred", metrics.f1_score, [np.array(col_t), flat_p],
     {"average": "macro"}, {"fn": "f1Score", "options": {"average": "macro"}})
call("confusion matrix of [N, 1] columns", metrics.confusion_matrix,
     [np.array(col_t), np.array(col_p)], {}, {"fn": "confusionMatrix", "numClasses": 3})
call("balanced accuracy of [N, 1] columns", metrics.balanced_accuracy_score,
     [np.array(col_t), np.array(col_p)], {}, {"fn": "balancedAccuracyScore"})
yb_col = [[0], [0], [1], [1], [0], [1]]
sb = [0.1, 0.4, 0.35, 0.8, 0.2, 0.7]
call("rocAuc of an [N, 1] yTrue", metrics.roc_auc_score, [np.array(yb_col), sb], {},
     {"fn": "rocAuc"})
call("averagePrecision of an [N, 1] yTrue", metrics.average_precision_score,
     [np.array(yb_col), sb], {}, {"fn": "averagePrecision"})

# A sample weight that zeroes every positive of label 1 (rows 1, 2, 5),
# both classes present in each column.
ml_y = [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]]
ml_s = [[.9, .2], [.3, .6], [.6, .4], [.2, .5], [.7, .1], [.4, .8]]
ml_w = [1, 0, 0, 1, 1, 0]
for avg in ["weighted", None, "macro", "micro"]:
    opts = {"average": avg, "sampleWeight": ml_w}
    call(f"rocAuc multilabel, label 1's positives weigh 0, average {avg}", metrics.roc_auc_score,
         [ml_y, ml_s], {"average": avg, "sample_weight": ml_w}, {"fn": "rocAuc", "options": opts})
    call(f"averagePrecision multilabel, label 1's positives weigh 0, average {avg}",
         metrics.average_precision_score, [ml_y, ml_s], {"average": avg, "sample_weight": ml_w},
         {"fn": "averagePrecision", "options": opts})
yb = [0, 0, 1, 1, 0, 1]
for name, w in [("positives", [1, 1, 0, 0, 1, 0]), ("negatives", [0, 0, 1, 1, 0, 1])]:
    for fn, ours in [(metrics.roc_auc_score, "rocAuc"),
                     (metrics.average_precision_score, "averagePrecision")]:
        call(f"{ours} binary, every {name[:-1]} weighs 0", fn, [yb, sb], {"sample_weight": w},
             {"fn": ours, "options": {"sampleWeight": w}})
mc_y = [0, 1, 2, 0, 1, 2]
mc_s = [[.8, .1, .1], [.2, .7, .1], [.1, .3, .6], [.5, .3, .2], [.3, .4, .3], [.2, .2, .6]]
mc_w = [1, 1, 0, 1, 1, 0]
for avg in ["weighted", "macro"]:
    call(f"rocAuc one-vs-rest, class 2 weighs 0, average {avg}", metrics.roc_auc_score,
         [mc_y, mc_s], {"multi_class": "ovr", "average": avg, "sample_weight": mc_w},
         {"fn": "rocAuc", "options": {"average": avg, "sampleWeight": mc_w}})
# A label whose negatives all weigh 0 keeps its weight: NaN in sklearn's weighted average too.
neg_y = [[1, 1], [0, 1], [1, 0], [0, 1]]
neg_s = [[.9, .2], [.3, .6], [.6, .4], [.2, .5]]
neg_w = [1, 1, 0, 1]
call("rocAuc multilabel, label 1's negatives weigh 0, average weighted", metrics.roc_auc_score,
     [neg_y, neg_s], {"average": "weighted", "sample_weight": neg_w},
     {"fn": "rocAuc", "options": {"average": "weighted", "sampleWeight": neg_w}})

REPORTS = []


def report(name, y, p, w, labels=None):
    kw = {"sample_weight": w, "zero_division": 0}
    if labels is not None:
        kw["labels"] = labels
    REPORTS.append({"name": name, "yTrue": y, "yPred": p, "sampleWeight": w,
                    "numClasses": None if labels is None else len(labels),
                    "text": metrics.classification_report(y, p, **kw)})


report("label 1 only in a sample of weight 0", [0, 1, 2, 2, 0], [0, 0, 2, 2, 0], [1, 0, 1, 1, 1])
report("label 1 only in a sample of weight 0, numClasses 3", [0, 1, 2, 2, 0], [0, 0, 2, 2, 0],
       [1, 0, 1, 1, 1], [0, 1, 2])
report("numClasses 4, label 3 never seen", [0, 1, 2, 2, 0], [0, 0, 2, 2, 0], [1, 0, 1, 1, 1],
       [0, 1, 2, 3])
report("label 1 predicted in a sample of weight 0", [0, 2, 2, 0], [0, 1, 2, 0], [1, 0, 1, 1])


# ---- layers ----
LAYERS = []


def randn(*shape, grad=True):
    return torch.randn(shape).requires_grad_(grad)


def layer_case(name, op, inputs, fn, opts=None):
    out = fn(*inputs)
    c = {"name": name, "op": op, "opts": opts or {}, "inputs": [ser(t) for t in inputs],
         "out": ser(out)}
    for t, s in zip(inputs, c["inputs"]):
        if t.requires_grad:
            s["grad"] = True
    if out.requires_grad:
        g = torch.rand(out.shape) * 2 + 0.5
        (out * g).sum().backward()
        c["G"] = ser(g)
        c["grads"] = [ser(t.grad) if t.requires_grad else None for t in inputs]
    LAYERS.append(c)


def convt(name, n, cin, cout, l, k, groups=1, bias=True, unbatched=False, **opts):
    x = randn(cin, l) if unbatched else randn(n, cin, l)
    inputs = [x, randn(cin, cout // groups, k)] + ([randn(cout)] if bias else [])
    ours = {{"output_padding": "outputPadding"}.get(key, key): v for key, v in opts.items()}
    if groups != 1:
        ours["groups"] = groups
    layer_case(name, "convTranspose1d", inputs,
               lambda x, w, b=None: F.conv_transpose1d(x, w, b, groups=groups, **opts), ours)


convt("convTranspose1d plain", 2, 3, 4, 6, 3)
convt("convTranspose1d stride 2 padding 1 outputPadding 1", 2, 3, 2, 5, 3, stride=2, padding=1,
      output_padding=1)
convt("convTranspose1d stride 3, no bias", 1, 2, 3, 4, 2, bias=False, stride=3)
convt("convTranspose1d dilation 2 padding 2", 2, 2, 3, 7, 3, dilation=2, padding=2)
convt("convTranspose1d outputPadding below the dilation", 1, 2, 2, 5, 3, dilation=3, stride=2,
      output_padding=2)
convt("convTranspose1d groups 2", 2, 4, 6, 5, 3, groups=2, stride=2)
convt("convTranspose1d depthwise", 1, 3, 3, 6, 4, groups=3, padding=1)
convt("convTranspose1d unbatched [C, L]", 0, 3, 2, 5, 3, unbatched=True, stride=2)
convt("convTranspose1d kernel 1", 2, 3, 2, 4, 1)


def convt_module(name, cin, cout, k, shape, size, **kw):
    m = nn.ConvTranspose1d(cin, cout, k, **kw)
    x = randn(*shape)
    out = m(x, output_size=size) if size is not None else m(x)
    g = torch.rand(out.shape) * 2 + 0.5
    (out * g).sum().backward()
    ours = {{"output_padding": "outputPadding"}.get(key, key): v for key, v in kw.items()}
    LAYERS.append({"name": name, "op": "ConvTranspose1d", "opts": dict(ours, kernelSize=k),
                   "outputSize": size,
                   "inputs": [dict(ser(x), grad=True), dict(ser(m.weight), grad=True),
                              dict(ser(m.bias), grad=True)],
                   "out": ser(out), "G": ser(g),
                   "grads": [ser(x.grad), ser(m.weight.grad), ser(m.bias.grad)]})


convt_module("ConvTranspose1d stride 2", 3, 2, 3, (2, 3, 5), None, stride=2, padding=1)
convt_module("ConvTranspose1d outputSize [10]", 3, 2, 3, (2, 3, 5), [10], stride=2, padding=1)
convt_module("ConvTranspose1d outputSize whole shape", 3, 2, 3, (2, 3, 5), [2, 2, 9], stride=2,
             padding=1)
convt_module("ConvTranspose1d unbatched outputSize [C, L]", 2, 4, 4, (2, 6), [4, 20], stride=3,
             groups=2)


def drop(name, shape, p, training):
    x = randn(*shape)
    layer_case(name, "dropout1d", [x], lambda x: F.dropout1d(x, p, training),
               {"p": p, "training": training})


drop("dropout1d p 0", (2, 3, 4), 0.0, True)
drop("dropout1d p 1", (2, 3, 4), 1.0, True)
drop("dropout1d p 1 unbatched", (3, 4), 1.0, True)
drop("dropout1d eval", (2, 3, 4), 0.5, False)

data = {"torch": torch.__version__, "sklearn": sklearn.__version__, "sgd": SGD,
        "lastLr": LAST_LR, "metrics": METRICS, "reports": REPORTS, "layers": LAYERS}
with open(OUT, "w") as f:
    json.dump(data, f, separators=(",", ":"))
print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")
