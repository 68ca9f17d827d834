/**
 * Ordering along one dimension: `sort`, `argsort` and `topk` (torch's).
 * The backend finds the order (a stable sort of each column, NaN above
 * every number, as torch's CPU sort), then the values are taken along the
 * dimension at those positions, so their gradient is the take's
 * scatter-add.
 *
 * @module
 */
import { numel, Tensor } from "../tensor.ts";
import { check } from "../../ffi/native.ts";
import { contiguous, normDim } from "./shape.ts";
import { expectTensor } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { takeAlong } from "./gather.ts";

/**
 * What `sort` and `topk` return, as torch's named tuple: `.values` and
 * `.indices` (int32), or destructured as `const [values, indices] = ...`.
 */
export class ValuesIndices {
  /** The ordered values. */
  readonly values: Tensor;
  /** Where each value was along the dimension (int32). */
  readonly indices: Tensor;

  /** Pairs `values` with their `indices`. */
  constructor(values: Tensor, indices: Tensor) {
    this.values = values;
    this.indices = indices;
  }

  /** `values`, as torch's tuple index: `x.topk(1, 1)[0]`. */
  get 0(): Tensor {
    return this.values;
  }
  /** `indices`: `x.topk(1, 1)[1]`. */
  get 1(): Tensor {
    return this.indices;
  }
  /** 2, as the tuple's. */
  get length(): 2 {
    return 2;
  }

  /** `[values, indices]`, for destructuring. */
  *[Symbol.iterator](): Iterator<Tensor> {
    yield this.values;
    yield this.indices;
  }
}

/**
 * The first `k` positions of each column of x along `d` in order
 * (descending or ascending; ties keep their order), as an int32 tensor of
 * x's shape with `k` at `d`. The backend sorts (stable; NaN above every
 * number, -0 equal to +0, as torch's CPU sort).
 */
function order(x: Tensor, d: number, descending: boolean, k: number, what: string): Tensor {
  const outer = numel(x.shape.slice(0, d)), r = x.shape[d], inner = numel(x.shape.slice(d + 1));
  const shape = x.shape.map((s, i) => (i === d ? k : s));
  const src = contiguous(x);
  const out = Tensor.empty(shape, "int32", x.device);
  const sortFn = x.dtype === "int32" ? x.lib.lits_sort_i32 : x.lib.lits_sort_f32;
  check(
    x.lib,
    sortFn(src.ptr, out.ptr, outer, r, inner, k, descending ? 1 : 0),
    () => `${what} [${x.shape}] along dimension ${d}`,
  );
  return out;
}

