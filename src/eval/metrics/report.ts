/**
 * `classificationReport`: per-class precision, recall, F1 and support with
 * macro and weighted averages, accuracy and balanced accuracy, as
 * `sklearn.metrics.classification_report(..., zero_division=0)` and
 * `balanced_accuracy_score` compute them. Without `numClasses` or
 * `classNames` the classes are the labels present in either list (sklearn's
 * default, `unique_labels`); with them, every class 0..C-1 (sklearn's
 * `labels=range(C)`), present or not.
 *
 * @module
 */
import { confusionMatrix, oneVsRestCounts, ratio } from "./confusion.ts";
import {
  checkLabels,
  checkNotEmpty,
  checkSameLength,
  type Labels,
  type Targets,
} from "./labels.ts";
import { labelValues } from "./inputs.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { readIndicator } from "./target.ts";
import { checkSampleWeight, type SampleWeight, totalWeight, zeroWeights } from "./weights.ts";
import { multilabelReport } from "./report_multilabel.ts";
import { setWiseCounts } from "./setwise.ts";

/** The metrics of one class. */
export interface ClassMetrics {
  /** The class index. */
  label: number;
  /** The class name (`classNames[label]`, or the index as text). */
  name: string;
  /** TP / (TP + FP); 0 when the class is never predicted. */
  precision: number;
  /** TP / (TP + FN), the sensitivity; 0 when the class never occurs. */
  recall: number;
  /** 2 TP / (2 TP + FP + FN); 0 when that is 0 / 0. */
  f1: number;
  /** Number of samples whose true label is this class (their summed weight with `sampleWeight`). */
  support: number;
  /** Number of samples predicted as this class (their summed weight with `sampleWeight`). */
  predicted: number;
  /** TN / (TN + FP), one-vs-rest; 0 when there are no negatives. */
  specificity: number;
  /** Same as `recall`, under the name clinicians use. */
  sensitivity: number;
}

/** An averaged row of the report. */
export interface AverageMetrics {
  /** Averaged precision. */
  precision: number;
  /** Averaged recall. */
  recall: number;
  /** Averaged F1. */
  f1: number;
  /** Total number of samples (their summed weight with `sampleWeight`). */
  support: number;
}

/** What `classificationReport` returns. */
export interface ClassificationReport {
  /**
   * One entry per class, by increasing label: every class 0..C-1 when
   * `numClasses` or `classNames` is given (classes that never occur
   * included), else only the labels present in `yTrue` or `yPred`.
   */
  classes: ClassMetrics[];
  /**
   * Fraction of samples predicted correctly (weighted with `sampleWeight`);
   * for multilabel indicators, of samples with every label right (subset
   * accuracy).
   */
  accuracy: number;
  /**
   * Mean recall over the classes that occur in `yTrue` (sklearn's
   * `balanced_accuracy_score`, which leaves out classes without support);
   * NaN for multilabel indicators, where sklearn does not define it.
   */
  balancedAccuracy: number;
  /** Unweighted mean over the classes of `classes` (sklearn's "macro avg"). */
  macroAvg: AverageMetrics;
  /** Mean weighted by support (sklearn's "weighted avg"). */
  weightedAvg: AverageMetrics;
  /**
   * Multilabel indicators only: the averages of the counts summed over the
   * labels (sklearn's "micro avg"; for class labels it equals `accuracy`).
   */
  microAvg?: AverageMetrics;
  /** Multilabel indicators only: the mean over samples (sklearn's "samples avg"). */
  samplesAvg?: AverageMetrics;
  /**
   * The confusion matrix the numbers come from: rows are true labels, and
   * rows and columns follow `classes` (row i is `classes[i].label`); its
   * entries are summed weights with `sampleWeight`. Empty for multilabel
   * indicators, whose counts are in `multilabelConfusion`.
   */
  confusion: number[][];
  /**
   * Multilabel indicators only: one [[tn, fp], [fn, tp]] matrix per label,
   * as `multilabelConfusionMatrix`.
   */
  multilabelConfusion?: number[][][];
  /**
   * True when `sampleWeight` was given: supports are then sums of weights,
   * and `formatClassificationReport` prints them as sklearn does (4.0).
   */
  sampleWeighted?: boolean;
  /**
   * With `sampleWeight`: whether every class listed occurs in yTrue or
   * yPred, samples of weight 0 included (sklearn's `unique_labels` ignores
   * the weights), which `formatClassificationReport` reads to print an
   * accuracy row, as sklearn's; a support of 0 cannot tell it then.
   */
  allLabelsSeen?: boolean;
}

