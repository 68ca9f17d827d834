/**
 * The forms the metrics take their inputs in, and their conversion to flat
 * arrays: plain or typed arrays, Tensors (as a PyTorch user passes
 * `y_true` and `logits.argmax(1)`), and nested arrays for a score matrix
 * (`probs.toList()`, as sklearn takes a list of lists), or a list of
 * per-sample Tensors (MONAI's `decollate_batch`, or `outputs.push(p[0])` in
 * a loop): one-element Tensors as labels or scores, [C] or [1, C] Tensors
 * as rows of a score matrix. A Tensor is recognised by its shape and
 * `toArray()`, so this module imports no tensor code and the metrics stay
 * usable without the native library.
 *
 * @module
 */

/**
 * What the metrics read of a Tensor: its shape, dtype and a host copy of
 * its values. `Tensor` satisfies it, on any device.
 */
export interface TensorLike {
  /** Sizes of the dimensions. */
  readonly shape: readonly number[];
  /** Element type ("float32" or "int32"). */
  readonly dtype: string;
  /** A host copy of the elements, row-major. */
  toArray(): Float32Array | Int32Array;
}

/**
 * Class labels 0..numClasses-1: an array, a 1-D int32 or float32 Tensor, a
 * column (an [N, 1] Tensor or rows of one number, `[[0], [1]]`, read as
 * [N], as sklearn's `column_or_1d`), or a list of one-element Tensors (one
 * per sample).
 */
export type Labels =
  | ArrayLike<number>
  | TensorLike
  | readonly (number | TensorLike)[]
  | readonly (readonly [number])[];

/**
 * Class labels (as `Labels`), or a multilabel indicator: an [N, K] matrix
 * of 0 and 1 as a 2-D Tensor, nested rows or a list of per-sample [K]
 * Tensors, one column per label (finding).
 */
export type Targets = Labels | readonly (ArrayLike<number> | TensorLike)[];

/**
 * Scores or probabilities: one per sample (an array, a 1-D Tensor or a list
 * of one-element Tensors), or, where a function takes a score matrix,
 * [N, C] as a row-major flat array, a 2-D Tensor, nested arrays
 * (`probs.toList()`) or a list of [C] Tensors (`decollate_batch`).
 */
export type Scores =
  | ArrayLike<number>
  | readonly (number | TensorLike)[]
  | readonly (ArrayLike<number> | TensorLike)[]
  | TensorLike;

/** True for a Tensor (or anything with a numeric shape and `toArray`). */
export function isTensorLike(x: unknown): x is TensorLike {
  if (typeof x !== "object" || x === null) return false;
  const t = x as Partial<TensorLike>;
  return Array.isArray(t.shape) && typeof t.toArray === "function";
}

/** A short description of what was passed, for errors. */
export function describeInput(x: unknown): string {
  if (isTensorLike(x)) return `a Tensor of shape [${x.shape}] (${x.dtype})`;
  if (x === null) return "null";
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === "object") return `an object (${x.constructor?.name ?? "no prototype"})`;
  return `${typeof x} ${String(x)}`;
}

/**
 * The number of entries of an array (or samples of a Tensor, its first
 * dimension); throws when `x` is neither, so a wrong argument is not read as
 * an empty one (a Tensor's missing `.length` once compared undefined with
 * undefined and gave an all-zero confusion matrix).
 */
export function lengthOf(fn: string, what: string, x: unknown): number {
  if (isTensorLike(x)) return x.shape.length === 0 ? 1 : x.shape[0];
  const n = typeof x === "object" && x !== null ? (x as { length?: unknown }).length : undefined;
  if (typeof x === "string" || typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    throw new TypeError(
      `${fn}: ${what} must be an array of numbers or a Tensor, got ${describeInput(x)}`,
    );
  }
  return n;
}

