/**
 * Precision, recall, F-beta and support per class and their averages,
 * computed as scikit-learn 1.2's `precision_recall_fscore_support`: the
 * counts per label (weighted by `sampleWeight`), the zero-division rule and
 * its warnings, the "binary" / "micro" / "macro" / "weighted" / "samples" /
 * per-class (null) averages, for class labels or multilabel indicators
 * ([N, K] matrices of 0 and 1). The public functions are in prf_scores.ts.
 *
 * @module
 */
import { labelHint, type Targets } from "./labels.ts";
import { checkLabelList, checkZeroDivision, show, warnOnce, type ZeroDivision } from "./pairs.ts";
import { checkAverage, type LabelAverage, setWiseCounts, setWiseLabels } from "./setwise.ts";
import { targetPair } from "./target.ts";
import { checkSampleWeight, type SampleWeight, zeroWeights } from "./weights.ts";

export { checkAverage, type LabelAverage };

/** What an `average` gives: one number, or one per class when it is null. */
export type Averaged<A extends LabelAverage> = A extends null ? number[] : number;

/** Options of `precisionScore`, `recallScore` and `f1Score`. */
export interface PrfOptions<A extends LabelAverage = LabelAverage> {
  /** How to combine the classes; default "binary" (null for `precisionRecallFscoreSupport`). */
  average?: A;
  /**
   * The classes to score, in the order of per-class results; default the
   * labels present in `yTrue` or `yPred`, increasing. A class that occurs
   * nowhere scores as zero division; samples of classes left out still count
   * as negatives. For multilabel indicators, column indices in [0, K).
   * Ignored with average "binary", as in sklearn.
   */
  labels?: readonly number[];
  /** The positive class of average "binary" (default 1). */
  posLabel?: number;
  /** The value of 0 / 0: "warn" (default: 0 and a one-time warning), 0 or 1. */
  zeroDivision?: ZeroDivision;
  /**
   * One weight per sample (sklearn's `sample_weight`): the counts are
   * weighted sums, and so is `support`.
   */
  sampleWeight?: SampleWeight;
}

/** Options of `fbetaScore` and `precisionRecallFscoreSupport`. */
export interface FbetaOptions<A extends LabelAverage = LabelAverage> extends PrfOptions<A> {
  /** Weight of recall against precision (>= 0; 1 is F1, Infinity is recall). */
  beta?: number;
}

/** What `precisionRecallFscoreSupport` returns. */
export interface PrecisionRecallFscoreSupport<A extends LabelAverage = LabelAverage> {
  /** TP / (TP + FP). */
  precision: Averaged<A>;
  /** TP / (TP + FN). */
  recall: Averaged<A>;
  /** (1 + beta²) P R / (beta² P + R). */
  fbeta: Averaged<A>;
  /**
   * Samples of each class in yTrue (their summed weight with `sampleWeight`)
   * with average null; undefined otherwise (sklearn's None).
   */
  support: A extends null ? number[] : undefined;
}

/** Which ill-defined values warn, as sklearn's `warn_for`. */
export type WarnFor = readonly ("precision" | "recall" | "f-score")[];

/** sklearn's `_warn_prf`: per label, or per sample for average "samples". */
export function warnPrf(
  fn: string,
  modifier: string,
  start: string,
  size: number,
  samples = false,
): void {
  const [axis0, axis1] = samples ? ["label", "sample"] : ["sample", "label"];
  const where = size === 1 ? "due to" : `in ${axis1}s with`;
  warnOnce(
    `${fn}: ${start} ill-defined and being set to 0.0 ${where} no ${modifier} ${axis0}s. ` +
      "Use the zeroDivision option to control this behavior.",
  );
}

/** sklearn's `_prf_divide`: a / b, with `zero` where b is 0, and its warning. */
export function divide(
  fn: string,
  num: number[],
  den: number[],
  metric: "precision" | "recall" | "jaccard",
  warnFor: readonly string[],
  zero: ZeroDivision,
  samples: boolean,
): number[] {
  const zeroValue = zero === 1 ? 1 : 0;
  let ill = false;
  const out = num.map((a, i) => {
    if (den[i] !== 0) return a / den[i];
    ill = true;
    return zeroValue;
  });
  if (ill && zero === "warn" && warnFor.includes(metric)) {
    const name = metric[0].toUpperCase() + metric.slice(1);
    const start = warnFor.includes("f-score") ? `${name} and F-score are` : `${name} is`;
    const modifier = { precision: "predicted", recall: "true", jaccard: "true or predicted" };
    warnPrf(fn, modifier[metric], start, out.length, samples);
  }
  return out;
}

