/**
 * The label metrics that scikit-learn 1.2 defines for class labels and
 * multilabel indicators alike: `multilabelConfusionMatrix` (one 2x2
 * one-vs-rest matrix per class or label), `jaccardScore` (intersection over
 * union, with the averages of precision), `hammingLoss` (the fraction of
 * wrong labels) and `zeroOneLoss` (the fraction of wrong samples), each
 * with `sampleWeight`.
 *
 * @module
 */
import { labelHint, type Targets } from "./labels.ts";
import { checkLabelList, checkZeroDivision, show, type ZeroDivision } from "./pairs.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { checkAverage, type LabelAverage, setWiseCounts, setWiseLabels } from "./setwise.ts";
import { divide, weightedMean } from "./prf.ts";
import { targetPair } from "./target.ts";
import { checkSampleWeight, type SampleWeight, weightedSum, zeroWeights } from "./weights.ts";
import type { Averaged } from "./prf.ts";

/** Options of `multilabelConfusionMatrix`. */
export interface MultilabelConfusionMatrixOptions {
  /** One weight per sample (sklearn's `sample_weight`). */
  sampleWeight?: SampleWeight;
  /**
   * The classes (for indicators: column indices) to give a matrix for, in
   * this order; default every class present (every column).
   */
  labels?: readonly number[];
  /** One matrix per sample instead of per label (multilabel indicators only). */
  samplewise?: boolean;
}

const MCM: CallContract<MultilabelConfusionMatrixOptions> = {
  where: "metrics.multilabelConfusionMatrix",
  most: 3,
  known: ["sampleWeight", "labels", "samplewise"],
  usage: "metrics.multilabelConfusionMatrix(yTrue, yPred, { labels: [0, 2], sampleWeight: w })",
};

/**
 * One 2x2 confusion matrix per class, each class against the rest, as
 * `sklearn.metrics.multilabel_confusion_matrix`: entry c is
 * `[[tn, fp], [fn, tp]]` of class `labels[c]` (note the order: row 0 is
 * the negatives). Takes class labels (one-vs-rest of each class) or [N, K]
 * multilabel indicators (one matrix per column, or per sample with
 * `samplewise`). With `sampleWeight` the entries are weighted sums.
 *
 * @param yTrue True labels, or an [N, K] indicator of 0 and 1 (2-D Tensor or nested rows).
 * @param yPred Predictions in the same form.
 * @param options `sampleWeight`, `labels`, `samplewise`.
 * @returns One [[tn, fp], [fn, tp]] matrix per label (or sample).
 * @throws {RangeError} On empty or mismatched inputs, a mix of labels and
 * indicators, or `samplewise` with class labels.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const m = metrics.multilabelConfusionMatrix([[1, 0], [0, 1], [1, 1]], [[1, 0], [1, 1], [0, 1]]);
 * assert.deepEqual(m, [[[0, 1], [1, 1]], [[1, 0], [0, 2]]]);
 * assert.deepEqual(metrics.multilabelConfusionMatrix([0, 1, 2], [0, 2, 2], { labels: [2] }), [
 *   [[1, 1], [0, 1]],
 * ]);
 * ```
 */
export function multilabelConfusionMatrix(
  yTrue: Targets,
  yPred: Targets,
  options: MultilabelConfusionMatrixOptions = {},
): number[][][] {
  const fn = "metrics.multilabelConfusionMatrix";
  const o = checkContract(MCM, arguments.length, options);
  const samplewise = o.samplewise ?? false;
  if (typeof samplewise !== "boolean") {
    throw new TypeError(`${fn}: samplewise must be true or false, got ${samplewise}`);
  }
  const pair = targetPair(fn, yTrue, yPred);
  const n = pair.kind === "labels" ? pair.t.length : pair.n;
  const w = checkSampleWeight(fn, o.sampleWeight, n);
  const labels = o.labels === undefined ? undefined : checkLabelList(fn, o.labels);
  const c = setWiseCounts(fn, pair, labels, w, samplewise);
  return c.tp.map((tp, i) => {
    const fp = c.pred[i] - tp, fn = c.true[i] - tp;
    return [[c.total[i] - tp - fp - fn, fp], [fn, tp]];
  });
}

