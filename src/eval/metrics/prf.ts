/**
 * Precision, recall, F-beta and support per class and their averages,
 * computed as scikit-learn 1.2's `precision_recall_fscore_support`: the
 * counts per label, the zero-division rule and its warnings, the
 * "binary" / "micro" / "macro" / "weighted" / per-class (null) averages.
 * The public functions are in prf_scores.ts.
 *
 * @module
 */
import type { Labels } from "./labels.ts";
import {
  checkLabelList,
  checkZeroDivision,
  indexOf,
  labelPair,
  show,
  uniqueSorted,
  warnOnce,
  type ZeroDivision,
} from "./pairs.ts";

/**
 * How per-class values are combined, as sklearn's `average`: "binary" (the
 * class `posLabel` only; labels must be binary), "micro" (from the counts
 * summed over the classes), "macro" (plain mean), "weighted" (mean weighted
 * by support), or null (one value per class).
 */
export type LabelAverage = "binary" | "micro" | "macro" | "weighted" | null;

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
   * as negatives. Ignored with average "binary", as in sklearn.
   */
  labels?: readonly number[];
  /** The positive class of average "binary" (default 1). */
  posLabel?: number;
  /** The value of 0 / 0: "warn" (default: 0 and a one-time warning), 0 or 1. */
  zeroDivision?: ZeroDivision;
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
  /** Samples of each class in yTrue with average null; undefined otherwise (sklearn's None). */
  support: A extends null ? number[] : undefined;
}

/** Which ill-defined values warn, as sklearn's `warn_for`. */
export type WarnFor = readonly ("precision" | "recall" | "f-score")[];

const AVERAGES: readonly unknown[] = ["binary", "micro", "macro", "weighted", null];

/** Checks `average` (undefined gives `fallback`). */
export function checkAverage(fn: string, average: unknown, fallback: LabelAverage): LabelAverage {
  if (average === undefined) return fallback;
  if (AVERAGES.includes(average)) return average as LabelAverage;
  const samples = average === "samples" ? ' ("samples" is for multilabel targets)' : "";
  throw new RangeError(
    `${fn}: average must be "binary", "micro", "macro", "weighted" or null (per class), ` +
      `got ${show(average)}${samples}`,
  );
}

/** sklearn's `_warn_prf`. */
function warnPrf(fn: string, modifier: string, start: string, size: number): void {
  const where = size === 1 ? "due to" : "in labels with";
  warnOnce(
    `${fn}: ${start} ill-defined and being set to 0.0 ${where} no ${modifier} samples. ` +
      "Use the zeroDivision option to control this behavior.",
  );
}

/** sklearn's `_prf_divide`: a / b, with `zero` where b is 0, and its warning. */
function divide(
  fn: string,
  num: number[],
  den: number[],
  metric: "precision" | "recall",
  warnFor: WarnFor,
  zero: ZeroDivision,
): number[] {
  const zeroValue = zero === 1 ? 1 : 0;
  let ill = false;
  const out = num.map((a, i) => {
    if (den[i] !== 0) return a / den[i];
    ill = true;
    return zeroValue;
  });
  if (ill && zero === "warn" && warnFor.includes(metric)) {
    const name = metric === "precision" ? "Precision" : "Recall";
    const start = warnFor.includes("f-score") ? `${name} and F-score are` : `${name} is`;
    warnPrf(fn, metric === "precision" ? "predicted" : "true", start, out.length);
  }
  return out;
}

/** numpy's `np.average(a, weights=w)`: sum(a w) / sum(w). */
function weightedMean(a: number[], w: number[] | undefined): number {
  let s = 0, ws = 0;
  for (let i = 0; i < a.length; i++) {
    s += w ? a[i] * w[i] : a[i];
    ws += w ? w[i] : 1;
  }
  return s / ws;
}

