/**
 * Shape ops torch has beside `repeat` and `expand`: `tile`, `diff` and
 * `meshgrid`, built of views, `cat` and subtraction, so their gradients
 * are those ops' (int32 `diff` runs on a host copy, exactly).
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";
import { sub } from "./elementwise.ts";
import { cat } from "./join.ts";
import { cast, expand, narrow, reshape } from "./shape.ts";
import { around, dimOf, hostResult } from "./host_values.ts";

/**
 * `x` repeated `dims[i]` times along each dimension, as `torch.tile`: with
 * fewer counts than dimensions, ones are put in front (torch's rule;
 * `repeat` needs one count per dimension).
 *
 * @example
 * ```ts
 * import { tensor, tile } from "@lits/vision";
 * console.log(tile(tensor([[1, 2]]), [2]).toList()); // [[1, 2, 1, 2]]
 * ```
 */
export function tile(x: Tensor, dims: number[]): Tensor {
  const usage = "tile(x, [2, 2]) (x.tile([2, 2]))";
  if (arguments.length !== 2) {
    throw new Error(`tile: takes (x, dims), got ${arguments.length} arguments; write ${usage}`);
  }
  expectTensor(x, "tile", usage);
  if (!Array.isArray(dims) || dims.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new Error(
      `tile: dims must be a list of counts >= 0, got ${JSON.stringify(dims)}; write ${usage}`,
    );
  }
  const reps = [...Array(Math.max(0, x.ndim - dims.length)).fill(1), ...dims];
  return x.repeat(reps);
}

/** Options of `diff`, as torch.diff's keywords. */
export interface DiffOptions {
  /** How many times to difference (default 1). */
  n?: number;
  /** The dimension (default -1, the last). */
  dim?: number;
  /** Values put before x along `dim` first. */
  prepend?: Tensor;
  /** Values put after x along `dim` first. */
  append?: Tensor;
}

function checkEnd(x: Tensor, t: unknown, name: string, d: number): Tensor {
  expectTensor(t, `diff: ${name}`, `diff(x, { ${name}: tensor })`);
  if (t.ndim !== x.ndim || t.shape.some((s, i) => i !== d && s !== x.shape[i])) {
    // torch: "diff expects the shape of tensor to prepend or append to match that of input ..."
    throw new Error(
      `diff: ${name} [${t.shape}] must match x [${x.shape}] except along dimension ${d}`,
    );
  }
  return t;
}

/**
 * The n-th forward difference along `dim`, as `torch.diff(x, n, dim,
 * prepend, append)`: out[i] = x[i + 1] - x[i], n times over, so `dim`
 * shrinks by n (to 0 at the least). `prepend` / `append` are joined to x
 * first (tensors matching x but along dim). Float32 or int32, as x.
 *
 * @example
 * ```ts
 * import { diff, tensor } from "@lits/vision";
 * console.log(diff(tensor([1, 4, 9, 16])).toList(), diff(tensor([1, 4, 9, 16]), { n: 2 }).toList()); // [3, 5, 7] [2, 2]
 * ```
 */
