/**
 * The classification report of multilabel indicators ([N, K] matrices of 0
 * and 1), as `sklearn.metrics.classification_report` gives it for them:
 * one row per label (each label against its absence), then the micro,
 * macro, weighted and samples averages, with `sample_weight`.
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

/** F1 from precision and recall, as sklearn computes it (0 when both are 0). */
function f1(p: number, r: number): number {
  return p + r === 0 ? 0 : 2 * p * r / (p + r);
}

/** The report of two indicator matrices (see `classificationReport`). */
export function multilabelReport(
  fn: string,
  yTrue: Targets,
  yPred: Targets,
  numClasses: number | undefined,
  classNames: readonly string[] | undefined,
  sampleWeight: unknown,
): ClassificationReport {
  const pair = targetPair(fn, yTrue, yPred);
  if (pair.kind !== "multilabel") throw new Error(`${fn}: internal: expected indicators`);
  const { n, k } = pair;
  if (numClasses !== undefined && numClasses !== k) {
    throw new RangeError(
      `${fn}: ${classNames ? `${classNames.length} classNames` : `numClasses ${numClasses}`} ` +
        `but the multilabel indicators have ${k} columns (one per label)`,
    );
  }
  const w = checkSampleWeight(fn, sampleWeight, n);
  const total = totalWeight(w, n);
  if (total === 0) throw zeroWeights(fn);
  const c = setWiseCounts(fn, pair, undefined, w, false);
  const classes = c.labels.map((label, j): ClassMetrics => {
    const tp = c.tp[j], fp = c.pred[j] - tp, fn = c.true[j] - tp;
    const tn = c.total[j] - tp - fp - fn;
    const recall = ratio(tp, tp + fn);
    return {
      label,
      name: classNames?.[label] ?? String(label),
      precision: ratio(tp, tp + fp),
      recall,
      f1: ratio(2 * tp, 2 * tp + fp + fn),
      support: c.true[j],
      predicted: c.pred[j],
      specificity: ratio(tn, tn + fp),
      sensitivity: recall,
    };
  });
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const support = sum(c.true);
  const mp = ratio(sum(c.tp), sum(c.pred)), mr = ratio(sum(c.tp), sum(c.true));
  const microAvg: AverageMetrics = { precision: mp, recall: mr, f1: f1(mp, mr), support };
  const s = setWiseCounts(fn, pair, undefined, w, true);
  let sp = 0, sr = 0, sf = 0, correct = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === undefined ? 1 : w[i];
    const p = ratio(s.tp[i], s.pred[i]), r = ratio(s.tp[i], s.true[i]);
    sp += wi * p;
    sr += wi * r;
    sf += wi * f1(p, r);
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
    weightedAvg: average(classes, (m) => m.support, support),
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
