/**
 * How `rocAuc` and `averagePrecision` turn a binary curve metric into a
 * score of several classes or labels, as scikit-learn 1.2's
 * `_average_binary_score`: binary (one score per sample), one-vs-rest over
 * a multiclass score matrix, or per column of a multilabel indicator, then
 * "micro" (all cells as one binary problem), "macro", "weighted" (by the
 * weighted support of each column), "samples" (per row; multilabel only) or
 * null (one value per column), with `sampleWeight`.
 *
 * @module
 */
import type { CurveOptions } from "./curves.ts";
import { checkLabels, checkNumClasses, type Labels, type Scores, type Targets } from "./labels.ts";
import { labelValues, scoreValues } from "./inputs.ts";
import { checkCall } from "../../options.ts";
import { readIndicator } from "./target.ts";
import { checkSampleWeight, zeroWeights } from "./weights.ts";
import { show } from "./pairs.ts";

/**
 * How per-class (or per-label) values of a score matrix are combined:
 * "macro" (plain mean, the default), "weighted" (by support), "micro" (all
 * cells pooled into one binary problem), "samples" (per sample, for
 * multilabel indicators), or null (one value per class).
 */
export type Average = "macro" | "weighted" | "micro" | "samples" | null;

/** What an average of `rocAuc` or `averagePrecision` gives. */
export type ScoreAveraged<A extends Average> = A extends null ? number[] : number;

/** Options of `rocAuc` and `averagePrecision`. */
export interface ScoreOptions<A extends Average = Average> extends CurveOptions {
  /**
   * Columns of a row-major [N, C] score matrix; default scores.length / N.
   * With a matrix the result is the one-vs-rest average over the classes.
   */
  numClasses?: number;
  /** How the classes (labels) are combined; default "macro". */
  average?: A;
}

/** A binary metric of one column: 0/1 (or posLabel) truth, scores, weights. */
export type BinaryMetric = (
  y: ArrayLike<number>,
  s: ArrayLike<number>,
  o: CurveOptions,
  which: string,
) => number;

/**
 * Thrown by a `BinaryMetric` whose value `sampleWeight` leaves undefined
 * (every positive, or every negative, of the column weighs 0), where
 * sklearn gives NaN. The "weighted" average takes such a column as 0 where
 * its weight (its weighted support) is 0, as sklearn's does; anywhere else
 * it is thrown on.
 */
export class UndefinedByWeights extends RangeError {}

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

/** Every score finite. */
function checkFinite(fn: string, v: ArrayLike<number>, k: number): void {
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== "number" || !Number.isFinite(v[i])) {
      const at = k > 1 ? `[${Math.floor(i / k)}][${i % k}]` : `[${i}]`;
      throw new RangeError(`${fn}: scores${at} = ${show(v[i])} is not a finite number`);
    }
  }
}

/**
 * sklearn's `_average_binary_score` over an [n, k] 0/1 truth matrix and
 * its [n, k] scores (row-major).
 */
function averageColumns(
  fn: string,
  metric: BinaryMetric,
  y: Uint8Array,
  s: ArrayLike<number>,
  n: number,
  k: number,
  average: Average,
  w: Float64Array | undefined,
  name: (c: number) => string,
): number | number[] {
  if (average === "micro") {
    const wr = w === undefined ? undefined : Float64Array.from(y, (_, i) => w[Math.floor(i / k)]);
    return metric(y, Float64Array.from(s), { sampleWeight: wr }, " (all cells pooled)");
  }
  let averageWeight: ArrayLike<number> | undefined;
  if (average === "weighted") {
    const support = new Float64Array(k);
    for (let i = 0; i < n * k; i++) if (y[i]) support[i % k] += w === undefined ? 1 : w[~~(i / k)];
    if (Math.abs(support.reduce((a, b) => a + b, 0)) <= 1e-8) return 0; // np.isclose(sum, 0)
    averageWeight = support;
  }
  const byRow = average === "samples";
  if (byRow) averageWeight = w;
  const m = byRow ? n : k, len = byRow ? k : n;
  const score = new Array<number>(m);
  for (let c = 0; c < m; c++) {
    const yc = new Uint8Array(len), sc = new Float64Array(len);
    for (let i = 0; i < len; i++) {
      const at = byRow ? c * k + i : i * k + c;
      yc[i] = y[at];
      sc[i] = s[at];
    }
    const which = byRow ? ` (sample ${c})` : name(c);
    try {
      score[c] = metric(yc, sc, { sampleWeight: byRow ? undefined : w }, which);
    } catch (e) {
      // sklearn: score[average_weight == 0] = 0, its NaN of a label whose
      // positives all weigh 0 dropping out of the weighted average.
      if (!(e instanceof UndefinedByWeights) || averageWeight?.[c] !== 0) throw e;
      score[c] = 0;
    }
  }
  if (average === null) return score;
  let total = 0, weights = 0;
  for (let c = 0; c < m; c++) {
    const wc = averageWeight === undefined ? 1 : averageWeight[c];
    total += wc === 0 ? 0 : wc * score[c]; // sklearn: score[average_weight == 0] = 0
    weights += wc;
  }
  if (averageWeight !== undefined && weights === 0) throw zeroWeights(fn);
  return total / weights;
}

