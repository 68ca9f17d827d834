/**
 * The confusion matrix and the per-class rates read from it
 * (`sklearn.metrics.confusion_matrix`, rows are true labels).
 *
 * @module
 */
import {
  checkLabels,
  checkNotEmpty,
  checkNumClasses,
  checkSameLength,
  type Labels,
} from "./labels.ts";
import { lengthOf } from "./inputs.ts";

/**
 * Counts of (true label, predicted label) pairs: `m[t][p]` is the number of
 * samples of class `t` predicted as `p`. Rows are true labels and columns
 * predictions, as in sklearn; every class 0..numClasses-1 has a row and a
 * column even when it never occurs. Empty inputs give a matrix of zeros,
 * the true counts, as sklearn's `confusion_matrix([], [], labels=range(C))`;
 * the rates read from it (`specificitySensitivity`, `classificationReport`)
 * refuse empty inputs.
 *
 * @param yTrue True labels, integers in [0, numClasses): an array or a 1-D Tensor.
 * @param yPred Predicted labels, same length and range (e.g. `logits.argmax(1)`).
 * @param numClasses Number of classes (the matrix is numClasses x numClasses).
 * @param weights One checked weight per sample (sklearn's sample_weight), or undefined.
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
 * // Tensors too, as torch users pass them:
 * const logits = tensor([[2, 0, 0], [0, 0, 2], [0, 0, 2], [0, 2, 0]]);
 * const y = tensor(new Int32Array([0, 1, 2, 2]), [4]);
 * assert.deepEqual(metrics.confusionMatrix(y, logits.argmax(1), 3), m);
 * ```
 */
export function confusionMatrix(
  yTrue: Labels,
  yPred: Labels,
  numClasses: number,
  weights?: Float64Array,
): number[][] {
  const fn = "confusionMatrix";
  checkNumClasses(fn, numClasses);
  checkSameLength(fn, yTrue, "yTrue", yPred, "yPred");
  const t = checkLabels(fn, "yTrue", yTrue, numClasses);
  const p = checkLabels(fn, "yPred", yPred, numClasses);
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < t.length; i++) m[t[i]][p[i]] += weights === undefined ? 1 : weights[i];
  return m;
}

/** One-vs-rest counts of one class, read off a confusion matrix. */
export interface OneVsRestCounts {
  /** Samples of the class predicted as the class. */
  tp: number;
  /** Samples of other classes predicted as the class. */
  fp: number;
  /** Samples of the class predicted as another class. */
  fn: number;
  /** Samples of other classes predicted as another class. */
  tn: number;
}

/**
 * The one-vs-rest counts of every class of a confusion matrix (rows true).
 *
 * @param matrix A square confusion matrix, rows are true labels.
 * @returns One entry per class.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const c = metrics.oneVsRestCounts([[3, 1], [2, 4]]);
 * assert.deepEqual(c[1], { tp: 4, fp: 1, fn: 2, tn: 3 });
 * ```
 */
export function oneVsRestCounts(matrix: number[][]): OneVsRestCounts[] {
  const k = matrix.length;
  let total = 0;
  const colSums = new Array<number>(k).fill(0);
  const rowSums = matrix.map((row, r) => {
    if (row.length !== k) {
      throw new RangeError(`oneVsRestCounts: row ${r} has ${row.length} entries, expected ${k}`);
    }
    let s = 0;
    for (let c = 0; c < k; c++) {
      s += row[c];
      colSums[c] += row[c];
    }
    total += s;
    return s;
  });
  return matrix.map((row, c) => {
    const tp = row[c];
    const fp = colSums[c] - tp;
    const fn = rowSums[c] - tp;
    return { tp, fp, fn, tn: total - tp - fp - fn };
  });
}

/** Per-class specificity and sensitivity (one-vs-rest). */
export interface SpecificitySensitivity {
  /** TN / (TN + FP) per class; 0 where a class has no negatives. */
  specificity: number[];
  /** TP / (TP + FN) per class (the recall); 0 where a class has no samples. */
  sensitivity: number[];
}

/**
 * Specificity and sensitivity of every class, each class against the rest.
 * An undefined ratio (0 / 0) is 0, the value sklearn's zero_division gives
 * by default, so a class that never occurs does not poison an average with
 * NaN.
 *
 * @param yTrue True labels, integers in [0, numClasses) (an array or a 1-D Tensor).
 * @param yPred Predicted labels.
 * @param numClasses Number of classes.
 * @returns Arrays indexed by class.
 * @throws {RangeError} When there are no samples (every rate would be 0 / 0).
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const { specificity, sensitivity } = metrics.specificitySensitivity(
 *   [0, 0, 1, 1],
 *   [0, 1, 1, 1],
 *   2,
 * );
 * assert.deepEqual(sensitivity, [0.5, 1]);
 * assert.deepEqual(specificity, [1, 0.5]);
 * ```
 */
export function specificitySensitivity(
  yTrue: Labels,
  yPred: Labels,
  numClasses: number,
): SpecificitySensitivity {
  checkNotEmpty("specificitySensitivity", lengthOf("specificitySensitivity", "yTrue", yTrue));
  const counts = oneVsRestCounts(confusionMatrix(yTrue, yPred, numClasses));
  return {
    specificity: counts.map((c) => ratio(c.tn, c.tn + c.fp)),
    sensitivity: counts.map((c) => ratio(c.tp, c.tp + c.fn)),
  };
}

/** a / b, or 0 when b is 0 (sklearn's zero_division default, without the warning). */
export function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}
