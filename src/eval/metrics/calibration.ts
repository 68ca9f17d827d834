/**
 * `calibrationCurve`: the reliability diagram of a binary classifier, as
 * scikit-learn 1.2's `sklearn.calibration.calibration_curve`, bin edges and
 * numpy's percentiles included.
 *
 * @module
 */
import type { Labels, Scores } from "./labels.ts";
import { impliesPositiveOne, integerLabels, probabilities } from "./probability.ts";
import { show, uniqueSorted } from "./pairs.ts";
import { type CallContract, checkContract } from "../../options.ts";

/** Options of `calibrationCurve`. */
export interface CalibrationCurveOptions {
  /** Number of bins (default 5, as sklearn). */
  nBins?: number;
  /**
   * "uniform" (default): bins of equal width over [0, 1]; "quantile": edges
   * at the quantiles of the probabilities, so bins hold about as many samples.
   */
  strategy?: "uniform" | "quantile";
  /** The positive class; without it yTrue must hold 0/1 or -1/1 (sklearn's rule). */
  posLabel?: number;
}

/** What `calibrationCurve` returns, one entry per non-empty bin. */
export interface CalibrationCurve {
  /** The fraction of positives in each bin. */
  probTrue: number[];
  /** The mean predicted probability in each bin. */
  probPred: number[];
}

const CALIBRATION: CallContract<CalibrationCurveOptions> = {
  where: "metrics.calibrationCurve",
  most: 3,
  known: ["nBins", "strategy", "posLabel"],
  usage: 'metrics.calibrationCurve(yTrue, probs, { nBins: 10, strategy: "quantile" })',
};

/** numpy's `np.linspace(0, 1, n + 1)`: i * (1 / n), the last exactly 1. */
function linspace01(n: number): number[] {
  const step = 1 / n;
  return Array.from({ length: n + 1 }, (_, i) => i === n ? 1 : i * step);
}

/** numpy 1.24's `np.percentile(a, q * 100)` with the default "linear" method. */
function percentiles(a: ArrayLike<number>, qs: number[]): number[] {
  const sorted = Float64Array.from(a).sort();
  const n = sorted.length;
  return qs.map((q) => {
    const virtual = (n - 1) * (q * 100 / 100);
    if (virtual >= n - 1) return sorted[n - 1];
    const prev = Math.floor(virtual);
    const lo = sorted[prev], hi = sorted[prev + 1], t = virtual - prev;
    const diff = hi - lo;
    return t >= 0.5 ? hi - diff * (1 - t) : lo + diff * t;
  });
}

/**
 * The observed fraction of positives against the mean predicted probability
 * in each probability bin, as `sklearn.calibration.calibration_curve`
 * (1.2): a sample falls in bin i when edge[i] < p <= edge[i+1] (the first
 * bin takes p = 0 too), and empty bins are left out. With "quantile",
 * repeated edges (many equal probabilities) give empty bins, also left out.
 *
 * @param yTrue True labels: 0/1, -1/1, or two integers with `posLabel`.
 * @param probs One probability per sample, in [0, 1] (e.g. a softmax
 * column, `probs.narrow(1, 1, 1)`).
 * @param options `nBins` (default 5), `strategy` (default "uniform"), `posLabel`.
 * @returns `{ probTrue, probPred }`, one entry per non-empty bin, by increasing bin.
 * @throws {RangeError} On empty or mismatched inputs, more than two classes,
 * labels other than 0/1 or -1/1 without `posLabel`, or probabilities outside [0, 1].
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const yTrue = [0, 0, 0, 0, 1, 1, 1, 1, 1];
 * const probs = [0.1, 0.2, 0.3, 0.4, 0.65, 0.7, 0.8, 0.9, 1];
 * const c = metrics.calibrationCurve(yTrue, probs, { nBins: 3 });
 * assert.deepEqual(c.probTrue, [0, 0.5, 1]);
 * assert.ok(Math.abs(c.probPred[1] - 0.525) < 1e-12);
 * ```
 */
export function calibrationCurve(
  yTrue: Labels,
  probs: Scores,
  options: CalibrationCurveOptions = {},
): CalibrationCurve {
  const fn = "metrics.calibrationCurve";
  const o = checkContract(CALIBRATION, arguments.length, options);
  const nBins = o.nBins ?? 5;
  if (!Number.isInteger(nBins) || nBins < 1) {
    throw new RangeError(`${fn}: nBins must be a positive integer, got ${show(nBins)}`);
  }
  const strategy = o.strategy ?? "uniform";
  if (strategy !== "uniform" && strategy !== "quantile") {
    throw new RangeError(`${fn}: strategy must be "uniform" or "quantile", got ${show(strategy)}`);
  }
  const y = integerLabels(fn, yTrue);
  const classes = uniqueSorted(y);
  if (o.posLabel === undefined && !impliesPositiveOne(classes)) {
    throw new RangeError(
      `${fn}: yTrue takes values in {${classes.join(", ")}} and posLabel is not specified: ` +
        "either make yTrue take values in {0, 1} or {-1, 1} or pass { posLabel }",
    );
  }
  const pos = o.posLabel ?? 1;
  const p = probabilities(fn, probs, y.length);
  if (classes.length > 2) {
    throw new RangeError(
      `${fn}: only binary classification is supported; yTrue holds [${classes}]`,
    );
  }
  const bins = strategy === "uniform" ? linspace01(nBins) : percentiles(p, linspace01(nBins));
  const inner = bins.slice(1, -1);
  const sums = new Array<number>(nBins).fill(0);
  const trues = sums.slice(), totals = sums.slice();
  for (let i = 0; i < y.length; i++) {
    // np.searchsorted(inner, p, side="left"): the number of inner edges < p.
    let b = 0;
    while (b < inner.length && inner[b] < p[i]) b++;
    sums[b] += p[i];
    trues[b] += y[i] === pos ? 1 : 0;
    totals[b]++;
  }
  const probTrue: number[] = [], probPred: number[] = [];
  for (let b = 0; b < nBins; b++) {
    if (totals[b] === 0) continue;
    probTrue.push(trues[b] / totals[b]);
    probPred.push(sums[b] / totals[b]);
  }
  return { probTrue, probPred };
}
