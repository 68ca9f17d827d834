/**
 * Single-number summaries of the curves: `auc` (trapezoids), `rocAuc`
 * (binary, or one-vs-rest over a score matrix) and `averagePrecision`
 * (sklearn's step-function integral, binary or one-vs-rest).
 *
 * @module
 */
import {
  type CurveOptions,
  type PrecisionRecallCurve,
  precisionRecallCurve,
  rocCurve,
} from "./curves.ts";
import { checkLabels, checkNumClasses, type Labels, scoreColumn, type Scores } from "./labels.ts";
import { labelValues, scoreValues } from "./inputs.ts";
import { checkCall } from "../../options.ts";

/**
 * Area under a curve by the trapezoidal rule, as `sklearn.metrics.auc`;
 * `x` must be monotonic (increasing or decreasing).
 *
 * @param x Abscissae, monotonic.
 * @param y Ordinates, same length.
 * @returns The area (positive for a decreasing `x` too).
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.auc([0, 0.5, 1], [0, 1, 1]), 0.75);
 * ```
 */
export function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) {
    throw new RangeError(`auc: x has ${x.length} entries but y has ${y.length}`);
  }
  if (x.length < 2) throw new RangeError(`auc: needs at least 2 points, got ${x.length}`);
  // The first step that moves sets the direction; a later step against it is an error.
  let direction = 0;
  for (let i = 1; i < x.length && direction === 0; i++) direction = Math.sign(x[i] - x[i - 1]);
  if (direction === 0) direction = 1;
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    const dx = x[i] - x[i - 1];
    if (dx * direction < 0) throw new RangeError(`auc: x is not monotonic at index ${i}`);
    area += dx * (y[i] + y[i - 1]) / 2;
  }
  return direction * area;
}

/** How per-class scores of a score matrix are combined. */
export type Average = "macro" | "weighted";

/** Options of `rocAuc` and `averagePrecision`. */
export interface ScoreOptions extends CurveOptions {
  /**
   * Columns of a row-major [N, C] score matrix; default scores.length / N.
   * With a matrix the result is the one-vs-rest average over the classes.
   */
  numClasses?: number;
  /** "macro" (default): plain mean over classes; "weighted": weighted by support. */
  average?: Average;
}

/**
 * With one score per sample the labels must be 0/1: a multiclass vector
 * with a score vector is a forgotten score matrix (sklearn raises too), and
 * the curve's "pass { posLabel }" would point the wrong way.
 */
function binaryLabelsOnly(fn: string, y: ArrayLike<number>): void {
  for (let i = 0; i < y.length; i++) {
    if (Number.isInteger(y[i]) && y[i] > 1) {
      throw new RangeError(
        `${fn}: yTrue[${i}] = ${y[i]} but scores has one column (binary); for ` +
          "one-vs-rest pass an [N, C] score matrix (a Tensor, nested arrays or a flat " +
          "row-major array with { numClasses }), or { posLabel } for one class",
      );
    }
  }
}

/**
 * sklearn's multiclass ROC AUC takes probabilities and raises unless each
 * row sums to 1 (np.allclose): logits give a different, meaningless
 * one-vs-rest AUC (a column's order across rows is not its softmax's).
 * The tolerance is sklearn's (1e-5) plus a float32 rounding step per
 * column, so a float32 softmax over many classes is not refused.
 */
function rowsSumToOne(fn: string, s: ArrayLike<number>, k: number): void {
  const tol = 1e-5 + k * 2 ** -23;
  for (let i = 0; i < s.length / k; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += s[i * k + c];
    if (!(Math.abs(sum - 1) <= tol)) {
      throw new RangeError(
        `${fn}: row ${i} of the score matrix sums to ${sum}, not 1; one-vs-rest ROC AUC ` +
          "needs probabilities (logits.softmax(1)), as sklearn requires",
      );
    }
  }
}

/**
 * Splits a call into binary (one score per sample) or one-vs-rest over a
 * row-major score matrix, and averages the per-class values.
 */
