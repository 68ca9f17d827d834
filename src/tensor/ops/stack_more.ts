/**
 * Joining and reshaping as torch names them: `concat` / `concatenate`
 * (aliases of `cat`), `hstack`, `vstack`, `dstack`, `broadcastTo`,
 * `unflatten`, `tensorSplit`, the top-level `movedim`, and `rot90`
 * (flip and transpose, as torch composes it). Views where torch's are
 * views; gradients flow through the ops they are made of.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { cat } from "./join.ts";
import { expand, inferShape, narrow, normDim, reshape, transpose } from "./shape.ts";
import { viewAsShape } from "./view.ts";
import { expectTensor } from "./compare.ts";
import { flip } from "./reorder.ts";

function list(where: string, tensors: unknown, usage: string): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new Error(`${where}: expected a non-empty array of tensors; write ${usage}`);
  }
  tensors.forEach((t, i) => expectTensor(t, `${where}: tensors[${i}]`, usage));
  return tensors as Tensor[];
}

/**
 * The tensors joined along `dim`, torch's alias `concat` of `cat`.
 *
 * @example
 * ```ts
 * import { concat, tensor } from "@lits/vision";
 * console.log(concat([tensor([1]), tensor([2, 3])]).toList()); // [1, 2, 3]
 * ```
 */
export function concat(tensors: Tensor[], dim = 0): Tensor {
  if (arguments.length > 2) {
    throw new Error(`concat: takes (tensors, dim), got ${arguments.length}`);
  }
  return cat(tensors, dim);
}

/**
 * The tensors joined along `dim`, torch's alias `concatenate` of `cat`.
 *
 * @example
 * ```ts
 * import { concatenate, tensor } from "@lits/vision";
 * console.log(concatenate([tensor([[1]]), tensor([[2]])], 1).toList()); // [[1, 2]]
 * ```
 */
export function concatenate(tensors: Tensor[], dim = 0): Tensor {
  if (arguments.length > 2) {
    throw new Error(`concatenate: takes (tensors, dim), got ${arguments.length}`);
  }
  return cat(tensors, dim);
}

/** `t` with at least `n` dimensions, as torch's atleast_1d/2d/3d. */
function atLeast(t: Tensor, n: 1 | 2 | 3): Tensor {
  if (t.ndim >= n) return t;
  if (t.ndim === 0) return reshape(t, new Array(n).fill(1));
  if (t.ndim === 1) return reshape(t, n === 2 ? [1, t.shape[0]] : [1, t.shape[0], 1]);
  return reshape(t, [...t.shape, 1]); // 2-D to 3-D
}

/**
 * The tensors joined column-wise, as `torch.hstack`: along dimension 0
 * for 1-D tensors, else 1 (0-d tensors count as 1-D).
 *
 * @example
 * ```ts
 * import { hstack, tensor } from "@lits/vision";
 * console.log(hstack([tensor([[1], [2]]), tensor([[3], [4]])]).toList()); // [[1, 3], [2, 4]]
 * ```
 */
export function hstack(tensors: Tensor[]): Tensor {
  const ts = list("hstack", tensors, "hstack([a, b])").map((t) => atLeast(t, 1));
  if (arguments.length > 1) throw new Error(`hstack: takes (tensors), got ${arguments.length}`);
  return cat(ts, ts[0].ndim === 1 ? 0 : 1);
}

/**
 * The tensors joined row-wise, as `torch.vstack`: 1-D tensors become
 * rows ([n] to [1, n]), then they join along dimension 0.
 *
 * @example
 * ```ts
 * import { tensor, vstack } from "@lits/vision";
 * console.log(vstack([tensor([1, 2]), tensor([3, 4])]).toList()); // [[1, 2], [3, 4]]
 * ```
 */
export function vstack(tensors: Tensor[]): Tensor {
  const ts = list("vstack", tensors, "vstack([a, b])").map((t) => atLeast(t, 2));
  if (arguments.length > 1) throw new Error(`vstack: takes (tensors), got ${arguments.length}`);
  return cat(ts, 0);
}

/**
 * The tensors joined depth-wise, as `torch.dstack`: each made at least
 * 3-D ([n] to [1, n, 1], [m, n] to [m, n, 1]), then joined along
 * dimension 2.
 *
 * @example
 * ```ts
 * import { dstack, tensor } from "@lits/vision";
 * console.log(dstack([tensor([1, 2]), tensor([3, 4])]).shape); // [1, 2, 2]
 * ```
 */
