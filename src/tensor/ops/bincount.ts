/**
 * `bincount` (torch.bincount): how often each non-negative integer occurs,
 * or the sum of its weights. Its size depends on the values, so it runs on
 * a host copy; it has no gradient in torch, and a backward through it
 * throws, as torch's.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";
import { sameDevice } from "./elementwise.ts";
import { hostResult, noDerivative, requireInt } from "./host_values.ts";

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
