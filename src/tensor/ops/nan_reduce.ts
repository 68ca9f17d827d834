/**
 * Reductions that skip NaN, and the pair of extremes: `nansum`, `nanmean`
 * (torch's, over dims with keepDim; NaN count as absent, their gradient 0)
 * and `aminmax` (torch.aminmax: `{ min, max }`, also read as [0] and [1]).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { div, mul, requireFloat, rsub } from "./elementwise.ts";
import { amax, amin, sum } from "./reduce.ts";
import { expectTensor } from "./compare.ts";
import { isnan } from "./nonfinite.ts";
import { where } from "./where.ts";
import { checkOptions } from "../../options.ts";

type Dims = number | number[] | undefined;

function checkDims(where: string, dims: unknown, keepDim: unknown, usage: string): void {
  const ok = (d: unknown) => typeof d === "number" && Number.isInteger(d);
  if (dims !== undefined && !ok(dims) && !(Array.isArray(dims) && dims.every(ok))) {
    throw new Error(
      `${where}: dims must be an integer or an array of integers (undefined: all), got ` +
        `${JSON.stringify(dims) ?? String(dims)}; write ${usage}`,
    );
  }
  if (typeof keepDim !== "boolean") {
    throw new Error(
      `${where}: keepDim must be true or false, got ${String(keepDim)}; write ${usage}`,
    );
  }
}

/**
 * The sum over `dims` (all when omitted) with NaN counted as 0, as
 * `torch.nansum`; the gradient is 0 at the NaN. int32 sums as `sum`.
 *
 * @example
 * ```ts
 * import { nansum, tensor } from "@lits/vision";
 * console.log(nansum(tensor([1, NaN, 2])).item()); // 3
 * ```
 */
export function nansum(x: Tensor, dims?: number | number[], keepDim = false): Tensor {
  const usage = "nansum(x, 1, true) (dims, keepDim)";
  expectTensor(x, "nansum", usage);
  if (arguments.length > 3) {
    throw new Error(`nansum: takes (x, dims, keepDim), got ${arguments.length}`);
  }
  checkDims("nansum", dims, keepDim, usage);
  if (x.dtype === "int32") return sum(x, dims, keepDim);
  requireFloat(x, "nansum");
  return sum(nanZeroed(x, noGrad(() => isnan(x))), dims, keepDim);
}

/**
 * x with its NaN as 0; the gradient is g times the not-NaN mask, as torch's
 * nansum (so an infinite g, nanmean's 1 / 0 over an all-NaN row, gives NaN
 * there, as torch's).
 */
function nanZeroed(x: Tensor, nan: Tensor): Tensor {
  const out = noGrad(() => where(nan, 0, x));
  return record(out, {
    name: "nansum",
    inputs: [x],
    saved: [nan],
    backward: (g) => [mul(g, rsub(1, nan))],
  });
}

/**
 * The mean over `dims` of the values that are not NaN, as
 * `torch.nanmean` (NaN where all are NaN, 0 / 0); float32 only.
 *
 * @example
 * ```ts
 * import { nanmean, tensor } from "@lits/vision";
 * console.log(nanmean(tensor([[1, NaN], [2, 4]]), 1).toList()); // [1, 3]
 * ```
 */
export function nanmean(x: Tensor, dims?: number | number[], keepDim = false): Tensor {
  const usage = "nanmean(x, 1, true) (dims, keepDim)";
  expectTensor(x, "nanmean", usage);
  if (arguments.length > 3) {
    throw new Error(`nanmean: takes (x, dims, keepDim), got ${arguments.length}`);
  }
  checkDims("nanmean", dims, keepDim, usage);
  if (x.dtype !== "float32") {
    throw new Error(
      `nanmean: expected input to have floating point dtype but got ${x.dtype}; convert with x.float()`,
    );
  }
  const nan = noGrad(() => isnan(x));
  const count = noGrad(() => sum(rsub(1, nan), dims as Dims, keepDim));
  return div(sum(nanZeroed(x, nan), dims, keepDim), count);
}

/**
 * What `aminmax` returns, as torch's named tuple: `.min` and `.max`, or
 * destructured as `const [min, max] = aminmax(x)`.
 */
export class MinMax {
  /** The minimum. */
  readonly min: Tensor;
  /** The maximum. */
  readonly max: Tensor;

  /** Pairs `min` with `max`. */
  constructor(min: Tensor, max: Tensor) {
    this.min = min;
    this.max = max;
  }
  /** `min`, as torch's tuple index. */
  get 0(): Tensor {
    return this.min;
  }
  /** `max`. */
  get 1(): Tensor {
    return this.max;
  }
  /** 2, as the tuple's. */
  get length(): 2 {
    return 2;
  }
  /** `[min, max]`, for destructuring. */
  *[Symbol.iterator](): Iterator<Tensor> {
    yield this.min;
    yield this.max;
  }
}

/**
 * The minimum and maximum over all elements or over one `dim`, as
 * `torch.aminmax(x, *, dim, keepdim)`: `{ min, max }` (also `[min, max]`).
 * As `amin` / `amax`: NaN propagates, ties share the gradient. An empty
 * x (or dim) is an Error, as torch's.
 *
 * @example
 * ```ts
 * import { aminmax, tensor } from "@lits/vision";
 * const [lo, hi] = aminmax(tensor([[1, 5], [-2, 3]]), { dim: 1 });
 * console.log(lo.toList(), hi.toList()); // [1, -2] [5, 3]
 * ```
 */
export function aminmax(x: Tensor, options?: { dim?: number; keepDim?: boolean }): MinMax {
  const usage = "aminmax(x, { dim: 1, keepDim: true })";
  expectTensor(x, "aminmax", usage);
  if (arguments.length > 2) throw new Error(`aminmax: takes (x, options), got ${arguments.length}`);
  const { dim, keepDim = false } = checkOptions<{ dim?: number; keepDim?: boolean }>(
    "aminmax",
    options,
    ["dim", "keepDim"],
    usage,
  );
  if (dim !== undefined && (typeof dim !== "number" || !Number.isInteger(dim))) {
    throw new Error(`aminmax: dim must be an integer, got ${JSON.stringify(dim)}; write ${usage}`);
  }
  checkDims("aminmax", dim, keepDim, usage);
  if (x.numel() === 0 || (dim !== undefined && x.ndim > 0 && x.size(dim) === 0)) {
    throw new Error(`aminmax: cannot compute aminmax over an empty dimension of [${x.shape}]`);
  }
  if (x.ndim === 0) {
    if (dim !== undefined && dim !== 0 && dim !== -1) {
      throw new Error(`aminmax: dim ${dim} is out of range for a 0-d tensor (0 or -1)`);
    }
    return new MinMax(amin(x), amax(x));
  }
  return new MinMax(amin(x, dim, keepDim), amax(x, dim, keepDim));
}
