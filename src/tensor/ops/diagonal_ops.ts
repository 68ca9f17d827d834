/**
 * The diagonal as a whole: `trace` (torch.trace, the sum of a matrix's
 * main diagonal) and `fillDiagonal_` (torch's `x.fill_diagonal_(value,
 * wrap=False)`, masking a similarity or distance matrix's diagonal in
 * place).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { isGradEnabled } from "../autograd.ts";
import { expectTensor } from "./compare.ts";
import { requireFloat } from "./elementwise.ts";
import { hostResult } from "./host_values.ts";
import { diagonal } from "./linalg_small.ts";
import { sum } from "./reduce.ts";
import { inPlace } from "./in_place_ops.ts";

/**
 * The sum of the main diagonal of a 2-D `x`, as `torch.trace`: a 0-d
 * tensor; non-square matrices sum their min(rows, cols) diagonal elements.
 * The gradient is the upstream gradient on the diagonal, zero elsewhere.
 * An int32 x gives an exact int32 sum (torch's int64), no gradient.
 *
 * @example
 * ```ts
 * import { tensor, trace } from "@lits/vision";
 * console.log(trace(tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).item()); // 15
 * ```
 */
export function trace(x: Tensor): Tensor {
  const usage = "trace(x) (or x.trace()) of a 2-D tensor";
  if (arguments.length !== 1) {
    throw new Error(`trace: takes (x), got ${arguments.length} arguments; write ${usage}`);
  }
  expectTensor(x, "trace", usage);
  if (x.ndim !== 2) {
    // torch: "trace: expected a matrix, but got tensor with dim 3".
    throw new Error(
      `trace: expected a matrix (2-D), got [${x.shape}]; for the diagonals of a batch write ` +
        "diagonal(x, 0, -2, -1).sum(-1)",
    );
  }
  if (x.dtype === "int32") {
    const v = x.toArray(), [n, m] = x.shape;
    let acc = 0;
    for (let i = 0; i < Math.min(n, m); i++) acc += v[i * m + i];
    if (acc < -(2 ** 31) || acc >= 2 ** 31) {
      throw new Error(
        `trace: the sum ${acc} is beyond int32, this library's integer type (torch's int64 ` +
          "holds it); convert to float32 first (x.float())",
      );
    }
    return hostResult([acc], [], "int32", x.device);
  }
  requireFloat(x, "trace");
  return sum(diagonal(x));
}

/**
 * The flat positions (row-major, in a dense tensor of `shape`) that torch's
 * fill_diagonal_ writes: i * (sum of the dense strides) for i below the
 * smallest dimension, and with `wrap` on a tall matrix the diagonal started
 * again every cols + 1 rows.
 */
function diagonalPositions(shape: readonly number[], wrap: boolean): number[] {
  let step = 0, stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    step += stride;
    stride *= shape[d];
  }
  const total = stride;
  const [rows, cols] = shape;
  const count = wrap && shape.length === 2 && rows > cols + 1
    ? Math.ceil(total / (cols + 1))
    : Math.min(...shape);
  return Array.from({ length: count }, (_, i) => i * step);
}

/**
 * `x.fill_diagonal_(value, wrap)`: writes `value` on x's main diagonal, in
 * place, as torch's. x has at least 2 dimensions, all of one size beyond 2
 * (`[n, n, n]`: the elements `[i, i, i]`). With `wrap` a tall matrix
 * (more than cols + 1 rows) starts the diagonal again after each cols + 1
 * rows, as torch's. Outside autograd, as the library's other in-place
 * methods (see `Tensor.fill_`).
 * @internal (the method `x.fillDiagonal_` is the public face)
 */
export function fillDiagonal_(x: Tensor, value: number, wrap: unknown): Tensor {
  const usage = "x.fillDiagonal_(value, { wrap: true })";
  expectTensor(x, "fillDiagonal_", usage);
  let w = wrap;
  if (w !== null && typeof w === "object") {
    const { wrap: inner, ...rest } = w as { wrap?: unknown };
    const extra = Object.keys(rest);
    if (extra.length > 0) {
      throw new Error(`x.fillDiagonal_: unknown option ${extra.join(", ")}; write ${usage}`);
    }
    w = inner ?? false;
  }
  if (w === undefined) w = false;
  if (typeof w !== "boolean") {
    throw new Error(
      `x.fillDiagonal_: wrap must be a boolean (or { wrap }), got ${String(w)}; write ${usage}`,
    );
  }
  if (typeof value !== "number") {
    throw new Error(`x.fillDiagonal_: the value must be a number, got ${typeof value}`);
  }
  if (x.ndim < 2) {
    throw new Error(`x.fillDiagonal_: x must have at least 2 dimensions, got [${x.shape}]`);
  }
  if (x.ndim > 2 && x.shape.some((s) => s !== x.shape[0])) {
    // torch: "all dimensions of input must be of equal length".
    throw new Error(
      `x.fillDiagonal_: beyond 2 dimensions all must be of one size, got [${x.shape}]`,
    );
  }
  if (x.dtype === "int32" && !Number.isInteger(value)) {
    throw new Error(
      `x.fillDiagonal_: value ${value} is not an integer and x is int32 (torch would truncate ` +
        "it); write an integer, or convert x with x.float()",
    );
  }
  if (isGradEnabled() && x.requiresGrad) {
    const [n, m] = x.shape;
    throw new Error(
      "x.fillDiagonal_: an in-place write to a tensor in the autograd graph; run it inside " +
        "noGrad(() => ...), as PyTorch's torch.no_grad(), or, for a result gradients flow " +
        `through, write x = x.maskedFill(eye(${n}, ${m}), value) (a 2-D x without wrap)`,
    );
  }
  return inPlace(x, "fillDiagonal_", [], () => {
    const values = x.toArray(); // a fresh host copy
    for (const at of diagonalPositions(x.shape, w as boolean)) values[at] = value;
    return hostResult(values, x.shape, x.dtype, x.device);
  });
}