/** The options of the computation, checked. */
export interface PrfsSettings {
  beta: number;
  average: LabelAverage;
  labels?: readonly number[];
  posLabel?: number;
  zeroDivision: ZeroDivision;
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
    throw new RangeError(`${fn}: posLabel must be a class label, got ${show(o.posLabel)}`);
  }
  return {
    beta,
    average: checkAverage(fn, o.average, fallback),
    labels: o.labels === undefined ? undefined : checkLabelList(fn, o.labels),
    posLabel: o.posLabel,
    zeroDivision: checkZeroDivision(fn, o.zeroDivision),
  };
}

/**
 * sklearn's `precision_recall_fscore_support(y_true, y_pred, beta=...,
 * labels=..., pos_label=..., average=..., warn_for=..., zero_division=...)`.
 */
export function prfs(
  fn: string,
  yTrue: Labels,
  yPred: Labels,
  s: PrfsSettings,
  warnFor: WarnFor,
): PrecisionRecallFscoreSupport {
  const { t, p } = labelPair(fn, yTrue, yPred);
  const present = uniqueSorted(t, p);
  let labels = s.labels ?? present;
  const posLabel = s.posLabel ?? 1;
  if (s.average === "binary") {
    if (present.length > 2) {
      throw new RangeError(
        `${fn}: yTrue and yPred hold ${present.length} classes [${present}] but average is ` +
          '"binary"; choose average "micro", "macro", "weighted" or null (per class)',
      );
    }
    if (!present.includes(posLabel) && present.length >= 2) {
      throw new RangeError(
        `${fn}: posLabel=${posLabel} is not a valid label. It should be one of [${present}]`,
      );
    }
    labels = [posLabel];
  } else if (posLabel !== 1) {
    warnOnce(
      `${fn}: Note that posLabel (set to ${posLabel}) is ignored when average != 'binary' ` +
        `(got ${s.average === null ? "null" : `'${s.average}'`}). You may use ` +
        "labels: [posLabel] to specify a single positive class.",
    );
  }
  const at = indexOf(labels);
  let tp = new Array<number>(labels.length).fill(0);
  let predSum = tp.slice(), trueSum = tp.slice();
  for (let i = 0; i < t.length; i++) {
    const a = at.get(t[i]), b = at.get(p[i]);
    if (a !== undefined) trueSum[a]++;
    if (b !== undefined) predSum[b]++;
    if (a !== undefined && t[i] === p[i]) tp[a]++;
  }
  if (s.average === "micro") {
    const total = (x: number[]) => [x.reduce((u, v) => u + v, 0)];
    tp = total(tp);
    predSum = total(predSum);
    trueSum = total(trueSum);
  }
  const zero = s.zeroDivision;
  const precision = divide(fn, tp, predSum, "precision", warnFor, zero);
  const recall = divide(fn, tp, trueSum, "recall", warnFor, zero);
  if (zero === "warn" && warnFor.length === 1 && warnFor[0] === "f-score") {
    if (trueSum.some((v, i) => v === 0 && predSum[i] === 0)) {
      warnPrf(fn, "true nor predicted", "F-score is", trueSum.length);
    }
  }
  const beta2 = s.beta * s.beta;
  const fbeta = s.beta === Infinity ? recall : precision.map((pr, i) => {
    const den = beta2 * pr + recall[i];
    return (1 + beta2) * pr * recall[i] / (den === 0 ? 1 : den);
  });
  if (s.average === null) return { precision, recall, fbeta, support: trueSum };
  let weights: number[] | undefined;
  if (s.average === "weighted") {
    weights = trueSum;
    if (trueSum.every((v) => v === 0)) {
      // No sample of any scored class: sklearn's special case.
      const z = zero === 1 ? 1 : 0;
      const none = predSum.every((v) => v === 0);
      return { precision: none ? z : 0, recall: z, fbeta: none ? z : 0, support: undefined };
    }
  }
  return {
    precision: weightedMean(precision, weights),
    recall: weightedMean(recall, weights),
    fbeta: weightedMean(fbeta, weights),
    support: undefined,
  };
}