export function dstack(tensors: Tensor[]): Tensor {
  const ts = list("dstack", tensors, "dstack([a, b])").map((t) => atLeast(t, 3));
  if (arguments.length > 1) throw new Error(`dstack: takes (tensors), got ${arguments.length}`);
  return cat(ts, 2);
}

/**
 * `x` broadcast to `shape` (a view; -1 keeps a size), as
 * `torch.broadcast_to`.
 *
 * @example
 * ```ts
 * import { broadcastTo, tensor } from "@lits/vision";
 * console.log(broadcastTo(tensor([1, 2]), [2, 2]).toList()); // [[1, 2], [1, 2]]
 * ```
 */
export function broadcastTo(x: Tensor, shape: number[]): Tensor {
  const usage = "broadcastTo(x, [2, 3])";
  expectTensor(x, "broadcastTo", usage);
  if (arguments.length > 2) {
    throw new Error(`broadcastTo: takes (x, shape), got ${arguments.length}`);
  }
  if (!Array.isArray(shape)) {
    throw new Error(
      `broadcastTo: shape must be an array of sizes, got ${typeof shape}; write ${usage}`,
    );
  }
  return expand(x, shape);
}

/**
 * Dimension `dim` of `x` split into `sizes` (their product must be its
 * size; one -1 is inferred), as `torch.unflatten(x, dim, sizes)`: a view
 * of `x`'s memory, a non-contiguous `x` included (writes through it reach
 * `x`).
 *
 * @example
 * ```ts
 * import { unflatten, zeros } from "@lits/vision";
 * console.log(unflatten(zeros([2, 12]), 1, [3, -1]).shape); // [2, 3, 4]
 * ```
 */
export function unflatten(x: Tensor, dim: number, sizes: number[]): Tensor {
  const usage = "unflatten(x, 1, [3, 4]) (or x.unflatten(1, [3, 4]))";
  expectTensor(x, "unflatten", usage);
  if (arguments.length > 3) {
    throw new Error(`unflatten: takes (x, dim, sizes), got ${arguments.length} arguments`);
  }
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    throw new Error(
      `unflatten: dim must be an integer, got ${JSON.stringify(dim)}; write ${usage}`,
    );
  }
  const d = normDim(dim, x.ndim, "unflatten");
  if (!Array.isArray(sizes) || sizes.length === 0) {
    throw new Error(`unflatten: sizes must be a non-empty array of sizes; write ${usage}`);
  }
  if (sizes.some((s) => !Number.isInteger(s) || s < -1)) {
    throw new Error(`unflatten: sizes must be integers >= 0 (one may be -1), got [${sizes}]`);
  }
  const free = sizes.filter((s) => s === -1).length;
  if (free > 1) throw new Error(`unflatten: only one size may be -1, got [${sizes}]`);
  const known = sizes.reduce((p, s) => (s === -1 ? p : p * s), 1);
  const n = x.shape[d];
  const filled = sizes.map((s) => (s === -1 ? (known === 0 ? -1 : n / known) : s));
  if (
    filled.some((s) => !Number.isInteger(s) || s < 0) || filled.reduce((p, s) => p * s, 1) !== n
  ) {
    throw new Error(
      `unflatten: sizes [${sizes}] do not multiply to ${n}, the size of dimension ${d} of ` +
        `[${x.shape}]`,
    );
  }
  // A view, as torch's (its unflatten is a view): writes through it reach x.
  const shape = [...x.shape.slice(0, d), ...filled, ...x.shape.slice(d + 1)];
  return viewAsShape(x, inferShape(x, shape, "unflatten"));
}

/**
 * `x` split along `dim` into views, as `torch.tensor_split`: a number n
 * gives n parts (the first `size % n` one longer), an array of indices
 * splits before each (as Python slices: negative ones count from the end,
 * ones past the end give empty parts).
 *
 * @example
 * ```ts
 * import { tensorSplit, arange } from "@lits/vision";
 * console.log(tensorSplit(arange(7), 3).map((p) => p.toList())); // [[0, 1, 2], [3, 4], [5, 6]]
 * console.log(tensorSplit(arange(7), [1, 5]).map((p) => p.shape[0])); // [1, 4, 2]
 * ```
 */
