/**
 * The public `metrics.confusionMatrix`: confusion.ts's
 * `confusionMatrix(yTrue, yPred, numClasses)` (which report.ts uses), plus
 * sklearn's `normalize` and `labels` through an options argument, in either
 * `confusionMatrix(yTrue, yPred, numClasses, { normalize })` or
 * `confusionMatrix(yTrue, yPred, { labels, normalize })` form.
 *
 * @module
 */
import { confusionMatrix as countConfusion } from "./confusion.ts";
import type { Labels } from "./labels.ts";
import { checkLabels, checkSameLength } from "./labels.ts";
import { checkLabelList, checkSomeLabelInTruth, countMatrix, show, uniqueSorted } from "./pairs.ts";
import { checkCall } from "../../options.ts";
import { lengthOf } from "./inputs.ts";
import { refuseIndicators } from "./target.ts";
import { checkSampleWeight, type SampleWeight } from "./weights.ts";

/** sklearn's `normalize` of a confusion matrix. */
export type ConfusionNormalize = "true" | "pred" | "all" | null;

/** Options of `confusionMatrix`. */
export interface ConfusionMatrixOptions {
  /**
   * Divide each row by its sum ("true": rows hold the recall of each class),
   * each column ("pred": the precision), or the whole matrix ("all"); an
   * empty row or column stays 0, as in sklearn. Default null: counts.
   */
  normalize?: ConfusionNormalize;
  /**
   * The classes of the rows and columns, in this order (sklearn's `labels`):
   * pairs whose true or predicted label is not listed are left out, and at
   * least one listed label must occur in yTrue. Not with `numClasses`.
   */
  labels?: readonly number[];
  /** Classes 0..numClasses-1, as the three-argument form; labels must lie in range. */
  numClasses?: number;
  /**
   * One weight per sample (sklearn's `sample_weight`): each pair adds its
   * weight instead of 1. Finite and >= 0.
   */
  sampleWeight?: SampleWeight;
}

const USAGE = 'metrics.confusionMatrix(yTrue, yPred, { labels: [0, 1, 2], normalize: "true" })';

/**
 * Counts of (true label, predicted label) pairs, as
 * `sklearn.metrics.confusion_matrix`: `m[t][p]` is the number of samples of
 * class t predicted as p (rows true). With `numClasses` (third argument or
 * option) every class 0..C-1 has a row and a column and a label out of
 * range throws; with `labels`, those classes in that order, other pairs left
 * out; with neither, the labels present in either list, increasing (sklearn's
 * default). `normalize` divides by the row, column or total sums;
 * `sampleWeight` weighs each pair. Empty inputs with numClasses give a matrix
 * of zeros. A multilabel indicator matrix throws, as in sklearn (see
 * `multilabelConfusionMatrix`).
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors.
 * @param yPred Predicted labels, same length (e.g. `logits.argmax(1)`).
 * @param numClasses Number of classes (the matrix is numClasses x numClasses).
 * @param options `normalize`, `sampleWeight`.
 * @returns The matrix as an array of rows.
 * @throws {RangeError} When the lengths differ or a label is out of range.
 *
 * @example
 * ```ts
 * import { metrics, tensor } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const m = metrics.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1], 3);
 * assert.deepEqual(m, [[1, 0, 0], [0, 0, 1], [0, 1, 1]]);
 * const logits = tensor([[2, 0, 0], [0, 0, 2], [0, 0, 2], [0, 2, 0]]);
 * const y = tensor(new Int32Array([0, 1, 2, 2]), [4]);
 * assert.deepEqual(metrics.confusionMatrix(y, logits.argmax(1), 3), m);
 * // Rows as fractions of each true class (per-class recall on the diagonal):
 * const rates = metrics.confusionMatrix([0, 1, 2, 2], [0, 2, 2, 1], 3, { normalize: "true" });
 * assert.deepEqual(rates, [[1, 0, 0], [0, 0, 1], [0, 0.5, 0.5]]);
 * ```
 */