function checkArgs(
  where: string,
  x: unknown,
  dim: unknown,
  flag: unknown,
  flagName: string,
  usage: string,
): asserts x is Tensor {
  expectTensor(x, where, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  if (!Number.isInteger(dim)) {
    throw new Error(`${where}: dim must be an integer, got ${JSON.stringify(dim)}; write ${usage}`);
  }
  if (typeof flag !== "boolean") {
    throw new Error(
      `${where}: ${flagName} must be a boolean, got ${JSON.stringify(flag)}; write ${usage}`,
    );
  }
}

/** x's int32 values at `indices` along `d`, taken on the host (exact; no gradient). */
function intValues(x: Tensor, d: number, indices: Tensor): Tensor {
  const src = contiguous(x).toArray() as Int32Array, idx = indices.toArray() as Int32Array;
  const r = x.shape[d], k = indices.shape[d], inner = numel(x.shape.slice(d + 1));
  const v = idx.map((j, t) => {
    const o = Math.floor(t / (k * inner)), i = t % inner;
    return src[(o * r + j) * inner + i];
  });
  return fromHost(v, indices.shape, { dtype: "int32", device: x.device }, true);
}

/** The values and indices of the first `k` of each column in order. */
function ordered(
  what: string,
  x: Tensor,
  d: number,
  descending: boolean,
  k: number,
): ValuesIndices {
  const flat = x.ndim === 0 ? x.reshape([1]) : x;
  const indices = order(flat, d, descending, k, what);
  const values = x.dtype === "int32"
    ? intValues(flat, d, indices)
    : takeAlong(flat, d, indices, "dense", false, what);
  if (x.ndim === 0) return new ValuesIndices(values.reshape([]), indices.reshape([]));
  return new ValuesIndices(values, indices);
}

/**
 * `x` sorted along `dim` (default the last), ascending unless
 * `descending`, as `torch.sort`: `.values` and the int32 `.indices` they
 * came from. The sort is stable (equal values keep their order) and NaN
 * sorts above every number, as torch's CPU sort. The values carry the
 * gradient back to where they came from.
 *
 * @example
 * ```ts
 * import { sort, tensor } from "@lits/vision";
 * const { values, indices } = sort(tensor([2, 9, 1]), -1, true);
 * console.log(values.toList(), indices.toList()); // [9, 2, 1] [1, 0, 2]
 * ```
 */
export function sort(x: Tensor, dim = -1, descending = false): ValuesIndices {
  // torch's stable=True has no argument here: the sort is always stable.
  const usage = "sort(x, dim, descending) (x.sort(1, true); always stable, torch's stable=True)";
  if (arguments.length > 3) {
    throw new Error(`sort: takes (x, dim, descending), got ${arguments.length} arguments`);
  }
  checkArgs("sort", x, dim, descending, "descending", usage);
  const d = normDim(dim, Math.max(x.ndim, 1), "sort");
  return ordered("sort", x, d, descending, x.ndim === 0 ? 1 : x.shape[d]);
}

/**
 * The int32 indices that sort `x` along `dim`, as `torch.argsort`
 * (`sort(x, dim, descending).indices`).
 *
 * @example
 * ```ts
 * import { argsort, tensor } from "@lits/vision";
 * console.log(argsort(tensor([3, 1, 2])).toList()); // [1, 2, 0]
 * ```
 */
export function argsort(x: Tensor, dim = -1, descending = false): Tensor {
  const usage = "argsort(x, dim, descending) (always stable, torch's stable=True)";
  if (arguments.length > 3) {
    throw new Error(`argsort: takes (x, dim, descending), got ${arguments.length} arguments`);
  }
  checkArgs("argsort", x, dim, descending, "descending", usage);
  const d = normDim(dim, Math.max(x.ndim, 1), "argsort");
  return ordered("argsort", x, d, descending, x.ndim === 0 ? 1 : x.shape[d]).indices;
}

/**
 * The `k` largest values along `dim` (default the last; the smallest when
 * `largest` is false), in order, and their int32 indices, as `torch.topk`
 * (always sorted; torch's `sorted=False` leaves the order unspecified). NaN
 * counts as the largest value. Top-5 predictions: `topk(logits, 5, 1)`.
 *
 * @example
 * ```ts
 * import { tensor, topk } from "@lits/vision";
 * const [values, indices] = topk(tensor([[0.1, 0.7, 0.2]]), 2);
 * console.log(indices.toList()); // [[1, 2]]
 * ```
 */
export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
  const usage = "topk(x, k, dim, largest) (x.topk(5, 1))";
  if (arguments.length > 5) {
    throw new Error(`topk: takes (x, k, dim, largest, sorted), got ${arguments.length} arguments`);
  }
  checkArgs("topk", x, dim, largest, "largest", usage);
  if (typeof sorted !== "boolean") {
    throw new Error(`topk: sorted must be a boolean, got ${JSON.stringify(sorted)}`);
  }
  const d = normDim(dim, Math.max(x.ndim, 1), "topk");
  const r = x.ndim === 0 ? 1 : x.shape[d];
  if (x.ndim === 0 && k === 0) {
    throw new Error("topk: k must be 1 for a 0-d tensor (its one element), got 0");
  }
  if (!Number.isInteger(k) || k < 0 || k > r) {
    throw new Error(
      `topk: k must be an integer from 0 to ${r} (the size of dimension ${d} of [${x.shape}]), ` +
        `got ${JSON.stringify(k)}`,
    );
  }
  return ordered("topk", x, d, largest, k);
}