/** Options of `jaccardScore`. */
export interface JaccardOptions<A extends LabelAverage = LabelAverage> {
  /** How to combine the classes; default "binary" (the class `posLabel`). */
  average?: A;
  /** The classes (indicator columns) to score, in order; default those present. */
  labels?: readonly number[];
  /** The positive class of average "binary" (default 1). */
  posLabel?: number;
  /** The value of 0 / 0 (no true or predicted sample): "warn" (default: 0 and a warning), 0, 1. */
  zeroDivision?: ZeroDivision;
  /** One weight per sample (sklearn's `sample_weight`). */
  sampleWeight?: SampleWeight;
}

const JACCARD: CallContract<JaccardOptions> = {
  where: "metrics.jaccardScore",
  most: 3,
  known: ["average", "labels", "posLabel", "zeroDivision", "sampleWeight"],
  usage: 'metrics.jaccardScore(yTrue, yPred, { average: "macro", zeroDivision: 0 })',
};

/**
 * The Jaccard index, TP / (TP + FP + FN), the intersection over the union
 * of the true and predicted sets, as `sklearn.metrics.jaccard_score`: for
 * the class `posLabel` of binary labels (default), or averaged over the
 * classes ("micro", "macro", "weighted"), per sample for multilabel
 * indicators ("samples"), or per class (null). A class with no true and no
 * predicted sample is 0 / 0: 0 and a one-time warning, or `zeroDivision`.
 * For a segmentation mask this is the IoU of the flattened pixels.
 *
 * @param yTrue True labels, or an [N, K] indicator of 0 and 1.
 * @param yPred Predictions in the same form.
 * @param options `average` (default "binary"), `labels`, `posLabel`,
 * `zeroDivision`, `sampleWeight`.
 * @returns The Jaccard index, or one per class with `average: null`.
 * @throws {RangeError} As `precisionScore`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.jaccardScore([0, 1, 1, 1], [1, 1, 0, 1]), 0.5);
 * const yTrue = [[0, 1, 1], [1, 1, 0]];
 * const yPred = [[1, 1, 1], [1, 0, 0]];
 * const perSample = metrics.jaccardScore(yTrue, yPred, { average: "samples" }); // (2/3 + 1/2) / 2
 * assert.ok(Math.abs(perSample - 7 / 12) < 1e-12);
 * assert.deepEqual(metrics.jaccardScore(yTrue, yPred, { average: null }), [0.5, 0.5, 1]);
 * ```
 */
export function jaccardScore<A extends LabelAverage = "binary">(
  yTrue: Targets,
  yPred: Targets,
  options: JaccardOptions<A> = {},
): Averaged<A> {
  const fn = "metrics.jaccardScore";
  const o = checkContract(JACCARD, arguments.length, options);
  const average = checkAverage(fn, o.average, "binary");
  const zero = checkZeroDivision(fn, o.zeroDivision);
  if (o.posLabel !== undefined && (!Number.isInteger(o.posLabel) || o.posLabel < 0)) {
    throw new RangeError(
      `${fn}: posLabel must be a class label, got ${show(o.posLabel)}${labelHint(o.posLabel)}`,
    );
  }
  const pair = targetPair(fn, yTrue, yPred);
  const n = pair.kind === "labels" ? pair.t.length : pair.n;
  const w = checkSampleWeight(fn, o.sampleWeight, n);
  const given = o.labels === undefined ? undefined : checkLabelList(fn, o.labels);
  const labels = setWiseLabels(fn, pair, average, given, o.posLabel);
  const samples = average === "samples";
  const c = setWiseCounts(fn, pair, labels, w, samples);
  let num = c.tp, den = c.tp.map((tp, i) => c.pred[i] + c.true[i] - tp);
  if (average === "micro") {
    num = [num.reduce((a, b) => a + b, 0)];
    den = [den.reduce((a, b) => a + b, 0)];
  }
  const jaccard = divide(fn, num, den, "jaccard", ["jaccard"], zero, samples);
  if (average === null) return jaccard as Averaged<A>;
  let weights: ArrayLike<number> | undefined;
  if (average === "weighted") {
    weights = c.true;
    if (c.true.every((v) => v === 0)) weights = undefined;
  } else if (samples) weights = w;
  return weightedMean(fn, jaccard, weights) as Averaged<A>;
}

