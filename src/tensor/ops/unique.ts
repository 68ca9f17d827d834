/**
 * Counting values: `unique` (torch.unique: how a user counts classes,
 * `labels.unique(return_counts=True)`, or the distinct rows with `dim`),
 * `uniqueConsecutive` (torch.unique_consecutive), and `bincount`
 * (torch.bincount, in bincount.ts). Their sizes depend on the values, so they run on a host
 * copy, as torch's CUDA versions synchronise to size their results. None
 * has a gradient in torch: a backward through them throws, as torch's.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";
import { hostResult, noDerivative } from "./host_values.ts";

/** Options of `unique`, as torch.unique's keywords. */
export interface UniqueOptions {
  /** Sorted ascending (default true; unsorted is sorted here too: torch leaves that order unspecified). */
  sorted?: boolean;
  /** Also return, for each element (or slice, with `dim`), its index in the result (default false). */
  returnInverse?: boolean;
  /** Also return how many times each value (or slice) occurs (default false). */
  returnCounts?: boolean;
  /**
   * The dimension whose slices are compared: `dim: 0` gives the distinct
   * rows of a matrix (default: the flattened values; `null` as torch's None).
   */
  dim?: number | null;
}

/** Options of `uniqueConsecutive`, as torch.unique_consecutive's keywords. */
export interface UniqueConsecutiveOptions {
  /** Also return, for each element (or slice, with `dim`), its index in the result (default false). */
  returnInverse?: boolean;
  /** Also return the length of each run (default false). */
  returnCounts?: boolean;
  /** The dimension whose slices are compared (default: the flattened values). */
  dim?: number | null;
}

/**
 * The distinct values of `x`, ascending (flattened), as `torch.unique`:
 * float32 or int32 as x. With `returnInverse` and/or `returnCounts` an
 * array in torch's tuple order, `[values, inverse?, counts?]`: inverse
 * (int32, x's shape) gives each element's index in values, counts (int32)
 * how often each occurs. -0 and 0 are one value (the one met first); each
 * NaN is its own (NaN != NaN), after the numbers, as torch 2's (1.13's
 * hash-based CPU kernel misplaces NaN and counts it 0 times).
 *
 * With `dim`, the distinct slices along that dimension (`dim: 0`: the
 * distinct rows), sorted lexicographically as torch's (each slice read in
 * the order of x with dims 0 and `dim` swapped); values has x's shape with
 * `dim` shortened, inverse (1-D) gives each slice's index, counts each
 * slice's count. A slice holding NaN is never equal to another, as in
 * torch; NaN sorts after the numbers at its place (torch 1.13's order of
 * such slices comes from a comparison NaN breaks). No gradient (torch has
 * none).
 *
 * @example
 * ```ts
 * import { tensor, unique } from "@lits/vision";
 * const labels = tensor(new Int32Array([2, 0, 2, 1, 2]), [5]);
 * const [classes, counts] = unique(labels, { returnCounts: true });
 * console.log(classes.toList(), counts.toList()); // [0, 1, 2] [1, 1, 3]
 * const rows = tensor([[1, 2], [0, 5], [1, 2]]);
 * const [distinct, inverse] = unique(rows, { dim: 0, returnInverse: true });
 * console.log(distinct.toList(), inverse.toList()); // [[0, 5], [1, 2]] [1, 0, 1]
 * ```
 */
export function unique(
  x: Tensor,
  options?: UniqueOptions & { returnInverse?: false; returnCounts?: false },
): Tensor;
/** With both inverse and counts: `[values, inverse, counts]`. */
export function unique(
  x: Tensor,
  options: UniqueOptions & { returnInverse: true; returnCounts: true },
): [Tensor, Tensor, Tensor];
/** With one of them: `[values, inverse]` or `[values, counts]`. */
export function unique(
  x: Tensor,
  options: UniqueOptions & ({ returnInverse: true } | { returnCounts: true }),
): [Tensor, Tensor];
/** Any options: a tensor, or the array of what was asked for. */
export function unique(x: Tensor, options?: UniqueOptions): Tensor | Tensor[];
export function unique(x: Tensor, options: UniqueOptions = {}): Tensor | Tensor[] {
  const usage = "unique(x, { returnCounts: true }) (x.unique({ dim: 0, returnInverse: true }))";
  if (arguments.length > 2) {
    throw new Error(`unique: takes (x, options), got ${arguments.length} arguments; ${usage}`);
  }
  const keys = ["sorted", "returnInverse", "returnCounts", "dim"] as const;
  const [o, dim] = checkArgs<UniqueOptions>("unique", x, options, keys, usage);
  const v = x.toArray();
  if (dim === null) {
    const g = flatGroups(v, false);
    return results(x, g, [g.values.length], x.shape, o, "_unique2", "take unique(x.detach())");
  }
  const g = sliceGroups(v, x.shape, dim, false);
  return results(
    x,
    g,
    g.shape,
    [x.shape[dim]],
    o,
    "unique_dim",
    "take unique(x.detach(), { dim })",
  );
}

