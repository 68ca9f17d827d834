/**
 * Boolean indexing: `maskedSelect` (torch.masked_select, torch's `x[mask]`)
 * and `nonzero` (torch.nonzero). Their shapes depend on the mask's values,
 * so the mask is read on the host (as torch's CUDA kernels synchronise to
 * size their results); the values are then taken by an index on the
 * tensor's device, so the gradient scatters back to where they came from.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";
import { broadcastShapes, sameDevice } from "./elementwise.ts";
import { indexVector, takeAlong } from "./gather.ts";
import { reshape } from "./shape.ts";
import { broadcastIndex, hostResult } from "./host_values.ts";

function checkNumeric(where: string, x: unknown, name: string, usage: string): asserts x is Tensor {
  expectTensor(x, `${where}: ${name}`, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
}

/**
 * The mask's values, each 0 or 1: torch takes bool masks only, and a
 * float32 mask here is the comparisons' 0/1 stand-in, so a mask of
 * probabilities or scores (a likely mistake) is refused, not read as true.
 */
function maskValues(where: string, mask: Tensor): Float32Array | Int32Array {
  const m = mask.toArray();
  const bad = m.findIndex((v) => v !== 0 && v !== 1);
  if (bad >= 0) {
    throw new Error(
      `${where}: mask holds ${m[bad]}; a mask holds 0 and 1 (torch's bool), as the ` +
        "comparisons make it: write x.gt(0.5) for a mask from scores",
    );
  }
  return m;
}

/**
 * The elements of `x` where `mask` is 1, as a 1-D tensor in row-major
 * order, as `torch.masked_select(x, mask)` and torch's `x[mask]`: x and the
 * mask broadcast together; the mask is a 0/1 mask from the comparisons
 * (`x.gt(0)`), float32 or int32. The gradient goes back to the selected
 * elements (summed where broadcasting took one element several times).
 *
 * @example
 * ```ts
 * import { maskedSelect, tensor } from "@lits/vision";
 * const x = tensor([[1, -2], [-3, 4]]);
 * console.log(maskedSelect(x, x.gt(0)).toList()); // [1, 4]
 * ```
 */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  const usage = "maskedSelect(x, mask) (x.maskedSelect(x.gt(0)))";
  if (arguments.length !== 2) {
    throw new Error(`maskedSelect: takes (x, mask), got ${arguments.length} arguments; ${usage}`);
  }
  checkNumeric("maskedSelect", x, "x", usage);
  checkNumeric("maskedSelect", mask, "mask", usage);
  sameDevice(x, mask, "maskedSelect");
  const shape = broadcastShapes(x.shape, mask.shape, "maskedSelect");
  const m = maskValues("maskedSelect", mask);
  const im = broadcastIndex(mask.shape, shape), ix = broadcastIndex(x.shape, shape);
  let count = 0;
  for (let k = 0; k < im.length; k++) count += m[im[k]];
  const at = new Int32Array(count);
  for (let k = 0, j = 0; k < im.length; k++) if (m[im[k]] === 1) at[j++] = ix[k];
  if (x.dtype === "int32") {
    const v = x.toArray();
    return hostResult(at.map((i) => v[i]), [count], "int32", x.device);
  }
  const flat = reshape(x, [x.numel()]);
  return takeAlong(flat, 0, indexVector(at, x.device), "row", false, "maskedSelect");
}

/** Options of `nonzero`. */
export interface NonzeroOptions {
  /** One 1-D index tensor per dimension instead of one [n, ndim] tensor (default false). */
  asTuple?: boolean;
}

/**
 * The indices of the nonzero elements (NaN counts), as `torch.nonzero`: an
 * int32 tensor [n, ndim] (torch's int64), one row per element in row-major
 * order; with `{ asTuple: true }` one 1-D tensor per dimension, as torch's
 * `as_tuple=True` (what `torch.where(mask)` returns).
 *
 * @example
 * ```ts
 * import { nonzero, tensor } from "@lits/vision";
 * console.log(nonzero(tensor([[0, 3], [5, 0]])).toList()); // [[0, 1], [1, 0]]
 * ```
 */
export function nonzero(x: Tensor): Tensor;
/** One 1-D int32 index tensor per dimension (torch's `as_tuple=True`). */
export function nonzero(x: Tensor, options: { asTuple: true }): Tensor[];
/** Either form, by `options.asTuple`. */
export function nonzero(x: Tensor, options?: NonzeroOptions): Tensor | Tensor[];
export function nonzero(x: Tensor, options: NonzeroOptions = {}): Tensor | Tensor[] {
  const usage = "nonzero(x) or nonzero(x, { asTuple: true })";
  if (arguments.length > 2) {
    throw new Error(`nonzero: takes (x, options), got ${arguments.length} arguments; ${usage}`);
  }
  checkNumeric("nonzero", x, "x", usage);
  const o = checkOptions<NonzeroOptions>("nonzero", options, ["asTuple"], usage);
  const asTuple = o.asTuple ?? false;
  if (typeof asTuple !== "boolean") {
    throw new Error(`nonzero: asTuple must be a boolean, got ${JSON.stringify(asTuple)}`);
  }
  const v = x.toArray();
  const hits: number[] = [];
  for (let k = 0; k < v.length; k++) if (v[k] !== 0) hits.push(k);
  const n = hits.length, nd = x.ndim;
  const rows = new Int32Array(n * nd);
  hits.forEach((k, r) => {
    for (let d = nd - 1; d >= 0; d--) {
      rows[r * nd + d] = k % x.shape[d];
      k = Math.floor(k / x.shape[d]);
    }
  });
  if (!asTuple) return hostResult(rows, [n, nd], "int32", x.device);
  if (nd === 0) return [hostResult(new Int32Array(n), [n], "int32", x.device)];
  return Array.from(
    { length: nd },
    (_, d) => hostResult(rows.filter((_, i) => i % nd === d), [n], "int32", x.device),
  );
}
