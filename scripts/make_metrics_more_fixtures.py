"""Writes tests/fixtures/metrics_more.json: reference values from scikit-learn
for the standalone scores of src/eval/metrics (accuracy, balanced and top-k
accuracy, precision / recall / F-beta / support with every average,
zero_division and labels, Cohen's kappa, Matthews' correlation, the
normalised confusion matrix, log loss, Brier score, calibration curve).

Each entry of "calls" is one call: the function's name as the library spells
it, its inputs (or the name of a shared label pair in "pairs"), its options in
the library's camelCase, and what sklearn gave: "value", or "raises" (its
message) when it refused. "warnings" lists sklearn's own warnings
(UndefinedMetricWarning, UserWarning), which the library shows once each
through console.warn. NaN and the infinities are the strings "nan", "inf",
"-inf".

Small cases on purpose: perfect and chance predictions, a class never
predicted, a class only predicted, one class only, sparse labels, tied
scores, probabilities of exactly 0 and 1, rows that do not sum to 1,
probabilities on bin edges (0.3 is not 3 * 0.1). Deterministic (numpy's
default_rng with a fixed seed). Needs Debian's python3-sklearn
(`apt-get install -y python3-sklearn`); run with
`/usr/bin/python3 scripts/make_metrics_more_fixtures.py`.
"""
import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning

from fixture_json import plain as enc

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "metrics_more.json"
)
rng = np.random.default_rng(20240918)


calls = []


def call(fn, inputs, options, thunk):
    """Runs sklearn's `thunk` and records the call, its value or refusal, and its warnings."""
    entry = {"fn": fn, **inputs, "options": options}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry["value"] = enc(thunk())
        except ValueError as e:
            entry["raises"] = str(e)
    entry["warnings"] = sorted(
        {str(w.message) for w in caught if w.category in (UndefinedMetricWarning, UserWarning)}
    )
    calls.append(entry)


def pair_calls(name, yt, yp):
    """Every label-pair metric on one pair of label lists."""
    ref = {"pair": name}
    present = sorted(set(yt) | set(yp))
    call("accuracyScore", ref, {}, lambda: metrics.accuracy_score(yt, yp))
    call("accuracyScore", ref, {"normalize": False},
         lambda: metrics.accuracy_score(yt, yp, normalize=False))
    for adjusted in (False, True):
        call("balancedAccuracyScore", ref, {"adjusted": adjusted},
             lambda: metrics.balanced_accuracy_score(yt, yp, adjusted=adjusted))
    call("matthewsCorrcoef", ref, {}, lambda: metrics.matthews_corrcoef(yt, yp))
    for w in (None, "linear", "quadratic"):
        call("cohenKappaScore", ref, {"weights": w},
             lambda: metrics.cohen_kappa_score(yt, yp, weights=w))
        # Every grade (so that weights follow grade values), and a subset (pairs left out).
        for labels in (list(range(max(present) + 2)), present[-2:]):
            call("cohenKappaScore", ref, {"weights": w, "labels": labels},
                 lambda: metrics.cohen_kappa_score(yt, yp, weights=w, labels=labels))
    for norm in (None, "true", "pred", "all"):
        call("confusionMatrix", ref, {"normalize": norm},
             lambda: metrics.confusion_matrix(yt, yp, normalize=norm))
        # Reordered with a class seen nowhere; a subset, whose other pairs are left out.
        for labels in (present[::-1] + [max(present) + 1], present[-2:]):
            call("confusionMatrix", ref, {"labels": labels, "normalize": norm},
                 lambda: metrics.confusion_matrix(yt, yp, labels=labels, normalize=norm))
    averages = [None, "micro", "macro", "weighted", "binary"]
    prf = {
        "precisionScore": metrics.precision_score,
        "recallScore": metrics.recall_score,
        "f1Score": metrics.f1_score,
    }
    for avg in averages:
        for zd in ("warn", 0, 1):
            opts = {"average": avg, "zeroDivision": zd}
            call("precisionRecallFscoreSupport", ref, opts,
                 lambda: metrics.precision_recall_fscore_support(
                     yt, yp, average=avg, zero_division=zd))
            for fn, sk in prf.items():
                if zd != 0:
                    call(fn, ref, opts, lambda: sk(yt, yp, average=avg, zero_division=zd))
        for beta in (0.0, 0.5, 2.0, math.inf):
            opts = {"average": avg, "beta": beta}
            call("fbetaScore", ref, enc(opts),
                 lambda: metrics.fbeta_score(yt, yp, average=avg, beta=beta))
        call("precisionRecallFscoreSupport", ref, {"average": avg, "beta": 2.0},
             lambda: metrics.precision_recall_fscore_support(yt, yp, average=avg, beta=2.0))
    # The defaults ("binary" for the scores, per class for the support).
    for fn, sk in prf.items():
        call(fn, ref, {}, lambda: sk(yt, yp))
    call("precisionRecallFscoreSupport", ref, {},
         lambda: metrics.precision_recall_fscore_support(yt, yp))
    # labels: a reordered subset, a superset with a class seen nowhere, one absent class.
    for labels in (present[::-1][:2], present + [max(present) + 3], [max(present) + 7]):
        for avg in (None, "micro", "macro", "weighted"):
            for zd in ("warn", 1):
                opts = {"average": avg, "labels": labels, "zeroDivision": zd}
                call("precisionRecallFscoreSupport", ref, opts,
                     lambda: metrics.precision_recall_fscore_support(
                         yt, yp, average=avg, labels=labels, zero_division=zd))
                call("f1Score", ref, opts,
                     lambda: metrics.f1_score(yt, yp, average=avg, labels=labels,
                                              zero_division=zd))
    # posLabel: the other class of a binary pair; ignored (with a warning) otherwise.
    for pos in present[:1] + [2]:
        call("precisionScore", ref, {"posLabel": pos},
             lambda: metrics.precision_score(yt, yp, pos_label=pos))
        call("recallScore", ref, {"posLabel": pos, "average": "macro"},
             lambda: metrics.recall_score(yt, yp, pos_label=pos, average="macro"))


