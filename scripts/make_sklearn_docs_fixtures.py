"""Writes tests/fixtures/sklearn_docs.json: scikit-learn 1.2's own docstring
examples for every sklearn.metrics function the library has (and
sklearn.calibration.calibration_curve), ported verbatim, plus the variants a
user porting sklearn code writes: labels= as a subset or with extra labels,
pos_label=, every average, sample_weight=, zero_division=, string labels,
probabilities where labels are expected, a 2-D one-hot y_true, a class
missing from y_pred or from y_true.

Each entry of "calls" is one call: an id, the library's function name
(camelCase), its positional arguments (JSON), its options in the library's
camelCase, and what sklearn gave: "value" (tuples as lists), or "raises"
(sklearn's message). A long argument is stored once in "shared" and
written {"shared": i}. "warnings" lists sklearn's UndefinedMetricWarning and
UserWarning messages. NaN and the infinities are the strings "nan", "inf",
"-inf"; a zeroDivision of np.nan is the string "nan" too.
"classificationReportText" is `print(classification_report(...))`, which the
library spells formatClassificationReport(classificationReport(...)).

The roc_auc_score examples fit scikit-learn's estimators on its bundled data
sets (no download); their scores are stored rounded to 9 significant digits
and sklearn's value is computed from the rounded scores. Run with
`/usr/bin/python3 scripts/make_sklearn_docs_fixtures.py` (Debian's
python3-sklearn).
"""
import json
import os
import re
import warnings

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning

from fixture_json import plain

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "sklearn_docs.json"
)

SK = {
    "accuracyScore": metrics.accuracy_score,
    "balancedAccuracyScore": metrics.balanced_accuracy_score,
    "topKAccuracyScore": metrics.top_k_accuracy_score,
    "precisionScore": metrics.precision_score,
    "recallScore": metrics.recall_score,
    "f1Score": metrics.f1_score,
    "fbetaScore": metrics.fbeta_score,
    "precisionRecallFscoreSupport": metrics.precision_recall_fscore_support,
    "classificationReport": metrics.classification_report,
    "classificationReportText": metrics.classification_report,
    "confusionMatrix": metrics.confusion_matrix,
    "multilabelConfusionMatrix": metrics.multilabel_confusion_matrix,
    "rocAucScore": metrics.roc_auc_score,
    "rocCurve": metrics.roc_curve,
    "precisionRecallCurve": metrics.precision_recall_curve,
    "averagePrecisionScore": metrics.average_precision_score,
    "auc": metrics.auc,
    "logLoss": metrics.log_loss,
    "brierScoreLoss": metrics.brier_score_loss,
    "cohenKappaScore": metrics.cohen_kappa_score,
    "matthewsCorrcoef": metrics.matthews_corrcoef,
    "hammingLoss": metrics.hamming_loss,
    "jaccardScore": metrics.jaccard_score,
    "zeroOneLoss": metrics.zero_one_loss,
    "calibrationCurve": calibration_curve,
}

calls = []
shared = []  # long arguments, stored once: an argument {"shared": i} is shared[i]


def intern(a):
    a = plain(a)
    if len(json.dumps(a)) < 400:
        return a
    if a not in shared:
        shared.append(a)
    return {"shared": shared.index(a)}


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def py_value(v):
    return np.nan if v == "nan" else v


