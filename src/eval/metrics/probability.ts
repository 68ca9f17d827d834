/**
 * Losses of predicted probabilities, as scikit-learn 1.2 computes them:
 * `logLoss` (cross-entropy with sklearn's clipping and renormalisation) and
 * `brierScoreLoss` (binary).
 *
 * @module
 */
import type { Labels, Scores } from "./labels.ts";
import { checkLabels, labelHint } from "./labels.ts";
import { isTensorLike, labelValues, scoreValues } from "./inputs.ts";
import { checkLabelList, show, uniqueSorted } from "./pairs.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { checkSampleWeight, type SampleWeight, weightedSum } from "./weights.ts";

/** Options of `logLoss`. */
export interface LogLossOptions {
  /**
   * Probabilities are clipped to [eps, 1 - eps]. "auto" (default, sklearn
   * 1.2): the machine epsilon of the input, 2^-23 for a float32 Tensor or
   * Float32Array (torch's softmax) and 2^-52 for numbers.
   */
  eps?: number | "auto";
  /** True (default): the mean loss per sample; false: the sum. */
  normalize?: boolean;
  /**
   * The classes of the score columns (sorted); default the labels present in
   * yTrue, which must then be one per column.
   */
  labels?: readonly number[];
  /** One weight per sample (sklearn's `sample_weight`): the weighted mean (or sum). */
  sampleWeight?: SampleWeight;
}

const LOG_LOSS: CallContract<LogLossOptions> = {
  where: "metrics.logLoss",
  most: 3,
  known: ["eps", "normalize", "labels", "sampleWeight"],
  usage: "metrics.logLoss(yTrue, probs, { labels: [0, 1, 2], normalize: false })",
};

/** True when numpy would hold these scores as float32. */
function isFloat32(s: Scores): boolean {
  if (isTensorLike(s)) return s.dtype === "float32";
  if (s instanceof Float32Array) return true;
  const first = (s as ArrayLike<unknown>).length > 0 ? (s as ArrayLike<unknown>)[0] : undefined;
  return first instanceof Float32Array || (isTensorLike(first) && first.dtype === "float32");
}

/** Scores as a flat array with their column count, checked against n samples. */
function scoreMatrix(fn: string, what: string, scores: Scores, n: number) {
  const s = scoreValues(fn, what, scores);
  if (s.rows !== undefined && s.rows !== n) {
    throw new RangeError(`${fn}: ${what} has ${s.rows} rows but yTrue has ${n} labels`);
  }
  const columns = s.columns ?? s.values.length / n;
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RangeError(
      `${fn}: ${what} has ${s.values.length} entries for ${n} labels; expected ${n} ` +
        `(binary) or ${n} x C (one column per class)`,
    );
  }
  for (let i = 0; i < s.values.length; i++) {
    if (!Number.isFinite(s.values[i])) {
      const v: unknown = s.values[i];
      const hint = typeof v === "boolean" ? " (a boolean: pass numbers, probs.map(Number))" : "";
      throw new RangeError(`${fn}: ${what}[${i}] = ${show(v)} is not a finite number${hint}`);
    }
  }
  return { values: s.values, columns };
}

