/**
 * Single-number summaries of the curves: `auc` (trapezoids), `rocAuc`
 * (binary, one-vs-rest over a score matrix, or multilabel) and
 * `averagePrecision` (sklearn's step-function integral, the same forms);
 * the averaging is in score_average.ts.
 *
 * @module
 */
import { type PrecisionRecallCurve, precisionRecallCurve, rocCurve } from "./curves.ts";
import type { Scores, Targets } from "./labels.ts";
import {
  type Average,
  binaryOrOneVsRest,
  type ScoreAveraged,
  type ScoreOptions,
  UndefinedByWeights,
} from "./score_average.ts";

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

export type { Average, ScoreAveraged, ScoreOptions } from "./score_average.ts";

/** Options of `rocAuc`: those of every score, and sklearn's `multi_class`. */
export interface RocAucOptions<A extends Average = Average> extends ScoreOptions<A> {
  /**
   * sklearn's `multi_class`: "ovr" (one-vs-rest, what a score matrix gets
   * here in any case). sklearn's "ovo" (Hand and Till's one-vs-one) is
   * not implemented and throws.
   */
  multiClass?: "ovr";
}

/** `options` without `multiClass`, which must be "ovr" (or absent). */
function oneVsRest<A extends Average>(options: RocAucOptions<A>): ScoreOptions<A> {
  if (options === null || typeof options !== "object" || !("multiClass" in options)) {
    return options; // binaryOrOneVsRest reports anything that is not an options object
  }
  const { multiClass, ...rest } = options as ScoreOptions<A> & { multiClass?: unknown };
  if (multiClass === "ovo") {
    throw new Error(
      'metrics.rocAuc: multiClass "ovo" (sklearn\'s one-vs-one, Hand and Till) is not ' +
        'implemented here; multiClass "ovr" (one-vs-rest) is, and is what a score matrix gets',
    );
  }
  if (multiClass !== undefined && multiClass !== "ovr") {
    throw new Error(
      `metrics.rocAuc: multiClass must be "ovr" (sklearn's multi_class="ovr"), got ${
        JSON.stringify(multiClass)
      }; leave it out for the same`,
    );
  }
  return rest;
}

/**
 * Area under the ROC curve. With one score per sample it is the binary AUC
 * (`roc_auc_score(y, s)`); with a row-major [N, C] score matrix (softmax
 * probabilities) it is the one-vs-rest average over the classes
 * (`roc_auc_score(y, S, multi_class="ovr", average="macro")`; "weighted"
 * weighs by support, "micro" pools every cell of the one-hot truth, null
 * gives one AUC per class). With a multilabel indicator yTrue ([N, K] of 0
 * and 1, one column per finding) and [N, K] scores it is sklearn's
 * multilabel AUC, per label and averaged ("samples": per row). Like sklearn
 * it throws when a class has no positive or no negative sample, where AUC
 * is undefined, and when a multiclass matrix row does not sum to 1 (logits
 * rather than probabilities). `sampleWeight` weighs the samples (and the
 * "weighted" average by weighted support). Where the weights leave a class
 * (or label) none of its positives or none of its negatives, sklearn gives
 * NaN; this throws, naming the class, except that "weighted" leaves out a
 * class whose positives all weigh 0, as sklearn's (its weight is 0).
 *
 * @param yTrue Labels: 0/1 for binary, 0..C-1 with a score matrix (an array or a 1-D
 * Tensor), or an [N, K] multilabel indicator.
 * @param scores N scores, or an [N, C] matrix: a 2-D Tensor, N nested rows
 * (`probs.toList()`), or a flat row-major array.
 * @param options `numClasses`, `average` (default "macro"), `posLabel` (binary), `sampleWeight`;
 * `multiClass: "ovr"` (sklearn's `multi_class="ovr"`) says what is done anyway.
 * @returns The AUC in [0, 1], or one per class with `average: null`.
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
 * // roc_auc_score(y, probs, multi_class="ovr") as sklearn writes it:
 * assert.equal(metrics.rocAucScore([0, 1, 2], probs, { multiClass: "ovr" }), 1);
 * // Weighted samples, and a multilabel indicator with one AUC per label:
 * assert.equal(metrics.rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], { sampleWeight: [1, 0, 1, 1] }), 1);
 * const findings = [[1, 0], [0, 1], [1, 1], [0, 0]];
 * const scores = [[0.9, 0.2], [0.3, 0.6], [0.6, 0.4], [0.2, 0.5]];
 * assert.deepEqual(metrics.rocAuc(findings, scores, { average: null }), [1, 0.75]);
 * ```
 */