/**
 * Each run of equal consecutive values of `x` as one (flattened), as
 * `torch.unique_consecutive`: float32 or int32 as x. With `returnInverse`
 * and/or `returnCounts` an array in torch's tuple order, `[values,
 * inverse?, counts?]`: inverse (int32, x's shape) gives each element's run,
 * counts (int32) each run's length. With `dim`, runs of equal slices along
 * that dimension; values has x's shape with `dim` shortened, inverse (1-D)
 * gives each slice's run. NaN equals nothing, as in torch. No gradient
 * (torch has none).
 *
 * @example
 * ```ts
 * import { tensor, uniqueConsecutive } from "@lits/vision";
 * const x = tensor(new Int32Array([1, 1, 2, 2, 3, 1, 1, 2]), [8]);
 * const [runs, counts] = uniqueConsecutive(x, { returnCounts: true });
 * console.log(runs.toList(), counts.toList()); // [1, 2, 3, 1, 2] [2, 2, 1, 2, 1]
 * ```
 */
export function uniqueConsecutive(
  x: Tensor,
  options?: UniqueConsecutiveOptions & { returnInverse?: false; returnCounts?: false },
): Tensor;
/** With both inverse and counts: `[values, inverse, counts]`. */
export function uniqueConsecutive(
  x: Tensor,
  options: UniqueConsecutiveOptions & { returnInverse: true; returnCounts: true },
): [Tensor, Tensor, Tensor];
/** With one of them: `[values, inverse]` or `[values, counts]`. */
export function uniqueConsecutive(
  x: Tensor,
  options: UniqueConsecutiveOptions & ({ returnInverse: true } | { returnCounts: true }),
): [Tensor, Tensor];
/** Any options: a tensor, or the array of what was asked for. */
export function uniqueConsecutive(x: Tensor, options?: UniqueConsecutiveOptions): Tensor | Tensor[];
export function uniqueConsecutive(
  x: Tensor,
  options: UniqueConsecutiveOptions = {},
): Tensor | Tensor[] {
  const usage = "uniqueConsecutive(x, { returnCounts: true }) (x.uniqueConsecutive({ dim: 0 }))";
  if (arguments.length > 2) {
    throw new Error(
      `uniqueConsecutive: takes (x, options), got ${arguments.length} arguments; ${usage}`,
    );
  }
  const keys = ["returnInverse", "returnCounts", "dim"] as const;
  const [o, dim] = checkArgs<UniqueConsecutiveOptions>(
    "uniqueConsecutive",
    x,
    options,
    keys,
    usage,
  );
  const v = x.toArray();
  const instead = "take uniqueConsecutive(x.detach())";
  if (dim === null) {
    const g = flatGroups(v, true);
    return results(x, g, [g.values.length], x.shape, o, "unique_consecutive", instead);
  }
  const g = sliceGroups(v, x.shape, dim, true);
  return results(x, g, g.shape, [x.shape[dim]], o, "unique_consecutive", instead);
}

/** The checked options and the dimension (null: flattened) of unique or uniqueConsecutive. */
function checkArgs<O extends { returnInverse?: boolean; returnCounts?: boolean }>(
  where: string,
  x: Tensor,
  options: unknown,
  keys: readonly string[],
  usage: string,
): [O, number | null] {
  expectTensor(x, where, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  const o = checkOptions<O & { dim?: number | null }>(
    where,
    options,
    keys as (keyof O & string)[],
    usage,
  );
  for (const key of ["sorted", "returnInverse", "returnCounts"]) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined && typeof v !== "boolean") {
      throw new Error(`${where}: ${key} must be a boolean, got ${JSON.stringify(v)}`);
    }
  }
  if (o.dim === undefined || o.dim === null) return [o, null];
  const n = x.ndim, d = o.dim;
  if (typeof d !== "number" || !Number.isInteger(d)) {
    throw new Error(`${where}: dim must be an integer, got ${JSON.stringify(d)}`);
  }
  if (n === 0) {
    // torch: "Dimension specified as 0 but tensor has no dimensions"
    throw new Error(
      `${where}: dim ${d} is out of range for a 0-d tensor; leave dim out for its value`,
    );
  }
  if (d < -n || d >= n) {
    throw new Error(
      `${where}: dim ${d} is out of range for ${n} dimensions (expected ${-n} to ${n - 1})`,
    );
  }
  const dim = d < 0 ? d + n : d;
  if (x.shape.some((s, k) => s === 0 && k !== dim)) {
    // torch: "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied"
    throw new Error(
      `${where}: x [${x.shape}] has a dimension of size 0 other than dim ${d}: its slices are ` +
        "empty, so they cannot be told apart (as torch)",
    );
  }
  return [o, dim];
}

/** The distinct values (or slices) found, each one's count, and each input's group. */
interface Groups {
  /** The values of the result, row-major. */
  values: ArrayLike<number>;
  /** Each element's (or slice's) index in the result. */
  inverse: Int32Array;
  counts: number[];
}

