/**
 * `logsumexp` (torch.logsumexp) and the tests `all` / `any` over dimensions.
 *
 * logsumexp subtracts each slice's maximum before the exponentials, so large
 * logits do not overflow; a slice of -inf gives -inf and one holding +inf
 * gives +inf, as torch's (the maximum is taken as 0 there, where x - max
 * would be NaN). Its gradient is torch's g exp(x - result), the softmax of
 * the slice.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { add, exp, log, mul, requireFloat, sub } from "./elementwise.ts";
import { eq, expectTensor, gt, ne } from "./compare.ts";
import { amax, sum } from "./reduce.ts";
import { isinf } from "./nonfinite.ts";
import { where } from "./where.ts";
import { expand, squeeze } from "./shape.ts";

/**
 * log(sum(exp(x))) over `dim` (a dimension or a list; all when left out),
 * computed stably, as `torch.logsumexp(x, dim, keepdim)`.
 *
 * @example
 * ```ts
 * import { logsumexp, tensor } from "@lits/vision";
 * console.log(logsumexp(tensor([[1000, 1000]]), 1).toArray()); // Float32Array [1000.6931762695312]
 * ```
 */
export function logsumexp(x: Tensor, dim?: number | number[], keepDim = false): Tensor {
  if (arguments.length > 3) {
    throw new Error(`logsumexp: takes (x, dim, keepDim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "logsumexp", "logsumexp(x, 1)");
  requireFloat(x, "logsumexp");
  if (typeof keepDim !== "boolean") {
    throw new Error(`logsumexp: keepDim must be a boolean, got ${JSON.stringify(keepDim)}`);
  }
  const kept = noGrad(() => {
    // An empty slice sums nothing: log 0 = -inf, as torch's (amax refuses it).
    if (x.numel() === 0) return log(sum(exp(x), dim, true));
    const top = amax(x, dim, true);
    const m = where(isinf(top), 0, top);
    return add(log(sum(exp(sub(x, m)), dim, true)), m);
  });
  // torch's backward, g exp(x - result): with the float32 result, so the
  // gradient is torch's to the last bit of that rounding.
  const inShape = [...x.shape];
  const out = record(kept, {
    name: "logsumexp",
    inputs: [x],
    saved: [x, kept],
    backward: (g) => [mul(expand(g, inShape), exp(sub(x, kept)))],
  });
  if (keepDim) return out;
  const dims = dim === undefined ? x.shape.map((_, i) => i) : Array.isArray(dim) ? dim : [dim];
  const sorted = dims.map((d) => (d < 0 ? d + x.ndim : d)).sort((a, b) => b - a);
  return sorted.reduce((t, d) => squeeze(t, d), out);
}

function test(name: "all" | "any", x: Tensor, dim: number | undefined, keepDim: boolean): Tensor {
  expectTensor(x, name, `${name}(x, 1)`);
  if (typeof keepDim !== "boolean") {
    throw new Error(`${name}: keepDim must be a boolean, got ${JSON.stringify(keepDim)}`);
  }
  // Counts, so that an empty slice gives torch's answers (all: 1, any: 0).
  return noGrad(() => {
    const v = x.dtype === "float32" ? x : x.float();
    return name === "all" ? eq(sum(eq(v, 0), dim, keepDim), 0) : gt(sum(ne(v, 0), dim, keepDim), 0);
  });
}

/**
 * 1 where every element over `dim` (all when left out) is nonzero, else 0,
 * as `torch.all` (a float32 0/1 tensor: this library's masks; NaN counts as
 * nonzero, as torch's). An empty slice gives 1.
 *
 * @example
 * ```ts
 * import { all, tensor } from "@lits/vision";
 * console.log(all(tensor([[1, 2], [0, 3]]), 1).toArray()); // Float32Array [1, 0]
 * ```
 */
export function all(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (arguments.length > 3) {
    throw new Error(`all: takes (x, dim, keepDim), got ${arguments.length}`);
  }
  return test("all", x, dim, keepDim);
}

/**
 * 1 where some element over `dim` (all when left out) is nonzero, else 0,
 * as `torch.any` (a float32 0/1 tensor). An empty slice gives 0.
 *
 * @example
 * ```ts
 * import { any, tensor } from "@lits/vision";
 * console.log(any(tensor([[0, 0], [0, 3]]), 1).toArray()); // Float32Array [0, 1]
 * ```
 */
export function any(x: Tensor, dim?: number, keepDim = false): Tensor {
  if (arguments.length > 3) {
    throw new Error(`any: takes (x, dim, keepDim), got ${arguments.length}`);
  }
  return test("any", x, dim, keepDim);
}
