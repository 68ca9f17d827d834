"""Writes tests/fixtures/metrics_zero_weight.json: what scikit-learn 1.2.1
returns for `classification_report` and `precision_recall_fscore_support`
with a `sample_weight` that sums to 0 (all zero, or zero on every sample of
some classes), and where it refuses (tests/metrics_zero_weight_test.ts).

Each entry of "calls" is one call: "fn" ("classificationReport" or
"precisionRecallFscoreSupport"), "yTrue", "yPred", "weight" (the
sample_weight), "options" in the library's camelCase, and what sklearn
gave: for the report its dict ("dict", output_dict=True) and its text
("text"), for precision_recall_fscore_support "value" ([p, r, f, support]);
or "raises" (sklearn's message) where it refused. "warnings" lists sklearn's
UndefinedMetricWarning / UserWarning messages. NaN is the string "nan".

Needs Debian's python3-sklearn; run with
`/usr/bin/python3 scripts/make_metrics_zero_weight_fixtures.py`.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.exceptions import UndefinedMetricWarning

from fixture_json import plain as enc

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "metrics_zero_weight.json"
)

calls = []
SK = {"labels": "labels", "targetNames": "target_names", "zeroDivision": "zero_division",
      "digits": "digits", "average": "average", "beta": "beta"}


def sk_options(options):
    return {SK[k]: v for k, v in options.items()}


def record(entry, thunk):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry.update(thunk())
        except (ValueError, ZeroDivisionError) as e:
            entry["raises"] = str(e)
    entry["warnings"] = sorted(
        {str(w.message) for w in caught if w.category in (UndefinedMetricWarning, UserWarning)}
    )
    calls.append(entry)


def report(yt, yp, weight, options):
    entry = {"fn": "classificationReport", "yTrue": enc(yt), "yPred": enc(yp),
             "weight": enc(weight), "options": options}
    kw = sk_options(options)
    sw = np.array(weight, dtype=float)
    record(entry, lambda: {
        "dict": enc(metrics.classification_report(yt, yp, sample_weight=sw, output_dict=True,
                                                  **kw)),
        "text": metrics.classification_report(yt, yp, sample_weight=sw, **kw),
    })


def prfs(yt, yp, weight, options):
    entry = {"fn": "precisionRecallFscoreSupport", "yTrue": enc(yt), "yPred": enc(yp),
             "weight": enc(weight), "options": options}
    sw = np.array(weight, dtype=float)
    record(entry, lambda: {"value": enc(metrics.precision_recall_fscore_support(
        yt, yp, sample_weight=sw, **sk_options(options)))})


MULTI = ([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0])
BINARY = ([0, 1, 1, 0], [0, 1, 0, 0])
ZERO6, ZERO4 = [0.0] * 6, [0.0] * 4
# Zero weight on every sample of classes 1 and 2 (true or predicted).
PARTIAL = [1.0, 0.0, 0.0, 0.0, 0.0, 2.0]
# Class 2 is predicted only on a zero-weight sample, class 1 has support.
SOME = [1.0, 0.5, 0.0, 0.0, 1.5, 1.0]

for (yt, yp), w in ((MULTI, ZERO6), (BINARY, ZERO4), (MULTI, PARTIAL), (MULTI, SOME)):
    for zd in ("warn", 0, 1):
        for digits in (2, 3):
            report(yt, yp, w, {"zeroDivision": zd, "digits": digits})
    report(yt, yp, w, {"labels": [0, 1]})
    report(yt, yp, w, {"labels": [1, 0], "zeroDivision": 1})
    report(yt, yp, w, {"labels": [0, 1, 2, 3], "zeroDivision": 1})
    report(yt, yp, w, {"labels": [2, 0], "targetNames": ["lesion", "none"]})
    for avg in (None, "micro", "macro", "weighted"):
        for zd in ("warn", 1):
            prfs(yt, yp, w, {"average": avg, "zeroDivision": zd})
    prfs(yt, yp, w, {"average": "macro", "beta": 2.0, "zeroDivision": 1})
    prfs(yt, yp, w, {"labels": [1, 3], "average": None})
prfs(BINARY[0], BINARY[1], ZERO4, {"average": "binary"})
prfs(BINARY[0], BINARY[1], ZERO4, {"average": "binary", "zeroDivision": 1})

# Refused: multilabel indicators with zero weights (the samples average is
# np.average over weights that sum to 0), and a wrong number of weights.
report([[1, 0], [1, 1], [0, 1]], [[1, 0], [0, 1], [0, 1]], [0.0, 0.0, 0.0], {})
report(MULTI[0], MULTI[1], [1.0, 1.0, 1.0], {})
report(MULTI[0], MULTI[1], [1.0] * 7, {})
prfs(MULTI[0], MULTI[1], [1.0, 1.0], {"average": "macro"})
prfs([[1, 0], [0, 1]], [[1, 0], [1, 1]], [0.0, 0.0], {"average": "samples"})

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "calls": calls}, f, indent=None)
print(f"wrote {OUT}: {len(calls)} calls, {os.path.getsize(OUT)} bytes")
