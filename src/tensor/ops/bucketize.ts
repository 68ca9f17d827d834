/**
 * `searchsorted` and `bucketize` (torch's): where values would be inserted
 * into a sorted sequence, i.e. which bin each value falls in (intensity
 * windows, confidence bins of a calibration curve). A binary search on a
 * host copy, with torch's comparisons, so NaN lands where torch puts it.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { hostResult } from "./host_values.ts";
import { checkOptions } from "../../options.ts";

/** Options of `searchsorted`, torch's keyword arguments. */
export interface SearchsortedOptions {
  /** The last index that keeps the order (torch's `right=True`): `seq[i-1] <= v < seq[i]`. */
  right?: boolean;
  /** "left" (default) or "right", torch's other spelling of `right`. */
  side?: "left" | "right";
  /** Accepted for torch's `out_int32`: the indices are int32 here either way. */
  outInt32?: boolean;
}

/** Options of `bucketize`, torch's keyword arguments. */
export interface BucketizeOptions {
  /** Bins closed on the left (torch's `right=True`): `b[i-1] <= v < b[i]`. */
  right?: boolean;
  /** Accepted for torch's `out_int32`: the indices are int32 here either way. */
  outInt32?: boolean;
}

function numeric(where: string, x: unknown, name: string, usage: string): asserts x is Tensor {
  expectTensor(x, `${where}: ${name}`, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: ${name} must be float32 or int32, got ${x.dtype}`);
  }
}

/** The first index in seq[lo, hi) whose value is >= v (> v when `right`), torch's loop. */
function search(seq: ArrayLike<number>, lo: number, hi: number, v: number, right: boolean): number {
  let start = lo, end = hi;
  while (start < end) {
    const mid = start + ((end - start) >> 1);
    const m = seq[mid];
    // Written as torch's: !(m >= v) and !(m > v), so NaN moves the search right.
    if (right ? !(m > v) : !(m >= v)) start = mid + 1;
    else end = mid;
  }
  return start - lo;
}

function searchAll(
  where: string,
  seq: Tensor,
  values: Tensor | number,
  right: boolean,
): Tensor {
  const vShape = typeof values === "number" ? [] : [...values.shape];
  if (seq.ndim === 0) {
    throw new Error(`${where}: the sorted sequence must have at least 1 dimension`);
  }
  const n = seq.shape[seq.ndim - 1];
  const lead = seq.shape.slice(0, -1);
  if (
    seq.ndim > 1 &&
    (vShape.length !== seq.ndim || lead.some((s, i) => s !== vShape[i]))
  ) {
    throw new Error(
      `${where}: the sorted sequence [${seq.shape}] and the values [${vShape}] must share all ` +
        "dimensions but the last (or the sequence be 1-D)",
    );
  }
  const s = seq.toArray();
  const v = typeof values === "number" ? [values] : values.toArray();
  const inner = vShape.length === 0 ? 1 : vShape[vShape.length - 1];
  const out = new Int32Array(v.length);
  for (let k = 0; k < v.length; k++) {
    const row = seq.ndim === 1 ? 0 : Math.floor(k / inner);
    out[k] = search(s, row * n, row * n + n, v[k], right);
  }
  return hostResult(out, vShape, "int32", seq.device);
}

/**
 * For each of `values`, the index where it would go in `sortedSequence`
 * (sorted along its last dimension) to keep it sorted, as
 * `torch.searchsorted`: the first index i with `seq[i] >= v`, or with
 * `seq[i] > v` under `{ right: true }` (torch's `right=True`, or `side:
 * "right"`). A 1-D sequence serves all values; otherwise the sequence and
 * the values share every dimension but the last. int32 indices (no
 * gradient, as torch's); NaN goes past the end.
 *
 * @example
 * ```ts
 * import { searchsorted, tensor } from "@lits/vision";
 * const seq = tensor([1, 3, 5, 7, 9]);
 * console.log(searchsorted(seq, tensor([3, 6, 9])).toList()); // [1, 3, 4]
 * console.log(searchsorted(seq, tensor([3, 6, 9]), { right: true }).toList()); // [2, 3, 5]
 * ```
 */
export function searchsorted(
  sortedSequence: Tensor,
  values: Tensor | number,
  options: SearchsortedOptions = {},
): Tensor {
  const usage = "searchsorted(seq, values, { right: true })";
  if (arguments.length > 3) {
    throw new Error(`searchsorted: takes (sortedSequence, values, options); write ${usage}`);
  }
  numeric("searchsorted", sortedSequence, "sortedSequence", usage);
  if (typeof values !== "number") numeric("searchsorted", values, "values", usage);
  const o = checkOptions<SearchsortedOptions>(
    "searchsorted",
    options,
    ["right", "side", "outInt32"],
    usage,
  );
  if (o.side !== undefined && o.side !== "left" && o.side !== "right") {
    throw new Error(`searchsorted: side must be "left" or "right", got ${JSON.stringify(o.side)}`);
  }
  if (o.right !== undefined && typeof o.right !== "boolean") {
    throw new Error(`searchsorted: right must be a boolean, got ${JSON.stringify(o.right)}`);
  }
  if (o.side === "left" && o.right === true) {
    throw new Error(
      'searchsorted: side "left" and right true contradict each other (torch refuses them too)',
    );
  }
  return searchAll("searchsorted", sortedSequence, values, o.right === true || o.side === "right");
}

/**
 * The bin of each element of `x` between 1-D sorted `boundaries`, as
 * `torch.bucketize`: i such that `b[i-1] < v <= b[i]`, or `b[i-1] <= v <
 * b[i]` under `{ right: true }`; below the first boundary 0, above the last
 * `boundaries.shape[0]`. int32, x's shape (no gradient, as torch's).
 *
 * @example
 * ```ts
 * import { bucketize, tensor } from "@lits/vision";
 * // Hounsfield units into air / fat / soft tissue / bone bins.
 * const hu = tensor([-1000, -100, 40, 700]);
 * console.log(bucketize(hu, tensor([-500, -50, 300])).toList()); // [0, 1, 2, 3]
 * ```
 */
export function bucketize(
  x: Tensor | number,
  boundaries: Tensor,
  options: BucketizeOptions = {},
): Tensor {
  const usage = "bucketize(x, boundaries, { right: true })";
  if (arguments.length > 3) {
    throw new Error(`bucketize: takes (x, boundaries, options); write ${usage}`);
  }
  if (typeof x !== "number") numeric("bucketize", x, "x", usage);
  numeric("bucketize", boundaries, "boundaries", usage);
  if (boundaries.ndim !== 1) {
    throw new Error(
      `bucketize: boundaries must be 1-D, got [${boundaries.shape}]; for a sequence per row ` +
        "write searchsorted(seq, x)",
    );
  }
  const o = checkOptions<BucketizeOptions>("bucketize", options, ["right", "outInt32"], usage);
  if (o.right !== undefined && typeof o.right !== "boolean") {
    throw new Error(`bucketize: right must be a boolean, got ${JSON.stringify(o.right)}`);
  }
  return searchAll("bucketize", boundaries, x, o.right === true);
}