export function tensorSplit(x: Tensor, indicesOrSections: number | number[], dim = 0): Tensor[] {
  const usage = "tensorSplit(x, 3, 0) or tensorSplit(x, [1, 5], 0)";
  expectTensor(x, "tensorSplit", usage);
  if (arguments.length > 3) {
    throw new Error(`tensorSplit: takes (x, indicesOrSections, dim), got ${arguments.length}`);
  }
  if (x.ndim === 0) {
    throw new Error("tensorSplit: x must have at least one dimension, got a 0-d tensor");
  }
  if (typeof dim !== "number" || !Number.isInteger(dim)) {
    throw new Error(
      `tensorSplit: dim must be an integer, got ${JSON.stringify(dim)}; write ${usage}`,
    );
  }
  const d = normDim(dim, x.ndim, "tensorSplit");
  const n = x.shape[d];
  const arg = indicesOrSections;
  let bounds: number[];
  if (typeof arg === "number") {
    if (!Number.isInteger(arg) || arg < 1) {
      throw new Error(`tensorSplit: the number of sections must be an integer >= 1, got ${arg}`);
    }
    const base = Math.floor(n / arg), extra = n % arg;
    bounds = [];
    for (let i = 1, at = 0; i < arg; i++) bounds.push(at += base + (i <= extra ? 1 : 0));
  } else if (Array.isArray(arg)) {
    if (arg.some((i) => !Number.isInteger(i))) {
      throw new Error(`tensorSplit: indices must be integers, got [${arg}]; write ${usage}`);
    }
    bounds = arg.map((i) => Math.min(Math.max(i < 0 ? i + n : i, 0), n));
  } else {
    throw new Error(`tensorSplit: expected a number of sections or an array of indices; ${usage}`);
  }
  const parts: Tensor[] = [];
  let start = 0;
  for (const b of [...bounds, n]) {
    const s = Math.min(start, n), e = Math.max(b, s);
    parts.push(narrow(x, d, s, e - s));
    start = Math.max(b, 0);
  }
  return parts;
}

/**
 * Dimension(s) `source` moved to `destination`, as `torch.movedim` (the
 * function form of `x.movedim`).
 *
 * @example
 * ```ts
 * import { movedim, zeros } from "@lits/vision";
 * console.log(movedim(zeros([2, 3, 4]), 0, -1).shape); // [3, 4, 2]
 * ```
 */
export function movedim(
  x: Tensor,
  source: number | number[],
  destination: number | number[],
): Tensor {
  expectTensor(x, "movedim", "movedim(x, 1, -1)");
  if (arguments.length > 3) {
    throw new Error(`movedim: takes (x, source, destination), got ${arguments.length}`);
  }
  return x.movedim(source, destination);
}

/**
 * `x` rotated by 90° `k` times in the plane of `dims` (from the first
 * toward the second), as `torch.rot90(x, k, dims)`: flips and a transpose
 * (a view). k may be negative; dims default to [0, 1].
 *
 * @example
 * ```ts
 * import { rot90, tensor } from "@lits/vision";
 * console.log(rot90(tensor([[1, 2], [3, 4]])).toList()); // [[2, 4], [1, 3]]
 * ```
 */
export function rot90(x: Tensor, k = 1, dims: number[] = [0, 1]): Tensor {
  const usage = "rot90(x, 1, [2, 3])";
  expectTensor(x, "rot90", usage);
  if (arguments.length > 3) throw new Error(`rot90: takes (x, k, dims), got ${arguments.length}`);
  if (!Number.isInteger(k)) {
    throw new Error(`rot90: k must be an integer, got ${k}; write ${usage}`);
  }
  if (!Array.isArray(dims) || dims.length !== 2) {
    throw new Error(
      `rot90: expected total rotation dims == 2, got ${JSON.stringify(dims)}; write ${usage}`,
    );
  }
  if (x.ndim < 2) {
    throw new Error(`rot90: expected total dims >= 2, but got total dims = ${x.ndim}`);
  }
  const [d0, d1] = dims.map((d) => normDim(d, x.ndim, "rot90"));
  if (d0 === d1) throw new Error(`rot90: expected rotation dims to be different, got [${dims}]`);
  const r = ((k % 4) + 4) % 4;
  if (r === 1) return transpose(flip(x, [d1]), d0, d1);
  if (r === 2) return flip(x, [d0, d1]);
  if (r === 3) return transpose(flip(x, [d0]), d0, d1);
  return x.clone();
}
