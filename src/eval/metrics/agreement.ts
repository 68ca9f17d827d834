/**
 * Chance-corrected agreement, as scikit-learn 1.2 computes it:
 * `cohenKappaScore` (unweighted, or linear / quadratic weights for ordinal
 * grades) and `matthewsCorrcoef` (binary and multiclass).
 *
 * @module
 */
import type { Labels } from "./labels.ts";
import { checkLabelList, checkSomeLabelInTruth, countMatrix, show, uniqueSorted } from "./pairs.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { labelsOnly } from "./target.ts";
import { checkSampleWeight, type SampleWeight } from "./weights.ts";

/** Options of `cohenKappaScore`. */
export interface CohenKappaOptions {
  /**
   * The classes, in their order (which sets the weights' distances); default
   * the labels present in either list, increasing. Pairs with a label not
   * in the list are left out; at least one must occur in `y1`.
   */
  labels?: readonly number[];
  /**
   * null (default): every disagreement weighs 1; "linear": |i - j|;
   * "quadratic": (i - j)², with i, j positions in `labels`.
   */
  weights?: "linear" | "quadratic" | null;
  /** One weight per sample (sklearn's `sample_weight`): a weighted confusion matrix. */
  sampleWeight?: SampleWeight;
}

const KAPPA: CallContract<CohenKappaOptions> = {
  where: "metrics.cohenKappaScore",
  most: 3,
  known: ["labels", "weights", "sampleWeight"],
  usage: 'metrics.cohenKappaScore(y1, y2, { weights: "quadratic", labels: [0, 1, 2, 3, 4] })',
};

/**
 * Cohen's kappa, (observed - chance agreement) / (1 - chance), as
 * `sklearn.metrics.cohen_kappa_score`; with `weights`, the weighted kappa
 * of ordinal grades (quadratic is the usual one for lesion or retinopathy
 * grades). The weights use positions in `labels`, as sklearn: without
 * `labels`, a grade that occurs in neither list is skipped, so grades 0 and
 * 2 are then one step apart; pass every grade to weigh by the grade values.
 * When both raters always give the same single class it is 0 / 0 and NaN,
 * as in sklearn.
 *
 * @param y1 Labels of the first rater (or the truth): an array, a 1-D Tensor,
 * or a list of one-element Tensors.
 * @param y2 Labels of the second rater (or the predictions), same length.
 * @param options `labels`, `weights` and `sampleWeight` (one weight per sample).
 * @returns Kappa in [-1, 1] (NaN when undefined).
 * @throws {RangeError} On empty or mismatched inputs, a label that is not a
 * non-negative integer, unknown weights, or `labels` of which none occurs in y1.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const grader = [0, 1, 2, 3, 4, 2, 1];
 * const model = [0, 2, 2, 3, 3, 2, 0];
 * const k = metrics.cohenKappaScore(grader, model, { weights: "quadratic" });
 * assert.ok(Math.abs(k - 0.8531468531468531) < 1e-12);
 * assert.equal(metrics.cohenKappaScore([0, 1, 1, 0], [0, 1, 1, 0]), 1);
 * ```
 */
export function cohenKappaScore(y1: Labels, y2: Labels, options: CohenKappaOptions = {}): number {
  const fn = "metrics.cohenKappaScore";
  const o = checkContract(KAPPA, arguments.length, options);
  const weights = o.weights ?? null;
  if (weights !== null && weights !== "linear" && weights !== "quadratic") {
    throw new RangeError(
      `${fn}: weights must be "linear", "quadratic" or null, got ${show(weights)}`,
    );
  }
  const pair = labelsOnly(fn, y1, y2, ["y1", "y2"]);
  const w = checkSampleWeight(fn, o.sampleWeight, pair.t.length);
  let labels: number[];
  if (o.labels === undefined) labels = uniqueSorted(pair.t, pair.p);
  else {
    labels = checkLabelList(fn, o.labels);
    checkSomeLabelInTruth(fn, pair.t, labels);
  }
  const m = countMatrix(pair, labels, w);
  const k = labels.length;
  const sum0 = new Array<number>(k).fill(0), sum1 = new Array<number>(k).fill(0);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      sum0[j] += m[i][j];
      sum1[i] += m[i][j];
    }
  }
  const total = sum0.reduce((a, b) => a + b, 0);
  let observed = 0, expected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const d = Math.abs(i - j);
      const w = weights === null ? (d === 0 ? 0 : 1) : weights === "linear" ? d : d * d;
      observed += w * m[i][j];
      expected += w * (sum0[i] * sum1[j] / total);
    }
  }
  return 1 - observed / expected;
}

/** Options of `matthewsCorrcoef`. */
export interface MatthewsOptions {
  /** One weight per sample (sklearn's `sample_weight`). */
  sampleWeight?: SampleWeight;
}

const MCC: CallContract<MatthewsOptions> = {
  where: "metrics.matthewsCorrcoef",
  most: 3,
  known: ["sampleWeight"],
  usage: "metrics.matthewsCorrcoef(yTrue, yPred, { sampleWeight: w })",
};

/**
 * The Matthews correlation coefficient, as `sklearn.metrics.matthews_corrcoef`:
 * the correlation between true and predicted labels, binary or multiclass
 * (Gorodkin's R_K). It is 0 when either list holds a single class (sklearn's
 * convention for the 0 / 0). With `sampleWeight`, of the weighted
 * confusion matrix. Multilabel indicators throw, as in sklearn.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors.
 * @param yPred Predicted labels, same length.
 * @param options `sampleWeight` (one weight per sample).
 * @returns MCC in [-1, 1].
 * @throws {RangeError} On empty or mismatched inputs, or a label that is not a
 * non-negative integer.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const mcc = metrics.matthewsCorrcoef([1, 1, 1, 0], [1, 0, 1, 1]);
 * assert.ok(Math.abs(mcc + 1 / 3) < 1e-12);
 * assert.equal(metrics.matthewsCorrcoef([0, 1, 2], [0, 1, 2]), 1);
 * const w = metrics.matthewsCorrcoef([1, 1, 1, 0], [1, 0, 1, 1], { sampleWeight: [1, 0, 1, 0] });
 * assert.equal(w, 0); // the two weighted samples are both true positives: one class only
 * ```
 */
export function matthewsCorrcoef(
  yTrue: Labels,
  yPred: Labels,
  options: MatthewsOptions = {},
): number {
  const fn = "metrics.matthewsCorrcoef";
  const o = checkContract(MCC, arguments.length, options);
  const pair = labelsOnly(fn, yTrue, yPred);
  const w = checkSampleWeight(fn, o.sampleWeight, pair.t.length);
  const labels = uniqueSorted(pair.t, pair.p);
  const m = countMatrix(pair, labels, w);
  const k = labels.length;
  const tSum = new Array<number>(k).fill(0), pSum = new Array<number>(k).fill(0);
  let correct = 0;
  for (let i = 0; i < k; i++) {
    correct += m[i][i];
    for (let j = 0; j < k; j++) {
      tSum[i] += m[i][j];
      pSum[j] += m[i][j];
    }
  }
  const n = pSum.reduce((a, b) => a + b, 0);
  const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
  const covTP = correct * n - dot(tSum, pSum);
  const covPP = n * n - dot(pSum, pSum);
  const covTT = n * n - dot(tSum, tSum);
  if (covPP * covTT === 0) return 0;
  return covTP / Math.sqrt(covTT * covPP);
}
