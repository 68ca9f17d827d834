/**
 * Triangles of matrices: `tril` and `triu` (torch's), over the last two
 * dimensions of a batch. A float32 tensor keeps its values through `where`
 * with a triangle mask, so the gradient is torch's (the upstream gradient's
 * same triangle) and NaN or inf outside the triangle never shows; int32
 * runs on a host copy, exactly.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";
import { where } from "./where.ts";
import { hostResult } from "./host_values.ts";

function triangle(kind: "tril" | "triu", x: Tensor, diagonal: number, given: number): Tensor {
  const usage = `${kind}(x, diagonal) (x.${kind}(1))`;
  if (given > 2) throw new Error(`${kind}: takes (x, diagonal), got ${given} arguments; ${usage}`);
  expectTensor(x, kind, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${kind}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  if (typeof diagonal !== "number" || !Number.isInteger(diagonal)) {
    throw new Error(
      `${kind}: diagonal must be an integer, got ${JSON.stringify(diagonal)}; write ${usage}`,
    );
  }
  if (x.ndim < 2) {
    // torch: "tril: input tensor must have at least 2 dimensions"
    throw new Error(`${kind}: x must have at least 2 dimensions, got [${x.shape}]`);
  }
  const rows = x.shape[x.ndim - 2], cols = x.shape[x.ndim - 1];
  const keep = kind === "tril"
    ? (i: number, j: number) => j - i <= diagonal
    : (i: number, j: number) => j - i >= diagonal;
  if (x.dtype === "int32") {
    const v = x.toArray();
    for (let k = 0; k < v.length; k++) {
      const j = k % cols, i = Math.floor(k / cols) % rows;
      if (!keep(i, j)) v[k] = 0;
    }
    return hostResult(v, x.shape, "int32", x.device);
  }
  const mask = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) mask[i * cols + j] = +keep(i, j);
  return where(hostResult(mask, [rows, cols], "float32", x.device), x, 0);
}

/**
 * The lower triangle of the last two dimensions, as `torch.tril(x,
 * diagonal)`: elements with column - row <= diagonal are kept, the rest are
 * 0 (diagonal 0 is the main diagonal, -1 below it). A causal attention mask
 * is `tril(ones([n, n]))`.
 *
 * @example
 * ```ts
 * import { ones, tril } from "@lits/vision";
 * console.log(tril(ones([3, 3])).toList()); // [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
 * ```
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle("tril", x, diagonal, arguments.length);
}

/**
 * The upper triangle of the last two dimensions, as `torch.triu(x,
 * diagonal)`: elements with column - row >= diagonal are kept, the rest
 * are 0. `triu(full([n, n], -Infinity), 1)` is the additive causal mask.
 *
 * @example
 * ```ts
 * import { ones, triu } from "@lits/vision";
 * console.log(triu(ones([2, 3]), 1).toList()); // [[0, 1, 1], [0, 0, 1]]
 * ```
 */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle("triu", x, diagonal, arguments.length);
}