def labels_of(n, k, p=None):
    return [int(v) for v in rng.choice(k, size=n, p=p)]


def pairs():
    yt2 = labels_of(14, 2)
    yp2 = [y if rng.random() < 0.7 else 1 - y for y in yt2]
    yt3 = labels_of(20, 3)
    yp3 = [y if rng.random() < 0.6 else int(rng.integers(0, 3)) for y in yt3]
    return {
        "binary": (yt2, yp2),
        "binary-perfect": (yt2, list(yt2)),
        "binary-never-positive": (yt2, [0] * len(yt2)),
        "binary-all-positive-truth": ([1] * 8, [1, 0, 1, 1, 0, 1, 1, 1]),
        "one-class-0": ([0] * 5, [0] * 5),
        "one-class-1": ([1] * 4, [1] * 4),
        "binary-1-2": ([1, 2, 2, 1, 2, 2, 1], [1, 2, 1, 1, 2, 2, 2]),
        "three": (yt3, yp3),
        "three-perfect": (yt3, list(yt3)),
        "three-never-2": (yt3, [min(y, 1) for y in yp3]),
        "three-pred-only-2": ([min(y, 1) for y in yt3], yp3),
        "three-constant": (yt3, [0] * len(yt3)),
        "three-chance": (yt3, labels_of(20, 3)),
        "three-reversed": (yt3, [2 - y for y in yt3]),
        "sparse-0-2-5": ([0, 2, 5, 5, 2, 0, 5, 2], [0, 5, 5, 2, 2, 0, 0, 2]),
        "grades-0-4": ([0, 1, 2, 3, 4, 2, 1, 3, 4, 0], [0, 2, 2, 3, 3, 2, 0, 4, 4, 1]),
    }


def probs_rows(n, k, decimals):
    """Rows summing to 1 (the last column takes the rest), rounded so that ties occur."""
    a = np.round(rng.dirichlet(np.ones(k), size=n), decimals)
    a[:, -1] = 1 - a[:, :-1].sum(axis=1)
    return np.clip(a, 0, 1)


