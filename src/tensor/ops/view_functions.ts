/**
 * torch's function forms of the view-making methods: `torch.split(x, 2)`,
 * `torch.chunk(x, 3, 1)`, `torch.narrow(x, 0, 1, 2)` and `torch.unbind(x)`
 * port as `split(x, 2)`, `chunk(x, 3, 1)`, `narrow(x, 0, 1, 2)` and
 * `unbind(x)`. Each is the method itself (`x.split(2)`), so the pieces are
 * views of x, their gradients flow back into it, and they are owned as the
 * method's pieces are.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { expectTensor } from "./compare.ts";

function tooMany(what: string, got: number, most: number, usage: string): void {
  if (got > most) {
    throw new Error(`${what}: takes at most ${most} arguments, got ${got}; write ${usage}`);
  }
}

/**
 * `x` cut along `dim` (default 0) into views, as `torch.split`: a number
 * gives pieces of that size (the last one smaller), an array pieces of
 * those sizes.
 *
 * @example
 * ```ts
 * import { split, tensor } from "@lits/vision";
 * const [a, b] = split(tensor([1, 2, 3, 4, 5]), [2, 3]);
 * console.log(a.toList(), b.toList()); // [1, 2] [3, 4, 5]
 * ```
 */
export function split(x: Tensor, splitSizeOrSections: number | number[], dim = 0): Tensor[] {
  const usage = "split(x, 2, dim) or split(x, [1, 3], dim)";
  tooMany("split", arguments.length, 3, usage);
  expectTensor(x, "split", usage);
  return x.split(splitSizeOrSections, dim);
}

/**
 * At most `chunks` views of `x` along `dim` (default 0), each of size
 * ceil(n / chunks), the last smaller, as `torch.chunk`.
 *
 * @example
 * ```ts
 * import { chunk, tensor } from "@lits/vision";
 * console.log(chunk(tensor([1, 2, 3, 4, 5]), 2).map((p) => p.toList())); // [ [ 1, 2, 3 ], [ 4, 5 ] ]
 * ```
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const usage = "chunk(x, chunks, dim)";
  tooMany("chunk", arguments.length, 3, usage);
  expectTensor(x, "chunk", usage);
  return x.chunk(chunks, dim);
}

/**
 * `length` elements of `x` from `start` along `dim` (a view), as
 * `torch.narrow(x, dim, start, length)`; a negative start counts from the
 * end.
 *
 * @example
 * ```ts
 * import { narrow, tensor } from "@lits/vision";
 * console.log(narrow(tensor([[1, 2, 3], [4, 5, 6]]), 1, 1, 2).toList()); // [[2, 3], [5, 6]]
 * ```
 */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const usage = "narrow(x, dim, start, length)";
  if (arguments.length !== 4) {
    throw new Error(`narrow: takes (x, dim, start, length), got ${arguments.length}; ${usage}`);
  }
  expectTensor(x, "narrow", usage);
  return x.narrow(dim, start, length);
}

/**
 * The views of `x` along `dim` (default 0), one per index, without that
 * dimension, as `torch.unbind`: `const [r, g, b] = unbind(image)`.
 *
 * @example
 * ```ts
 * import { tensor, unbind } from "@lits/vision";
 * const [row0, row1] = unbind(tensor([[1, 2], [3, 4]]));
 * console.log(row0.toList(), row1.toList()); // [1, 2] [3, 4]
 * ```
 */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  const usage = "unbind(x, dim)";
  tooMany("unbind", arguments.length, 2, usage);
  expectTensor(x, "unbind", usage);
  return x.unbind(dim);
}