/** A Tensor's dtype must be one the metrics can read exactly. */
function tensorValues(fn: string, what: string, t: TensorLike): Float32Array | Int32Array {
  if (t.dtype !== "int32" && t.dtype !== "float32") {
    throw new TypeError(`${fn}: ${what} is ${describeInput(t)}; expected int32 or float32`);
  }
  return t.toArray();
}

/**
 * The number of a one-element Tensor (0-d, [1] or [1, 1]) in a list of
 * per-sample values; a Tensor of more elements throws with `fix`.
 */
function scalarOf(fn: string, what: string, t: TensorLike, fix: string): number {
  const v = tensorValues(fn, what, t);
  if (v.length !== 1) throw new RangeError(`${fn}: ${what} is ${describeInput(t)}; ${fix}`);
  return v[0];
}

/** The index of the first entry that is a Tensor, or -1. */
function firstTensor(x: ArrayLike<unknown>): number {
  for (let i = 0; i < x.length; i++) if (isTensorLike(x[i])) return i;
  return -1;
}

/** True for an array (plain or typed) of one entry: a row of a column vector. */
function isOneEntryRow(v: unknown): v is ArrayLike<unknown> {
  return (Array.isArray(v) || ArrayBuffer.isView(v)) && (v as ArrayLike<unknown>).length === 1;
}

/**
 * Labels as a flat array: an array is returned as is, a 1-D Tensor is copied
 * to the host, a column vector (an [N, 1] Tensor, or nested rows of one
 * entry, `[[0], [1]]`) is read as [N], as sklearn's `column_or_1d` reads
 * it, and a list of one-element Tensors (per-sample labels, as
 * `decollate_batch` gives them) becomes an array of their values. A Tensor
 * of another shape, or a list entry with several elements, throws naming
 * the fix.
 */
export function labelValues(fn: string, what: string, y: Labels): ArrayLike<number> {
  if (isTensorLike(y)) {
    const [n, c] = y.shape;
    if (y.shape.length === 1 || (y.shape.length === 2 && c === 1)) {
      return tensorValues(fn, what, y);
    }
    // argmax(1) of [N, C] scores gives labels; of [N, 1] (or [N]) it gives zeros.
    const fix = y.shape.length === 2 && c > 1
      ? ` (for [${n}, ${c}] logits or scores take logits.argmax(1) first)`
      : "";
    throw new RangeError(
      `${fn}: ${what} is ${describeInput(y)}; labels must be 1-D [N] (or a column [N, 1])${fix}`,
    );
  }
  const n = lengthOf(fn, what, y);
  const list = y as ArrayLike<unknown>;
  if (!ArrayBuffer.isView(y) && n > 0 && isOneEntryRow(list[0])) {
    // A column vector as nested rows ([[0], [1]]): each row's one entry;
    // any other entry is left for checkLabels to name.
    return Array.from(list, (v) => isOneEntryRow(v) ? v[0] : v) as ArrayLike<number>;
  }
  if (ArrayBuffer.isView(y) || firstTensor(list) < 0) return y as ArrayLike<number>;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = list[i];
    out[i] = isTensorLike(v)
      ? scalarOf(
        fn,
        `${what}[${i}]`,
        v,
        "a label is one number per sample: pass one 1-D [N] Tensor (stack(labels)) or " +
          "numbers (for logits or one-hot rows take argmax first)",
      )
      : v as number; // checkLabels names a non-number entry
  }
  return out;
}

/** Scores as a flat row-major array, with the number of columns where known. */
export interface ScoreValues {
  /** The values, row by row. */
  values: ArrayLike<number>;
  /** Rows (samples) when the input had a shape: a 2-D Tensor or nested arrays. */
  rows?: number;
  /** Columns when the input had a shape; undefined for a flat array. */
  columns?: number;
}

/**
 * One row of a list of rows: an array as is, a [C] or [1, C] Tensor (one
 * sample's scores) as its values. Any other Tensor throws.
 */
