/**
 * Accuracies as scikit-learn 1.2 computes them: `accuracyScore`,
 * `balancedAccuracyScore` (mean recall over the classes of yTrue, optionally
 * chance-adjusted) and `topKAccuracyScore` (the true class among the k
 * highest scores).
 *
 * @module
 */
import type { Labels, Scores, Targets } from "./labels.ts";
import { checkLabels } from "./labels.ts";
import { scoreValues } from "./inputs.ts";
import { checkLabelList, countMatrix, mean, show, uniqueSorted, warnOnce } from "./pairs.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { labelsOnly, targetPair } from "./target.ts";
import { checkSampleWeight, type SampleWeight, weightedSum } from "./weights.ts";

/** Options of `accuracyScore`. */
export interface AccuracyOptions {
  /** True (default): the fraction correct; false: the number correct. */
  normalize?: boolean;
  /**
   * One weight per sample (sklearn's `sample_weight`): the weighted fraction
   * correct, or the summed weight of the correct samples.
   */
  sampleWeight?: SampleWeight;
}

const ACCURACY: CallContract<AccuracyOptions> = {
  where: "metrics.accuracyScore",
  most: 3,
  known: ["normalize", "sampleWeight"],
  usage: "metrics.accuracyScore(yTrue, yPred, { normalize: false, sampleWeight: w })",
};

/**
 * The fraction of samples predicted correctly, as
 * `sklearn.metrics.accuracy_score` (or their number with `normalize: false`).
 * For multilabel indicator matrices ([N, K] of 0 and 1) it is the subset
 * accuracy: a sample counts as correct only when all K labels match.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element
 * Tensors; or an [N, K] multilabel indicator (2-D Tensor or nested rows).
 * @param yPred Predicted labels, same form and length (e.g. `logits.argmax(1)`).
 * @param options `normalize` (default true), `sampleWeight`.
 * @returns The accuracy in [0, 1], or the count of correct predictions.
 * @throws {RangeError} On empty or mismatched inputs, or a label that is not
 * a non-negative integer.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.accuracyScore([0, 1, 2, 3], [0, 2, 1, 3]), 0.5);
 * assert.equal(metrics.accuracyScore([0, 1, 2, 3], [0, 2, 1, 3], { normalize: false }), 2);
 * assert.equal(metrics.accuracyScore([0, 1, 2, 3], [0, 2, 1, 3], { sampleWeight: [3, 1, 1, 0] }), 0.6);
 * // Multilabel: both rows must match entirely.
 * assert.equal(metrics.accuracyScore([[0, 1], [1, 1]], [[0, 1], [1, 0]]), 0.5);
 * ```
 */
export function accuracyScore(
  yTrue: Targets,
  yPred: Targets,
  options: AccuracyOptions = {},
): number {
  const fn = "metrics.accuracyScore";
  const o = checkContract(ACCURACY, arguments.length, options);
  const pair = targetPair(fn, yTrue, yPred);
  const k = pair.kind === "multilabel" ? pair.k : 1;
  const n = pair.t.length / k;
  const w = checkSampleWeight(fn, o.sampleWeight, n);
  const correct = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let same = 1;
    for (let j = i * k; j < (i + 1) * k; j++) if (pair.t[j] !== pair.p[j]) same = 0;
    correct[i] = same;
  }
  return weightedSum(fn, correct, w, o.normalize ?? true);
}

/** Options of `balancedAccuracyScore`. */
export interface BalancedAccuracyOptions {
  /** Rescale so that chance scores 0 and perfect 1 (default false). */
  adjusted?: boolean;
  /** One weight per sample (sklearn's `sample_weight`): weighted recalls. */
  sampleWeight?: SampleWeight;
}

const BALANCED: CallContract<BalancedAccuracyOptions> = {
  where: "metrics.balancedAccuracyScore",
  most: 3,
  known: ["adjusted", "sampleWeight"],
  usage: "metrics.balancedAccuracyScore(yTrue, yPred, { adjusted: true })",
};

