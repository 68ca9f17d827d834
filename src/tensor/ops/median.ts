/**
 * `median`, `nanmedian` and `kthvalue` (torch's), on the backend's stable sort: the k-th
 * smallest value along a dimension and where it was. NaN orders above every
 * number; torch's median of a slice holding NaN is NaN (the first one), so
 * that case picks it. The values carry the gradient to the element they
 * came from, as torch's.
 *
 * @module
 */
import { numel, type Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { expectTensor, gt } from "./compare.ts";
import { requireFloat, rsub } from "./elementwise.ts";
import { gather } from "./gather.ts";
import { isnan } from "./nonfinite.ts";
import { sum } from "./reduce.ts";
import { normDim, reshape, squeeze } from "./shape.ts";
import { sort, topk, ValuesIndices } from "./sort.ts";
import { where } from "./where.ts";

function checkKeepDim(where: string, keepDim: unknown): void {
  if (typeof keepDim !== "boolean") {
    throw new Error(`${where}: keepDim must be a boolean, got ${JSON.stringify(keepDim)}`);
  }
}

/**
 * The k-th smallest value along `dim` (k from 1) and its int32 index, as
 * `torch.kthvalue(x, k, dim, keepdim)`. NaN counts as the largest value.
 *
 * @example
 * ```ts
 * import { kthvalue, tensor } from "@lits/vision";
 * const { values, indices } = kthvalue(tensor([[5, 1, 4, 2]]), 2, 1);
 * console.log(values.toList(), indices.toList()); // [2] [3]
 * ```
 */
export function kthvalue(x: Tensor, k: number, dim = -1, keepDim = false): ValuesIndices {
  if (arguments.length > 4) {
    throw new Error(`kthvalue: takes (x, k, dim, keepDim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "kthvalue", "kthvalue(x, k, dim)");
  requireFloat(x, "kthvalue");
  checkKeepDim("kthvalue", keepDim);
  const d = normDim(dim, Math.max(x.ndim, 1), "kthvalue");
  const r = x.ndim === 0 ? 1 : x.shape[d];
  if (!Number.isInteger(k) || k < 1 || k > r) {
    throw new Error(
      `kthvalue: k must be an integer from 1 to ${r} (the size of dimension ${d} of ` +
        `[${x.shape}]), got ${JSON.stringify(k)}`,
    );
  }
  if (x.ndim === 0) {
    // Index 0, made as an op result; through isnan, as int() refuses NaN.
    return new ValuesIndices(x.reshape([]), noGrad(() => isnan(x).mul(0).int()));
  }
  const { values, indices } = topk(x, k, d, false);
  const at = (t: Tensor) => {
    const one = t.narrow(d, k - 1, 1);
    return keepDim ? one : squeeze(one, d);
  };
  return new ValuesIndices(at(values), at(indices));
}

/** The lower median's index along d of each slice, or its first NaN's (int32, kept dim). */
function medianIndex(x: Tensor, d: number): Tensor {
  return noGrad(() => {
    const r = x.shape[d];
    const order = sort(x, d).indices;
    // NaN sorts last and the sort is stable: the first NaN sits at r - count.
    const nans = sum(isnan(x), d, true);
    const position = where(gt(nans, 0), rsub(r, nans), Math.floor((r - 1) / 2)).int();
    return gather(order.float(), d, position).int();
  });
}

/**
 * The median, as `torch.median`: of all elements (a 0-d tensor) when `dim`
 * is left out, else along `dim` as `.values` and int32 `.indices`. It is
 * the lower of the two middle values for an even count (not their mean),
 * and NaN where a slice holds NaN, as torch's. Median intensity of a
 * region, robust statistics of scores.
 *
 * @example
 * ```ts
 * import { median, tensor } from "@lits/vision";
 * console.log(median(tensor([4, 1, 3, 2])).item()); // 2
 * const { values } = median(tensor([[1, 9, 5], [7, 3, 8]]), 1);
 * console.log(values.toList()); // [5, 7]
 * ```
 */
export function median(x: Tensor): Tensor;
/** The median along `dim`: `.values` and the int32 `.indices` they came from. */
export function median(x: Tensor, dim: number, keepDim?: boolean): ValuesIndices;
export function median(x: Tensor, dim?: number, keepDim = false): Tensor | ValuesIndices {
  if (arguments.length > 3) {
    throw new Error(`median: takes (x, dim, keepDim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "median", "median(x) or median(x, dim)");
  requireFloat(x, "median");
  checkKeepDim("median", keepDim);
  if (dim === undefined) {
    if (x.numel() === 0) throw new Error("median: the tensor has no elements");
    const flat = reshape(x, [numel(x.shape)]);
    return reshape(gather(flat, 0, medianIndex(flat, 0).reshape([1])), []);
  }
  const d = normDim(dim, Math.max(x.ndim, 1), "median");
  if (x.ndim === 0) {
    // Index 0, made as an op result; through isnan, as int() refuses NaN.
    return new ValuesIndices(x.reshape([]), noGrad(() => isnan(x).mul(0).int()));
  }
  if (x.shape[d] === 0) {
    throw new Error(`median: dimension ${d} of [${x.shape}] is empty`);
  }
  const index = medianIndex(x, d);
  const values = gather(x, d, index);
  return keepDim
    ? new ValuesIndices(values, index)
    : new ValuesIndices(squeeze(values, d), squeeze(index, d));
}

/** The lower median's index along d of each slice's non-NaN values; an all-NaN slice's first NaN. */
function nanmedianIndex(x: Tensor, d: number): Tensor {
  return noGrad(() => {
    const order = sort(x, d).indices; // stable, NaN last
    const count = rsub(x.shape[d], sum(isnan(x), d, true)); // the numbers in each slice
    // floor((count - 1) / 2); 0 for a slice of NaN only (its first NaN).
    const position = count.sub(1).div(2).floor().clampMin(0).int();
    return gather(order.float(), d, position).int();
  });
}

/**
 * The median of the values that are not NaN, as `torch.nanmedian`: of all
 * elements (a 0-d tensor) when `dim` is left out, else along `dim` as
 * `.values` and int32 `.indices`. The lower of the two middle values for
 * an even count, as `median`; NaN only where a slice holds nothing but
 * NaN (its index then that of its first NaN; torch's is wherever its
 * partial sort leaves it). The values carry the gradient to the element
 * they came from, as torch's.
 *
 * @example
 * ```ts
 * import { nanmedian, tensor } from "@lits/vision";
 * console.log(nanmedian(tensor([2, NaN, 1, 5])).item()); // 2
 * const { values, indices } = nanmedian(tensor([[3, 1, NaN, 2]]), 1);
 * console.log(values.toList(), indices.toList()); // [2] [3]
 * ```
 */
export function nanmedian(x: Tensor): Tensor;
/** The NaN-ignoring median along `dim`: `.values` and the int32 `.indices` they came from. */
export function nanmedian(x: Tensor, dim: number, keepDim?: boolean): ValuesIndices;
export function nanmedian(x: Tensor, dim?: number, keepDim = false): Tensor | ValuesIndices {
  if (arguments.length > 3) {
    throw new Error(`nanmedian: takes (x, dim, keepDim), got ${arguments.length} arguments`);
  }
  expectTensor(x, "nanmedian", "nanmedian(x) or nanmedian(x, dim)");
  requireFloat(x, "nanmedian");
  checkKeepDim("nanmedian", keepDim);
  if (dim === undefined) {
    if (x.numel() === 0) throw new Error("nanmedian: the tensor has no elements");
    const flat = reshape(x, [numel(x.shape)]);
    return reshape(gather(flat, 0, nanmedianIndex(flat, 0).reshape([1])), []);
  }
  const d = normDim(dim, Math.max(x.ndim, 1), "nanmedian");
  if (x.ndim === 0) {
    return new ValuesIndices(x.reshape([]), noGrad(() => isnan(x).mul(0).int()));
  }
  if (x.shape[d] === 0) {
    throw new Error(`nanmedian: dimension ${d} of [${x.shape}] is empty`);
  }
  const index = nanmedianIndex(x, d);
  const values = gather(x, d, index);
  return keepDim
    ? new ValuesIndices(values, index)
    : new ValuesIndices(squeeze(values, d), squeeze(index, d));
}
