/**
 * `split` and `chunk` (torch.split, torch.chunk): a tensor cut along one
 * dimension into views. Each piece is a `narrow` of the source, so the
 * pieces share its memory and their gradients flow back into it.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { narrow, normDim } from "./shape.ts";
import { expectTensor } from "./compare.ts";

function sourceDim(t: Tensor, dim: unknown, what: string, usage: string): number {
  expectTensor(t, what, usage);
  if (t.ndim === 0) throw new Error(`${what}: expects at least a 1-dimensional tensor`);
  if (typeof dim !== "number") {
    throw new Error(`${what}: dim must be a number, got ${JSON.stringify(dim)}; write ${usage}`);
  }
  return normDim(dim, t.ndim, what);
}

/** The views of `t` along `d` with the given sizes (they sum to its size there). */
function pieces(t: Tensor, d: number, sizes: number[]): Tensor[] {
  let start = 0;
  return sizes.map((len) => {
    const piece = narrow(t, d, start, len);
    start += len;
    return piece;
  });
}

/**
 * `t` cut along `dim` (default 0) into views, as `torch.split`: a number
 * gives pieces of that size, the last one smaller when the size does not
 * divide evenly; an array gives pieces of those sizes, which must sum to
 * the dimension's size. Gradients of the pieces flow back into `t`.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([1, 2, 3, 4, 5]);
 * console.log(F.split(x, 2).map((p) => p.shape[0])); // [ 2, 2, 1 ]
 * console.log(F.split(x, [1, 4])[1].toArray()); // Float32Array [2, 3, 4, 5]
 * ```
 */
export function split(t: Tensor, splitSizeOrSections: number | number[], dim = 0): Tensor[] {
  const usage = "x.split(2, 1) or x.split([1, 3], 1)";
  if (arguments.length > 3) {
    throw new Error(`split: takes (x, splitSize, dim), got ${arguments.length} arguments`);
  }
  const d = sourceDim(t, dim, "split", usage);
  const n = t.shape[d];
  const arg = splitSizeOrSections;
  if (Array.isArray(arg)) {
    if (arg.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new Error(
        `split: sizes must be non-negative integers, got [${arg}]; write ${usage}`,
      );
    }
    const total = arg.reduce((a, b) => a + b, 0);
    if (total !== n) {
      throw new Error(
        `split: sizes [${arg}] sum to ${total}, not to ${n}, the size of dimension ${d} of ` +
          `[${t.shape}]`,
      );
    }
    return pieces(t, d, arg);
  }
  if (!Number.isInteger(arg) || arg < 0) {
    throw new Error(
      `split: splitSize must be a non-negative integer or an array of sizes, got ` +
        `${JSON.stringify(arg)}; write ${usage}`,
    );
  }
  if (arg === 0 && n !== 0) {
    throw new Error(`split: splitSize can only be 0 if dimension ${d} has size 0, got ${n}`);
  }
  // torch: max(ceil(n / size), 1) pieces; an empty dimension gives one empty piece.
  const count = arg === 0 ? 1 : Math.max(Math.ceil(n / arg), 1);
  const sizes = Array.from({ length: count }, (_, i) => Math.max(0, Math.min(arg, n - i * arg)));
  return pieces(t, d, sizes);
}

/**
 * `t` cut along `dim` (default 0) into at most `chunks` views, as
 * `torch.chunk`: each of size ceil(n / chunks), the last smaller, so fewer
 * pieces can come back (5 elements in 4 chunks give sizes 2, 2, 1). An
 * empty dimension gives `chunks` empty pieces. Gradients flow back into `t`.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * const [a, b] = F.chunk(x, 2, 1);
 * console.log(a.toArray(), b.toArray()); // Float32Array [1, 2, 4, 5] Float32Array [3, 6]
 * ```
 */
export function chunk(t: Tensor, chunks: number, dim = 0): Tensor[] {
  const usage = "x.chunk(2, 1)";
  if (arguments.length > 3) {
    throw new Error(`chunk: takes (x, chunks, dim), got ${arguments.length} arguments`);
  }
  const d = sourceDim(t, dim, "chunk", usage);
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new Error(
      `chunk: chunks must be an integer greater than 0, got ${JSON.stringify(chunks)}; ` +
        `write ${usage}`,
    );
  }
  const n = t.shape[d];
  if (n === 0) return pieces(t, d, new Array<number>(chunks).fill(0));
  return split(t, Math.ceil(n / chunks), d);
}
