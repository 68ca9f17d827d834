/**
 * The classification report of multilabel indicators ([N, K] matrices of 0
 * and 1), as `sklearn.metrics.classification_report` gives it for them:
 * one row per label (each label against its absence), then the micro,
 * macro, weighted and samples averages, with `sample_weight`, `labels`
 * (the columns to report) and `zero_division`.
 *
 * @module
 */
import { ratio } from "./confusion.ts";
import type { Targets } from "./labels.ts";
import type { AverageMetrics, ClassificationReport, ClassMetrics } from "./report.ts";
import { average } from "./report.ts";
import { setWiseCounts } from "./setwise.ts";
import { targetPair } from "./target.ts";
import { checkSampleWeight, totalWeight, zeroWeights } from "./weights.ts";
import type { ZeroDivision } from "./pairs.ts";
import { divide } from "./prf.ts";

/** F1 from precision and recall, as sklearn computes it (0 when both are 0). */
function f1(p: number, r: number): number {
  return p + r === 0 ? 0 : 2 * p * r / (p + r);
}

/** Which 0 / 0 warn where `zeroDivision` is "warn": sklearn's default `warn_for`. */
const WARN_FOR = ["precision", "recall", "f-score"] as const;

/** The report of two indicator matrices (see `classificationReport`). */
export function multilabelReport(
  fn: string,
  yTrue: Targets,
  yPred: Targets,
  numClasses: number | undefined,
  names: (labels: readonly number[]) => string[],
  sampleWeight: unknown,
  labels: readonly number[] | undefined = undefined,
  zero: ZeroDivision = 0,
): ClassificationReport {
  const pair = targetPair(fn, yTrue, yPred);
  if (pair.kind !== "multilabel") throw new Error(`${fn}: internal: expected indicators`);
  const { n, k } = pair;
  if (numClasses !== undefined && numClasses !== k) {
    throw new RangeError(
      `${fn}: ${numClasses} classNames or numClasses but the multilabel indicators have ` +
        `${k} columns (one per label)`,
    );
  }
  const w = checkSampleWeight(fn, sampleWeight, n);
  const total = totalWeight(w, n);
  if (total === 0) throw zeroWeights(fn);
  const c = setWiseCounts(fn, pair, labels, w, false);
  const rowNames = names(c.labels);
  const zv = zero === 1 ? 1 : 0;
  const precision = divide(fn, c.tp, c.pred, "precision", WARN_FOR, zero, false);
  const recall = divide(fn, c.tp, c.true, "recall", WARN_FOR, zero, false);
  const classes = c.labels.map((label, j): ClassMetrics => {
    const tp = c.tp[j], fp = c.pred[j] - tp, fn = c.true[j] - tp;
    const tn = c.total[j] - tp - fp - fn;
    return {
      label,
      name: rowNames[j],
      precision: precision[j],
      recall: recall[j],
      f1: 2 * tp + fp + fn === 0 ? zv : 2 * tp / (2 * tp + fp + fn),
      support: c.true[j],
      predicted: c.pred[j],
      specificity: ratio(tn, tn + fp),
      sensitivity: recall[j],
    };
  });
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const support = sum(c.true);
  const [mp] = divide(fn, [sum(c.tp)], [sum(c.pred)], "precision", WARN_FOR, zero, false);
  const [mr] = divide(fn, [sum(c.tp)], [support], "recall", WARN_FOR, zero, false);
  const microAvg: AverageMetrics = { precision: mp, recall: mr, f1: f1(mp, mr), support };
  const s = setWiseCounts(fn, pair, labels, w, true);
  const sps = divide(fn, s.tp, s.pred, "precision", WARN_FOR, zero, true);
  const srs = divide(fn, s.tp, s.true, "recall", WARN_FOR, zero, true);
  let sp = 0, sr = 0, sf = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === undefined ? 1 : w[i];
    const p = sps[i], r = srs[i];
    sp += wi * p;
    sr += wi * r;
    // sklearn: a sample with no true nor predicted label has F = zero_division.
    sf += wi * (s.true[i] + s.pred[i] === 0 ? zv : f1(p, r));
    let same = true;
    for (let j = i * k; j < (i + 1) * k; j++) if (pair.t[j] !== pair.p[j]) same = false;
    if (same) correct += wi;
  }
  const samplesAvg = { precision: sp / total, recall: sr / total, f1: sf / total, support };
  return {
    classes,
    accuracy: correct / total,
    balancedAccuracy: NaN,
    macroAvg: average(classes, () => 1, support),
    weightedAvg: support === 0
      ? {
        precision: classes.every((m) => m.predicted === 0) ? zv : 0,
        recall: zv,
        f1: classes.every((m) => m.predicted === 0) ? zv : 0,
        support: 0,
      }
      : average(classes, (m) => m.support, support),
    microAvg,
    samplesAvg,
    confusion: [],
    multilabelConfusion: c.tp.map((tp, j) => {
      const fp = c.pred[j] - tp, fn = c.true[j] - tp;
      return [[c.total[j] - tp - fp - fn, fp], [fn, tp]];
    }),
    ...(w === undefined ? {} : { sampleWeighted: true }),
  };
}
