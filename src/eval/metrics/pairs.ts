/**
 * What the scikit-learn scores of this folder share: reading a pair of
 * label lists, the sorted labels present (sklearn's `unique_labels`), the
 * `labels` option, `zeroDivision`, and sklearn's warnings, each shown once
 * per process through `console.warn` (Python shows a warning once per place
 * by default).
 *
 * @module
 */
import { checkLabels, checkNotEmpty, checkSameLength, labelHint, type Labels } from "./labels.ts";

const warned = new Set<string>();

/** `console.warn(message)` the first time this message is seen, then nothing. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  console.warn(message);
}

/** Forgets the warnings shown, so they show again (for tests). */
export function resetWarnings(): void {
  warned.clear();
}

/**
 * sklearn's `zero_division`: the value of a 0 / 0 precision, recall or
 * F-score. "warn" (the default) gives 0 and warns once.
 */
export type ZeroDivision = "warn" | 0 | 1;

/** Throws unless `z` is "warn", 0 or 1 (sklearn 1.2's choices); undefined is "warn". */
export function checkZeroDivision(fn: string, z: unknown): ZeroDivision {
  if (z === undefined) return "warn";
  if (z === "warn" || z === 0 || z === 1) return z;
  throw new RangeError(`${fn}: zeroDivision must be "warn", 0 or 1, got ${show(z)}`);
}

/** A value for an error message. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(", ")}]`;
  return String(v);
}

/** Both label lists, checked: same length, non-negative integers, not empty. */
export interface LabelPair {
  /** True labels. */
  t: Int32Array;
  /** Predicted labels (or the second rater's). */
  p: Int32Array;
}

/**
 * Reads `yTrue` and `yPred` (arrays, 1-D Tensors or lists of one-element
 * Tensors) after checking that their lengths agree; every label must be a
 * non-negative integer and there must be at least one sample.
 */
export function labelPair(
  fn: string,
  yTrue: Labels,
  yPred: Labels,
  names: readonly [string, string] = ["yTrue", "yPred"],
): LabelPair {
  checkSameLength(fn, yTrue, names[0], yPred, names[1]);
  const t = checkLabels(fn, names[0], yTrue), p = checkLabels(fn, names[1], yPred);
  checkNotEmpty(fn, t.length);
  return { t, p };
}

/** The distinct values of the arrays, increasing (sklearn's `unique_labels`). */
export function uniqueSorted(...arrays: ArrayLike<number>[]): number[] {
  const seen = new Set<number>();
  for (const a of arrays) for (let i = 0; i < a.length; i++) seen.add(a[i]);
  return [...seen].sort((a, b) => a - b);
}

/**
 * The `labels` option: a non-empty array of distinct non-negative integers,
 * in the caller's order (which sets the order of per-class results).
 */
export function checkLabelList(fn: string, labels: unknown): number[] {
  if (!Array.isArray(labels) && !ArrayBuffer.isView(labels)) {
    throw new TypeError(`${fn}: labels must be an array of class labels, got ${show(labels)}`);
  }
  const list = Array.from(labels as ArrayLike<unknown>);
  if (list.length === 0) throw new RangeError(`${fn}: labels is empty; give at least one label`);
  const seen = new Set<number>();
  list.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new RangeError(
        `${fn}: labels[${i}] = ${show(v)} is not a class label (a non-negative integer)` +
          labelHint(v),
      );
    }
    if (seen.has(v)) throw new RangeError(`${fn}: labels[${i}] = ${v} is repeated`);
    seen.add(v);
  });
  return list as number[];
}

/** A map from each label to its position in `labels`. */
export function indexOf(labels: readonly number[]): Map<number, number> {
  return new Map(labels.map((label, i) => [label, i]));
}

/**
 * The confusion matrix over `labels` (rows true, columns predicted), as
 * sklearn's `confusion_matrix(..., labels=labels, sample_weight=weights)`:
 * pairs whose true or predicted label is not in `labels` are left out; each
 * pair counts its weight (1 without weights).
 */
export function countMatrix(
  pair: LabelPair,
  labels: readonly number[],
  weights?: Float64Array,
): number[][] {
  const k = labels.length, at = indexOf(labels);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < pair.t.length; i++) {
    const r = at.get(pair.t[i]), c = at.get(pair.p[i]);
    if (r !== undefined && c !== undefined) m[r][c] += weights === undefined ? 1 : weights[i];
  }
  return m;
}

/**
 * sklearn's check of an explicit `labels` for a confusion matrix: at least
 * one of them must occur in `yTrue`.
 */
export function checkSomeLabelInTruth(fn: string, t: Int32Array, labels: readonly number[]): void {
  const set = new Set(labels);
  for (const v of t) if (set.has(v)) return;
  throw new RangeError(
    `${fn}: none of labels [${labels}] occurs in yTrue; at least one must (sklearn raises too)`,
  );
}

/** The mean of an array (NaN when empty, as numpy's). */
export function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
}