/**
 * Splits a call into binary (one score per sample), one-vs-rest over a
 * multiclass score matrix, or per label of a multilabel indicator, and
 * averages the per-class values.
 */
export function binaryOrOneVsRest(
  fn: string,
  given: number,
  yTrue: Targets,
  scores: Scores,
  opts: ScoreOptions,
  binary: BinaryMetric,
  probabilities = false,
): number | number[] {
  const usage = `metrics.${fn}(yTrue, scores, { numClasses: 3, average: "weighted" })`;
  const options = checkCall<ScoreOptions>(
    `metrics.${fn}`,
    given,
    3,
    opts,
    ["posLabel", "numClasses", "average", "sampleWeight"],
    usage,
  );
  const average = options.average === undefined ? "macro" : options.average;
  if (!["macro", "weighted", "micro", "samples", null].includes(average)) {
    throw new Error(
      `metrics.${fn}: average must be "macro", "weighted", "micro", "samples" ` +
        `(multilabel) or null (per class), got ${show(average)}`,
    );
  }
  const indicator = readIndicator(fn, "yTrue", yTrue);
  const s = scoreValues(fn, "scores", scores);
  if (indicator !== undefined) {
    const { n, k, values } = indicator;
    if (options.posLabel !== undefined && options.posLabel !== 1) {
      throw new RangeError(
        `${fn}: posLabel is fixed to 1 for a multilabel indicator yTrue; leave it out`,
      );
    }
    const columns = s.columns ?? options.numClasses ?? s.values.length / n;
    if (s.values.length !== n * k || columns !== k || (s.rows ?? n) !== n) {
      throw new RangeError(
        `${fn}: yTrue is a multilabel indicator [${n}, ${k}] but scores has ` +
          `${
            s.rows === undefined ? `${s.values.length} entries` : `shape [${s.rows}, ${s.columns}]`
          }` +
          `; pass one score per label, an [${n}, ${k}] matrix`,
      );
    }
    checkFinite(fn, s.values, k);
    const w = checkSampleWeight(fn, options.sampleWeight, n);
    return averageColumns(fn, binary, values, s.values, n, k, average, w, (c) => ` (label ${c})`);
  }
  const labels = labelValues(fn, "yTrue", yTrue as Labels);
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
  const curve = { posLabel: options.posLabel, sampleWeight: options.sampleWeight };
  if (k === 1 && options.numClasses === undefined) {
    if (options.posLabel === undefined) binaryLabelsOnly(fn, labels);
    const v = binary(labels, s.values, curve, "");
    // sklearn gives one number for binary input whatever the average; null
    // gives it as the one entry of a list, so the type holds.
    return average === null ? [v] : v;
  }
  if (options.numClasses !== undefined) checkNumClasses(fn, k);
  if (!Number.isInteger(k) || k < 2 || s.values.length !== n * k) {
    throw new RangeError(
      `${fn}: scores has ${s.values.length} entries; expected ${n} (binary) or ${n} x C (one ` +
        `score column per class)${options.numClasses ? ` with C = ${options.numClasses}` : ""}`,
    );
  }
  if (average === "samples") {
    throw new RangeError(
      `${fn}: average "samples" is for a multilabel indicator yTrue ([N, K] of 0 and 1); for ` +
        'class labels choose "macro", "weighted", "micro" or null',
    );
  }
  checkFinite(fn, s.values, k);
  if (probabilities) rowsSumToOne(fn, s.values, k);
  const y = checkLabels(fn, "yTrue", labels, k);
  const w = checkSampleWeight(fn, options.sampleWeight, n);
  const onehot = new Uint8Array(n * k);
  const support = new Array<number>(k).fill(0);
  y.forEach((v, i) => {
    onehot[i * k + v] = 1;
    support[v]++;
  });
  // As sklearn, which scores every column: a class absent from yTrue has
  // no one-vs-rest value (it was left out of "weighted", and scored 0 in
  // the macro AP, both silently).
  const absent = support.indexOf(0);
  if (absent >= 0) {
    throw new RangeError(
      `${fn}: class ${absent} has no samples in yTrue, so its one-vs-rest value is not ` +
        "defined (sklearn raises too)",
    );
  }
  const name = (c: number) => ` (class ${c} against the rest)`;
  return averageColumns(fn, binary, onehot, s.values, n, k, average, w, name);
}
