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
 * Splits a call into binary (one score per sample) or one-vs-rest over a
 * row-major score matrix, and averages the per-class values.
 */
function binaryOrOneVsRest(
  fn: string,
  given: number,
  yTrue: Labels,
  scores: Scores,
  opts: ScoreOptions,
  binary: (y: Labels, s: Scores, o: CurveOptions) => number,
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
  const n = yTrue.length;
  if (n === 0) throw new RangeError(`${fn}: no samples`);
  const k = options.numClasses ?? scores.length / n;
  if (k === 1 && options.numClasses === undefined) return binary(yTrue, scores, options);
  if (options.numClasses !== undefined) checkNumClasses(fn, k);
  if (!Number.isInteger(k) || k < 2 || scores.length !== n * k) {
    throw new RangeError(
      `${fn}: scores has ${scores.length} entries; expected ${n} (binary) or ${n} x C (one ` +
        `score column per class)${options.numClasses ? ` with C = ${options.numClasses}` : ""}`,
    );
  }
  const y = checkLabels(fn, "yTrue", yTrue, k);
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
    total += w * binary(y, scoreColumn(scores, k, c), { posLabel: c });
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
 * no negative sample, where AUC is undefined.
 *
 * @param yTrue Labels: 0/1 for binary, 0..C-1 with a score matrix.
 * @param scores N scores, or N x C scores row by row.
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
  });
}

/**
 * Average precision, sklearn's `average_precision_score`: the
 * precision-recall curve summed as a step function, AP = sum_n (R_n -
 * R_{n-1}) P_n, with no interpolation. With a row-major [N, C] score matrix
 * it is the one-vs-rest average over the classes. A binary curve without
 * positives scores 0 (sklearn warns and gives the same); with a score matrix,
 * a class absent from yTrue throws, as in sklearn.
 *
 * @param yTrue Labels: 0/1 for binary, 0..C-1 with a score matrix.
 * @param scores N scores, or N x C scores row by row.
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
