/**
 * Statistics that torch returns in pairs: `stdMean` and `varMean`
 * (torch.std_mean / var_mean: a `[std, mean]` tuple) and `cummax` /
 * `cummin` (torch's running extremes with their indices, as
 * `ValuesIndices`). The running extremes are found on a host copy (exact,
 * torch's rules: ties take the later index, NaN propagates), then the
 * values are taken at those indices, so their gradient goes back there.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { std, variance } from "./stats.ts";
import { mean } from "./reduce.ts";
import { expectTensor } from "./compare.ts";
import { contiguous } from "./shape.ts";
import { takeAlong } from "./gather.ts";
import { ValuesIndices } from "./sort.ts";
import { dimOf, hostResult } from "./host_values.ts";

/**
 * The standard deviation and the mean over `dims` (all when omitted), as
 * `torch.std_mean(x, dim, unbiased, keepdim)`: a `[std, mean]` pair, so
 * `const [s, m] = stdMean(x, 1)`. The arguments are `std`'s.
 *
 * @example
 * ```ts
 * import { stdMean, tensor } from "@lits/vision";
 * const [s, m] = stdMean(tensor([1, 3]));
 * console.log(s.item().toFixed(4), m.item()); // "1.4142" 2
 * ```
 */
export function stdMean(
  x: Tensor,
  dims?: number | number[],
  unbiased = true,
  keepDim = false,
): [Tensor, Tensor] {
  expectTensor(x, "stdMean", "stdMean(x, 1, true, false) (dims, unbiased, keepDim)");
  if (arguments.length > 4) {
    throw new Error(`stdMean: takes (x, dims, unbiased, keepDim), got ${arguments.length}`);
  }
  return [std(x, dims, unbiased, keepDim), mean(x, dims, keepDim)];
}

/**
 * The variance and the mean over `dims`, as `torch.var_mean(x, dim,
 * unbiased, keepdim)`: a `[var, mean]` pair. The arguments are `var`'s.
 *
 * @example
 * ```ts
 * import { tensor, varMean } from "@lits/vision";
 * const [v, m] = varMean(tensor([[1, 3], [2, 2]]), 1, false);
 * console.log(v.toList(), m.toList()); // [1, 0] [2, 2]
 * ```
 */
export function varMean(
  x: Tensor,
  dims?: number | number[],
  unbiased = true,
  keepDim = false,
): [Tensor, Tensor] {
  expectTensor(x, "varMean", "varMean(x, 1, true, false) (dims, unbiased, keepDim)");
  if (arguments.length > 4) {
    throw new Error(`varMean: takes (x, dims, unbiased, keepDim), got ${arguments.length}`);
  }
  return [variance(x, dims, unbiased, keepDim), mean(x, dims, keepDim)];
}

function running(name: "cummax" | "cummin", x: Tensor, dim: number, n: number): ValuesIndices {
  const usage = `${name}(x, 1) (or x.${name}(1))`;
  expectTensor(x, name, usage);
  if (n !== 2) throw new Error(`${name}: takes (x, dim), got ${n} arguments; write ${usage}`);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${name}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  const d = dimOf(x, dim, name);
  const flat = x.ndim === 0 ? x.reshape([1]) : x;
  const outer = numel(flat.shape.slice(0, d)), r = flat.shape[d];
  const inner = numel(flat.shape.slice(d + 1));
  const v = contiguous(flat).toArray();
  const idx = new Int32Array(v.length);
  const better = name === "cummax"
    ? (a: number, b: number) => a >= b
    : (a: number, b: number) => a <= b;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = NaN, at = 0;
      for (let j = 0; j < r; j++) {
        const t = (o * r + j) * inner + i, e = v[t];
        // torch: a NaN takes over (and each later NaN), else ties go to the later index.
        if (j === 0 || Number.isNaN(e) || (!Number.isNaN(best) && better(e, best))) {
          best = e;
          at = j;
        }
        idx[t] = at;
      }
    }
  }
  const indices = hostResult(idx, flat.shape, "int32", x.device);
  let values: Tensor;
  if (x.dtype === "int32") {
    const out = new Int32Array(v.length);
    for (let t = 0; t < v.length; t++) {
      const i = t % inner, o = Math.floor(t / (r * inner));
      out[t] = v[(o * r + idx[t]) * inner + i];
    }
    values = hostResult(out, flat.shape, "int32", x.device);
  } else {
    values = takeAlong(flat, d, indices, "dense", false, name);
  }
  if (x.ndim === 0) return new ValuesIndices(values.reshape([]), indices.reshape([]));
  return new ValuesIndices(values, indices);
}

/**
 * The running maximum along `dim` and where it was, as `torch.cummax`:
 * `{ values, indices }` (also `[values, indices]`). Ties take the later
 * index and a NaN carries on, as torch's; the gradient goes to the index.
 *
 * @example
 * ```ts
 * import { cummax, tensor } from "@lits/vision";
 * const { values, indices } = cummax(tensor([1, 3, 2, 3]), 0);
 * console.log(values.toList(), indices.toList()); // [1, 3, 3, 3] [0, 1, 1, 3]
 * ```
 */
export function cummax(x: Tensor, dim: number): ValuesIndices {
  return running("cummax", x, dim, arguments.length);
}

/**
 * The running minimum along `dim` and where it was, as `torch.cummin`.
 *
 * @example
 * ```ts
 * import { cummin, tensor } from "@lits/vision";
 * console.log(cummin(tensor([3, 1, 2]), 0).values.toList()); // [3, 1, 1]
 * ```
 */
export function cummin(x: Tensor, dim: number): ValuesIndices {
  return running("cummin", x, dim, arguments.length);
}
