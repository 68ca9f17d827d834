/**
 * Precision-recall and ROC curves of a binary problem, with sklearn's exact
 * definitions (`precision_recall_curve`, `roc_curve`): thresholds sit at
 * the distinct scores, highest first for ROC and lowest first for
 * precision-recall.
 *
 * @module
 */
import { binaryTruth, checkSameLength, checkScores, type Labels, type Scores } from "./labels.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { checkSampleWeight, type SampleWeight } from "./weights.ts";

/** Options of the binary curves. */
export interface CurveOptions {
  /**
   * The label counted as positive. Without it `yTrue` must hold only 0 and
   * 1 and 1 is positive (sklearn's rule).
   */
  posLabel?: number;
  /**
   * One weight per sample (sklearn's `sample_weight`): the counts behind
   * each point are weighted sums. Samples of weight 0 are left out, their
   * scores included (no threshold sits at them), as sklearn 1.2 does.
   */
  sampleWeight?: SampleWeight;
}

/** What `precisionRecallCurve` returns; precision and recall have one more entry. */
export interface PrecisionRecallCurve {
  /** Precision at each threshold, then 1 (the curve's end at recall 0). */
  precision: number[];
  /** Recall at each threshold (decreasing), then 0. */
  recall: number[];
  /** The distinct scores, increasing. */
  thresholds: number[];
}

/** What `rocCurve` returns; all three have the same length. */
export interface RocCurve {
  /** False positive rate, increasing from 0 to 1. */
  fpr: number[];
  /** True positive rate, increasing from 0 to 1. */
  tpr: number[];
  /** Decreasing thresholds; the first is +Infinity (nothing predicted positive). */
  thresholds: number[];
}

/** Cumulative counts at each distinct score, highest score first. */
interface ClfCurve {
  fps: number[];
  tps: number[];
  thresholds: number[];
}

/**
 * sklearn's `_binary_clf_curve`: sort by score descending and count true
 * and false positives at the last sample of each run of equal scores, so
 * tied scores move the curve in one step. With weights, samples of weight
 * 0 are dropped first and the counts are weighted sums, summed in sklearn's
 * order (its stable ascending sort, reversed).
 */
function binaryClfCurve(
  fn: string,
  yTrue: Labels,
  scores: Scores,
  posLabel?: number,
  sampleWeight?: unknown,
): ClfCurve {
  checkSameLength(fn, yTrue, "yTrue", scores, "scores");
  // Scores first: a score matrix says so rather than failing on a label > 1.
  const s = checkScores(fn, "scores", scores);
  const y = binaryTruth(fn, yTrue, posLabel);
  if (y.length === 0) throw new RangeError(`${fn}: no samples`);
  const w = checkSampleWeight(fn, sampleWeight, y.length);
  let keys = Array.from(s.keys());
  if (w !== undefined) {
    keys = keys.filter((i) => w[i] !== 0);
    if (keys.length === 0) {
      throw new RangeError(`${fn}: every sampleWeight is 0, so there is no curve`);
    }
  }
  const order = keys.sort((a, b) => s[b] - s[a] || b - a);
  const fps: number[] = [], tps: number[] = [], thresholds: number[] = [];
  let tp = 0, fp = 0;
  for (let i = 0; i < order.length; i++) {
    const j = order[i], wj = w === undefined ? 1 : w[j];
    if (y[j]) tp += wj;
    else fp += wj;
    const here = s[j];
    if (i === order.length - 1 || s[order[i + 1]] !== here) {
      tps.push(tp);
      fps.push(w === undefined ? i + 1 - tp : fp);
      thresholds.push(here);
    }
  }
  return { fps, tps, thresholds };
}

const PRECISION_RECALL_CURVE: CallContract<CurveOptions> = {
  where: "metrics.precisionRecallCurve",
  most: 3,
  known: ["posLabel", "sampleWeight"],
  usage: "metrics.precisionRecallCurve(yTrue, scores, { posLabel: 2, sampleWeight: w })",
};

/**
 * Precision and recall at every distinct score, as
 * `sklearn.metrics.precision_recall_curve`: thresholds increase, recall
 * decreases, and the curve ends at (recall 0, precision 1), which has no
 * threshold. Precision where nothing is predicted positive is 0; when
 * `yTrue` has no positive, recall is 1 throughout (sklearn's convention).
 *
 * @param yTrue Binary truth (0/1, or any labels with `posLabel`).
 * @param scores One per sample (an array or a 1-D Tensor); higher means more likely
 * positive (probabilities, logits).
 * @param options The positive label and `sampleWeight`.
 * @returns Precision, recall and thresholds.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const c = metrics.precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * assert.deepEqual(c.precision, [0.5, 2 / 3, 0.5, 1, 1]);
 * assert.deepEqual(c.recall, [1, 1, 0.5, 0.5, 0]);
 * assert.deepEqual(c.thresholds, [0.1, 0.35, 0.4, 0.8]);
 * ```
 */
