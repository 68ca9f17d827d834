/**
 * Input checks shared by the metrics: labels are integers in range, scores
 * are finite, lengths agree. Every error names the function, the argument
 * and the first bad index, so a bad label file is found from the message.
 *
 * @module
 */

import {
  binaryScoreValues,
  describeInput,
  type Labels,
  labelValues,
  lengthOf,
  type Scores,
  type Targets,
  type TensorLike,
} from "./inputs.ts";

export type { Labels, Scores, Targets, TensorLike };

/** A label for an error: arrays (a nested row) are shown in brackets. */
function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v}] (an array, not a number)`;
  if (typeof v === "object" && v !== null) return `${describeInput(v)}, not a number`;
  return String(v);
}

/**
 * What to write instead of a label this library does not take, as sklearn
 * code passes them: names ("cat"), sklearn's -1/1 labels, one-hot rows and
 * probabilities. Empty for anything else.
 */
export function labelHint(v: unknown): string {
  if (typeof v === "string") {
    return "; labels are class indices: map the names to 0, 1, ... (a report takes the names " +
      "as classNames / targetNames)";
  }
  if (typeof v === "boolean") return "; pass numbers (y.map(Number))";
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    return "; for one-hot rows pass their argmax (y.argmax(1)), one class index per sample";
  }
  if (typeof v !== "number" || !Number.isFinite(v)) return "";
  if (Number.isInteger(v) && v < 0) {
    return "; labels are class indices >= 0: map sklearn's -1/1 labels to 0/1 " +
      "(y.map((v) => (v < 0 ? 0 : v))), or drop the samples an ignore_index marks";
  }
  if (!Number.isInteger(v)) {
    return "; for probabilities or scores pass predicted labels: a threshold (p >= 0.5 ? 1 : 0) " +
      "or probs.argmax(1)";
  }
  return "";
}

/**
 * Copies `y` into an Int32Array after checking that every value is an
 * integer in [0, numClasses) (or >= 0 when numClasses is undefined).
 */
export function checkLabels(
  fn: string,
  what: string,
  labels: Labels,
  numClasses?: number,
): Int32Array {
  const y = labelValues(fn, what, labels);
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
      const range = numClasses === undefined
        ? "(a non-negative integer)"
        : `(an integer in [0, ${numClasses}))`;
      const hint = numClasses !== undefined && Number.isInteger(v) && v >= 0 ? "" : labelHint(v);
      throw new RangeError(
        `${fn}: ${what}[${i}] = ${
          typeof v === "string" ? JSON.stringify(v) : show(v)
        } is not a class label ${range}${hint}`,
      );
    }
    out[i] = v;
  }
  return out;
}

/**
 * Throws when there are no samples: every rate of an empty set is 0 / 0,
 * and a report of zeros would look like a real, bad result (sklearn's
 * classification_report raises; its accuracy_score gives NaN).
 */
export function checkNotEmpty(fn: string, n: number): void {
  if (n === 0) {
    throw new RangeError(
      `${fn}: no samples (yTrue and yPred are empty); the metrics of an empty set are ` +
        "not defined (check the split or the loader)",
    );
  }
}

/** Throws unless `n` is a positive integer. */
export function checkNumClasses(fn: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${fn}: numClasses must be a positive integer, got ${n}`);
  }
}

/**
 * Throws unless both have the same number of samples (entries of an array,
 * first dimension of a Tensor), or when either is neither.
 */
export function checkSameLength(
  fn: string,
  a: unknown,
  aName: string,
  b: unknown,
  bName: string,
): void {
  const na = lengthOf(fn, aName, a), nb = lengthOf(fn, bName, b);
  if (na !== nb) {
    throw new RangeError(`${fn}: ${aName} has ${na} entries but ${bName} has ${nb}`);
  }
}

/**
 * Copies one score per sample into a Float64Array after checking that all
 * are finite; a score matrix throws (see `binaryScoreValues`).
 */
export function checkScores(fn: string, what: string, scores: Scores): Float64Array {
  const s = binaryScoreValues(fn, what, scores);
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`${fn}: ${what}[${i}] = ${show(v)} is not a finite number`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * The binary truth vector of a curve: 1 where `y === posLabel`. Without an
 * explicit posLabel the labels must be 0/1, as sklearn requires, so that a
 * multiclass vector passed by mistake is not silently binarised.
 */
export function binaryTruth(fn: string, labels: Labels, posLabel?: number): Uint8Array {
  const y = labelValues(fn, "yTrue", labels);
  const out = new Uint8Array(y.length);
  // Without posLabel, sklearn takes 1 as the positive label of 0/1 or -1/1 labels.
  let negative: number | null = null;
  for (let i = 0; i < y.length; i++) {
    const v = y[i];
    if (posLabel === undefined) {
      if ((v !== 0 && v !== 1 && v !== -1) || (v !== 1 && negative !== null && v !== negative)) {
        throw new RangeError(
          `${fn}: yTrue[${i}] = ${typeof v === "string" ? JSON.stringify(v) : show(v)} is not ` +
            `0 or 1 (or -1 or 1); ${
              typeof v === "number" || labelHint(v) === ""
                ? "pass { posLabel } for other labels"
                : labelHint(v).slice(2)
            }`,
        );
      }
      if (v !== 1) negative = v;
      out[i] = v === 1 ? 1 : 0;
    } else {
      if (typeof v !== "number" || Number.isNaN(v)) {
        throw new RangeError(
          `${fn}: yTrue[${i}] = ${
            typeof v === "string" ? JSON.stringify(v) : show(v)
          } is not a label${labelHint(v)}${
            typeof v === "string" ? ", and give posLabel as the positive class's index" : ""
          }`,
        );
      }
      out[i] = v === posLabel ? 1 : 0;
    }
  }
  return out;
}

/**
 * Column `c` of a row-major [n, numClasses] score matrix, as one-vs-rest
 * curves need it.
 */
export function scoreColumn(
  scores: ArrayLike<number>,
  numClasses: number,
  c: number,
): Float64Array {
  const n = scores.length / numClasses;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scores[i * numClasses + c];
  return out;
}
