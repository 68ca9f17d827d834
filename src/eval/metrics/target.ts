/**
 * What kind of target a label argument holds, as sklearn's `type_of_target`
 * decides it for the classification metrics: 1-D class labels ("binary" or
 * "multiclass"), or a multilabel indicator, an [N, K] matrix (K >= 2) of 0
 * and 1 where column j says whether sample i has label j (a 2-D Tensor,
 * nested rows, or a list of per-sample [K] Tensors). Any other matrix is
 * refused as sklearn refuses it: probabilities or scores
 * ("continuous-multioutput") and integer matrices with other values
 * ("multiclass-multioutput"), each with the fix. A flat array is always
 * labels (it has no shape to be a matrix).
 *
 * @module
 */
import { isTensorLike, type Labels, scoreValues, type Targets } from "./inputs.ts";
import { checkLabels, checkNotEmpty, checkSameLength } from "./labels.ts";

/** A multilabel indicator matrix, row-major. */
export interface Indicator {
  /** 0 or 1, row by row. */
  values: Uint8Array;
  /** Samples. */
  n: number;
  /** Labels (columns). */
  k: number;
}

/** True when `y` has the shape of a matrix with rows of 2 or more entries. */
function isMatrix(y: unknown): boolean {
  if (isTensorLike(y)) return y.shape.length === 2 && y.shape[1] !== 1;
  if (typeof y !== "object" || y === null || ArrayBuffer.isView(y)) return false;
  const list = y as ArrayLike<unknown>;
  if (typeof list.length !== "number" || list.length === 0) return false;
  const first = list[0];
  if (isTensorLike(first)) return first.shape.reduce((a, b) => a * b, 1) > 1;
  if (Array.isArray(first) || ArrayBuffer.isView(first)) {
    return (first as ArrayLike<unknown>).length > 1;
  }
  return false;
}

/**
 * The indicator matrix of `y`, or undefined when `y` is not a matrix (it is
 * then read as labels). A matrix of anything but 0 and 1 throws, or with
 * `lenient` gives undefined (the caller's label checks then name it).
 */
export function readIndicator(
  fn: string,
  what: string,
  y: unknown,
  lenient = false,
): Indicator | undefined {
  if (!isMatrix(y)) return undefined;
  const s = scoreValues(fn, what, y as Targets);
  const n = s.rows!, k = s.columns!;
  const out = new Uint8Array(n * k);
  let other = -1, fraction = -1;
  for (let i = 0; i < n * k; i++) {
    const v = s.values[i];
    if (v === 0 || v === 1) out[i] = v;
    else if (typeof v !== "number" || Number.isNaN(v)) {
      if (lenient) return undefined;
      throw new RangeError(
        `${fn}: ${what}[${Math.floor(i / k)}][${i % k}] = ${v} is not a number`,
      );
    } else if (!Number.isInteger(v)) {
      if (fraction < 0) fraction = i;
    } else if (other < 0) other = i;
  }
  if (lenient && (fraction >= 0 || other >= 0)) return undefined;
  const at = (i: number) => `${what}[${Math.floor(i / k)}][${i % k}] = ${s.values[i]}`;
  if (fraction >= 0) {
    throw new RangeError(
      `${fn}: ${what} is an [${n}, ${k}] matrix of scores (${at(fraction)}), not labels ` +
        "(sklearn refuses continuous-multioutput targets too): take probs.argmax(1) for " +
        "class labels, or threshold it (probs.gt(0.5)) for a multilabel indicator of 0 and 1",
    );
  }
  if (other >= 0) {
    throw new RangeError(
      `${fn}: ${what} is an [${n}, ${k}] matrix with ${at(other)}; a label matrix must be a ` +
        "multilabel indicator of 0 and 1 (sklearn: multiclass-multioutput is not supported)",
    );
  }
  return { values: out, n, k };
}

/** Two label arguments, read as the same kind of target. */
export type TargetPair =
  | { kind: "labels"; t: Int32Array; p: Int32Array }
  | { kind: "multilabel"; t: Uint8Array; p: Uint8Array; n: number; k: number };

/**
 * Reads `yTrue` and `yPred` as one task (sklearn's `_check_targets`): both
 * class labels (non-negative integers) or both [N, K] indicator matrices
 * with the same K. A mix throws, as in sklearn; so do empty inputs.
 */
export function targetPair(
  fn: string,
  yTrue: Targets,
  yPred: Targets,
  names: readonly [string, string] = ["yTrue", "yPred"],
): TargetPair {
  checkSameLength(fn, yTrue, names[0], yPred, names[1]);
  const a = readIndicator(fn, names[0], yTrue), b = readIndicator(fn, names[1], yPred);
  if (a !== undefined && b !== undefined) {
    if (a.k !== b.k) {
      throw new RangeError(
        `${fn}: ${names[0]} has ${a.k} label columns but ${names[1]} has ${b.k}`,
      );
    }
    return { kind: "multilabel", t: a.values, p: b.values, n: a.n, k: a.k };
  }
  if (a !== undefined || b !== undefined) {
    const [m, l] = a !== undefined ? names : [names[1], names[0]];
    const k = (a ?? b)!.k;
    throw new RangeError(
      `${fn}: ${m} is a multilabel indicator [N, ${k}] but ${l} holds class labels; pass ` +
        "both as [N, K] matrices of 0 and 1 or both as 1-D labels (sklearn can't handle a " +
        "mix of multilabel-indicator and multiclass targets either)",
    );
  }
  const t = checkLabels(fn, names[0], yTrue as Labels);
  const p = checkLabels(fn, names[1], yPred as Labels);
  checkNotEmpty(fn, t.length);
  return { kind: "labels", t, p };
}

/**
 * `targetPair` for the metrics that take class labels only (as sklearn's
 * confusion_matrix, balanced accuracy, kappa and MCC): an indicator matrix
 * throws, naming the multilabel functions.
 */
export function labelsOnly(
  fn: string,
  yTrue: Labels,
  yPred: Labels,
  names: readonly [string, string] = ["yTrue", "yPred"],
): { t: Int32Array; p: Int32Array } {
  const pair = targetPair(fn, yTrue, yPred, names);
  if (pair.kind === "labels") return pair;
  throw new RangeError(
    `${fn}: multilabel indicator input [${pair.n}, ${pair.k}] is not supported (sklearn ` +
      "refuses it too); use multilabelConfusionMatrix, or a per-label score (f1Score, " +
      "jaccardScore, hammingLoss), or pass 1-D class labels",
  );
}

/**
 * Throws for a multilabel indicator where a metric takes class labels only;
 * other matrices are left to the label checks (whose messages name them).
 */
export function refuseIndicators(fn: string, args: readonly [string, unknown][]): void {
  for (const [name, y] of args) {
    const m = readIndicator(fn, name, y, true);
    if (m === undefined) continue;
    throw new RangeError(
      `${fn}: ${name} is a multilabel indicator [${m.n}, ${m.k}], which is not supported ` +
        "(sklearn refuses it too); use multilabelConfusionMatrix for one 2x2 matrix per " +
        "label, or pass 1-D class labels",
    );
  }
}