/**
 * numpy's `np.average(a, weights=w)`: sum(a w) / sum(w); weights that sum
 * to 0 throw, as numpy's ZeroDivisionError.
 */
export function weightedMean(
  fn: string,
  a: number[],
  w: ArrayLike<number> | undefined,
): number {
  let s = 0, ws = 0;
  for (let i = 0; i < a.length; i++) {
    s += w ? a[i] * w[i] : a[i];
    ws += w ? w[i] : 1;
  }
  if (w !== undefined && ws === 0) throw zeroWeights(fn);
  return s / ws;
}

/** The options of the computation, checked. */
export interface PrfsSettings {
  beta: number;
  average: LabelAverage;
  labels?: readonly number[];
  posLabel?: number;
  zeroDivision: ZeroDivision;
  /** The raw `sampleWeight`, checked once the number of samples is known. */
  sampleWeight?: unknown;
}

/** Checks beta, average, labels, posLabel and zeroDivision. */
export function prfsSettings(
  fn: string,
  o: FbetaOptions,
  fallback: LabelAverage,
  beta = o.beta ?? 1,
): PrfsSettings {
  if (typeof beta !== "number" || Number.isNaN(beta) || beta < 0) {
    throw new RangeError(
      `${fn}: beta must be a number >= 0 (Infinity for recall), got ${show(beta)}`,
    );
  }
  if (o.posLabel !== undefined && (!Number.isInteger(o.posLabel) || o.posLabel < 0)) {
    throw new RangeError(
      `${fn}: posLabel must be a class label, got ${show(o.posLabel)}${labelHint(o.posLabel)}`,
    );
  }
  return {
    beta,
    average: checkAverage(fn, o.average, fallback),
    labels: o.labels === undefined ? undefined : checkLabelList(fn, o.labels),
    posLabel: o.posLabel,
    zeroDivision: checkZeroDivision(fn, o.zeroDivision),
    sampleWeight: o.sampleWeight,
  };
}

/**
 * sklearn's `precision_recall_fscore_support(y_true, y_pred, beta=...,
 * labels=..., pos_label=..., average=..., warn_for=..., sample_weight=...,
 * zero_division=...)`, for class labels or multilabel indicators.
 */
export function prfs(
  fn: string,
  yTrue: Targets,
  yPred: Targets,
  s: PrfsSettings,
  warnFor: WarnFor,
): PrecisionRecallFscoreSupport {
  const pair = targetPair(fn, yTrue, yPred);
  const n = pair.kind === "labels" ? pair.t.length : pair.n;
  const w = checkSampleWeight(fn, s.sampleWeight, n);
  const labels = setWiseLabels(fn, pair, s.average, s.labels, s.posLabel);
  const samples = s.average === "samples";
  const counts = setWiseCounts(fn, pair, labels, w, samples);
  let { tp, pred: predSum, true: trueSum } = counts;
  if (s.average === "micro") {
    const total = (x: number[]) => [x.reduce((u, v) => u + v, 0)];
    tp = total(tp);
    predSum = total(predSum);
    trueSum = total(trueSum);
  }
  const zero = s.zeroDivision;
  const precision = divide(fn, tp, predSum, "precision", warnFor, zero, samples);
  const recall = divide(fn, tp, trueSum, "recall", warnFor, zero, samples);
  if (zero === "warn" && warnFor.length === 1 && warnFor[0] === "f-score") {
    if (trueSum.some((v, i) => v === 0 && predSum[i] === 0)) {
      warnPrf(fn, "true nor predicted", "F-score is", trueSum.length, samples);
    }
  }
  const beta2 = s.beta * s.beta;
  const fbeta = s.beta === Infinity ? recall : precision.map((pr, i) => {
    const den = beta2 * pr + recall[i];
    return (1 + beta2) * pr * recall[i] / (den === 0 ? 1 : den);
  });
  if (s.average === null) return { precision, recall, fbeta, support: trueSum };
  let weights: ArrayLike<number> | undefined;
  if (s.average === "weighted") {
    weights = trueSum;
    if (trueSum.every((v) => v === 0)) {
      // No sample of any scored class: sklearn's special case.
      const z = zero === 1 ? 1 : 0;
      const none = predSum.every((v) => v === 0);
      return { precision: none ? z : 0, recall: z, fbeta: none ? z : 0, support: undefined };
    }
  } else if (samples) weights = w;
  return {
    precision: weightedMean(fn, precision, weights),
    recall: weightedMean(fn, recall, weights),
    fbeta: weightedMean(fn, fbeta, weights),
    support: undefined,
  };
}
