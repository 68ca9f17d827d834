/**
 * sklearn's `sample_weight`, as the metrics of this folder take it
 * (`{ sampleWeight }`): one weight per sample, as an array, a 1-D Tensor or
 * a list of one-element Tensors; finite and >= 0. sklearn 1.2 accepts
 * negative weights in most metrics without a word, where they give
 * meaningless counts; here they throw.
 *
 * @module
 */
import type { Scores } from "./inputs.ts";
import { describeInput, scoreValues } from "./inputs.ts";

/** One weight per sample, as `sampleWeight` takes them. */
export type SampleWeight = Scores;

/**
 * The weights as a Float64Array of `n` entries, or undefined when none were
 * given (undefined or null, sklearn's None). Throws on a wrong count, a
 * matrix, or a weight that is not a finite number >= 0.
 */
export function checkSampleWeight(
  fn: string,
  sampleWeight: unknown,
  n: number,
): Float64Array | undefined {
  if (sampleWeight === undefined || sampleWeight === null) return undefined;
  if (typeof sampleWeight !== "object") {
    throw new TypeError(
      `${fn}: sampleWeight must be one weight per sample (an array or a 1-D Tensor), got ` +
        describeInput(sampleWeight),
    );
  }
  const s = scoreValues(fn, "sampleWeight", sampleWeight as Scores);
  if (s.columns !== undefined && s.columns !== 1) {
    throw new RangeError(
      `${fn}: sampleWeight is a [${s.rows}, ${s.columns}] matrix; pass one weight per ` +
        "sample, an [N] array or Tensor",
    );
  }
  if (s.values.length !== n) {
    throw new RangeError(
      `${fn}: sampleWeight has ${s.values.length} entries but there are ${n} samples; ` +
        "pass one weight per sample",
    );
  }
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = s.values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: sampleWeight[${i}] = ${v} is not a finite number`);
    }
    if (v < 0) {
      throw new RangeError(
        `${fn}: sampleWeight[${i}] = ${v} is negative; weights must be >= 0 (a weight counts ` +
          "a sample that many times)",
      );
    }
    w[i] = v;
  }
  return w;
}

/** The weight of sample i: 1 without weights. */
export function weightAt(w: Float64Array | undefined, i: number): number {
  return w === undefined ? 1 : w[i];
}

/** The sum of the weights (n without weights). */
export function totalWeight(w: Float64Array | undefined, n: number): number {
  if (w === undefined) return n;
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  return s;
}

/**
 * sklearn's `_weighted_sum(score, sample_weight, normalize)`: the weighted
 * mean (numpy's `np.average`), or with `normalize` false the weighted sum.
 * A weighted mean over weights that sum to 0 throws, as numpy's
 * ZeroDivisionError ("Weights sum to zero, can't be normalized").
 */
export function weightedSum(
  fn: string,
  score: ArrayLike<number>,
  w: Float64Array | undefined,
  normalize: boolean,
): number {
  let s = 0;
  for (let i = 0; i < score.length; i++) s += score[i] * weightAt(w, i);
  if (!normalize) return s;
  const total = totalWeight(w, score.length);
  if (w !== undefined && total === 0) throw zeroWeights(fn);
  return s / total;
}

/** The error of a weighted mean whose weights are all 0. */
export function zeroWeights(fn: string): RangeError {
  return new RangeError(
    `${fn}: sampleWeight sums to 0, so the weighted mean is not defined (numpy raises ` +
      '"Weights sum to zero, can\'t be normalized")',
  );
}
