/**
 * Counting values: `unique` (torch.unique: how a user counts classes,
 * `labels.unique(return_counts=True)`) and `bincount` (torch.bincount).
 * Their sizes depend on the values, so they run on a host copy, as torch's
 * CUDA versions synchronise to size their results. Neither has a gradient
 * in torch: a backward through them throws, as torch's.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";
import { sameDevice } from "./elementwise.ts";
import { hostResult, noDerivative, requireInt } from "./host_values.ts";

/** Options of `unique`, as torch.unique's keywords. */
export interface UniqueOptions {
  /** Sorted ascending (default true; unsorted is sorted here too: torch leaves that order unspecified). */
  sorted?: boolean;
  /** Also return, for each element, its value's index in the result (default false). */
  returnInverse?: boolean;
  /** Also return how many times each value occurs (default false). */
  returnCounts?: boolean;
}

/**
 * The distinct values of `x`, ascending (flattened), as `torch.unique`:
 * float32 or int32 as x. With `returnInverse` and/or `returnCounts` an
 * array in torch's tuple order, `[values, inverse?, counts?]`: inverse
 * (int32, x's shape) gives each element's index in values, counts (int32)
 * how often each occurs. -0 and 0 are one value; each NaN is its own
 * (NaN != NaN), after the numbers. No gradient (torch has none).
 *
 * @example
 * ```ts
 * import { tensor, unique } from "@lits/vision";
 * const labels = tensor(new Int32Array([2, 0, 2, 1, 2]), [5]);
 * const [classes, counts] = unique(labels, { returnCounts: true });
 * console.log(classes.toList(), counts.toList()); // [0, 1, 2] [1, 1, 3]
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
  const usage = "unique(x, { returnCounts: true }) (x.unique({ returnInverse: true }))";
  if (arguments.length > 2) {
    throw new Error(`unique: takes (x, options), got ${arguments.length} arguments; ${usage}`);
  }
  expectTensor(x, "unique", usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`unique: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  if (options !== null && typeof options === "object" && "dim" in options) {
    throw new Error(
      "unique: dim is not supported (torch's unique over rows); unique of the flattened " +
        "values is unique(x)",
    );
  }
  const o = checkOptions<UniqueOptions>(
    "unique",
    options,
    ["sorted", "returnInverse", "returnCounts"],
    usage,
  );
  for (const key of ["sorted", "returnInverse", "returnCounts"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new Error(`unique: ${key} must be a boolean, got ${JSON.stringify(o[key])}`);
    }
  }
  const v = x.toArray();
  // Typed arrays sort numerically, -0 before 0 and NaN last.
  const sortedValues = v.slice().sort();
  const distinct: number[] = [], counts: number[] = [];
  for (let k = 0; k < sortedValues.length; k++) {
    const s = sortedValues[k];
    if (k > 0 && s === sortedValues[k - 1]) counts[counts.length - 1]++;
    else {
      distinct.push(s);
      counts.push(1);
    }
  }
  const values = noDerivative(
    hostResult(distinct, [distinct.length], x.dtype, x.device),
    [x],
    "_unique2",
    "take unique(x.detach())",
  );
  const out = [values];
  if (o.returnInverse) {
    const inverse = new Int32Array(v.length);
    const firstNaN = distinct.findIndex((d) => Number.isNaN(d));
    let nextNaN = firstNaN;
    for (let k = 0; k < v.length; k++) {
      if (Number.isNaN(v[k])) {
        inverse[k] = nextNaN++;
        continue;
      }
      let lo = 0, hi = firstNaN < 0 ? distinct.length : firstNaN;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (distinct[mid] <= v[k]) lo = mid;
        else hi = mid;
      }
      inverse[k] = lo;
    }
    out.push(hostResult(inverse, x.shape, "int32", x.device));
  }
  if (o.returnCounts) out.push(hostResult(counts, [counts.length], "int32", x.device));
  return out.length === 1 ? values : out;
}

/** Options of `bincount`, as torch.bincount's. */
export interface BincountOptions {
  /** A weight per element of x, summed instead of counting 1 (float32 or int32, x's length). */
  weights?: Tensor;
  /** The least length of the result (default 0). */
  minlength?: number;
}

/**
 * How many times each value 0, 1, ..., max(x) occurs in the 1-D int32
 * tensor `x` of non-negative values, as `torch.bincount`: int32 counts
 * (torch's int64), or with `weights` the sums of the weights (float32,
 * summed in float32 in x's order as torch's CPU kernel). The result has
 * max(x) + 1 elements, at least `minlength`. No gradient for the weights
 * (torch has none).
 *
 * @example
 * ```ts
 * import { bincount, tensor } from "@lits/vision";
 * const labels = tensor(new Int32Array([0, 2, 2, 1, 2]), [5]);
 * console.log(bincount(labels).toList(), bincount(labels, { minlength: 4 }).toList()); // [1, 1, 3] [1, 1, 3, 0]
 * ```
 */
export function bincount(x: Tensor, options: BincountOptions = {}): Tensor {
  const usage = "bincount(labels, { weights, minlength: 3 })";
  if (arguments.length > 2) {
    throw new Error(`bincount: takes (x, options), got ${arguments.length} arguments; ${usage}`);
  }
  requireInt(x, "bincount", usage);
  const o = checkOptions<BincountOptions>("bincount", options, ["weights", "minlength"], usage);
  const minlength = o.minlength ?? 0;
  if (typeof minlength !== "number" || !Number.isInteger(minlength) || minlength < 0) {
    // torch: "minlength should be >= 0"
    throw new Error(
      `bincount: minlength must be an integer >= 0, got ${JSON.stringify(minlength)}`,
    );
  }
  const v = x.toArray();
  if (x.ndim !== 1 || v.some((i) => i < 0)) {
    // torch: "bincount only supports 1-d non-negative integral inputs."
    throw new Error(
      `bincount: x must be 1-D with values >= 0, got [${x.shape}]` +
        (x.ndim === 1 ? ` holding ${v.find((i) => i < 0)}` : "; flatten it with x.flatten()"),
    );
  }
  const w = o.weights;
  let size = minlength;
  for (const i of v) size = Math.max(size, i + 1);
  if (w === undefined) {
    const counts = new Int32Array(size);
    for (const i of v) counts[i]++;
    return hostResult(counts, [size], "int32", x.device);
  }
  expectTensor(w, "bincount: weights", usage);
  if (w.dtype !== "float32" && w.dtype !== "int32") {
    throw new Error(`bincount: weights must be float32 or int32, got ${w.dtype}`);
  }
  sameDevice(x, w, "bincount");
  if (w.ndim !== 1 || w.shape[0] !== v.length) {
    // torch: "weights should be 1-d and have the same length as input"
    throw new Error(
      `bincount: weights must be 1-D with x's length ${v.length}, got [${w.shape}]`,
    );
  }
  const wv = w.toArray();
  const sums = new Float32Array(size);
  for (let k = 0; k < v.length; k++) sums[v[k]] += wv[k];
  return noDerivative(
    hostResult(sums, [size], "float32", x.device),
    [w],
    "bincount",
    "detach the weights (w.detach()) where no gradient is needed",
  );
}
