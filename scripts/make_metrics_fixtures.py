"""Writes tests/fixtures/metrics.json: reference numbers from scikit-learn for
src/eval/metrics (confusion matrix, classification report and its text,
balanced accuracy, precision-recall and ROC curves, average precision, ROC AUC).

The cases are small and random on purpose: scores are rounded to one or two
decimals so that ties occur (thresholds sit at distinct scores only), one
class is never predicted, one is predicted but never true, and one is absent
from both. Multiclass score rows sum to one (roc_auc_score checks that).

Deterministic (numpy's default_rng with a fixed seed). Needs Debian's
python3-sklearn (`apt-get install -y python3-sklearn`); run with
`/usr/bin/python3 scripts/make_metrics_fixtures.py`.
"""
import json
import os

import numpy as np
import sklearn
from sklearn import metrics

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "metrics.json"
)
rng = np.random.default_rng(20240611)


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def report_dict(y_true, y_pred, labels, names):
    d = metrics.classification_report(
        y_true, y_pred, labels=labels, target_names=names, output_dict=True, zero_division=0
    )
    rows = [
        {k: float(d[n][k]) for k in ("precision", "recall", "f1-score", "support")}
        for n in names
    ]
    avg = lambda key: {k: float(d[key][k]) for k in ("precision", "recall", "f1-score", "support")}
    return {
        "classes": rows,
        "accuracy": float(metrics.accuracy_score(y_true, y_pred)),
        "macro": avg("macro avg"),
        "weighted": avg("weighted avg"),
    }


def classification_case(name, y_true, y_pred, num_classes, names):
    labels = list(range(num_classes))
    cm = metrics.confusion_matrix(y_true, y_pred, labels=labels)
    # Specificity per class (one-vs-rest): TN / (TN + FP), computed from sklearn's matrix.
    total = cm.sum()
    spec = []
    for c in labels:
        tp = cm[c, c]
        fp = cm[:, c].sum() - tp
        fn = cm[c, :].sum() - tp
        tn = total - tp - fp - fn
        spec.append(float(tn / (tn + fp)) if tn + fp > 0 else 0.0)
    return {
        "name": name,
        "numClasses": num_classes,
        "classNames": names,
        "yTrue": ints(y_true),
        "yPred": ints(y_pred),
        "confusion": [ints(r) for r in cm],
        "report": report_dict(y_true, y_pred, labels, names),
        "text2": metrics.classification_report(
            y_true, y_pred, labels=labels, target_names=names, zero_division=0
        ),
        "text4": metrics.classification_report(
            y_true, y_pred, labels=labels, zero_division=0, digits=4
        ),
        "balancedAccuracy": float(metrics.balanced_accuracy_score(y_true, y_pred)),
        "specificity": spec,
    }


def binary_case(name, y_true, scores):
    p, r, t = metrics.precision_recall_curve(y_true, scores)
    fpr, tpr, th = metrics.roc_curve(y_true, scores)
    fpr_all, tpr_all, th_all = metrics.roc_curve(y_true, scores, drop_intermediate=False)
    return {
        "name": name,
        "yTrue": ints(y_true),
        "scores": floats(scores),
        "pr": {"precision": floats(p), "recall": floats(r), "thresholds": floats(t)},
        "averagePrecision": float(metrics.average_precision_score(y_true, scores)),
        # thresholds[0] is left out: sklearn 1.2 writes max(score) + 1 there,
        # sklearn >= 1.3 (and this library) writes +inf.
        "roc": {"fpr": floats(fpr), "tpr": floats(tpr), "thresholds": floats(th[1:])},
        "rocAll": {"fpr": floats(fpr_all), "tpr": floats(tpr_all), "thresholds": floats(th_all[1:])},
        "rocAuc": float(metrics.roc_auc_score(y_true, scores)),
    }