export function diff(x: Tensor, options: DiffOptions = {}): Tensor {
  const usage = "diff(x, { n: 1, dim: -1, prepend, append })";
  if (arguments.length > 2) {
    throw new Error(`diff: takes (x, options), got ${arguments.length} arguments; ${usage}`);
  }
  expectTensor(x, "diff", usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`diff: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
  const o = checkOptions<DiffOptions>("diff", options, ["n", "dim", "prepend", "append"], usage);
  if (x.ndim === 0) {
    throw new Error(
      "diff: x must have at least one dimension (torch's diff of a 0-d tensor fails)",
    );
  }
  const n = o.n ?? 1;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
    // torch 1.13 returns x for a negative n; later versions refuse it, as here.
    throw new Error(`diff: n must be an integer >= 0, got ${JSON.stringify(n)}`);
  }
  const d = dimOf(x, o.dim ?? -1, "diff");
  const parts = [
    ...(o.prepend === undefined ? [] : [checkEnd(x, o.prepend, "prepend", d)]),
    x,
    ...(o.append === undefined ? [] : [checkEnd(x, o.append, "append", d)]),
  ];
  // Mixed dtypes join as float32, as torch's cat promotes them.
  const float = parts.some((t) => t.dtype === "float32");
  const joined = parts.length === 1
    ? x
    : cat(parts.map((t) => (float && t.dtype === "int32" ? cast(t, "float32") : t)), d);
  if (!float) return intDiff(joined, d, n);
  let t = joined;
  for (let k = 0; k < n && t.shape[d] > 0; k++) {
    const len = t.shape[d] - 1;
    t = sub(narrow(t, d, 1, len), narrow(t, d, 0, len));
  }
  return t;
}

/** The n-th difference of an int32 tensor along d, exactly, on a host copy. */
function intDiff(x: Tensor, d: number, n: number): Tensor {
  let v = x.toArray() as Int32Array;
  const [outer, , inner] = around(x.shape, d);
  let r = x.shape[d];
  for (let k = 0; k < n && r > 0; k++) {
    const next = new Int32Array(outer * (r - 1) * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < r - 1; j++) {
        for (let i = 0; i < inner; i++) {
          next[(o * (r - 1) + j) * inner + i] = v[(o * r + j + 1) * inner + i] -
            v[(o * r + j) * inner + i];
        }
      }
    }
    v = next;
    r--;
  }
  return hostResult(v, x.shape.map((s, i) => (i === d ? r : s)), "int32", x.device);
}

/** Options of `meshgrid`. */
export interface MeshgridOptions {
  /** "ij" (default, matrix indexing: the i-th tensor varies along dimension i) or "xy" (the first two swapped, as NumPy's). */
  indexing?: "ij" | "xy";
}

/**
 * Coordinate grids from 1-D (or 0-d) tensors, as `torch.meshgrid(*tensors,
 * indexing=...)`: each result has the shape [n1, n2, ...], tensor i
 * spread along dimension i ("ij", the default: torch 1.13's, which it warns
 * will have to be named) or, with "xy", the first two dimensions swapped
 * (NumPy's Cartesian form). The results are expanded views; gradients sum
 * back. Pass the tensors as arguments or as one list; options come last.
 *
 * @example
 * ```ts
 * import { arange, meshgrid } from "@lits/vision";
 * const [ys, xs] = meshgrid(arange(2), arange(3), { indexing: "ij" });
 * console.log(ys.toList(), xs.toList()); // [[0, 0, 0], [1, 1, 1]] [[0, 1, 2], [0, 1, 2]]
 * ```
 */
export function meshgrid(
  ...args: (Tensor | Tensor[] | MeshgridOptions | undefined)[]
): Tensor[] {
  const usage = 'meshgrid(ys, xs, { indexing: "ij" })';
  const last = args[args.length - 1];
  const options = last !== undefined && !(last instanceof Tensor) && !Array.isArray(last)
    ? args.pop() as MeshgridOptions
    : undefined;
  const o = checkOptions<MeshgridOptions>("meshgrid", options, ["indexing"], usage);
  const indexing = o.indexing ?? "ij";
  if (indexing !== "ij" && indexing !== "xy") {
    throw new Error(`meshgrid: indexing must be "ij" or "xy", got ${JSON.stringify(indexing)}`);
  }
  const list = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as unknown[];
  if (list.length === 0) throw new Error(`meshgrid: needs at least one tensor; write ${usage}`);
  list.forEach((t, i) => expectTensor(t, `meshgrid: argument ${i}`, usage));
  const tensors = list as Tensor[];
  for (const t of tensors) {
    if (t.ndim > 1) {
      throw new Error(`meshgrid: tensors must be 0-d or 1-D, got [${t.shape}]; flatten them first`);
    }
    if (t.dtype !== tensors[0].dtype || t.device !== tensors[0].device) {
      throw new Error(
        `meshgrid: tensors must share one dtype and device, got ${t.dtype} on ${t.device} and ` +
          `${tensors[0].dtype} on ${tensors[0].device}`,
      );
    }
  }
  const sizes = tensors.map((t) => t.numel());
  const swap = indexing === "xy" && tensors.length >= 2;
  const place = (i: number) => (swap && i < 2 ? 1 - i : i);
  const shape = sizes.map((_, k) => sizes[place(k)]);
  return tensors.map((t, i) => {
    const along = shape.map((_, k) => (k === place(i) ? sizes[i] : 1));
    return expand(reshape(t, along), shape);
  });
}