/**
 * The cross-entropy of predicted probabilities, as
 * `sklearn.metrics.log_loss` (1.2): probabilities are clipped to
 * [eps, 1 - eps], each row is divided by its sum (so rows that do not sum to
 * 1 are renormalised, silently, as sklearn 1.2 does), and the loss is the
 * mean of -log p(true class). One probability per sample is that of the
 * second class (binary). The columns are the classes of yTrue, increasing,
 * unless `labels` names them; a missing class therefore needs `labels`.
 *
 * @param yTrue True labels: an array, a 1-D Tensor or a list of one-element Tensors.
 * @param probs [N, C] probabilities (a 2-D Tensor such as `logits.softmax(1)`,
 * nested rows or a flat row-major array), or N probabilities of the second class.
 * @param options `eps`, `normalize`, `labels`, `sampleWeight`.
 * @returns The mean (or summed) loss, in nats.
 * @throws {RangeError} On empty or mismatched inputs, non-finite
 * probabilities, fewer than two classes, a class count that differs from the
 * columns, or a label of yTrue not in `labels`.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const loss = metrics.logLoss([1, 0, 0, 1], [[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]]);
 * assert.ok(Math.abs(loss - 0.21616187468057912) < 1e-12);
 * // One probability per sample (of class 1), and a class missing from yTrue:
 * assert.ok(Math.abs(metrics.logLoss([1, 0], [0.9, 0.2]) - 0.164252033486018) < 1e-12);
 * const three = metrics.logLoss([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], { labels: [0, 1, 2] });
 * assert.ok(Math.abs(three - 0.2899092476264711) < 1e-12);
 * ```
 */
export function logLoss(yTrue: Labels, probs: Scores, options: LogLossOptions = {}): number {
  const fn = "metrics.logLoss";
  const o = checkContract(LOG_LOSS, arguments.length, options);
  const y = checkLabels(fn, "yTrue", yTrue);
  const n = y.length;
  if (n === 0) throw new RangeError(`${fn}: no samples (yTrue is empty)`);
  const w = checkSampleWeight(fn, o.sampleWeight, n);
  const eps = o.eps === undefined || o.eps === "auto"
    ? (isFloat32(probs) ? 2 ** -23 : 2 ** -52)
    : o.eps;
  if (typeof eps !== "number" || !(eps >= 0 && eps <= 1)) {
    throw new RangeError(`${fn}: eps must be "auto" or a number in [0, 1], got ${show(eps)}`);
  }
  const { values, columns } = scoreMatrix(fn, "probs", probs, n);
  const classes = o.labels === undefined
    ? uniqueSorted(y)
    : uniqueSorted(checkLabelList(fn, o.labels));
  if (classes.length === 1) {
    throw new RangeError(
      o.labels === undefined
        ? `${fn}: yTrue contains only one label (${classes[0]}); pass every class as ` +
          "{ labels: [...] }"
        : `${fn}: labels must hold at least two classes, got [${classes}]`,
    );
  }
  const width = columns === 1 ? 2 : columns;
  if (classes.length !== width) {
    throw new RangeError(
      `${fn}: ${o.labels === undefined ? "yTrue holds" : "labels name"} ${classes.length} ` +
        `classes [${classes}] but probs has ${width}` +
        (columns === 1 ? " (one probability per sample is binary)" : " columns") +
        (o.labels === undefined ? "; pass every class as { labels: [...] }" : ""),
    );
  }
  const column = new Map(classes.map((label, i) => [label, i]));
  const clip = (v: number) => Math.min(Math.max(v, eps), 1 - eps);
  const loss = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = column.get(y[i]);
    if (c === undefined) {
      throw new RangeError(`${fn}: yTrue[${i}] = ${y[i]} is not in labels [${classes}]`);
    }
    let sum = 0, mine: number;
    if (columns === 1) {
      const p = clip(values[i]);
      sum = (1 - p) + p;
      mine = c === 1 ? p : 1 - p;
    } else {
      for (let j = 0; j < columns; j++) sum += clip(values[i * columns + j]);
      mine = clip(values[i * columns + c]);
    }
    loss[i] = -Math.log(mine / sum);
  }
  return weightedSum(fn, loss, w, o.normalize ?? true);
}

/** Options of `brierScoreLoss`. */
export interface BrierOptions {
  /**
   * The class whose probability `probs` holds. Default 1 when yTrue holds
   * 0/1 or -1/1 labels, else the greater label (sklearn 1.2's rule).
   */
  posLabel?: number;
  /** One weight per sample (sklearn's `sample_weight`): the weighted mean. */
  sampleWeight?: SampleWeight;
}