/** Options of `classificationReport`. */
export interface ClassificationReportOptions {
  /**
   * Number of classes C: the report has a row for each of 0..C-1, as
   * sklearn's `labels=range(C)`. Default `classNames.length`; without
   * either, the labels present in `yTrue` or `yPred` (sklearn's default).
   */
  numClasses?: number;
  /** Display names of the classes, indexed by label; sets `numClasses`. */
  classNames?: readonly string[];
  /**
   * One weight per sample (sklearn's `sample_weight`): every count of the
   * report is a sum of weights. Finite, >= 0, not all 0.
   */
  sampleWeight?: SampleWeight;
}

const CLASSIFICATION_REPORT: CallContract<ClassificationReportOptions> = {
  where: "metrics.classificationReport",
  most: 3,
  known: ["numClasses", "classNames", "sampleWeight"],
  usage: 'metrics.classificationReport(yTrue, yPred, { classNames: ["no liver", "liver"] })',
};

/**
 * Precision, recall, F1, support, specificity and sensitivity per class,
 * their macro and weighted averages, accuracy and balanced accuracy.
 *
 * Undefined ratios are 0, like sklearn's default `zero_division` but with no
 * warning: a class that is never predicted has precision 0, a class that
 * never occurs has recall 0.
 *
 * Which classes: without `numClasses` or `classNames`, those whose label
 * occurs in `yTrue` or `yPred`, as sklearn without `labels`, so
 * `[0, 0, 2, 2]` against `[0, 2, 2, 2]` reports classes 0 and 2 only. With
 * either option every class 0..C-1 has a row and counts in the macro
 * average even when it occurs nowhere (as sklearn's `labels=range(C)`).
 * Balanced accuracy leaves out classes without support either way (as
 * sklearn's does).
 *
 * Multilabel indicators ([N, K] matrices of 0 and 1, one column per
 * finding) give one row per label and sklearn's micro, macro, weighted and
 * samples averages; `accuracy` is then the subset accuracy. `sampleWeight`
 * weighs every count, as sklearn's `sample_weight`.
 *
 * @param yTrue True labels: an array, or a 1-D Tensor; or an [N, K] indicator.
 * @param yPred Predicted labels, same length (e.g. `logits.argmax(1)`) and form.
 * @param options Number of classes, class names and `sampleWeight`.
 * @returns The report; `formatClassificationReport` renders it as sklearn's text.
 * @throws {RangeError} When there are no samples, the lengths differ, a
 * label is out of range, or `classNames` does not have `numClasses` entries.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const r = metrics.classificationReport([0, 1, 2, 2, 2], [0, 0, 2, 2, 1], {
 *   classNames: ["no liver", "liver", "lesion"],
 * });
 * assert.equal(r.accuracy, 0.6);
 * assert.equal(r.classes[1].precision, 0); // predicted once, wrongly
 * assert.equal(r.classes[2].recall, 2 / 3);
 * console.log(metrics.formatClassificationReport(r));
 * // Without names or numClasses, only the labels that occur (as sklearn):
 * const seen = metrics.classificationReport([0, 0, 2, 2], [0, 2, 2, 2]);
 * assert.deepEqual(seen.classes.map((c) => c.label), [0, 2]);
 * // Multilabel findings, one column each:
 * const ml = metrics.classificationReport([[1, 0], [1, 1], [0, 1]], [[1, 0], [0, 1], [0, 1]], {
 *   classNames: ["lesion", "cyst"],
 * });
 * assert.equal(ml.microAvg?.recall, 0.75);
 * console.log(metrics.formatClassificationReport(ml));
 * ```
 */