export function confusionMatrix(
  yTrue: Labels,
  yPred: Labels,
  numClasses: number,
  options?: { normalize?: ConfusionNormalize; sampleWeight?: SampleWeight },
): number[][];
/**
 * The confusion matrix with sklearn's options: the classes present (default),
 * `labels`, or `numClasses`, and `normalize`.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors.
 * @param yPred Predicted labels, same length.
 * @param options `labels` or `numClasses`, `normalize` and `sampleWeight`.
 * @returns The matrix as an array of rows, in the order of the classes.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(metrics.confusionMatrix([0, 5, 5], [0, 5, 0]), [[1, 0], [1, 1]]);
 * assert.deepEqual(
 *   metrics.confusionMatrix([0, 5, 5], [0, 5, 0], { labels: [5, 0], normalize: "pred" }),
 *   [[1, 0.5], [0, 0.5]],
 * );
 * // Each pair counts its weight:
 * assert.deepEqual(
 *   metrics.confusionMatrix([0, 5, 5], [0, 5, 0], { sampleWeight: [1, 2, 0.5] }),
 *   [[1, 0], [0.5, 2]],
 * );
 * ```
 */
export function confusionMatrix(
  yTrue: Labels,
  yPred: Labels,
  options?: ConfusionMatrixOptions,
): number[][];
export function confusionMatrix(
  yTrue: Labels,
  yPred: Labels,
  third?: number | ConfusionMatrixOptions,
  fourth?: ConfusionMatrixOptions,
): number[][] {
  const fn = "metrics.confusionMatrix";
  const three = typeof third === "number";
  const o = three
    ? checkCall<ConfusionMatrixOptions>(fn, arguments.length, 4, fourth, [
      "normalize",
      "sampleWeight",
    ], USAGE)
    : checkCall<ConfusionMatrixOptions>(fn, arguments.length, 3, third, [
      "labels",
      "numClasses",
      "normalize",
      "sampleWeight",
    ], USAGE);
  refuseIndicators(fn, [["yTrue", yTrue], ["yPred", yPred]]);
  const w = () => checkSampleWeight(fn, o.sampleWeight, lengthOf(fn, "yTrue", yTrue));
  if (three) return normalized(fn, countConfusion(yTrue, yPred, third, w()), o.normalize);
  if (o.numClasses !== undefined) {
    if (o.labels !== undefined) {
      throw new RangeError(`${fn}: pass labels or numClasses, not both`);
    }
    return normalized(fn, countConfusion(yTrue, yPred, o.numClasses, w()), o.normalize);
  }
  checkSameLength(fn, yTrue, "yTrue", yPred, "yPred");
  const t = checkLabels(fn, "yTrue", yTrue), p = checkLabels(fn, "yPred", yPred);
  const weights = w();
  let labels: number[];
  if (o.labels === undefined) labels = uniqueSorted(t, p);
  else {
    labels = checkLabelList(fn, o.labels);
    if (t.length === 0) return normalized(fn, labels.map(() => labels.map(() => 0)), o.normalize);
    checkSomeLabelInTruth(fn, t, labels);
  }
  return normalized(fn, countMatrix({ t, p }, labels, weights), o.normalize);
}

/** sklearn's normalisation, 0 / 0 as 0 (`np.nan_to_num`). */
function normalized(fn: string, m: number[][], how: unknown): number[][] {
  if (how === undefined || how === null) return m;
  const k = m.length;
  const div = (a: number, b: number) => b === 0 ? 0 : a / b;
  if (how === "true") return m.map((row) => row.map((v) => div(v, sum(row))));
  if (how === "pred") {
    const cols = Array.from({ length: k }, (_, j) => sum(m.map((row) => row[j])));
    return m.map((row) => row.map((v, j) => div(v, cols[j])));
  }
  if (how === "all") {
    const total = sum(m.map(sum));
    return m.map((row) => row.map((v) => div(v, total)));
  }
  throw new RangeError(`${fn}: normalize must be "true", "pred", "all" or null, got ${show(how)}`);
}

function sum(a: number[]): number {
  return a.reduce((s, v) => s + v, 0);
}