const BRIER: CallContract<BrierOptions> = {
  where: "metrics.brierScoreLoss",
  most: 3,
  known: ["posLabel", "sampleWeight"],
  usage: "metrics.brierScoreLoss(yTrue, probs, { posLabel: 1, sampleWeight: w })",
};

/** Integer labels of any sign (binary metrics accept -1/1). */
export function integerLabels(fn: string, yTrue: Labels): ArrayLike<number> {
  const y = labelValues(fn, "yTrue", yTrue);
  for (let i = 0; i < y.length; i++) {
    if (typeof y[i] !== "number" || !Number.isInteger(y[i])) {
      throw new RangeError(
        `${fn}: yTrue[${i}] = ${show(y[i])} is not a class label (an integer)${labelHint(y[i])}`,
      );
    }
  }
  if (y.length === 0) throw new RangeError(`${fn}: no samples (yTrue is empty)`);
  return y;
}

/** sklearn's labels that imply posLabel 1: {0, 1}, {-1, 1}, {0}, {-1}, {1}. */
export function impliesPositiveOne(classes: readonly number[]): boolean {
  const key = classes.join(",");
  return ["0,1", "-1,1", "0", "-1", "1"].includes(key);
}

/** One probability per sample, finite, in [0, 1]. */
export function probabilities(fn: string, probs: Scores, n: number): ArrayLike<number> {
  const s = scoreValues(fn, "probs", probs);
  if (s.columns !== undefined && s.columns !== 1) {
    throw new RangeError(
      `${fn}: probs is a [${s.rows}, ${s.columns}] matrix; this metric is binary: pass the ` +
        "positive class's column, one probability per sample (probs.narrow(1, c, 1))",
    );
  }
  if (s.values.length !== n) {
    throw new RangeError(`${fn}: probs has ${s.values.length} entries but yTrue has ${n}`);
  }
  const { values } = scoreMatrix(fn, "probs", s.values, n);
  for (let i = 0; i < values.length; i++) {
    if (values[i] < 0 || values[i] > 1) {
      throw new RangeError(`${fn}: probs[${i}] = ${values[i]} is outside [0, 1]`);
    }
  }
  return values;
}

/**
 * The mean squared difference between the predicted probability of the
 * positive class and the outcome (1 for posLabel, else 0), as
 * `sklearn.metrics.brier_score_loss`. yTrue must hold at most two classes.
 *
 * @param yTrue True labels (0/1, -1/1, or any two integers with `posLabel`).
 * @param probs One probability per sample, in [0, 1].
 * @param options `posLabel`, `sampleWeight`.
 * @returns The Brier score in [0, 1] (lower is better).
 * @throws {RangeError} On empty or mismatched inputs, more than two classes,
 * or probabilities outside [0, 1].
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const b = metrics.brierScoreLoss([0, 1, 1, 0], [0.1, 0.9, 0.8, 0.3]);
 * assert.ok(Math.abs(b - 0.0375) < 1e-12);
 * ```
 */
export function brierScoreLoss(yTrue: Labels, probs: Scores, options: BrierOptions = {}): number {
  const fn = "metrics.brierScoreLoss";
  const o = checkContract(BRIER, arguments.length, options);
  const y = integerLabels(fn, yTrue);
  const p = probabilities(fn, probs, y.length);
  const w = checkSampleWeight(fn, o.sampleWeight, y.length);
  const classes = uniqueSorted(y);
  if (classes.length > 2) {
    throw new RangeError(
      `${fn}: only binary classification is supported; yTrue holds ${classes.length} ` +
        `classes [${classes}]; for class c against the rest pass yTrue.map((v) => ` +
        "(v === c ? 1 : 0)) with that class's probabilities",
    );
  }
  const pos = o.posLabel ?? (impliesPositiveOne(classes) ? 1 : classes[classes.length - 1]);
  const sq = Array.from(y, (v, i) => {
    const d = (v === pos ? 1 : 0) - p[i];
    return d * d;
  });
  return weightedSum(fn, sq, w, true);
}