/**
 * The mean recall over the classes that occur in `yTrue`, as
 * `sklearn.metrics.balanced_accuracy_score`. A class only predicted (absent
 * from yTrue) is left out, with sklearn's warning (once). With `adjusted`,
 * (score - 1/C) / (1 - 1/C) for the C classes kept, so that with one class
 * it is NaN or -Infinity, as in sklearn. With `sampleWeight` the recalls
 * are of weighted counts, and a class whose samples all weigh 0 is left out
 * as absent. Multilabel indicators throw, as in sklearn.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors.
 * @param yPred Predicted labels, same length.
 * @param options `adjusted` (default false), `sampleWeight`.
 * @returns The balanced accuracy.
 * @throws {RangeError} As `accuracyScore`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.balancedAccuracyScore([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1]), 0.625);
 * assert.equal(
 *   metrics.balancedAccuracyScore([0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 0, 1], { adjusted: true }),
 *   0.25,
 * );
 * ```
 */
export function balancedAccuracyScore(
  yTrue: Labels,
  yPred: Labels,
  options: BalancedAccuracyOptions = {},
): number {
  const fn = "metrics.balancedAccuracyScore";
  const o = checkContract(BALANCED, arguments.length, options);
  const { t, p } = labelsOnly(fn, yTrue, yPred);
  const w = checkSampleWeight(fn, o.sampleWeight, t.length);
  const labels = uniqueSorted(t, p);
  // sklearn: diag(C) / C.sum(axis=1) of the (weighted) confusion matrix, NaN rows dropped.
  const m = countMatrix({ t, p }, labels, w);
  const perClass: number[] = [];
  m.forEach((row, i) => {
    const support = row.reduce((a, b) => a + b, 0);
    if (support !== 0) perClass.push(row[i] / support);
  });
  if (perClass.length < labels.length) warnOnce(`${fn}: y_pred contains classes not in y_true`);
  let score = mean(perClass);
  if (o.adjusted) {
    const chance = 1 / perClass.length;
    score -= chance;
    score /= 1 - chance;
  }
  return score;
}

/** Options of `topKAccuracyScore`. */
export interface TopKAccuracyOptions {
  /** How many of the highest scores may hold the true class (default 2, as sklearn). */
  k?: number;
  /** True (default): the fraction of hits; false: their number. */
  normalize?: boolean;
  /**
   * The label of each score column, increasing; default the labels present
   * in `yTrue`, which must then be one per column.
   */
  labels?: readonly number[];
  /** One weight per sample (sklearn's `sample_weight`): the weighted fraction of hits. */
  sampleWeight?: SampleWeight;
}

const TOP_K: CallContract<TopKAccuracyOptions> = {
  where: "metrics.topKAccuracyScore",
  most: 3,
  known: ["k", "normalize", "labels", "sampleWeight"],
  usage: "metrics.topKAccuracyScore(yTrue, probs, { k: 3, labels: [0, 1, 2, 3] })",
};

/**
 * The fraction of samples whose true class is among the `k` highest
 * scores, as `sklearn.metrics.top_k_accuracy_score`. Tied scores rank the
 * higher column first, as sklearn's stable argsort reversed does. With one
 * score per sample (binary), k = 1 thresholds it at 0.5 when all scores lie
 * in [0, 1] and at 0 otherwise, and k >= 2 is always a hit. k >= the number
 * of classes warns (once) that the score is meaningless.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors.
 * @param scores An [N, C] score matrix (a 2-D Tensor, nested rows or a flat
 * row-major array), or N scores of the second class (binary).
 * @param options `k` (default 2), `normalize` (default true), `labels`, `sampleWeight`.
 * @returns The top-k accuracy, or the number of hits.
 * @throws {RangeError} On empty or mismatched inputs, non-finite scores, a
 * number of classes that differs from the columns, or a label of yTrue not
 * in `labels`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const probs = [[0.5, 0.2, 0.2], [0.3, 0.4, 0.2], [0.2, 0.4, 0.3], [0.7, 0.2, 0.1]];
 * assert.equal(metrics.topKAccuracyScore([0, 1, 2, 2], probs, { k: 2 }), 0.75);
 * assert.equal(metrics.topKAccuracyScore([0, 1, 2, 2], probs, { k: 1 }), 0.5);
 * ```
 */