/** The flattened values' groups: sorted (unique) or runs (uniqueConsecutive). */
function flatGroups(v: Float32Array | Int32Array, consecutive: boolean): Groups {
  const values: number[] = [], counts: number[] = [];
  const inverse = new Int32Array(v.length);
  if (consecutive) {
    for (let k = 0; k < v.length; k++) {
      // NaN !== NaN: each NaN is a run of its own, as torch's.
      if (k > 0 && v[k] === v[k - 1]) counts[counts.length - 1]++;
      else {
        values.push(v[k]);
        counts.push(1);
      }
      inverse[k] = values.length - 1;
    }
    return { values, inverse, counts };
  }
  // Typed arrays sort numerically, -0 before 0 and NaN last.
  const sortedValues = v.slice().sort();
  for (let k = 0; k < sortedValues.length; k++) {
    const s = sortedValues[k];
    if (k > 0 && s === sortedValues[k - 1]) counts[counts.length - 1]++;
    else {
      values.push(s);
      counts.push(1);
    }
  }
  // -0 and 0 are one value: the one met first, as torch's.
  const zero = values.indexOf(0);
  if (zero >= 0) values[zero] = v[v.findIndex((e) => e === 0)];
  const firstNaN = values.findIndex((d) => Number.isNaN(d));
  let nextNaN = firstNaN;
  for (let k = 0; k < v.length; k++) {
    if (Number.isNaN(v[k])) {
      inverse[k] = nextNaN++;
      continue;
    }
    let lo = 0, hi = firstNaN < 0 ? values.length : firstNaN;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (values[mid] <= v[k]) lo = mid;
      else hi = mid;
    }
    inverse[k] = lo;
  }
  return { values, inverse, counts };
}

/**
 * The groups of the slices of `v` (of `shape`) along `dim`: sorted
 * lexicographically (unique) or runs (uniqueConsecutive). torch compares
 * the slices of x with dims 0 and `dim` swapped, row-major: the same order
 * for dim 0 and 1, not for a later dim of a 3-D or larger x.
 */
function sliceGroups(
  v: Float32Array | Int32Array,
  shape: readonly number[],
  dim: number,
  consecutive: boolean,
): Groups & { shape: number[] } {
  const n = shape[dim];
  const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, b) => a * b, 1));
  // The slice's dims in torch's order: swap 0 and dim, then drop dim.
  const order = shape.map((_, k) => (k === 0 ? dim : k === dim ? 0 : k)).slice(1);
  const len = order.reduce((a, k) => a * shape[k], 1);
  const offsets = new Int32Array(len);
  for (let j = 0; j < len; j++) {
    let rest = j, at = 0;
    for (let p = order.length - 1; p >= 0; p--) {
      const k = order[p], i = rest % shape[k];
      rest = (rest - i) / shape[k];
      at += i * strides[k];
    }
    offsets[j] = at;
  }
  const at = (s: number, j: number) => v[s * strides[dim] + offsets[j]];
  // NaN after the numbers at its place (torch's comparison treats it as equal to all).
  const compare = (a: number, b: number): number => {
    for (let j = 0; j < len; j++) {
      const p = at(a, j), q = at(b, j);
      if (p < q) return -1;
      if (p > q) return 1;
      const pn = p !== p, qn = q !== q;
      if (pn !== qn) return pn ? 1 : -1;
    }
    return 0;
  };
  // NaN !== NaN: a slice holding one equals no other, as torch's at::equal.
  const equal = (a: number, b: number): boolean => {
    for (let j = 0; j < len; j++) if (at(a, j) !== at(b, j)) return false;
    return true;
  };
  const slices = Array.from({ length: n }, (_, s) => s);
  if (!consecutive) slices.sort(compare); // stable: the first of equal slices is kept
  const reps: number[] = [], counts: number[] = [];
  const inverse = new Int32Array(n);
  for (const s of slices) {
    if (reps.length > 0 && equal(s, reps[reps.length - 1])) counts[counts.length - 1]++;
    else {
      reps.push(s);
      counts.push(1);
    }
    inverse[s] = reps.length - 1;
  }
  const outer = shape.slice(0, dim).reduce((a, b) => a * b, 1);
  const inner = strides[dim];
  const values = new (v.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(
    outer * reps.length * inner,
  );
  for (let o = 0; o < outer; o++) {
    for (let g = 0; g < reps.length; g++) {
      const from = (o * n + reps[g]) * inner;
      values.set(v.subarray(from, from + inner), (o * reps.length + g) * inner);
    }
  }
  const out = [...shape];
  out[dim] = reps.length;
  return { values, inverse, counts, shape: out };
}

/** The values, and the inverse and counts asked for, as op results on x's device. */
function results(
  x: Tensor,
  g: Groups,
  shape: readonly number[],
  inverseShape: readonly number[],
  o: { returnInverse?: boolean; returnCounts?: boolean },
  what: string,
  instead: string,
): Tensor | Tensor[] {
  const values = noDerivative(hostResult(g.values, shape, x.dtype, x.device), [x], what, instead);
  const out = [values];
  if (o.returnInverse) out.push(hostResult(g.inverse, inverseShape, "int32", x.device));
  if (o.returnCounts) out.push(hostResult(g.counts, [g.counts.length], "int32", x.device));
  return out.length === 1 ? values : out;
}

export { bincount, type BincountOptions } from "./bincount.ts";