def case(id_, fn, args, options=None):
    """Runs sklearn on the arguments and options (camelCase, as the library spells them)."""
    options = options or {}
    kw = {snake(k): py_value(v) for k, v in options.items()}
    if fn == "classificationReport":
        kw["output_dict"] = True
    entry = {"id": id_, "fn": fn, "args": [intern(a) for a in args], "options": plain(options)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry["value"] = plain(SK[fn](*[np.asarray(a) for a in args], **kw))
        except (ValueError, TypeError) as e:
            entry["raises"] = str(e)
    entry["warnings"] = sorted(
        {str(w.message) for w in caught if w.category in (UndefinedMetricWarning, UserWarning)}
    )
    calls.append(entry)


def r9(a):
    return [float("%.9g" % v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def rows9(a):
    a = np.asarray(a, dtype=np.float64)
    return [r9(row) for row in a]


def docs():
    # accuracy_score
    yp, yt = [0, 2, 1, 3], [0, 1, 2, 3]
    case("accuracy doc", "accuracyScore", [yt, yp])
    case("accuracy doc normalize=False", "accuracyScore", [yt, yp], {"normalize": False})
    case("accuracy doc multilabel", "accuracyScore", [[[0, 1], [1, 1]], np.ones((2, 2))])
    case("accuracy sample_weight", "accuracyScore", [yt, yp], {"sampleWeight": [1, 2, 3, 4]})
    case("accuracy strings", "accuracyScore", [["a", "b"], ["a", "a"]])
    case("accuracy probabilities as y_pred", "accuracyScore", [[0, 1, 1], [0.2, 0.7, 0.9]])
    case("accuracy one-hot y_true, label y_pred", "accuracyScore",
         [[[1, 0, 0], [0, 1, 0], [0, 0, 1]], [0, 1, 1]])
    # balanced_accuracy_score
    yt, yp = [0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]
    case("balanced doc", "balancedAccuracyScore", [yt, yp])
    case("balanced adjusted", "balancedAccuracyScore", [yt, yp], {"adjusted": True})
    case("balanced sample_weight", "balancedAccuracyScore", [yt, yp],
         {"sampleWeight": [1, 2, 1, 1, 3, 1]})
    case("balanced class only predicted", "balancedAccuracyScore", [[0, 0, 1, 1], [0, 2, 1, 1]])
    # top_k_accuracy_score
    yt = [0, 1, 2, 2]
    ys = [[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]]
    case("top_k doc", "topKAccuracyScore", [yt, ys], {"k": 2})
    case("top_k doc normalize=False", "topKAccuracyScore", [yt, ys], {"k": 2, "normalize": False})
    case("top_k default k", "topKAccuracyScore", [yt, ys])
    case("top_k k=1", "topKAccuracyScore", [yt, ys], {"k": 1})
    case("top_k k=3 (warns)", "topKAccuracyScore", [yt, ys], {"k": 3})
    case("top_k sample_weight", "topKAccuracyScore", [yt, ys], {"k": 1, "sampleWeight": [1, 1, 2, 3]})
    case("top_k class missing from y_true, labels", "topKAccuracyScore",
         [[0, 1, 1, 0], ys], {"k": 1, "labels": [0, 1, 2]})
    case("top_k class missing from y_true, no labels", "topKAccuracyScore", [[0, 1, 1, 0], ys])
    case("top_k binary scores", "topKAccuracyScore", [[0, 1, 1, 0], [0.2, 0.6, 0.4, 0.1]], {"k": 1})
    case("top_k binary decision values", "topKAccuracyScore",
         [[0, 1, 1, 0], [-2.0, 0.5, -0.3, 1.5]], {"k": 1})

    # precision / recall / f1 / fbeta
    yt, yp = [0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]
    for fn in ("precisionScore", "recallScore", "f1Score"):
        for avg in ("macro", "micro", "weighted", None):
            case(f"{fn} doc average={avg}", fn, [yt, yp], {"average": avg})
        case(f"{fn} default on multiclass", fn, [yt, yp])
    case("precision doc all zero pred", "precisionScore", [yt, [0] * 6], {"average": None})
    case("precision doc all zero pred zd=1", "precisionScore", [yt, [0] * 6],
         {"average": None, "zeroDivision": 1})
    case("recall doc all zero true", "recallScore", [[0] * 6, yp], {"average": None})
    case("recall doc all zero true zd=1", "recallScore", [[0] * 6, yp],
         {"average": None, "zeroDivision": 1})
    case("f1 doc all zero zd=1", "f1Score", [[0] * 6, [0] * 6], {"zeroDivision": 1})
    case("f1 all zero default", "f1Score", [[0] * 6, [0] * 6])
    mlt, mlp = [[0, 0, 0], [1, 1, 1], [0, 1, 1]], [[0, 0, 0], [1, 1, 1], [1, 1, 0]]
    for fn in ("precisionScore", "recallScore", "f1Score"):
        case(f"{fn} doc multilabel", fn, [mlt, mlp], {"average": None})
        for avg in ("micro", "macro", "weighted", "samples", "binary"):
            case(f"{fn} multilabel average={avg}", fn, [mlt, mlp], {"average": avg})
    for avg in ("macro", "micro", "weighted", None):
        case(f"fbeta doc average={avg}", "fbetaScore", [yt, yp], {"average": avg, "beta": 0.5})
    case("fbeta beta=2 binary", "fbetaScore", [[0, 1, 1, 0, 1], [0, 1, 0, 1, 1]], {"beta": 2})
    # the variants users write
    bt, bp = [0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 0, 1]
    for fn in ("precisionScore", "recallScore", "f1Score"):
        case(f"{fn} binary", fn, [bt, bp])
        case(f"{fn} binary pos_label=0", fn, [bt, bp], {"posLabel": 0})
        case(f"{fn} binary sample_weight", fn, [bt, bp], {"sampleWeight": [1, 2, 3, 1, 1, 0.5]})
        case(f"{fn} pos_label with macro", fn, [bt, bp], {"average": "macro", "posLabel": 0})
        case(f"{fn} labels subset micro", fn, [yt, yp], {"average": "micro", "labels": [0, 1]})
        case(f"{fn} labels subset macro", fn, [yt, yp], {"average": "macro", "labels": [1, 0]})
        case(f"{fn} labels extra", fn, [yt, yp], {"average": None, "labels": [0, 1, 2, 3]})
        case(f"{fn} labels extra macro zd=1", fn, [yt, yp],
             {"average": "macro", "labels": [0, 1, 2, 3], "zeroDivision": 1})
        case(f"{fn} labels with binary", fn, [bt, bp], {"labels": [1]})
        case(f"{fn} zero_division nan", fn, [yt, [0] * 6], {"average": None, "zeroDivision": "nan"})
        case(f"{fn} zero_division 0", fn, [yt, [0] * 6], {"average": "macro", "zeroDivision": 0})
        case(f"{fn} zero_division warn", fn, [yt, [0] * 6],
             {"average": "macro", "zeroDivision": "warn"})
        case(f"{fn} class missing from y_pred", fn, [[0, 1, 2, 2], [0, 1, 1, 1]], {"average": "weighted"})
        case(f"{fn} class missing from y_true", fn, [[0, 1, 1, 1], [0, 1, 2, 2]], {"average": "weighted"})
        case(f"{fn} string labels", fn, [["cat", "dog", "cat"], ["cat", "cat", "dog"]],
             {"average": "macro"})
        case(f"{fn} string labels pos_label", fn, [["cat", "dog", "cat"], ["cat", "cat", "dog"]],
             {"posLabel": "dog"})
        case(f"{fn} probabilities as y_pred", fn, [bt, [0.1, 0.9, 0.4, 0.2, 0.3, 0.8]])
        case(f"{fn} one-hot y_true, label y_pred", fn, [[[1, 0], [0, 1], [0, 1]], [0, 1, 0]])
        case(f"{fn} -1/1 labels", fn, [[-1, 1, 1, -1], [-1, 1, -1, 1]])
        case(f"{fn} samples on multiclass", fn, [yt, yp], {"average": "samples"})
        case(f"{fn} multilabel labels subset", fn, [mlt, mlp], {"average": "macro", "labels": [0, 2]})
        case(f"{fn} multilabel sample_weight", fn, [mlt, mlp],
             {"average": "samples", "sampleWeight": [1, 2, 3]})
    # precision_recall_fscore_support (doc uses strings: cat=0, dog=1, pig=2)
    st = ["cat", "dog", "pig", "cat", "dog", "pig"]
    sp = ["cat", "pig", "dog", "cat", "cat", "dog"]
    code = {"cat": 0, "dog": 1, "pig": 2}
    it, ip = [code[v] for v in st], [code[v] for v in sp]
    for avg in ("macro", "micro", "weighted"):
        case(f"prfs doc strings average={avg}", "precisionRecallFscoreSupport", [st, sp],
             {"average": avg})
        case(f"prfs doc as ints average={avg}", "precisionRecallFscoreSupport", [it, ip],
             {"average": avg})
    case("prfs doc strings labels", "precisionRecallFscoreSupport", [st, sp],
         {"average": None, "labels": ["pig", "dog", "cat"]})
    case("prfs doc as ints labels", "precisionRecallFscoreSupport", [it, ip],
         {"average": None, "labels": [2, 1, 0]})
    case("prfs default", "precisionRecallFscoreSupport", [it, ip])
    case("prfs beta=2 sample_weight", "precisionRecallFscoreSupport", [it, ip],
         {"beta": 2, "sampleWeight": [1, 2, 1, 2, 1, 2]})
    case("prfs binary", "precisionRecallFscoreSupport", [bt, bp], {"average": "binary"})
    case("prfs multilabel samples", "precisionRecallFscoreSupport", [mlt, mlp], {"average": "samples"})

    # classification_report (text and output_dict)
    yt, yp = [0, 1, 2, 2, 2], [0, 0, 2, 2, 1]
    names = ["class 0", "class 1", "class 2"]
    for fn in ("classificationReportText", "classificationReport"):
        case(f"{fn} doc target_names", fn, [yt, yp], {"targetNames": names})
        case(f"{fn} doc labels=[1,2,3]", fn, [[1, 1, 1], [1, 1, 0]], {"labels": [1, 2, 3]})
        case(f"{fn} digits=4", fn, [yt, yp], {"digits": 4})
        case(f"{fn} zero_division=1", fn, [yt, [0, 0, 2, 2, 2]], {"zeroDivision": 1})
        case(f"{fn} sample_weight", fn, [yt, yp], {"sampleWeight": [1, 2, 1, 1, 3]})
        case(f"{fn} labels subset", fn, [yt, yp], {"labels": [2, 0]})
        case(f"{fn} multilabel", fn, [mlt, mlp])
        case(f"{fn} strings", fn, [st, sp])
        case(f"{fn} target_names too short", fn, [yt, yp], {"targetNames": ["a", "b"]})

    # confusion_matrix
    yt, yp = [2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]
    case("confusion doc", "confusionMatrix", [yt, yp])
    ct = ["cat", "ant", "cat", "cat", "ant", "bird"]
    cp = ["ant", "ant", "cat", "cat", "ant", "cat"]
    case("confusion doc strings", "confusionMatrix", [ct, cp], {"labels": ["ant", "bird", "cat"]})
    case("confusion doc strings as ints", "confusionMatrix", [yt, yp], {"labels": [0, 1, 2]})
    case("confusion doc binary ravel", "confusionMatrix", [[0, 1, 0, 1], [1, 1, 1, 0]])
    for norm in ("true", "pred", "all"):
        case(f"confusion normalize={norm}", "confusionMatrix", [yt, yp], {"normalize": norm})
    case("confusion labels subset", "confusionMatrix", [yt, yp], {"labels": [2, 0]})
    case("confusion labels extra", "confusionMatrix", [yt, yp], {"labels": [0, 1, 2, 3]})
    case("confusion labels none in y_true", "confusionMatrix", [yt, yp], {"labels": [5, 6]})
    case("confusion sample_weight normalize", "confusionMatrix", [yt, yp],
         {"sampleWeight": [1, 2, 1, 0.5, 1, 3], "normalize": "true"})
    case("confusion one-hot", "confusionMatrix", [[[1, 0], [0, 1]], [[1, 0], [1, 0]]])
    case("confusion -1/1", "confusionMatrix", [[-1, 1, 1, -1], [-1, 1, -1, 1]])

    # multilabel_confusion_matrix
    case("mcm doc multilabel", "multilabelConfusionMatrix",
         [[[1, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 1, 1]]])
    case("mcm doc strings", "multilabelConfusionMatrix", [ct, cp], {"labels": ["ant", "bird", "cat"]})
    ict = [{"ant": 0, "bird": 1, "cat": 2}[v] for v in ct]
    icp = [{"ant": 0, "bird": 1, "cat": 2}[v] for v in cp]
    case("mcm doc strings as ints", "multilabelConfusionMatrix", [ict, icp], {"labels": [0, 1, 2]})
    case("mcm multiclass default", "multilabelConfusionMatrix", [ict, icp])
    case("mcm samplewise", "multilabelConfusionMatrix",
         [[[1, 0, 1], [0, 1, 0]], [[1, 0, 0], [0, 1, 1]]], {"samplewise": True})
    case("mcm labels subset extra", "multilabelConfusionMatrix", [ict, icp], {"labels": [2, 5]})
    case("mcm sample_weight", "multilabelConfusionMatrix", [ict, icp],
         {"sampleWeight": [1, 2, 3, 1, 2, 3]})

    # roc_auc_score: the docs' fitted models, scores rounded and stored
    from sklearn.datasets import load_breast_cancer, load_iris, make_multilabel_classification
    from sklearn.linear_model import LogisticRegression, RidgeClassifierCV
    from sklearn.multioutput import MultiOutputClassifier
    X, y = load_breast_cancer(return_X_y=True)
    clf = LogisticRegression(solver="liblinear", random_state=0).fit(X, y)
    yb = [int(v) for v in y]
    pb = r9(clf.predict_proba(X)[:, 1])
    case("roc_auc doc binary proba", "rocAucScore", [yb, pb])
    case("roc_auc doc binary decision_function", "rocAucScore", [yb, r9(clf.decision_function(X))])
    case("roc_auc binary average=None", "rocAucScore", [yb, pb], {"average": None})
    case("roc_auc binary max_fpr", "rocAucScore", [yb, pb], {"maxFpr": 0.5})
    X, y = load_iris(return_X_y=True)
    clf = LogisticRegression(solver="liblinear").fit(X, y)
    yi = [int(v) for v in y]
    # liblinear's probabilities are normalised in float64; rounding keeps rows within 1e-8 of 1.
    pi = rows9(clf.predict_proba(X))
    case("roc_auc doc multiclass ovr", "rocAucScore", [yi, pi], {"multiClass": "ovr"})
    case("roc_auc multiclass default multi_class", "rocAucScore", [yi, pi])
    for avg in ("macro", "weighted", "micro", None):
        case(f"roc_auc multiclass ovr average={avg}", "rocAucScore", [yi, pi],
             {"multiClass": "ovr", "average": avg})
    case("roc_auc multiclass ovo", "rocAucScore", [yi, pi], {"multiClass": "ovo"})
    case("roc_auc multiclass labels", "rocAucScore", [yi, pi],
         {"multiClass": "ovr", "labels": [0, 1, 2]})
    small_t = [0, 1, 2, 2, 1, 0]
    small_p = [[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.1, 0.2, 0.7],
               [0.2, 0.5, 0.3], [0.3, 0.4, 0.3], [0.6, 0.3, 0.1]]
    case("roc_auc small ovr sample_weight weighted", "rocAucScore", [small_t, small_p],
         {"multiClass": "ovr", "average": "weighted", "sampleWeight": [1, 2, 1, 1, 3, 1]})
    case("roc_auc class missing from y_true", "rocAucScore", [[0, 1, 1, 0, 1, 0], small_p],
         {"multiClass": "ovr"})
    case("roc_auc class missing, labels", "rocAucScore", [[0, 1, 1, 0, 1, 0], small_p],
         {"multiClass": "ovr", "labels": [0, 1, 2]})
    case("roc_auc strings binary", "rocAucScore", [["a", "b", "b", "a"], [0.1, 0.8, 0.3, 0.4]])
    case("roc_auc two columns binary", "rocAucScore",
         [[0, 1, 1, 0], [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.6, 0.4]]])
    case("roc_auc one-hot y_true multiclass", "rocAucScore",
         [[[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0]], small_p])
    X, y = make_multilabel_classification(random_state=0)
    ym = y.astype(int).tolist()
    mo = MultiOutputClassifier(clf).fit(X, y)
    pm = np.transpose([p[:, 1] for p in mo.predict_proba(X)])
    pm = rows9(pm)
    case("roc_auc doc multilabel proba", "rocAucScore", [ym, pm], {"average": None})
    rc = RidgeClassifierCV().fit(X, y)
    case("roc_auc doc multilabel decision", "rocAucScore", [ym, rows9(rc.decision_function(X))],
         {"average": None})
    for avg in ("macro", "micro", "weighted", "samples"):
        case(f"roc_auc multilabel average={avg}", "rocAucScore", [ym, pm], {"average": avg})

    # roc_curve, precision_recall_curve, average_precision_score, auc
    y, s = [1, 1, 2, 2], [0.1, 0.4, 0.35, 0.8]
    case("roc_curve doc pos_label=2", "rocCurve", [y, s], {"posLabel": 2})
    case("roc_curve no pos_label 1/2", "rocCurve", [y, s])
    case("roc_curve drop_intermediate=False", "rocCurve", [[0, 0, 1, 1, 1, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]],
         {"dropIntermediate": False})
    case("roc_curve drop_intermediate=True", "rocCurve", [[0, 0, 1, 1, 1, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    case("roc_curve -1/1", "rocCurve", [[-1, -1, 1, 1], s])
    case("roc_curve sample_weight", "rocCurve", [[0, 0, 1, 1], s], {"sampleWeight": [1, 2, 3, 0.5]})
    case("roc_curve strings pos_label", "rocCurve", [["a", "a", "b", "b"], s], {"posLabel": "b"})
    case("roc_curve multiclass y", "rocCurve", [[0, 1, 2, 1], s])
    yt, ys = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    case("pr_curve doc", "precisionRecallCurve", [yt, ys])
    case("pr_curve pos_label=0", "precisionRecallCurve", [yt, ys], {"posLabel": 0})
    case("pr_curve sample_weight", "precisionRecallCurve", [yt, ys], {"sampleWeight": [2, 1, 1, 3]})
    case("pr_curve ties", "precisionRecallCurve", [[0, 1, 1, 0, 1], [0.5, 0.5, 0.9, 0.1, 0.5]])
    case("ap doc", "averagePrecisionScore", [yt, ys])
    case("ap pos_label=0", "averagePrecisionScore", [yt, ys], {"posLabel": 0})
    case("ap sample_weight", "averagePrecisionScore", [yt, ys], {"sampleWeight": [2, 1, 1, 3]})
    case("ap multilabel macro", "averagePrecisionScore", [ym, pm])
    for avg in ("micro", "weighted", "samples", None):
        case(f"ap multilabel average={avg}", "averagePrecisionScore", [ym, pm], {"average": avg})
    case("ap multiclass", "averagePrecisionScore", [small_t, small_p])
    case("ap multiclass average=None", "averagePrecisionScore", [small_t, small_p], {"average": None})
    case("ap -1/1", "averagePrecisionScore", [[-1, -1, 1, 1], ys])
    case("ap multiclass 1-D scores", "averagePrecisionScore", [[0, 1, 2, 1], ys])
    case("auc doc", "auc", [[0, 0, 0.5, 0.5, 1], [0, 0.5, 0.5, 1, 1]])
    case("auc decreasing x", "auc", [[1, 0.5, 0], [1, 0.5, 0.2]])

    # log_loss (doc uses "spam"/"ham": ham=0, spam=1 sorted)
    probs = [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]
    case("log_loss doc strings", "logLoss", [["spam", "ham", "ham", "spam"], probs])
    case("log_loss doc as ints", "logLoss", [[1, 0, 0, 1], probs])
    case("log_loss 1-D probs", "logLoss", [[1, 0, 0, 1], [0.9, 0.1, 0.2, 0.65]])
    case("log_loss eps", "logLoss", [[1, 0, 0, 1], [1.0, 0.0, 0.2, 0.65]], {"eps": 1e-7})
    case("log_loss eps auto 0 and 1", "logLoss", [[1, 0, 0, 1], [1.0, 0.0, 0.2, 0.0]])
    case("log_loss normalize=False", "logLoss", [[1, 0, 0, 1], probs], {"normalize": False})
    case("log_loss sample_weight", "logLoss", [[1, 0, 0, 1], probs], {"sampleWeight": [1, 2, 3, 4]})
    p3 = [[0.2, 0.7, 0.1], [0.6, 0.2, 0.2], [0.6, 0.1, 0.3], [0.3, 0.4, 0.3]]
    case("log_loss labels (class missing from y_true)", "logLoss", [[1, 0, 0, 1], p3],
         {"labels": [0, 1, 2]})
    case("log_loss class missing, no labels", "logLoss", [[1, 0, 0, 1], p3])
    case("log_loss rows not summing to 1", "logLoss", [[1, 0, 2, 1], [[1, 2, 1], [2, 1, 1], [1, 1, 2], [1, 3, 1]]])
    case("log_loss one-hot y_true", "logLoss", [[[0, 1], [1, 0], [1, 0], [0, 1]], probs])
    case("log_loss labels 1/2", "logLoss", [[2, 1, 1, 2], probs])
    # brier_score_loss
    yt, yprob = [0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]
    case("brier doc", "brierScoreLoss", [yt, yprob])
    case("brier doc pos_label=0", "brierScoreLoss", [yt, [1 - v for v in yprob]], {"posLabel": 0})
    case("brier doc strings", "brierScoreLoss", [["spam", "ham", "ham", "spam"], yprob],
         {"posLabel": "ham"})
    case("brier doc booleans", "brierScoreLoss", [yt, [v > 0.5 for v in yprob]])
    case("brier doc booleans as 0/1", "brierScoreLoss", [yt, [1.0 if v > 0.5 else 0.0 for v in yprob]])
    case("brier sample_weight", "brierScoreLoss", [yt, yprob], {"sampleWeight": [1, 2, 3, 4]})
    case("brier labels 1/2", "brierScoreLoss", [[1, 2, 2, 1], yprob])
    case("brier one class", "brierScoreLoss", [[0, 0, 0, 0], yprob])
    case("brier one class 1", "brierScoreLoss", [[1, 1, 1, 1], yprob])

    # cohen_kappa_score (no doc example): the options
    a, b = [0, 1, 2, 2, 1, 0, 3, 2], [0, 2, 2, 1, 1, 0, 3, 3]
    for w in (None, "linear", "quadratic"):
        case(f"kappa weights={w}", "cohenKappaScore", [a, b], {"weights": w})
        case(f"kappa weights={w} labels", "cohenKappaScore", [a, b], {"weights": w, "labels": [0, 1, 2, 3, 4]})
    case("kappa labels subset", "cohenKappaScore", [a, b], {"labels": [1, 2]})
    case("kappa sample_weight", "cohenKappaScore", [a, b], {"sampleWeight": [1, 2, 1, 1, 2, 1, 1, 3]})
    case("kappa strings", "cohenKappaScore", [["x", "y", "x"], ["x", "x", "y"]])
    # matthews_corrcoef
    case("mcc doc", "matthewsCorrcoef", [[+1, +1, +1, -1], [+1, -1, +1, +1]])
    case("mcc doc as 0/1", "matthewsCorrcoef", [[1, 1, 1, 0], [1, 0, 1, 1]])
    case("mcc multiclass", "matthewsCorrcoef", [a, b])
    case("mcc sample_weight", "matthewsCorrcoef", [a, b], {"sampleWeight": [1, 2, 1, 1, 2, 1, 1, 3]})
    case("mcc constant", "matthewsCorrcoef", [[0, 1, 0, 1], [1, 1, 1, 1]])
    # hamming_loss, zero_one_loss
    yp, yt = [1, 2, 3, 4], [2, 2, 3, 4]
    case("hamming doc", "hammingLoss", [yt, yp])
    case("hamming doc multilabel", "hammingLoss", [[[0, 1], [1, 1]], np.zeros((2, 2))])
    case("hamming sample_weight", "hammingLoss", [yt, yp], {"sampleWeight": [3, 1, 1, 1]})
    case("zero_one doc", "zeroOneLoss", [yt, yp])
    case("zero_one doc normalize=False", "zeroOneLoss", [yt, yp], {"normalize": False})
    case("zero_one doc multilabel", "zeroOneLoss", [[[0, 1], [1, 1]], np.ones((2, 2))])
    case("zero_one sample_weight", "zeroOneLoss", [yt, yp], {"sampleWeight": [3, 1, 1, 1]})
    # jaccard_score
    jt, jp = [[0, 1, 1], [1, 1, 0]], [[1, 1, 1], [1, 0, 0]]
    case("jaccard doc binary", "jaccardScore", [jt[0], jp[0]])
    case("jaccard doc micro", "jaccardScore", [jt, jp], {"average": "micro"})
    case("jaccard doc samples", "jaccardScore", [jt, jp], {"average": "samples"})
    case("jaccard doc macro", "jaccardScore", [jt, jp], {"average": "macro"})
    case("jaccard doc None", "jaccardScore", [jt, jp], {"average": None})
    case("jaccard doc multiclass None", "jaccardScore", [[0, 1, 2, 2], [0, 2, 1, 2]], {"average": None})
    case("jaccard multiclass default", "jaccardScore", [[0, 1, 2, 2], [0, 2, 1, 2]])
    case("jaccard weighted", "jaccardScore", [[0, 1, 2, 2], [0, 2, 1, 2]], {"average": "weighted"})
    case("jaccard pos_label=0", "jaccardScore", [jt[0], jp[0]], {"posLabel": 0})
    case("jaccard labels extra", "jaccardScore", [[0, 1, 2, 2], [0, 2, 1, 2]],
         {"average": None, "labels": [0, 1, 2, 3]})
    case("jaccard zero_division=1", "jaccardScore", [[0, 0], [0, 0]], {"zeroDivision": 1})
    case("jaccard zero_division default", "jaccardScore", [[0, 0], [0, 0]])
    case("jaccard sample_weight", "jaccardScore", [[0, 1, 2, 2], [0, 2, 1, 2]],
         {"average": "macro", "sampleWeight": [1, 2, 3, 4]})
    # calibration_curve
    yt = [0, 0, 0, 0, 1, 1, 1, 1, 1]
    yp = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1.0]
    case("calibration doc", "calibrationCurve", [yt, yp], {"nBins": 3})
    case("calibration default bins", "calibrationCurve", [yt, yp])
    case("calibration quantile", "calibrationCurve", [yt, yp], {"nBins": 3, "strategy": "quantile"})
    case("calibration pos_label=0", "calibrationCurve", [yt, [1 - v for v in yp]],
         {"nBins": 3, "posLabel": 0})
    case("calibration strings", "calibrationCurve", [["a"] * 4 + ["b"] * 5, yp],
         {"nBins": 3, "posLabel": "b"})


def main():
    docs()
    data = {"sklearn": sklearn.__version__, "shared": shared, "calls": calls}
    with open(OUT, "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
    print(f"{len(calls)} calls -> {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