export function topKAccuracyScore(
  yTrue: Labels,
  scores: Scores,
  options: TopKAccuracyOptions = {},
): number {
  const fn = "metrics.topKAccuracyScore";
  const o = checkContract(TOP_K, arguments.length, options);
  const k = o.k ?? 2;
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`${fn}: k must be a positive integer, got ${show(k)}`);
  }
  const y = checkLabels(fn, "yTrue", yTrue);
  const n = y.length;
  if (n === 0) throw new RangeError(`${fn}: no samples (yTrue is empty)`);
  const w = checkSampleWeight(fn, o.sampleWeight, n);
  const s = scoreValues(fn, "scores", scores);
  if (s.rows !== undefined && s.rows !== n) {
    throw new RangeError(`${fn}: scores has ${s.rows} rows but yTrue has ${n} labels`);
  }
  const c = s.columns ?? s.values.length / n;
  if (!Number.isInteger(c) || c < 1) {
    throw new RangeError(
      `${fn}: scores has ${s.values.length} entries for ${n} labels; expected ${n} (binary) ` +
        `or ${n} x C (one column per class)`,
    );
  }
  for (let i = 0; i < s.values.length; i++) {
    if (!Number.isFinite(s.values[i])) {
      throw new RangeError(`${fn}: scores[${i}] = ${s.values[i]} is not a finite number`);
    }
  }
  const binary = c === 1;
  const width = binary ? 2 : c;
  let classes: number[];
  if (o.labels === undefined) {
    classes = uniqueSorted(y);
    if (classes.length !== width) {
      throw new RangeError(
        `${fn}: yTrue holds ${classes.length} classes [${classes}] but scores has ${width} ` +
          `(${binary ? "one score per sample is binary" : "columns"}); pass every class as ` +
          "{ labels: [...] }",
      );
    }
  } else {
    classes = checkLabelList(fn, o.labels);
    if (classes.some((v, i) => i > 0 && v < classes[i - 1])) {
      throw new RangeError(`${fn}: labels must be increasing, got [${classes}]`);
    }
    if (classes.length !== width) {
      throw new RangeError(
        `${fn}: ${classes.length} labels but scores has ${width} classes` +
          (binary ? " (one score per sample is binary)" : " (columns)"),
      );
    }
  }
  if (k >= width) {
    warnOnce(
      `${fn}: 'k' (${k}) greater than or equal to 'n_classes' (${width}) will result in a ` +
        "perfect score and is therefore meaningless.",
    );
  }
  const column = new Map(classes.map((label, i) => [label, i]));
  const v = s.values;
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]);
    max = Math.max(max, v[i]);
  }
  const threshold = min >= 0 && max <= 1 ? 0.5 : 0;
  const hits = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const truth = column.get(y[i]);
    if (truth === undefined) {
      throw new RangeError(`${fn}: yTrue[${i}] = ${y[i]} is not in labels [${classes}]`);
    }
    if (binary) {
      hits[i] = k >= 2 || (v[i] > threshold ? 1 : 0) === truth ? 1 : 0;
      continue;
    }
    // The rank of the true column: higher scores first, ties to the higher column.
    const mine = v[i * c + truth];
    let rank = 0;
    for (let j = 0; j < c; j++) {
      const other = v[i * c + j];
      if (other > mine || (other === mine && j > truth)) rank++;
    }
    if (rank < k) hits[i] = 1;
  }
  return weightedSum(fn, hits, w, o.normalize ?? true);
}
