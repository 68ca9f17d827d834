/**
 * The per-label counts that precision, recall, F-beta, Jaccard and the
 * multilabel confusion matrix share, as scikit-learn 1.2's
 * `multilabel_confusion_matrix` computes them (weighted by `sample_weight`,
 * per label or per sample), and the choice of labels of its set-wise
 * metrics (`_check_set_wise_labels`: "binary" scores `posLabel` only).
 *
 * @module
 */
import type { TargetPair } from "./target.ts";
import { indexOf, show, uniqueSorted, warnOnce } from "./pairs.ts";

/**
 * How per-label values are combined, as sklearn's `average`: "binary" (the
 * class `posLabel` only; labels must be binary), "micro" (from the counts
 * summed over the labels), "macro" (plain mean), "weighted" (mean weighted
 * by support), "samples" (per sample, then the mean over samples; multilabel
 * input only), or null (one value per label).
 */
export type LabelAverage = "binary" | "micro" | "macro" | "weighted" | "samples" | null;

const AVERAGES: readonly unknown[] = ["binary", "micro", "macro", "weighted", "samples", null];

/** Checks `average` (undefined gives `fallback`). */
export function checkAverage(fn: string, average: unknown, fallback: LabelAverage): LabelAverage {
  if (average === undefined) return fallback;
  if (AVERAGES.includes(average)) return average as LabelAverage;
  throw new RangeError(
    `${fn}: average must be "binary", "micro", "macro", "weighted", "samples" (multilabel) ` +
      `or null (per class), got ${show(average)}`,
  );
}

/**
 * sklearn's `_check_set_wise_labels`: with "binary", the labels must be
 * binary and `[posLabel]` is scored; otherwise `labels` as given (a
 * posLabel other than 1 warns that it is ignored).
 */
export function setWiseLabels(
  fn: string,
  pair: TargetPair,
  average: LabelAverage,
  labels: readonly number[] | undefined,
  posLabel: number | undefined,
): readonly number[] | undefined {
  const pos = posLabel ?? 1;
  if (average === "binary") {
    if (pair.kind === "multilabel") {
      throw new RangeError(
        `${fn}: yTrue and yPred are multilabel indicators [${pair.n}, ${pair.k}] but average ` +
          'is "binary"; choose average "micro", "macro", "weighted", "samples" or null ' +
          "(per label)",
      );
    }
    const present = uniqueSorted(pair.t, pair.p);
    if (present.length > 2) {
      throw new RangeError(
        `${fn}: yTrue and yPred hold ${present.length} classes [${present}] but average is ` +
          '"binary"; choose average "micro", "macro", "weighted" or null (per class)',
      );
    }
    if (!present.includes(pos) && present.length >= 2) {
      throw new RangeError(
        `${fn}: posLabel=${pos} is not a valid label. It should be one of [${present}]`,
      );
    }
    return [pos];
  }
  if (pos !== 1) {
    warnOnce(
      `${fn}: Note that posLabel (set to ${pos}) is ignored when average != 'binary' ` +
        `(got ${average === null ? "null" : `'${average}'`}). You may use ` +
        "labels: [posLabel] to specify a single positive class.",
    );
  }
  return labels;
}

/**
 * Weighted counts per label (or per sample with `samplewise`): true
 * positives, predicted and true positives' sums, and the total weight of
 * each entry (what tn is computed from).
 */
export interface SetWiseCounts {
  /** The labels (columns for multilabel input) the counts are of. */
  labels: number[];
  /** Weighted true positives. */
  tp: number[];
  /** Weighted predicted positives (tp + fp). */
  pred: number[];
  /** Weighted true positives plus false negatives (the support). */
  true: number[];
  /** Weighted number of samples (labels, with samplewise) behind each entry. */
  total: number[];
}

/**
 * sklearn's `multilabel_confusion_matrix(y_true, y_pred, sample_weight,
 * labels, samplewise)` as sums: for class labels, one-vs-rest counts of
 * each label of `labels` (default the labels present); for indicators,
 * counts of each column of `labels` (default every column), or of each
 * sample with `samplewise`.
 */
export function setWiseCounts(
  fn: string,
  pair: TargetPair,
  labels: readonly number[] | undefined,
  w: Float64Array | undefined,
  samplewise: boolean,
): SetWiseCounts {
  const weight = (i: number) => w === undefined ? 1 : w[i];
  if (pair.kind === "labels") {
    if (samplewise) {
      throw new RangeError(
        `${fn}: average "samples" is for multilabel indicator input ([N, K] matrices of 0 ` +
          'and 1), as is samplewise; for class labels choose "micro", "macro", "weighted" or null',
      );
    }
    const { t, p } = pair;
    const list = labels === undefined ? uniqueSorted(t, p) : [...labels];
    const at = indexOf(list), k = list.length;
    const tp = new Array<number>(k).fill(0), pred = tp.slice(), tru = tp.slice();
    let total = 0;
    for (let i = 0; i < t.length; i++) {
      const wi = weight(i);
      total += wi;
      const a = at.get(t[i]), b = at.get(p[i]);
      if (a !== undefined) tru[a] += wi;
      if (b !== undefined) pred[b] += wi;
      if (a !== undefined && t[i] === p[i]) tp[a] += wi;
    }
    return { labels: list, tp, pred, true: tru, total: tp.map(() => total) };
  }
  const { t, p, n, k } = pair;
  let cols: number[];
  if (labels === undefined) cols = Array.from({ length: k }, (_, j) => j);
  else {
    cols = [...labels];
    const bad = cols.find((c) => c >= k);
    if (bad !== undefined) {
      throw new RangeError(
        `${fn}: labels must be column indices in [0, ${k}) for multilabel indicators, got ${bad}`,
      );
    }
  }
  const m = samplewise ? n : cols.length;
  const tp = new Array<number>(m).fill(0), pred = tp.slice(), tru = tp.slice();
  const total = tp.slice();
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const wi = weight(i);
    sum += wi;
    for (let c = 0; c < cols.length; c++) {
      const j = i * k + cols[c], e = samplewise ? i : c;
      if (t[j] && p[j]) tp[e] += wi;
      if (p[j]) pred[e] += wi;
      if (t[j]) tru[e] += wi;
    }
    if (samplewise) total[i] = wi * cols.length;
  }
  if (!samplewise) total.fill(sum);
  return { labels: samplewise ? [] : cols, tp, pred, true: tru, total };
}