export function rocAuc<A extends Average = "macro">(
  yTrue: Targets,
  scores: Scores,
  options: RocAucOptions<A> = {},
): ScoreAveraged<A> {
  const given = arguments.length;
  return binaryOrOneVsRest("rocAuc", given, yTrue, scores, oneVsRest(options), (y, s, o, which) => {
    const c = rocCurve(y, s, { ...o, dropIntermediate: true });
    if (!Number.isNaN(c.fpr[1]) && !Number.isNaN(c.tpr[1])) return auc(c.fpr, c.tpr);
    const plain = o.sampleWeight === undefined ? c : rocCurve(y, s, { posLabel: o.posLabel });
    if (Number.isNaN(plain.fpr[1]) || Number.isNaN(plain.tpr[1])) {
      throw new RangeError(
        `rocAuc: only one class present in yTrue${which}; ROC AUC is not defined then`,
      );
    }
    // Both classes occur, but the weights leave one of them nothing (sklearn: NaN).
    const side = Number.isNaN(c.tpr[1]) ? "positive" : "negative";
    const of = which === ""
      ? "yTrue"
      : which.replace(/^ \((.*)\)$/, "$1").replace(/ against the rest$/, "");
    throw new UndefinedByWeights(
      `rocAuc: every ${side} of ${of} has sampleWeight 0, so its ROC AUC is not defined ` +
        `(sklearn gives NaN)${
          which === "" || side === "negative"
            ? ""
            : '; average "weighted" leaves it out, as sklearn\'s'
        }`,
    );
  }, true) as ScoreAveraged<A>;
}

/**
 * Average precision, sklearn's `average_precision_score`: the
 * precision-recall curve summed as a step function, AP = sum_n (R_n -
 * R_{n-1}) P_n, with no interpolation. With a row-major [N, C] score matrix
 * it is the one-vs-rest average over the classes (sklearn 1.2 takes only
 * binary and multilabel input here; later versions average the classes the
 * same way). With a multilabel indicator yTrue ([N, K] of 0 and 1) it is
 * sklearn's multilabel AP. Averages and `sampleWeight` as `rocAuc`. A
 * binary curve (or label) without positives scores 0 (sklearn warns and
 * gives the same); with a multiclass score matrix, a class absent from
 * yTrue throws.
 *
 * @param yTrue Labels: 0/1 for binary, 0..C-1 with a score matrix (an array or a 1-D
 * Tensor), or an [N, K] multilabel indicator.
 * @param scores N scores, or an [N, C] matrix: a 2-D Tensor, N nested rows
 * (`probs.toList()`), or a flat row-major array.
 * @param options `numClasses`, `average` (default "macro"), `posLabel` (binary), `sampleWeight`.
 * @returns AP in [0, 1], or one per class with `average: null`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const ap = metrics.averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * assert.ok(Math.abs(ap - 0.8333333333) < 1e-9);
 * const findings = [[1, 0], [0, 1], [1, 1], [0, 0]];
 * const scores = [[0.9, 0.2], [0.3, 0.6], [0.6, 0.4], [0.2, 0.5]];
 * const micro = metrics.averagePrecision(findings, scores, { average: "micro" });
 * assert.ok(Math.abs(micro - 0.95) < 1e-12);
 * ```
 */
export function averagePrecision<A extends Average = "macro">(
  yTrue: Targets,
  scores: Scores,
  options: ScoreOptions<A> = {},
): ScoreAveraged<A> {
  return binaryOrOneVsRest(
    "averagePrecision",
    arguments.length,
    yTrue,
    scores,
    options,
    (y, s, o) => stepArea(precisionRecallCurve(y, s, o)),
  ) as ScoreAveraged<A>;
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

/**
 * sklearn's name for `rocAuc` (`roc_auc_score`): the same function, with
 * the same options (`multiClass: "ovr"` included).
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const probs = [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.3, 0.2]];
 * assert.ok(Math.abs(metrics.rocAucScore([0, 1, 2, 1], probs, { multiClass: "ovr" }) - 0.9583333333) < 1e-9);
 * ```
 */
export const rocAucScore: typeof rocAuc = rocAuc;

/**
 * sklearn's name for `averagePrecision` (`average_precision_score`): the
 * same function.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.averagePrecisionScore([0, 1, 1], [0.2, 0.9, 0.6]), 1);
 * ```
 */
export const averagePrecisionScore: typeof averagePrecision = averagePrecision;