def score_calls():
    # logLoss
    yt = [0, 1, 1, 0, 1, 0, 1, 1]
    p = [0.1, 0.9, 0.8, 0.35, 1.0, 0.0, 0.5, 0.65]
    call("logLoss", {"yTrue": yt, "scores": p}, {}, lambda: metrics.log_loss(yt, p))
    call("logLoss", {"yTrue": yt, "scores": p}, {"normalize": False},
         lambda: metrics.log_loss(yt, p, normalize=False))
    call("logLoss", {"yTrue": yt, "scores": p}, {"eps": 1e-7},
         lambda: metrics.log_loss(yt, p, eps=1e-7))
    p32 = np.array(p, dtype=np.float32)
    call("logLoss", {"yTrue": yt, "scores": enc(p32), "float32": True}, {},
         lambda: metrics.log_loss(yt, p32))
    yt3 = labels_of(12, 3)
    s3 = probs_rows(12, 3, 2)
    s3[0] = [0.0, 0.0, 1.0]
    s3[1] = [1.0, 0.0, 0.0]
    call("logLoss", {"yTrue": yt3, "scores": enc(s3)}, {}, lambda: metrics.log_loss(yt3, s3))
    s32 = s3.astype(np.float32)
    call("logLoss", {"yTrue": yt3, "scores": enc(s32), "float32": True}, {},
         lambda: metrics.log_loss(yt3, s32))
    unnorm = s3 * np.linspace(0.5, 1.5, 12)[:, None]
    call("logLoss", {"yTrue": yt3, "scores": enc(unnorm)}, {},
         lambda: metrics.log_loss(yt3, unnorm))
    yt_missing = [0 if y == 1 else y for y in yt3]
    for labels in (None, [0, 1, 2], [2, 1, 0], [0, 1], [0]):
        call("logLoss", {"yTrue": yt_missing, "scores": enc(s3)},
             {} if labels is None else {"labels": labels},
             lambda: metrics.log_loss(yt_missing, s3, labels=labels))
    call("logLoss", {"yTrue": [1, 1, 1], "scores": [0.2, 0.9, 0.6]}, {},
         lambda: metrics.log_loss([1, 1, 1], [0.2, 0.9, 0.6]))
    call("logLoss", {"yTrue": [1, 1, 1], "scores": [0.2, 0.9, 0.6]}, {"labels": [0, 1]},
         lambda: metrics.log_loss([1, 1, 1], [0.2, 0.9, 0.6], labels=[0, 1]))
    call("logLoss", {"yTrue": [0, 3, 3, 0], "scores": [0.2, 0.9, 0.6, 0.4]}, {},
         lambda: metrics.log_loss([0, 3, 3, 0], [0.2, 0.9, 0.6, 0.4]))
    # brierScoreLoss
    pb = [0.1, 0.9, 0.8, 0.3, 1.0, 0.0, 0.5, 0.65]
    for ytb, pos in (
        (yt, None), (yt, 0), ([-1 if v == 0 else 1 for v in yt], None),
        ([v + 1 for v in yt], None), ([v + 1 for v in yt], 1), ([0] * 8, None),
        ([2] * 8, None), ([1] * 8, None), ([0, 1, 2, 0, 1, 2, 0, 1], None),
    ):
        call("brierScoreLoss", {"yTrue": ytb, "scores": pb},
             {} if pos is None else {"posLabel": pos},
             lambda: metrics.brier_score_loss(ytb, pb, pos_label=pos))
    call("brierScoreLoss", {"yTrue": yt, "scores": [1.2] + pb[1:]}, {},
         lambda: metrics.brier_score_loss(yt, [1.2] + pb[1:]))
    # topKAccuracyScore: scores rounded to one decimal, so that rows hold ties.
    yk = labels_of(16, 4)
    sk = np.round(probs_rows(16, 4, 1), 1)
    sk[0] = [0.25, 0.25, 0.25, 0.25]
    sk[1] = [0.4, 0.4, 0.1, 0.1]
    for k in (1, 2, 3, 4, 5):
        call("topKAccuracyScore", {"yTrue": yk, "scores": enc(sk)}, {"k": k},
             lambda: metrics.top_k_accuracy_score(yk, sk, k=k))
    call("topKAccuracyScore", {"yTrue": yk, "scores": enc(sk)}, {"k": 2, "normalize": False},
         lambda: metrics.top_k_accuracy_score(yk, sk, k=2, normalize=False))
    y_no2 = [v if v != 2 else 3 for v in yk]
    for labels in (None, [0, 1, 2, 3], [0, 1, 3, 2], [0, 1, 3]):
        call("topKAccuracyScore", {"yTrue": y_no2, "scores": enc(sk)},
             {"k": 2} if labels is None else {"k": 2, "labels": labels},
             lambda: metrics.top_k_accuracy_score(y_no2, sk, k=2, labels=labels))
    yb = [0, 1, 1, 0, 1, 0, 1, 1]
    for scores in (pb, [-2.0, 1.5, 0.3, -0.1, 2.0, 0.0, 0.7, -0.4]):
        for k in (1, 2):
            call("topKAccuracyScore", {"yTrue": yb, "scores": scores}, {"k": k},
                 lambda: metrics.top_k_accuracy_score(yb, scores, k=k))
    # calibrationCurve: probabilities on edges (0.3, 0.6, 0.7 against i * 0.1) and ties.
    yc = labels_of(40, 2)
    pc = np.round(np.clip(rng.random(40) * 0.6 + np.array(yc) * 0.35, 0, 1), 1)
    pc[:6] = [0.0, 0.3, 0.6, 0.7, 1.0, 0.2]
    for n_bins in (1, 3, 5, 10):
        for strategy in ("uniform", "quantile"):
            call("calibrationCurve", {"yTrue": yc, "scores": enc(pc)},
                 {"nBins": n_bins, "strategy": strategy},
                 lambda: calibration_curve(yc, pc, n_bins=n_bins, strategy=strategy))
    ycc = [2 if v else 1 for v in yc]
    for pos in (None, 2, 1):
        call("calibrationCurve", {"yTrue": ycc, "scores": enc(pc)},
             {} if pos is None else {"posLabel": pos},
             lambda: calibration_curve(ycc, pc, pos_label=pos))
    call("calibrationCurve", {"yTrue": [-1 if v == 0 else 1 for v in yc], "scores": enc(pc)},
         {"nBins": 4}, lambda: calibration_curve([-1 if v == 0 else 1 for v in yc], pc, n_bins=4))
    pr = np.round(rng.random(25), 3)
    yr = labels_of(25, 2)
    call("calibrationCurve", {"yTrue": yr, "scores": enc(pr)}, {"nBins": 7, "strategy": "quantile"},
         lambda: calibration_curve(yr, pr, n_bins=7, strategy="quantile"))


def main():
    data_pairs = pairs()
    for name, (yt, yp) in data_pairs.items():
        pair_calls(name, yt, yp)
    score_calls()
    data = {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pairs": {k: {"yTrue": v[0], "yPred": v[1]} for k, v in data_pairs.items()},
        "calls": calls,
    }
    with open(OUT, "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)}: {len(calls)} calls (scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
