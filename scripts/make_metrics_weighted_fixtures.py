"""Writes tests/fixtures/metrics_weighted.json: reference values from
scikit-learn for `sample_weight` and multilabel indicator input in the
metrics of src/eval/metrics (accuracy, zero-one and Hamming losses,
precision / recall / F-beta / support with every average, Jaccard, the
multilabel confusion matrix, the classification report's text, the
confusion matrix, balanced accuracy, Cohen's kappa, MCC, ROC AUC, average
precision, the ROC and precision-recall curves, log loss, Brier score and
top-k accuracy).

"data" holds the inputs by name (yTrue with yPred or scores), "weights" the
sample weights by name. Each entry of "calls" is one call: the function's
name as the library spells it, the data and weight names (weight null: no
sample_weight), its other options in the library's camelCase, and what
sklearn gave: "value", or "raises" (its message) when it refused. "warnings"
lists sklearn's own warnings (UndefinedMetricWarning, UserWarning). NaN and
the infinities are the strings "nan", "inf", "-inf".

Two values are not sklearn 1.2's own calls: averagePrecision of a
multiclass score matrix (sklearn 1.2 refuses it; the value is
average_precision_score of the label_binarize'd truth, which is what later
versions compute), and rocCurve's first threshold, which sklearn 1.2 sets to
max + 1 and the library (as sklearn >= 1.3) to +Infinity; it is stored as
"inf".

Weights mix integers, fractions and zeros (a zero-weight sample drops out
of the curves), and the multilabel data has a row without labels, a label
never predicted and a label never true, so that every zero division occurs.
Needs Debian's python3-sklearn; run with
`/usr/bin/python3 scripts/make_metrics_weighted_fixtures.py`.
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.preprocessing import label_binarize

from fixture_json import plain as enc

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "metrics_weighted.json"
)
rng = np.random.default_rng(20240921)


data, weights, calls = {}, {}, []


def call(fn, name, weight, options, thunk):
    """Runs sklearn's `thunk(sample_weight)` and records the call, its value or refusal, warnings."""
    entry = {"fn": fn, "data": name, "weight": weight, "options": enc(options)}
    sw = None if weight is None else np.array([float(v) for v in weights[weight]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry["value"] = enc(thunk(sw))
        except (ValueError, ZeroDivisionError) as e:
            entry["raises"] = str(e)
    entry["warnings"] = sorted(
        {str(w.message) for w in caught if w.category in (UndefinedMetricWarning, UserWarning)}
    )
    calls.append(entry)


def weights_for(name, n):
    """Three weightings of n samples: integers, fractions with zeros, all zero."""
    weights[f"{name}-int"] = [int(v) for v in rng.integers(1, 4, size=n)]
    frac = np.round(rng.random(n) * 2, 2)
    frac[1] = 0.0
    frac[n // 2] = 0.0
    weights[f"{name}-frac"] = enc(frac)
    weights[f"{name}-zero"] = [0.0] * n
    return [None, f"{name}-int", f"{name}-frac"]


def label_calls(name, yt, yp, kind):
    """The label metrics on one pair, unweighted and weighted."""
    data[name] = {"yTrue": enc(yt), "yPred": enc(yp)}
    n = len(yt)
    ws = weights_for(name, n)
    yt, yp = np.array(yt), np.array(yp)
    for w in ws + [f"{name}-zero"]:
        for norm in (True, False):
            call("accuracyScore", name, w, {"normalize": norm},
                 lambda sw: metrics.accuracy_score(yt, yp, normalize=norm, sample_weight=sw))
            call("zeroOneLoss", name, w, {"normalize": norm},
                 lambda sw: metrics.zero_one_loss(yt, yp, normalize=norm, sample_weight=sw))
    for w in ws:
        call("hammingLoss", name, w, {}, lambda sw: metrics.hamming_loss(yt, yp, sample_weight=sw))
        averages = [None, "micro", "macro", "weighted"]
        averages += ["samples"] if kind == "multilabel" else []
        averages += ["binary"] if kind == "binary" else []
        for avg in averages:
            for zd in ("warn", 1):
                opts = {"average": avg, "zeroDivision": zd}
                call("precisionRecallFscoreSupport", name, w, opts,
                     lambda sw: metrics.precision_recall_fscore_support(
                         yt, yp, average=avg, zero_division=zd, sample_weight=sw))
                call("jaccardScore", name, w, opts,
                     lambda sw: metrics.jaccard_score(
                         yt, yp, average=avg, zero_division=zd, sample_weight=sw))
            for fn, sk in (("precisionScore", metrics.precision_score),
                           ("recallScore", metrics.recall_score), ("f1Score", metrics.f1_score)):
                call(fn, name, w, {"average": avg},
                     lambda sw: sk(yt, yp, average=avg, sample_weight=sw))
            call("fbetaScore", name, w, {"average": avg, "beta": 2.0},
                 lambda sw: metrics.fbeta_score(yt, yp, average=avg, beta=2.0, sample_weight=sw))
        present = list(range(yt.shape[1])) if kind == "multilabel" else sorted(set(yt) | set(yp))
        subset = [present[-1], present[0]]
        call("precisionRecallFscoreSupport", name, w, {"labels": subset},
             lambda sw: metrics.precision_recall_fscore_support(
                 yt, yp, labels=subset, sample_weight=sw))
        call("multilabelConfusionMatrix", name, w, {},
             lambda sw: metrics.multilabel_confusion_matrix(yt, yp, sample_weight=sw))
        call("multilabelConfusionMatrix", name, w, {"labels": subset},
             lambda sw: metrics.multilabel_confusion_matrix(yt, yp, labels=subset, sample_weight=sw))
        if kind == "multilabel":
            call("multilabelConfusionMatrix", name, w, {"samplewise": True},
                 lambda sw: metrics.multilabel_confusion_matrix(
                     yt, yp, samplewise=True, sample_weight=sw))
        call("classificationReport", name, w, {},
             lambda sw: metrics.classification_report(yt, yp, sample_weight=sw, digits=4))
        if kind == "multilabel":
            continue
        for norm in (None, "true", "all"):
            call("confusionMatrix", name, w, {"normalize": norm},
                 lambda sw: metrics.confusion_matrix(yt, yp, normalize=norm, sample_weight=sw))
        call("confusionMatrix", name, w, {"labels": subset},
             lambda sw: metrics.confusion_matrix(yt, yp, labels=subset, sample_weight=sw))
        for adjusted in (False, True):
            call("balancedAccuracyScore", name, w, {"adjusted": adjusted},
                 lambda sw: metrics.balanced_accuracy_score(
                     yt, yp, adjusted=adjusted, sample_weight=sw))
        for kw in (None, "linear", "quadratic"):
            call("cohenKappaScore", name, w, {"weights": kw},
                 lambda sw: metrics.cohen_kappa_score(yt, yp, weights=kw, sample_weight=sw))
        call("matthewsCorrcoef", name, w, {},
             lambda sw: metrics.matthews_corrcoef(yt, yp, sample_weight=sw))


def ap_multiclass(yt, s, avg, sw):
    """average_precision_score over the one-hot truth (sklearn 1.2 refuses multiclass input)."""
    return metrics.average_precision_score(
        label_binarize(yt, classes=list(range(s.shape[1]))), s, average=avg, sample_weight=sw)


def score_calls():
    # Binary: scores rounded so that ties occur.
    yb = [int(v) for v in rng.integers(0, 2, size=16)]
    sb = np.round(rng.random(16) * 0.6 + np.array(yb) * 0.3, 1)
    data["binary-scores"] = {"yTrue": yb, "scores": enc(sb)}
    ws = weights_for("binary-scores", 16)
    for w in ws:
        call("rocAuc", "binary-scores", w, {},
             lambda sw: metrics.roc_auc_score(yb, sb, sample_weight=sw))
        call("averagePrecision", "binary-scores", w, {},
             lambda sw: metrics.average_precision_score(yb, sb, sample_weight=sw))
        for drop in (True, False):
            def roc(sw):
                fpr, tpr, thr = metrics.roc_curve(yb, sb, sample_weight=sw, drop_intermediate=drop)
                return [fpr, tpr, [math.inf] + list(thr[1:])]
            call("rocCurve", "binary-scores", w, {"dropIntermediate": drop}, roc)
        call("precisionRecallCurve", "binary-scores", w, {},
             lambda sw: metrics.precision_recall_curve(yb, sb, sample_weight=sw))
        pb = np.clip(sb, 0, 1)
        call("brierScoreLoss", "binary-scores", w, {},
             lambda sw: metrics.brier_score_loss(yb, pb, sample_weight=sw))
        for norm in (True, False):
            call("logLoss", "binary-scores", w, {"normalize": norm},
                 lambda sw: metrics.log_loss(yb, pb, normalize=norm, sample_weight=sw))
    # Multiclass: probability rows (the last column takes the rest).
    y3 = [int(v) for v in rng.integers(0, 3, size=18)]
    p3 = np.round(rng.dirichlet(np.ones(3), size=18), 2)
    p3[:, -1] = 1 - p3[:, :-1].sum(axis=1)
    p3 = np.clip(p3, 0, 1)
    data["three-probs"] = {"yTrue": y3, "scores": enc(p3)}
    ws = weights_for("three-probs", 18)
    for w in ws:
        for avg in ("macro", "weighted", "micro", None):
            call("rocAuc", "three-probs", w, {"average": avg},
                 lambda sw: metrics.roc_auc_score(
                     y3, p3, multi_class="ovr", average=avg, sample_weight=sw))
            call("averagePrecision", "three-probs", w, {"average": avg},
                 lambda sw: ap_multiclass(y3, p3, avg, sw))
        for norm in (True, False):
            call("logLoss", "three-probs", w, {"normalize": norm},
                 lambda sw: metrics.log_loss(y3, p3, normalize=norm, sample_weight=sw))
        for k in (1, 2):
            call("topKAccuracyScore", "three-probs", w, {"k": k},
                 lambda sw: metrics.top_k_accuracy_score(y3, p3, k=k, sample_weight=sw))
        call("topKAccuracyScore", "three-probs", w, {"k": 1, "normalize": False},
             lambda sw: metrics.top_k_accuracy_score(
                 y3, p3, k=1, normalize=False, sample_weight=sw))
    # Multilabel: 4 findings; every row and column has both classes so that ROC AUC is defined.
    yl = rng.integers(0, 2, size=(14, 4))
    yl[0], yl[1] = [1, 1, 1, 1], [0, 0, 0, 0]
    sl = np.round(np.clip(rng.random((14, 4)) * 0.7 + yl * 0.25, 0, 1), 1)
    yl[2], yl[3] = [1, 0, 0, 0], [0, 1, 1, 0]
    data["multilabel-scores"] = {"yTrue": enc(yl), "scores": enc(sl)}
    ws = weights_for("multilabel-scores", 14)
    for w in ws:
        for avg in ("macro", "weighted", "micro", "samples", None):
            call("rocAuc", "multilabel-scores", w, {"average": avg},
                 lambda sw: metrics.roc_auc_score(yl, sl, average=avg, sample_weight=sw))
            call("averagePrecision", "multilabel-scores", w, {"average": avg},
                 lambda sw: metrics.average_precision_score(yl, sl, average=avg, sample_weight=sw))
    # Every row with both classes, so that the per-sample ("samples") ROC AUC is defined.
    yr = yl.copy()
    yr[:, 0], yr[:, 1] = 1, 0
    data["multilabel-rows"] = {"yTrue": enc(yr), "scores": enc(sl)}
    for w in ws:
        call("rocAuc", "multilabel-rows", w, {"average": "samples"},
             lambda sw: metrics.roc_auc_score(yr, sl, average="samples", sample_weight=sw))
        call("averagePrecision", "multilabel-rows", w, {"average": "samples"},
             lambda sw: metrics.average_precision_score(
                 yr, sl, average="samples", sample_weight=sw))
    # A label without positives: ROC AUC refuses, AP scores it 0.
    yz = yl.copy()
    yz[:, 3] = 0
    data["multilabel-no-positive"] = {"yTrue": enc(yz), "scores": enc(sl)}
    for avg in ("macro", None):
        call("rocAuc", "multilabel-no-positive", None, {"average": avg},
             lambda sw: metrics.roc_auc_score(yz, sl, average=avg))
        call("averagePrecision", "multilabel-no-positive", None, {"average": avg},
             lambda sw: metrics.average_precision_score(yz, sl, average=avg))


def refusals():
    """Inputs sklearn refuses: probabilities as labels, a mix of kinds, shapes."""
    yl = [[1, 0, 1], [0, 1, 0], [1, 1, 0]]
    probs = [[0.9, 0.2, 0.6], [0.1, 0.7, 0.4], [0.8, 0.6, 0.1]]
    data["probs-as-labels"] = {"yTrue": yl, "yPred": probs}
    data["mix"] = {"yTrue": yl, "yPred": [0, 1, 2]}
    data["multiclass-multioutput"] = {"yTrue": yl, "yPred": [[2, 0, 1], [0, 1, 0], [1, 1, 0]]}
    for name in ("probs-as-labels", "mix", "multiclass-multioutput"):
        a, b = data[name]["yTrue"], data[name]["yPred"]
        call("accuracyScore", name, None, {}, lambda sw: metrics.accuracy_score(a, b))
        call("f1Score", name, None, {"average": "macro"},
             lambda sw: metrics.f1_score(a, b, average="macro"))
        call("hammingLoss", name, None, {}, lambda sw: metrics.hamming_loss(a, b))
        call("jaccardScore", name, None, {"average": "micro"},
             lambda sw: metrics.jaccard_score(a, b, average="micro"))
    data["multilabel-pair"] = {"yTrue": yl, "yPred": [[1, 0, 0], [0, 1, 1], [1, 1, 0]]}
    a, b = data["multilabel-pair"]["yTrue"], data["multilabel-pair"]["yPred"]
    call("f1Score", "multilabel-pair", None, {}, lambda sw: metrics.f1_score(a, b))
    call("confusionMatrix", "multilabel-pair", None, {}, lambda sw: metrics.confusion_matrix(a, b))
    call("matthewsCorrcoef", "multilabel-pair", None, {},
         lambda sw: metrics.matthews_corrcoef(a, b))
    call("cohenKappaScore", "multilabel-pair", None, {},
         lambda sw: metrics.cohen_kappa_score(a, b))
    call("balancedAccuracyScore", "multilabel-pair", None, {},
         lambda sw: metrics.balanced_accuracy_score(a, b))
    call("multilabelConfusionMatrix", "multilabel-pair", None, {"labels": [3]},
         lambda sw: metrics.multilabel_confusion_matrix(a, b, labels=[3]))
    data["binary-pair"] = {"yTrue": [0, 1, 1, 0], "yPred": [0, 1, 0, 0]}
    weights["short"] = [1.0, 2.0, 1.0]
    a, b = data["binary-pair"]["yTrue"], data["binary-pair"]["yPred"]
    for w in ("short",):
        call("accuracyScore", "binary-pair", w, {},
             lambda sw: metrics.accuracy_score(a, b, sample_weight=sw))
        call("f1Score", "binary-pair", w, {}, lambda sw: metrics.f1_score(a, b, sample_weight=sw))
    call("precisionRecallFscoreSupport", "binary-pair", None, {"average": "samples"},
         lambda sw: metrics.precision_recall_fscore_support(a, b, average="samples"))


def pairs():
    yt2 = [int(v) for v in rng.integers(0, 2, size=14)]
    yp2 = [y if rng.random() < 0.7 else 1 - y for y in yt2]
    yt3 = [int(v) for v in rng.integers(0, 3, size=20)]
    yp3 = [y if rng.random() < 0.6 else int(rng.integers(0, 3)) for y in yt3]
    label_calls("binary", yt2, yp2, "binary")
    label_calls("binary-never-positive", yt2, [0] * len(yt2), "binary")
    label_calls("three", yt3, yp3, "multiclass")
    label_calls("three-never-2", yt3, [min(y, 1) for y in yp3], "multiclass")
    ytl = rng.integers(0, 2, size=(12, 4))
    ypl = np.where(rng.random((12, 4)) < 0.75, ytl, 1 - ytl)
    ytl[:, 3] = 0  # a label never true
    ypl[:, 2] = 0  # a label never predicted
    ytl[0], ypl[0] = [0, 0, 0, 0], [0, 0, 0, 0]  # a sample without labels
    ypl[1] = [0, 0, 0, 0]
    label_calls("multilabel", ytl, ypl, "multilabel")
    label_calls("multilabel-perfect", ytl, ytl.copy(), "multilabel")


def main():
    pairs()
    score_calls()
    refusals()
    out = {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "data": data,
        "weights": weights,
        "calls": calls,
    }
    with open(OUT, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}: {len(calls)} calls (scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
