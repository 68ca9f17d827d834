/**
 * `classificationReport`: per-class precision, recall, F1 and support with
 * macro and weighted averages, accuracy and balanced accuracy, as
 * `sklearn.metrics.classification_report` (1.2: `labels`, `target_names`,
 * `digits`, `output_dict`, `zero_division`, `sample_weight`) and
 * `balanced_accuracy_score` compute them. Without `labels`, `numClasses` or
 * `classNames` the classes are the labels present in either list (sklearn's
 * default, `unique_labels`); with `numClasses` or `classNames`, every class
 * 0..C-1 (sklearn's `labels=range(C)`), present or not; with `labels`,
 * those, in that order.
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
import { checkSampleWeight, type SampleWeight, totalWeight } from "./weights.ts";
import { multilabelReport } from "./report_multilabel.ts";
import { setWiseCounts } from "./setwise.ts";
import {
  checkLabelList,
  checkZeroDivision,
  show,
  uniqueSorted,
  type ZeroDivision,
} from "./pairs.ts";
import { divide } from "./prf.ts";
import { checkDigits, type ClassificationReportDict, reportDict, withReportText } from "./text.ts";

/** The metrics of one class. */
export interface ClassMetrics {
  /** The class index. */
  label: number;
  /** The class name (`classNames[label]`, or the index as text). */
  name: string;
  /** TP / (TP + FP); `zeroDivision` (default 0) when the class is never predicted. */
  precision: number;
  /** TP / (TP + FN), the sensitivity; `zeroDivision` (default 0) when the class never occurs. */
  recall: number;
  /** 2 TP / (2 TP + FP + FN); `zeroDivision` (default 0) when that is 0 / 0. */
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
   * The averages of the counts summed over the labels (sklearn's "micro
   * avg"): for multilabel indicators, and for class labels where `labels`
   * leaves out a label that occurs (sklearn then prints this row in place of
   * accuracy; otherwise it equals `accuracy`).
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
  /** The `digits` asked for: `formatClassificationReport`'s default. */
  digits?: number;
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
   * The classes to report, in this order (sklearn's `labels`): classes that
   * occur in neither list included, with zero division; samples of classes
   * left out still count as negatives. Each below `numClasses` when that is
   * given.
   */
  labels?: readonly number[];
  /**
   * Names of the reported rows, in their order (sklearn's `target_names`):
   * one per entry of `labels`, or per class reported without it. Give this
   * or `classNames` (indexed by label), not both.
   */
  targetNames?: readonly string[];
  /**
   * The value of a 0 / 0 precision, recall or F1 (sklearn's
   * `zero_division`): "warn" (default: 0 and a one-time warning), 0 or 1.
   */
  zeroDivision?: ZeroDivision;
  /** Digits of `formatClassificationReport` (default 2), kept in the report. */
  digits?: number;
  /**
   * true: sklearn's `output_dict=True` layout (rows by name, "f1-score",
   * "accuracy", "macro avg", ...); see `ClassificationReportDict`. A
   * JavaScript object lists integer-like keys ("0", "10") first, in
   * ascending order, whatever the order of `labels`: iterate `labels` (or
   * the text report's rows) for sklearn's row order.
   */
  outputDict?: boolean;
  /**
   * One weight per sample (sklearn's `sample_weight`): every count of the
   * report is a sum of weights. Finite and >= 0 (sklearn takes negative
   * and NaN weights without a word; they throw here). All 0 gives sklearn
   * 1.2's report of nothing: supports 0, every ratio and `accuracy` the
   * `zeroDivision` value (with its warnings), `balancedAccuracy` NaN; for
   * multilabel indicators it throws, as sklearn's samples average.
   */
  sampleWeight?: SampleWeight;
}

const CLASSIFICATION_REPORT: CallContract<ClassificationReportOptions> = {
  where: "metrics.classificationReport",
  most: 3,
  known: [
    "numClasses",
    "classNames",
    "sampleWeight",
    "labels",
    "targetNames",
    "zeroDivision",
    "digits",
    "outputDict",
  ],
  usage: 'metrics.classificationReport(yTrue, yPred, { classNames: ["no liver", "liver"] })',
};

/**
 * Precision, recall, F1, support, specificity and sensitivity per class,
 * their macro and weighted averages, accuracy and balanced accuracy.
 *
 * Undefined ratios are `zeroDivision`: by default 0 with a one-time
 * warning, as sklearn's "warn": a class that is never predicted has
 * precision 0, a class that never occurs has recall 0.
 *
 * Which classes: without `numClasses` or `classNames`, those whose label
 * occurs in `yTrue` or `yPred`, as sklearn without `labels`, so
 * `[0, 0, 2, 2]` against `[0, 2, 2, 2]` reports classes 0 and 2 only. With
 * either option every class 0..C-1 has a row and counts in the macro
 * average even when it occurs nowhere (as sklearn's `labels=range(C)`).
 * `labels` lists the rows outright, in its order (sklearn's `labels`); the
 * averages are over them, and where it leaves out a label that occurs, the
 * report has sklearn's "micro avg" (`microAvg`) in place of accuracy.
 * `accuracy` and balanced accuracy are over every sample either way, and
 * balanced accuracy leaves out classes without support (as sklearn's
 * `balanced_accuracy_score`).
 *
 * Multilabel indicators ([N, K] matrices of 0 and 1, one column per
 * finding) give one row per label and sklearn's micro, macro, weighted and
 * samples averages; `accuracy` is then the subset accuracy. `sampleWeight`
 * weighs every count, as sklearn's `sample_weight`.
 *
 * @param yTrue True labels: an array, or a 1-D Tensor; or an [N, K] indicator.
 * @param yPred Predicted labels, same length (e.g. `logits.argmax(1)`) and form.
 * @param options Number of classes, class names, `labels`, `targetNames`,
 * `zeroDivision`, `digits`, `outputDict` and `sampleWeight`.
 * @returns The report; `formatClassificationReport` renders it as sklearn's
 * text, and so do `String(report)` and `console.log(report)` (Python's
 * `print(classification_report(...))`). With `outputDict: true`, sklearn's dict.
 * @throws {RangeError} When there are no samples, the lengths differ, a
 * label is out of range, `classNames` does not have `numClasses` entries,
 * or `targetNames` does not have one name per row.
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
 * assert.equal(String(r), metrics.formatClassificationReport(r)); // console.log(r) prints it too
 * // Without names or numClasses, only the labels that occur (as sklearn):
 * const seen = metrics.classificationReport([0, 0, 2, 2], [0, 2, 2, 2]);
 * assert.deepEqual(seen.classes.map((c) => c.label), [0, 2]);
 * // Multilabel findings, one column each:
 * const ml = metrics.classificationReport([[1, 0], [1, 1], [0, 1]], [[1, 0], [0, 1], [0, 1]], {
 *   classNames: ["lesion", "cyst"],
 * });
 * assert.equal(ml.microAvg?.recall, 0.75);
 * console.log(metrics.formatClassificationReport(ml));
 * // sklearn's labels, target_names, zero_division, digits and output_dict:
 * const d = metrics.classificationReport([0, 1, 1], [0, 1, 0], {
 *   labels: [1, 0, 2],
 *   targetNames: ["liver", "none", "lesion"],
 *   zeroDivision: 1,
 *   outputDict: true,
 * });
 * const row = (name: string) => d[name] as metrics.ReportDictRow; // "accuracy" is a number
 * assert.equal(row("lesion").precision, 1); // never predicted, nor present: 1
 * assert.equal(row("macro avg").recall, (0.5 + 1 + 1) / 3);
 * ```
 */
export function classificationReport(
  yTrue: Targets,
  yPred: Targets,
  options: ClassificationReportOptions & { outputDict: true },
): ClassificationReportDict;
export function classificationReport(
  yTrue: Targets,
  yPred: Targets,
  options?: ClassificationReportOptions & { outputDict?: false },
): ClassificationReport;
export function classificationReport(
  yTrue: Targets,
  yPred: Targets,
  options: ClassificationReportOptions = {},
): ClassificationReport | ClassificationReportDict {
  const fn = "classificationReport";
  options = checkContract(CLASSIFICATION_REPORT, arguments.length, options);
  const { outputDict = false, digits } = options;
  if (typeof outputDict !== "boolean") {
    throw new TypeError(`${fn}: outputDict must be true or false, got ${show(outputDict)}`);
  }
  if (!outputDict && "outputDict" in options) {
    // sklearn's output_dict=False is its text; here that is a separate call.
    throw new TypeError(
      `${fn}: outputDict false is sklearn's text, which this function does not return; ` +
        "leave outputDict out and write metrics.formatClassificationReport(" +
        "metrics.classificationReport(yTrue, yPred), { digits: 2 })",
    );
  }
  if (digits !== undefined) checkDigits(fn, digits);
  const report = reportOf(fn, yTrue, yPred, options);
  if (digits !== undefined) report.digits = digits;
  return outputDict ? reportDict(report) : withReportText(report);
}

/** The report, for class labels or multilabel indicators (options checked for keys). */
function reportOf(
  fn: string,
  yTrue: Targets,
  yPred: Targets,
  options: ClassificationReportOptions,
): ClassificationReport {
  checkSameLength(fn, yTrue, "yTrue", yPred, "yPred");
  const { classNames, targetNames } = options;
  const k = options.numClasses ?? classNames?.length;
  if (classNames !== undefined && classNames.length !== k) {
    throw new RangeError(`${fn}: ${classNames.length} classNames for ${k} classes`);
  }
  if (classNames !== undefined && targetNames !== undefined) {
    throw new TypeError(
      `${fn}: give classNames (indexed by label) or targetNames (one per row, sklearn's ` +
        "target_names), not both",
    );
  }
  if (
    targetNames !== undefined &&
    (!Array.isArray(targetNames) || !targetNames.every((v) => typeof v === "string"))
  ) {
    throw new TypeError(`${fn}: targetNames must be an array of strings, got ${show(targetNames)}`);
  }
  const zero = checkZeroDivision(fn, options.zeroDivision);
  const given = options.labels === undefined ? undefined : checkLabelList(fn, options.labels);
  if (given !== undefined && k !== undefined) {
    const bad = given.find((label) => label >= k);
    if (bad !== undefined) {
      throw new RangeError(`${fn}: labels has ${bad}, outside the ${k} classes 0..${k - 1}`);
    }
  }
  /** The names of the rows: targetNames in order, or classNames by label. */
  const names = (labels: readonly number[]): string[] => {
    if (targetNames !== undefined && targetNames.length !== labels.length) {
      // sklearn raises without labels, and with them warns and drops rows.
      throw new RangeError(
        `${fn}: ${targetNames.length} targetNames for the ${labels.length} reported classes ` +
          `[${labels}]; give one name per row${given ? " (per entry of labels)" : ", or labels"}`,
      );
    }
    return labels.map((label, i) => targetNames?.[i] ?? classNames?.[label] ?? String(label));
  };
  if (readIndicator(fn, "yTrue", yTrue) || readIndicator(fn, "yPred", yPred)) {
    return multilabelReport(fn, yTrue, yPred, k, names, options.sampleWeight, given, zero);
  }
  // Tensors are copied to the host once here; n below must be a real count.
  const t = labelValues(fn, "yTrue", yTrue as Labels);
  const p = labelValues(fn, "yPred", yPred as Labels);
  const n = t.length;
  checkNotEmpty(fn, n);
  if (k !== undefined) confusionMatrix(t, p, k); // labels in [0, k), or its error
  const ti = checkLabels(fn, "yTrue", t), pi = checkLabels(fn, "yPred", p);
  const w = checkSampleWeight(fn, options.sampleWeight, n);
  // Weights that sum to 0 are sklearn's report of nothing: supports 0, ratios zeroDivision.
  const total = totalWeight(w, n);
  let labels: number[], confusion: number[][];
  if (given !== undefined) {
    labels = given;
    const index = new Map(labels.map((label, i) => [label, i]));
    // sklearn's confusion_matrix(labels=...): pairs outside the labels are left out.
    const keep: number[] = [];
    ti.forEach((v, i) => index.has(v) && index.has(pi[i]) && keep.push(i));
    const at = (y: Int32Array) => Int32Array.from(keep, (i) => index.get(y[i])!);
    const kw = w === undefined ? undefined : Float64Array.from(keep, (i) => w[i]);
    confusion = confusionMatrix(at(ti), at(pi), labels.length, kw);
  } else if (k !== undefined) {
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
  // sums then round as sklearn's do); the confusion matrix gives tn (with
  // labels, the sums: samples of the classes left out are negatives).
  const pair = { kind: "labels", t: ti, p: pi } as const;
  const sums = setWiseCounts(fn, pair, labels, w, false);
  const counts = oneVsRestCounts(confusion);
  const rowNames = names(labels);
  const precision = divide(fn, sums.tp, sums.pred, "precision", WARN_FOR, zero, false);
  const recall = divide(fn, sums.tp, sums.true, "recall", WARN_FOR, zero, false);
  const classes = counts.map((c, i): ClassMetrics => {
    const tp = sums.tp[i], fp = sums.pred[i] - tp, fn = sums.true[i] - tp;
    const tn = given === undefined ? c.tn : total - tp - fp - fn;
    const f1Den = 2 * tp + fp + fn;
    return {
      label: labels[i],
      name: rowNames[i],
      precision: precision[i],
      recall: recall[i],
      f1: f1Den === 0 ? zeroValue(zero) : 2 * tp / f1Den,
      support: sums.true[i],
      predicted: sums.pred[i],
      specificity: ratio(tn, tn + fp),
      sensitivity: recall[i],
    };
  });
  const correct = sums.tp.reduce((a, b) => a + b, 0);
  const support = classes.reduce((a, c) => a + c.support, 0);
  const occurring = new Set([...ti, ...pi]); // weights aside, as sklearn's unique_labels
  const seen = uniqueSorted(ti, pi);
  // Balanced accuracy is over every class of yTrue, whatever `labels` lists.
  const all = given === undefined ? sums : setWiseCounts(fn, pair, uniqueSorted(ti), w, false);
  const recalls = all.tp.flatMap((tp, i) => (all.true[i] > 0 ? [tp / all.true[i]] : []));
  const leftOut = given !== undefined && seen.some((l) => !given.includes(l));
  return {
    classes,
    accuracy: total === 0
      ? zeroAccuracy(fn, zero)
      : ratio(given === undefined ? correct : correctOf(ti, pi, w), total),
    // No class with support (weights that sum to 0): NaN, as balanced_accuracy_score's mean of none.
    balancedAccuracy: recalls.length === 0
      ? NaN
      : recalls.reduce((s, r) => s + r, 0) / recalls.length,
    macroAvg: average(classes, () => 1, support),
    weightedAvg: support === 0
      ? noSupport(classes, zero)
      : average(classes, (c) => c.support, support),
    ...(leftOut ? { microAvg: microAverage(fn, sums, zero) } : {}),
    confusion,
    ...(w === undefined ? {} : {
      sampleWeighted: true,
      allLabelsSeen: labels.every((l) => occurring.has(l)),
    }),
  };
}

/** Which 0 / 0 warn where `zeroDivision` is "warn": sklearn's default `warn_for`. */
const WARN_FOR = ["precision", "recall", "f-score"] as const;

/** The number a 0 / 0 stands for. */
const zeroValue = (zero: ZeroDivision): number => (zero === 1 ? 1 : 0);

/**
 * The accuracy of weights that sum to 0: sklearn's accuracy row is its
 * micro average, whose precision and recall are 0 / 0 (and warn as its).
 */
function zeroAccuracy(fn: string, zero: ZeroDivision): number {
  divide(fn, [0], [0], "recall", WARN_FOR, zero, false);
  return divide(fn, [0], [0], "precision", WARN_FOR, zero, false)[0];
}

/** The weight of the samples predicted right. */
function correctOf(t: Int32Array, p: Int32Array, w: Float64Array | undefined): number {
  let s = 0;
  for (let i = 0; i < t.length; i++) if (t[i] === p[i]) s += w === undefined ? 1 : w[i];
  return s;
}

/**
 * sklearn's weighted average when no listed class occurs in yTrue: the
 * zero-division value, and 0 precision and F1 where some are predicted.
 */
function noSupport(classes: ClassMetrics[], zero: ZeroDivision): AverageMetrics {
  const z = zeroValue(zero), none = classes.every((c) => c.predicted === 0);
  return { precision: none ? z : 0, recall: z, f1: none ? z : 0, support: 0 };
}

/** sklearn's "micro avg" over the listed labels: counts summed, then the ratios. */
function microAverage(
  fn: string,
  sums: { tp: number[]; pred: number[]; true: number[] },
  zero: ZeroDivision,
): AverageMetrics {
  const add = (a: number[]) => [a.reduce((x, y) => x + y, 0)];
  const tp = add(sums.tp), support = add(sums.true)[0];
  const [p] = divide(fn, tp, add(sums.pred), "precision", WARN_FOR, zero, false);
  const [r] = divide(fn, tp, [support], "recall", WARN_FOR, zero, false);
  return { precision: p, recall: r, f1: p + r === 0 ? 0 : 2 * p * r / (p + r), support };
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