export function precisionRecallCurve(
  yTrue: Labels,
  scores: Scores,
  options: CurveOptions = {},
): PrecisionRecallCurve {
  options = checkContract(PRECISION_RECALL_CURVE, arguments.length, options);
  const { fps, tps, thresholds } = binaryClfCurve(
    "precisionRecallCurve",
    yTrue,
    scores,
    options.posLabel,
    options.sampleWeight,
  );
  const positives = tps[tps.length - 1];
  const precision = tps.map((tp, i) => tp + fps[i] === 0 ? 0 : tp / (tp + fps[i]));
  const recall = tps.map((tp) => positives === 0 ? 1 : tp / positives);
  return {
    precision: [...precision.reverse(), 1],
    recall: [...recall.reverse(), 0],
    thresholds: thresholds.reverse(),
  };
}

/** Options of `rocCurve`. */
export interface RocCurveOptions extends CurveOptions {
  /**
   * Drop thresholds whose point lies on a straight segment between its
   * neighbours (default true, as sklearn): the plotted curve and its area
   * are the same, with fewer points.
   */
  dropIntermediate?: boolean;
}

const ROC_CURVE: CallContract<RocCurveOptions> = {
  where: "metrics.rocCurve",
  most: 3,
  known: ["posLabel", "dropIntermediate", "sampleWeight"],
  usage: "metrics.rocCurve(yTrue, scores, { posLabel: 2, dropIntermediate: false })",
};

/**
 * The receiver operating characteristic, as `sklearn.metrics.roc_curve`:
 * one point per distinct score (collinear ones dropped by default), starting
 * at (0, 0) with threshold +Infinity, as sklearn >= 1.3 does. When there
 * are no positives (or negatives) tpr (or fpr) is NaN, as in sklearn.
 *
 * @param yTrue Binary truth (0/1, or any labels with `posLabel`).
 * @param scores One per sample (an array or a 1-D Tensor); higher means more likely
 * positive.
 * @param options The positive label, `dropIntermediate` and `sampleWeight`.
 * @returns False and true positive rates and their thresholds.
 *
 * @example
 * ```ts
 * import { metrics } from "@lits/vision";
 * import assert from "node:assert/strict";
 *
 * const c = metrics.rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
 * assert.deepEqual(c.fpr, [0, 0, 0.5, 0.5, 1]);
 * assert.deepEqual(c.tpr, [0, 0.5, 0.5, 1, 1]);
 * assert.deepEqual(c.thresholds, [Infinity, 0.8, 0.4, 0.35, 0.1]);
 * ```
 */
export function rocCurve(
  yTrue: Labels,
  scores: Scores,
  options: RocCurveOptions = {},
): RocCurve {
  options = checkContract(ROC_CURVE, arguments.length, options);
  let { fps, tps, thresholds } = binaryClfCurve(
    "rocCurve",
    yTrue,
    scores,
    options.posLabel,
    options.sampleWeight,
  );
  if ((options.dropIntermediate ?? true) && fps.length > 2) {
    // Keep the ends and every point where the second difference of fps or
    // tps is non-zero, i.e. where the curve bends (sklearn's rule, computed
    // as np.diff(x, 2) does, so weighted float counts round the same).
    const keep = fps.map((_, i) =>
      i === 0 || i === fps.length - 1 ||
      (fps[i + 1] - fps[i]) - (fps[i] - fps[i - 1]) !== 0 ||
      (tps[i + 1] - tps[i]) - (tps[i] - tps[i - 1]) !== 0
    );
    fps = fps.filter((_, i) => keep[i]);
    tps = tps.filter((_, i) => keep[i]);
    thresholds = thresholds.filter((_, i) => keep[i]);
  }
  const negatives = fps[fps.length - 1];
  const positives = tps[tps.length - 1];
  return {
    fpr: [0, ...fps].map((f) => negatives === 0 ? NaN : f / negatives),
    tpr: [0, ...tps].map((t) => positives === 0 ? NaN : t / positives),
    thresholds: [Infinity, ...thresholds],
  };
}