export function classificationReport(
  yTrue: Targets,
  yPred: Targets,
  options: ClassificationReportOptions = {},
): ClassificationReport {
  const fn = "classificationReport";
  options = checkContract(CLASSIFICATION_REPORT, arguments.length, options);
  checkSameLength(fn, yTrue, "yTrue", yPred, "yPred");
  const { classNames } = options;
  const k = options.numClasses ?? classNames?.length;
  if (classNames !== undefined && classNames.length !== k) {
    throw new RangeError(`${fn}: ${classNames.length} classNames for ${k} classes`);
  }
  if (readIndicator(fn, "yTrue", yTrue) || readIndicator(fn, "yPred", yPred)) {
    return multilabelReport(fn, yTrue, yPred, k, classNames, options.sampleWeight);
  }
  // Tensors are copied to the host once here; n below must be a real count.
  const t = labelValues(fn, "yTrue", yTrue as Labels);
  const p = labelValues(fn, "yPred", yPred as Labels);
  const n = t.length;
  checkNotEmpty(fn, n);
  if (k !== undefined) confusionMatrix(t, p, k); // labels in [0, k), or its error
  const ti = checkLabels(fn, "yTrue", t), pi = checkLabels(fn, "yPred", p);
  const w = checkSampleWeight(fn, options.sampleWeight, n);
  const total = totalWeight(w, n);
  if (total === 0) throw zeroWeights(fn);
  let labels: number[], confusion: number[][];
  if (k !== undefined) {
    labels = Array.from({ length: k }, (_, i) => i);
    confusion = confusionMatrix(t, p, k, w);
  } else {
    // sklearn's unique_labels: the sorted labels of either list. Rows are
    // indexed by position, so a large label does not make a huge matrix.
    const seen = new Set<number>(ti);
    for (const v of pi) seen.add(v);
    labels = [...seen].sort((a, b) => a - b);
    const index = new Map(labels.map((label, i) => [label, i]));
    const at = (y: Int32Array) => y.map((v) => index.get(v)!);
    confusion = confusionMatrix(at(ti), at(pi), labels.length, w);
  }
  // Sums over samples in sample order, as sklearn's bincount (weighted
  // sums then round as sklearn's do); the confusion matrix gives tn.
  const sums = setWiseCounts(fn, { kind: "labels", t: ti, p: pi }, labels, w, false);
  const counts = oneVsRestCounts(confusion);
  const classes = counts.map((c, i): ClassMetrics => {
    const tp = sums.tp[i], fp = sums.pred[i] - tp, fn = sums.true[i] - tp;
    const recall = ratio(tp, tp + fn);
    const label = labels[i];
    return {
      label,
      name: classNames?.[label] ?? String(label),
      precision: ratio(tp, sums.pred[i]),
      recall,
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      support: sums.true[i],
      predicted: sums.pred[i],
      specificity: ratio(c.tn, c.tn + c.fp),
      sensitivity: recall,
    };
  });
  const correct = sums.tp.reduce((a, b) => a + b, 0);
  const present = classes.filter((c) => c.support > 0);
  const support = classes.reduce((a, c) => a + c.support, 0);
  const occurring = new Set([...ti, ...pi]); // weights aside, as sklearn's unique_labels
  return {
    classes,
    accuracy: ratio(correct, total),
    balancedAccuracy: ratio(present.reduce((s, c) => s + c.recall, 0), present.length),
    macroAvg: average(classes, () => 1, support),
    weightedAvg: average(classes, (c) => c.support, support),
    confusion,
    ...(w === undefined ? {} : {
      sampleWeighted: true,
      allLabelsSeen: labels.every((l) => occurring.has(l)),
    }),
  };
}

/** The mean of the rows of `classes`, weighted by `weight`. */
export function average(
  classes: ClassMetrics[],
  weight: (c: ClassMetrics) => number,
  n: number,
): AverageMetrics {
  let w = 0, p = 0, r = 0, f = 0;
  for (const c of classes) {
    const wc = weight(c);
    w += wc;
    p += wc * c.precision;
    r += wc * c.recall;
    f += wc * c.f1;
  }
  return { precision: ratio(p, w), recall: ratio(r, w), f1: ratio(f, w), support: n };
}
