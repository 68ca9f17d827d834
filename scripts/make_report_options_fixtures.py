"""Writes tests/fixtures/report_options.json: scikit-learn 1.2's
classification_report with `labels`, `target_names`, `digits`,
`zero_division`, `output_dict` and `sample_weight`, for class labels and
multilabel indicators (tests/report_options_test.ts).

Each case stores the inputs, the options under this library's names
(camelCase: labels, targetNames, digits, zeroDivision, sampleWeight), the
text report and the output_dict report, and whether sklearn warned
(UndefinedMetricWarning) with zero_division "warn".

Run with /usr/bin/python3 scripts/make_report_options_fixtures.py.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "report_options.json")
rng = np.random.default_rng(20260801)

SNAKE = {"labels": "labels", "targetNames": "target_names", "digits": "digits",
         "zeroDivision": "zero_division", "sampleWeight": "sample_weight"}


def case(name, y_true, y_pred, **opts):
    kw = {SNAKE[k]: v for k, v in opts.items()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = metrics.classification_report(y_true, y_pred, **kw)
        as_dict = metrics.classification_report(y_true, y_pred, output_dict=True, **kw)
    warned = any(issubclass(w.category, metrics._classification.UndefinedMetricWarning)
                 for w in caught)
    return {"name": name, "yTrue": y_true, "yPred": y_pred, "options": opts, "text": text,
            "dict": as_dict, "warned": warned}


t = [int(v) for v in rng.integers(0, 4, 40)]  # classes 0..3
p = [int(v) if v != 2 else 1 for v in rng.integers(0, 4, 40)]  # 2 never predicted
w = [float(v) for v in np.round(rng.uniform(0, 2, 40), 2)]
ml_t = [[int(v) for v in row] for row in rng.integers(0, 2, (12, 4))]
ml_p = [[int(v) for v in row] for row in rng.integers(0, 2, (12, 4))]
ml_t[0] = [0, 0, 0, 0]
ml_p[0] = [0, 0, 0, 0]  # a sample with no label at all
for row in ml_p:
    row[3] = 0  # column 3 never predicted

cases = [
    case("labels reordered, the same set: accuracy row", t, p, labels=[3, 1, 0, 2]),
    case("labels leave a seen class out: micro avg", t, p, labels=[0, 2, 3]),
    case("labels with classes absent from both", t, p, labels=[5, 0, 1, 2, 3, 7]),
    case("labels and targetNames", t, p, labels=[2, 0],
         targetNames=["lesion", "none"]),
    case("targetNames without labels", t, p, targetNames=["a", "b", "c", "d"]),
    case("zeroDivision 1", t, p, labels=[0, 1, 2, 3, 6], zeroDivision=1),
    case("zeroDivision 0", t, p, labels=[0, 1, 2, 3, 6], zeroDivision=0),
    case("zeroDivision warn (default)", t, p, labels=[0, 1, 2, 3, 6]),
    case("no zero division: no warning", [0, 1, 1, 0], [0, 1, 0, 0]),
    case("digits 4", t, p, digits=4),
    case("digits 0 and labels", t, p, digits=0, labels=[1, 3]),
    case("only absent labels, zeroDivision 1", t, p, labels=[8, 9], zeroDivision=1),
    case("only absent labels, zeroDivision 0", t, p, labels=[8, 9], zeroDivision=0),
    case("only labels absent from yTrue but predicted", [0, 0, 1, 1], [0, 2, 1, 2],
         labels=[2], zeroDivision=1),
    case("sampleWeight with labels", t, p, labels=[3, 0, 4], sampleWeight=w, zeroDivision=1),
    case("multilabel, zeroDivision 1", ml_t, ml_p, zeroDivision=1),
    case("multilabel, labels and targetNames", ml_t, ml_p, labels=[3, 1],
         targetNames=["cyst", "lesion"], zeroDivision=0),
    case("multilabel, warn", ml_t, ml_p, digits=3),
]

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, f, indent=0)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