function rowOf(fn: string, what: string, row: unknown): unknown {
  if (!isTensorLike(row)) return row;
  const r = row.shape.length;
  if (r === 1 || (r === 2 && row.shape[0] === 1)) return tensorValues(fn, what, row);
  throw new RangeError(
    `${fn}: ${what} is ${describeInput(row)}; each entry of a list must be one sample's ` +
      "scores, a [C] Tensor; pass all samples as one [N, C] Tensor (cat(batches) or " +
      "stack(rows)) instead",
  );
}

/**
 * Flattens scores: a flat array as is, a 1-D Tensor to its values, an
 * [N, C] Tensor or N rows of C numbers (nested arrays, or per-sample [C]
 * Tensors as `decollate_batch` gives them) to a row-major array with
 * `columns` C. A list of one-element Tensors is one score per sample.
 * Ragged rows or other ranks throw.
 */
export function scoreValues(fn: string, what: string, s: Scores): ScoreValues {
  if (isTensorLike(s)) {
    if (s.shape.length === 1) return { values: tensorValues(fn, what, s) };
    if (s.shape.length === 2) {
      return { values: tensorValues(fn, what, s), rows: s.shape[0], columns: s.shape[1] };
    }
    throw new RangeError(
      `${fn}: ${what} is ${describeInput(s)}; expected [N] or [N, C] (one column per class)`,
    );
  }
  const n = lengthOf(fn, what, s);
  const rows = s as ArrayLike<unknown>;
  const first = n > 0 ? rows[0] : undefined;
  if (isTensorLike(first) && first.shape.length === 0) {
    // Per-sample scalars (`p[i]` of a [N] Tensor): one score per sample.
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = rows[i];
      out[i] = isTensorLike(v)
        ? scalarOf(fn, `${what}[${i}]`, v, "expected one score per sample like scores[0]")
        : v as number; // checkScores names a non-number entry
    }
    return { values: out };
  }
  if (ArrayBuffer.isView(s)) return { values: s as ArrayLike<number> };
  if (typeof first !== "object" || first === null) {
    const t = firstTensor(rows);
    if (t < 0) return { values: s as ArrayLike<number> };
    throw new TypeError(
      `${fn}: ${what}[0] is a number but ${what}[${t}] is ${describeInput(rows[t])}; ` +
        "pass numbers, or one [N] / [N, C] Tensor",
    );
  }
  const form = isTensorLike(first) ? "a list of per-sample Tensors" : "nested arrays";
  const head = rowOf(fn, `${what}[0]`, first);
  const columns = lengthOf(fn, `${what}[0]`, head);
  const out = new Float64Array(n * columns);
  for (let i = 0; i < n; i++) {
    const row = rowOf(fn, `${what}[${i}]`, rows[i]);
    if (typeof row !== "object" || row === null || lengthOf(fn, `${what}[${i}]`, row) !== columns) {
      throw new RangeError(
        `${fn}: ${what} is ${form} but ${what}[${i}] is ${describeInput(rows[i])}, ` +
          `not a row of ${columns} scores; expected N rows of C numbers`,
      );
    }
    const r = row as ArrayLike<number>;
    for (let c = 0; c < columns; c++) out[i * columns + c] = r[c];
  }
  return { values: out, rows: n, columns };
}

/**
 * Scores of a binary curve: one per sample. A score matrix throws, saying
 * how to take one class's column or where the one-vs-rest functions are.
 */
export function binaryScoreValues(fn: string, what: string, s: Scores): ArrayLike<number> {
  const v = scoreValues(fn, what, s);
  if (v.columns === undefined || v.columns === 1) return v.values;
  throw new RangeError(
    `${fn}: ${what} is a score matrix [${v.rows}, ${v.columns}]; a curve takes one score ` +
      "per sample: pass one class's column (probs.narrow(1, c, 1)) with { posLabel: c }, " +
      "or use " +
      "rocAuc / averagePrecision for the one-vs-rest average",
  );
}