/** Options of `hammingLoss`. */
export interface HammingLossOptions {
  /** One weight per sample (sklearn's `sample_weight`). */
  sampleWeight?: SampleWeight;
}

const HAMMING: CallContract<HammingLossOptions> = {
  where: "metrics.hammingLoss",
  most: 3,
  known: ["sampleWeight"],
  usage: "metrics.hammingLoss(yTrue, yPred, { sampleWeight: w })",
};

/**
 * The fraction of labels predicted wrongly, as
 * `sklearn.metrics.hamming_loss`: for class labels the fraction of wrong
 * samples (1 - accuracy); for [N, K] multilabel indicators the fraction of
 * the N x K cells that differ. With `sampleWeight`, the weighted fraction.
 *
 * @param yTrue True labels, or an [N, K] indicator of 0 and 1.
 * @param yPred Predictions in the same form.
 * @param options `sampleWeight`.
 * @returns The loss in [0, 1] (lower is better).
 * @throws {RangeError} On empty or mismatched inputs, a mix of labels and
 * indicators, or weights that sum to 0.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.hammingLoss([1, 2, 3, 4], [2, 2, 3, 4]), 0.25);
 * assert.equal(metrics.hammingLoss([[0, 1], [1, 1]], [[0, 0], [0, 0]]), 0.75);
 * ```
 */
export function hammingLoss(
  yTrue: Targets,
  yPred: Targets,
  options: HammingLossOptions = {},
): number {
  const fn = "metrics.hammingLoss";
  const o = checkContract(HAMMING, arguments.length, options);
  const pair = targetPair(fn, yTrue, yPred);
  if (pair.kind === "labels") {
    const w = checkSampleWeight(fn, o.sampleWeight, pair.t.length);
    return weightedSum(fn, pair.t.map((v, i) => v === pair.p[i] ? 0 : 1), w, true);
  }
  const { t, p, n, k } = pair;
  const w = checkSampleWeight(fn, o.sampleWeight, n);
  let differences = 0, weightSum = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = i * k; j < (i + 1) * k; j++) if (t[j] !== p[j]) d++;
    differences += w === undefined ? d : d * w[i];
    weightSum += w === undefined ? 1 : w[i];
  }
  if (weightSum === 0) throw zeroWeights(fn);
  return differences / (n * k * (weightSum / n));
}

/** Options of `zeroOneLoss`. */
export interface ZeroOneLossOptions {
  /** True (default): the fraction of wrong samples; false: their number. */
  normalize?: boolean;
  /** One weight per sample (sklearn's `sample_weight`). */
  sampleWeight?: SampleWeight;
}

const ZERO_ONE: CallContract<ZeroOneLossOptions> = {
  where: "metrics.zeroOneLoss",
  most: 3,
  known: ["normalize", "sampleWeight"],
  usage: "metrics.zeroOneLoss(yTrue, yPred, { normalize: false })",
};

/**
 * The fraction of samples predicted wrongly, as
 * `sklearn.metrics.zero_one_loss` (1 - `accuracyScore`; for multilabel
 * indicators a sample is wrong when any label differs), or their number
 * (summed weight) with `normalize: false`.
 *
 * @param yTrue True labels, or an [N, K] indicator of 0 and 1.
 * @param yPred Predictions in the same form.
 * @param options `normalize` (default true), `sampleWeight`.
 * @returns The loss.
 * @throws {RangeError} As `accuracyScore`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metrics.zeroOneLoss([1, 2, 3, 4], [2, 2, 3, 4]), 0.25);
 * assert.equal(metrics.zeroOneLoss([1, 2, 3, 4], [2, 2, 3, 4], { normalize: false }), 1);
 * ```
 */
export function zeroOneLoss(
  yTrue: Targets,
  yPred: Targets,
  options: ZeroOneLossOptions = {},
): number {
  const fn = "metrics.zeroOneLoss";
  const o = checkContract(ZERO_ONE, arguments.length, options);
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
  const score = weightedSum(fn, correct, w, o.normalize ?? true);
  if (o.normalize ?? true) return 1 - score;
  return (w === undefined ? n : w.reduce((a, b) => a + b, 0)) - score;
}
