/**
 * The one-vs-rest numbers and curves the report draws: for every class with
 * both positives and negatives, its precision-recall and ROC curves, AP and
 * ROC AUC, and their macro means over those classes.
 *
 * @module
 */
import { precisionRecallCurve, rocCurve } from "../metrics/curves.ts";
import { scoreColumn } from "../metrics/labels.ts";
import type { ClassificationReport } from "../metrics/report.ts";
import { auc, stepArea } from "../metrics/scores.ts";
import type { ClassCurve } from "./curve_charts.ts";
import type { ClassScores } from "./sections.ts";
import { classColor } from "./theme.ts";

/** What `oneVsRest` returns. */
export interface OneVsRest {
  /** Precision-recall curves of the classes that have one. */
  prCurves: ClassCurve[];
  /** ROC curves of the classes that have one. */
  rocCurves: ClassCurve[];
  /** AP and AUC per class, undefined where the class has no curve. */
  scores: ClassScores;
  /** Mean AP over the classes that have one (NaN when none has). */
  macroAp: number;
  /** Mean ROC AUC over the classes that have one (NaN when none has). */
  macroAuc: number;
}

/**
 * Curves and scores of each class against the rest. A class that never
 * occurs, or that is every sample, has no curve (AUC is undefined there):
 * it is left out rather than failing the whole report.
 */
export function oneVsRest(
  yTrue: ArrayLike<number>,
  scores: ArrayLike<number>,
  report: ClassificationReport,
  classNames: readonly string[],
): OneVsRest {
  const k = classNames.length, n = yTrue.length;
  const prCurves: ClassCurve[] = [], rocCurves: ClassCurve[] = [];
  const s: ClassScores = { ap: [], auc: [] };
  for (let c = 0; c < k; c++) {
    const support = report.classes[c].support;
    if (support === 0 || support === n) {
      s.ap.push(undefined);
      s.auc.push(undefined);
      continue;
    }
    const col = scoreColumn(scores, k, c);
    const pr = precisionRecallCurve(yTrue, col, { posLabel: c });
    const roc = rocCurve(yTrue, col, { posLabel: c });
    const ap = stepArea(pr), area = auc(roc.fpr, roc.tpr);
    s.ap.push(ap);
    s.auc.push(area);
    const color = classColor(c);
    const name = classNames[c];
    prCurves.push({ label: `${name} (AP ${ap.toFixed(3)})`, color, x: pr.recall, y: pr.precision });
    rocCurves.push({ label: `${name} (AUC ${area.toFixed(3)})`, color, x: roc.fpr, y: roc.tpr });
  }
  const mean = (xs: (number | undefined)[]) => {
    const ok = xs.filter((x): x is number => x !== undefined);
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
  };
  return { prCurves, rocCurves, scores: s, macroAp: mean(s.ap), macroAuc: mean(s.auc) };
}