function binaryOrOneVsRest(
  fn: string,
  given: number,
  yTrue: Labels,
  scores: Scores,
  opts: ScoreOptions,
  binary: (y: ArrayLike<number>, s: ArrayLike<number>, o: CurveOptions) => number,
  probabilities = false,
): number {
  const usage = `metrics.${fn}(yTrue, scores, { numClasses: 3, average: "weighted" })`;
  const options = checkCall<ScoreOptions>(
    `metrics.${fn}`,
    given,
    3,
    opts,
    ["posLabel", "numClasses", "average"],
    usage,
  );
  // sklearn's "micro" or "samples" would otherwise give the macro mean silently.
  if (options.average !== undefined && !["macro", "weighted"].includes(options.average)) {
    throw new Error(
      `metrics.${fn}: average must be "macro" or "weighted", got ${
        JSON.stringify(options.average)
      }`,
    );
  }
  const labels = labelValues(fn, "yTrue", yTrue);
  const s = scoreValues(fn, "scores", scores);
  const n = labels.length;
  if (n === 0) throw new RangeError(`${fn}: no samples`);
  if (s.columns !== undefined) {
    // A shaped matrix ([N, C] Tensor or nested rows) says its C; check it agrees.
    if (s.rows !== n) {
      throw new RangeError(`${fn}: scores has ${s.rows} rows but yTrue has ${n} labels`);
    }
    if (options.numClasses !== undefined && options.numClasses !== s.columns) {
      throw new RangeError(
        `${fn}: scores has ${s.columns} columns but numClasses is ${options.numClasses}`,
      );
    }
  }
  const k = options.numClasses ?? s.columns ?? s.values.length / n;
  if (k === 1 && options.numClasses === undefined) {
    if (options.posLabel === undefined) binaryLabelsOnly(fn, labels);
    return binary(labels, s.values, options);
  }
  if (options.numClasses !== undefined) checkNumClasses(fn, k);
  if (!Number.isInteger(k) || k < 2 || s.values.length !== n * k) {
    throw new RangeError(
      `${fn}: scores has ${s.values.length} entries; expected ${n} (binary) or ${n} x C (one ` +
        `score column per class)${options.numClasses ? ` with C = ${options.numClasses}` : ""}`,
    );
  }
  if (probabilities) rowsSumToOne(fn, s.values, k);
  const y = checkLabels(fn, "yTrue", labels, k);
  let total = 0, weights = 0;
  for (let c = 0; c < k; c++) {
    let support = 0;
    for (const v of y) if (v === c) support++;
    // As sklearn, which scores every column: a class absent from yTrue has
    // no one-vs-rest value (it was left out of "weighted", and scored 0 in
    // the macro AP, both silently).
    if (support === 0) {
      throw new RangeError(
        `${fn}: class ${c} has no samples in yTrue, so its one-vs-rest value is not defined ` +
          "(sklearn raises too)",
      );
    }
    const w = options.average === "weighted" ? support : 1;
    total += w * binary(y, scoreColumn(s.values, k, c), { posLabel: c });
    weights += w;
  }
  return total / weights;
}

/**
 * Area under the ROC curve. With one score per sample it is the binary AUC
 * (`roc_auc_score(y, s)`); with a row-major [N, C] score matrix (softmax
 * probabilities) it is the one-vs-rest average over the classes
 * (`roc_auc_score(y, S, multi_class="ovr", average="macro")`; "weighted"
 * weighs by support). Like sklearn it throws when a class has no positive or
 * no negative sample, where AUC is undefined, and when a matrix row does not
 * sum to 1 (logits rather than probabilities).
 *
 * @param yTrue Labels: 0/1 for binary, 0..C-1 with a score matrix (an array or a 1-D
 * Tensor).
 * @param scores N scores, or an [N, C] matrix: a 2-D Tensor, N nested rows
 * (`probs.toList()`), or a flat row-major array.
 * @param options Columns, averaging and the positive label (binary).
 * @returns The AUC in [0, 1].
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
 * const probs = new Float32Array([0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.3, 0.6]);
 * assert.equal(metrics.rocAuc([0, 1, 2], probs), 1);
 * assert.equal(metrics.rocAuc([0, 1, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]]), 1);
 * ```
 */
export function rocAuc(yTrue: Labels, scores: Scores, options: ScoreOptions = {}): number {
  return binaryOrOneVsRest("rocAuc", arguments.length, yTrue, scores, options, (y, s, o) => {
    const c = rocCurve(y, s, { ...o, dropIntermediate: true });
    if (Number.isNaN(c.fpr[1]) || Number.isNaN(c.tpr[1])) {
      const which = o.posLabel === undefined ? "" : ` (class ${o.posLabel} against the rest)`;
      throw new RangeError(
        `rocAuc: only one class present in yTrue${which}; ROC AUC is not defined then`,
      );
    }
    return auc(c.fpr, c.tpr);
  }, true);
}

/**
 * Average precision, sklearn's `average_precision_score`: the
 * precision-recall curve summed as a step function, AP = sum_n (R_n -
 * R_{n-1}) P_n, with no interpolation. With a row-major [N, C] score matrix
 * it is the one-vs-rest average over the classes (sklearn 1.2 takes only
 * binary input here; later versions average the classes the same way). A
 * binary curve without positives scores 0 (sklearn warns and gives the
 * same); with a score matrix, a class absent from yTrue throws.
 *
 * @param yTrue Labels: 0/1 for binary, 0..C-1 with a score matrix (an array or a 1-D
 * Tensor).
 * @param scores N scores, or an [N, C] matrix: a 2-D Tensor, N nested rows
 * (`probs.toList()`), or a flat row-major array.
 * @param options Columns, averaging and the positive label (binary).
 * @returns AP in [0, 1].
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const ap = metrics.averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * assert.ok(Math.abs(ap - 0.8333333333) < 1e-9);
 * ```
 */
export function averagePrecision(
  yTrue: Labels,
  scores: Scores,
  options: ScoreOptions = {},
): number {
  return binaryOrOneVsRest(
    "averagePrecision",
    arguments.length,
    yTrue,
    scores,
    options,
    (y, s, o) => stepArea(precisionRecallCurve(y, s, o)),
  );
}

/**
 * AP of a precision-recall curve: sum_n (R_n - R_{n-1}) P_n, summed as
 * sklearn does. Recall decreases along the arrays, so each step is
 * -(R_{i+1} - R_i).
 */
export function stepArea(curve: PrecisionRecallCurve): number {
  const { precision, recall } = curve;
  let ap = 0;
  for (let i = 0; i < recall.length - 1; i++) ap -= (recall[i + 1] - recall[i]) * precision[i];
  return ap;
}