def multiclass_scores(n, c, decimals):
    """Random probability rows rounded so that ties occur; the last column
    takes the rest so rows still sum to one."""
    raw = rng.dirichlet(np.ones(c) * 0.8, size=n)
    s = np.round(raw[:, : c - 1], decimals)
    s = np.minimum(s, 1.0)
    rest = 1.0 - s.sum(axis=1)
    bad = rest < 0
    s[bad] = s[bad] / s[bad].sum(axis=1, keepdims=True)
    rest = np.clip(1.0 - s.sum(axis=1), 0.0, 1.0)
    return np.column_stack([s, rest])


def multiclass_scores_case(name, y_true, scores):
    c = scores.shape[1]
    per_class = []
    for k in range(c):
        yk = (y_true == k).astype(int)
        per_class.append(binary_case(f"{name}/class{k}", yk, scores[:, k]))
    return {
        "name": name,
        "numClasses": c,
        "yTrue": ints(y_true),
        "scores": floats(scores),
        "rocAucMacro": float(
            metrics.roc_auc_score(y_true, scores, multi_class="ovr", average="macro")
        ),
        "rocAucWeighted": float(
            metrics.roc_auc_score(y_true, scores, multi_class="ovr", average="weighted")
        ),
        "averagePrecisionMacro": float(
            np.mean([metrics.average_precision_score(y_true == k, scores[:, k]) for k in range(c)])
        ),
        "perClass": per_class,
    }


def main():
    names3 = ["no liver", "liver", "liver + lesion"]
    classification = []

    # 3 classes; class 2 is never predicted.
    yt = rng.integers(0, 3, size=60)
    yp = rng.integers(0, 2, size=60)
    yp[yt == 0] = np.where(rng.random((yt == 0).sum()) < 0.7, 0, yp[yt == 0])
    classification.append(classification_case("three-never-predicted", yt, yp, 3, names3))

    # 3 classes; class 2 is predicted but never true.
    yt = rng.integers(0, 2, size=30)
    yp = np.where(rng.random(30) < 0.6, yt, rng.integers(0, 3, size=30))
    classification.append(classification_case("three-never-true", yt, yp, 3, names3))

    # 4 classes; class 3 is neither true nor predicted.
    yt = rng.integers(0, 3, size=25)
    yp = np.where(rng.random(25) < 0.5, yt, rng.integers(0, 3, size=25))
    classification.append(
        classification_case("four-absent", yt, yp, 4, ["a", "b", "c", "a class with a long name"])
    )

    # Binary labels.
    yt = rng.integers(0, 2, size=40)
    yp = np.where(rng.random(40) < 0.75, yt, 1 - yt)
    classification.append(classification_case("binary", yt, yp, 2, ["negative", "positive"]))

    binary = []
    yt = rng.integers(0, 2, size=40)
    binary.append(binary_case("ties-1-decimal", yt, np.round(rng.random(40) * 0.6 + yt * 0.3, 1)))
    yt = rng.integers(0, 2, size=200)
    binary.append(binary_case("ties-2-decimals", yt, np.round(rng.beta(2, 2, 200) + yt * 0.2, 2)))
    yt = np.array([0, 0, 1, 1, 0, 1, 1, 0, 1, 1])
    binary.append(binary_case("all-tied", yt, np.full(10, 0.5)))
    binary.append(binary_case("separable", yt, yt * 0.5 + rng.random(10) * 0.4))
    binary.append(binary_case("reversed", yt, (1 - yt) * 0.5 + rng.random(10) * 0.4))

    multiclass = []
    # Labels drawn mostly from the score rows themselves, so the AUCs are informative.
    s = multiclass_scores(90, 3, 2)
    yt = np.array([rng.choice(3, p=row) if rng.random() < 0.7 else rng.integers(0, 3) for row in s])
    multiclass.append(multiclass_scores_case("three-classes", yt, s))
    yt = rng.integers(0, 4, size=50)
    s = multiclass_scores(50, 4, 1)
    multiclass.append(multiclass_scores_case("four-classes-coarse", yt, s))

    data = {
        "sklearn": sklearn.__version__,
        "classification": classification,
        "binary": binary,
        "multiclass": multiclass,
    }
    with open(OUT, "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(OUT)} (scikit-learn {sklearn.__version__})")


if __name__ == "__main__":
    main()
