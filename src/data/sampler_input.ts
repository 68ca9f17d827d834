/**
 * What the loader's `sampler` option takes: a `Sampler` of this library,
 * or, as torch's `sampler=` takes any iterable of indices, an array, a
 * typed array, a `Set` or a 1-D int32 tensor of dataset indices, read anew
 * every epoch. Anything else is an Error at construction, not a TypeError
 * in the first epoch ("this.sampler.indices is not a function").
 *
 * @module
 */
import type { Sampler } from "./sampler.ts";
import { describe } from "./dataset_common.ts";

/** The samplers to name in messages. */
const SAMPLERS = "data.SequentialSampler, RandomSampler, SubsetRandomSampler, " +
  "WeightedRandomSampler";

/** Whether `v` has the `Sampler` contract (an `indices(epoch, seed)` method and a length). */
export function isSampler(v: unknown): v is Sampler {
  return v !== null && typeof v === "object" &&
    typeof (v as Sampler).indices === "function" && Number.isInteger((v as Sampler).length);
}

/** `values` as dataset indices, each checked to be an integer (Int32Array.from would truncate 1.5). */
export function indexArray(where: string, values: Iterable<unknown>): Int32Array {
  const out: number[] = [];
  let k = 0;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isInteger(v) || Math.abs(v) > 0x7fffffff) {
      throw new Error(`${where}: index ${k} is ${describe(v)}; indices are integers`);
    }
    out.push(v);
    k++;
  }
  return Int32Array.from(out);
}

/**
 * torch's `sampler=[3, 1, 2]`: a fixed list of indices, the same every
 * epoch (shuffle it yourself, or use `SubsetRandomSampler`, for a new order
 * each epoch).
 */
class ListSampler implements Sampler {
  readonly length: number;
  readonly #indices: Int32Array;
  constructor(indices: Int32Array) {
    this.#indices = indices;
    this.length = indices.length;
  }
  indices(_epoch = 0, _seed = 0): Int32Array {
    return this.#indices.slice();
  }
}

/** The values of a 1-D tensor, or null when `v` is not tensor-like. */
function tensorValues(where: string, v: unknown): ArrayLike<number> | null {
  if (v === null || typeof v !== "object" || !("toArray" in v) || !("shape" in v)) return null;
  const t = v as { shape: readonly number[]; dtype: string; toArray(): ArrayLike<number> };
  if (t.shape.length !== 1 || t.dtype !== "int32") {
    throw new Error(
      `${where}: a tensor of indices must be 1-D int32, got [${t.shape}] (${t.dtype}); write ` +
        "indices.int() or indices.flatten()",
    );
  }
  return t.toArray();
}

/**
 * The loader's sampler from what was given as `sampler`: a `Sampler` as
 * is; an array, typed array, `Set` or 1-D int32 tensor of indices as a
 * fixed list (torch iterates any iterable it is given); otherwise an Error
 * saying what to write.
 */
export function toSampler(where: string, value: unknown): Sampler {
  if (isSampler(value)) return value;
  const fromTensor = tensorValues(where, value);
  if (fromTensor) return new ListSampler(indexArray(where, Array.from(fromTensor)));
  if (Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    return new ListSampler(indexArray(where, Array.from(value as ArrayLike<unknown>)));
  }
  if (value instanceof Set) return new ListSampler(indexArray(where, value));
  const iterable = value !== null && typeof value === "object" && Symbol.iterator in value;
  const why = iterable
    ? " (a one-shot iterator or generator would give an empty second epoch: collect it into " +
      "an array, [...it], or write a Sampler)"
    : typeof (value as { __iter__?: unknown } | null)?.__iter__ === "function"
    ? " (torch's __iter__ / __len__ are indices(epoch, seed) / length here)"
    : "";
  throw new Error(
    `${where} must be a Sampler (${SAMPLERS}; or your own { length, indices(epoch, seed) }) ` +
      `or an array of dataset indices, got ${describe(value)}${why}`,
  );
}

/** Throws unless every index of an epoch's order reads the dataset (torch's negatives allowed). */
export function checkOrder(where: string, order: Int32Array, n: number): void {
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (i >= n || i < -n) {
      throw new RangeError(
        `${where}: index ${i} (position ${k} of the epoch) is out of range for a dataset of ` +
          `${n} samples`,
      );
    }
  }
}
