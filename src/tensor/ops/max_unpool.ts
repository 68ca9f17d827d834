/**
 * Max unpooling (PyTorch's F.max_unpool1d, max_unpool2d, max_unpool3d): the
 * partial inverse of a max pool with `returnIndices`, which puts each value
 * back at its index in a plane of zeros. Composed on the backend's
 * scatter-add and gather, so it runs on every device (the CPU takes the
 * native kernels of pool_indices_native.ts, the same rules): the indices
 * are checked on the host (torch's error for one outside the output
 * plane), an index that repeats within a plane keeps
 * only its last value (torch's CPU kernel writes them in order), and the
 * gradient of x is the output's gradient gathered at the indices, as
 * torch's.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, type Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous, i64, reshape } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { filledOp, fromHost } from "./creation.ts";
import { takeAlong } from "./gather.ts";
import { type Single, single } from "./conv1d.ts";
import { type Pair, pair } from "./conv.ts";
import { type Triple, triple } from "./conv3d.ts";
import { checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";
import { canUnpoolNatively, maxUnpoolNative } from "./pool_indices_native.ts";

/** Options of `maxUnpool1d`, `maxUnpool2d` and `maxUnpool3d` (S: one size per dimension). */
export interface MaxUnpoolOptions<S> {
  /** The pool's stride (default null: the kernel size). */
  stride?: S | null;
  /** The pool's padding (default 0). */
  padding?: S;
  /**
   * The size to restore (the pooled input's, where the default
   * `(in - 1) * stride - 2 * padding + kernel` is one short, as after an
   * odd size): the spatial sizes, or the whole shape with N and C.
   */
  outputSize?: readonly number[] | null;
}

/** Options of `maxUnpool1d`. */
export type MaxUnpool1dOptions = MaxUnpoolOptions<Single>;
/** Options of `maxUnpool2d`. */
export type MaxUnpool2dOptions = MaxUnpoolOptions<Pair>;
/** Options of `maxUnpool3d`. */
export type MaxUnpool3dOptions = MaxUnpoolOptions<Triple>;

/** The option names of the functional unpools (the layers take stride and padding). */
export const MAX_UNPOOL_OPTIONS = ["stride", "padding", "outputSize"] as const;

/** One size per spatial dimension, checked (`single`, `pair` or `triple`). */
export type Sizes = (v: unknown, what: string, min: number) => number[];

/** @internal The checked sizes of an nd-dimensional unpool. */
export const SIZES: Record<1 | 2 | 3, Sizes> = {
  1: (v, what, min) => [single(v, what, min)],
  2: (v, what, min) => pair(v as Pair, what, min),
  3: (v, what, min) => triple(v as Triple, what, min),
};

/**
 * torch's `_unpool_output_size`: the default `(in - 1) * stride - 2 *
 * padding + kernel` per dimension, or `outputSize` (its last nd entries
 * where it has nd + 2), each strictly within a stride of the default.
 */
export function unpoolOutputSize(
  where: string,
  inSizes: readonly number[],
  k: readonly number[],
  s: readonly number[],
  p: readonly number[],
  outputSize: unknown,
): number[] {
  const nd = inSizes.length;
  const byDefault = inSizes.map((v, d) => (v - 1) * s[d] - 2 * p[d] + k[d]);
  let out = byDefault;
  if (outputSize !== null && outputSize !== undefined) {
    const given = Array.isArray(outputSize) ? outputSize : null;
    if (given === null || (given.length !== nd && given.length !== nd + 2)) {
      throw new Error(
        `${where}: outputSize must be ${nd} sizes (or ${nd + 2}, with N and C), got ` +
          `${showValue(outputSize)}; write outputSize: x.shape of the pooled input ` +
          `(x.shape.slice(-${nd}) for an unbatched one)`,
      );
    }
    out = given.slice(given.length - nd);
    if (out.some((v) => !Number.isInteger(v) || v < 0)) {
      throw new Error(`${where}: outputSize must be integers >= 0, got ${showValue(outputSize)}`);
    }
    out.forEach((v, d) => {
      const lo = byDefault[d] - s[d], hi = byDefault[d] + s[d];
      if (!(lo < v && v < hi)) {
        // torch: 'invalid output_size "[2, 2]" (dim 0 must be between 2 and 6)'.
        throw new Error(
          `${where}: invalid outputSize [${given}]: dimension ${d} must be above ${lo} and ` +
            `below ${hi} (the default is ${byDefault[d]}, for input size ${inSizes[d]}, ` +
            `kernel ${k[d]}, stride ${s[d]}, padding ${p[d]})`,
        );
      }
    });
  }
  if (out.some((v) => v < 1)) {
    throw new Error(
      `${where}: the output [${out}] is empty (input [${inSizes}], kernel [${k}], stride ` +
        `[${s}], padding [${p}]); use the pool's kernel, stride and padding`,
    );
  }
  return out;
}

/** Throws torch's error for the first index outside the output plane `out`, with its value. */
function checkIndices(where: string, idx: Int32Array, out: readonly number[]): void {
  const r = numel(out);
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v >= r) {
      throw new Error(
        `${where}: found an invalid max index ${v} (at flat position ${i} of the indices): ` +
          `the output planes are ${out.join(" x ")}, so indices must be 0 to ${r - 1}; pass ` +
          "the indices of the max pool with the same kernel, stride and padding (and the " +
          "pooled input's size as outputSize)",
      );
    }
  }
}

/**
 * The indices as the scatter uses them: checked (`checkIndices`), and,
 * where an index repeats within a plane, -1 (which adds nothing) everywhere
 * but its last occurrence, so that the last value stays, as torch's CPU
 * kernel writes them in order. null where nothing repeats (the indices are
 * used as they are).
 */
function lastWriters(
  where: string,
  idx: Int32Array,
  planes: number,
  k: number,
  out: readonly number[],
): Int32Array | null {
  checkIndices(where, idx, out);
  const seen = new Uint8Array(numel(out));
  let used: Int32Array | null = null;
  for (let q = 0; q < planes; q++) {
    const base = q * k;
    for (let j = k - 1; j >= 0; j--) {
      const v = idx[base + j];
      if (seen[v] === 0) seen[v] = 1;
      else (used ??= Int32Array.from(idx))[base + j] = -1;
    }
    for (let j = 0; j < k; j++) seen[idx[base + j]] = 0;
  }
  return used;
}

/** @internal The unpool of x and its indices (checked) to `out` per plane; nd spatial dims. */
export function maxUnpool(
  where: string,
  nd: 1 | 2 | 3,
  given: number,
  x: Tensor,
  indices: Tensor,
  kernelSize: unknown,
  options: MaxUnpoolOptions<unknown>,
): Tensor {
  const usage = `F.${where}(x, indices, 2, { stride: 2, outputSize: input.shape })`;
  const o = checkCall<MaxUnpoolOptions<unknown>>(
    where,
    given,
    4,
    options,
    MAX_UNPOOL_OPTIONS,
    usage,
  );
  expectTensor(x, where, usage);
  expectTensor(indices, `${where}: indices`, usage);
  requireFloat(x, where);
  if (x.ndim !== nd + 1 && x.ndim !== nd + 2) {
    const dims = ["L", "H, W", "D, H, W"][nd - 1];
    throw new Error(
      `${where}: expected x [N, C, ${dims}] or unbatched [C, ${dims}], got [${x.shape}]`,
    );
  }
  if (indices.dtype !== "int32") {
    throw new Error(
      `${where}: indices must be int32 (as a max pool's returnIndices gives), got ` +
        `${indices.dtype}; convert them with indices.int()`,
    );
  }
  if (indices.ndim !== x.ndim || indices.shape.some((v, i) => v !== x.shape[i])) {
    throw new Error(
      `${where}: indices [${indices.shape}] must have the shape of x [${x.shape}]; pass the ` +
        "indices the max pool returned with these values",
    );
  }
  sameDevice(x, indices, where);
  const sizes = SIZES[nd];
  const k = sizes(kernelSize, `${where}: kernel size`, 1);
  const s = o.stride == null ? k : sizes(o.stride, `${where}: stride`, 1);
  const p = sizes(o.padding ?? 0, `${where}: padding`, 0);
  const lead = x.shape.slice(0, x.ndim - nd), inSizes = x.shape.slice(x.ndim - nd);
  const empty = x.shape.findIndex((v, i) => v === 0 && (i > 0 || x.ndim === nd + 1));
  if (empty >= 0) {
    // torch: "Expected input to have non-zero size for non-batch dimensions".
    throw new Error(`${where}: x [${x.shape}] is empty in dimension ${empty}, not the batch`);
  }
  const out = unpoolOutputSize(where, inSizes, k, s, p, o.outputSize);
  if (canUnpoolNatively(x)) {
    return maxUnpoolNative(
      where,
      x,
      indices,
      out,
      (idx) => checkIndices(where, idx.toArray() as Int32Array, out),
    );
  }
  const planes = numel(lead), kIn = numel(inSizes), r = numel(out);
  const idx = contiguous(indices);
  const used = lastWriters(where, idx.toArray() as Int32Array, planes, kIn, out);
  const scatterAt = used === null ? idx : fromHost(used, idx.shape, {
    dtype: "int32",
    device: x.device,
  }, true);
  const src = contiguous(x);
  // An op's result, freed at the step as every op's (zeros() would be the caller's).
  const y = filledOp([...lead, ...out], 0, x.device);
  const desc = () => `${where} x [${x.shape}] to [${out}] per plane`;
  // [planes, r, 1] += x [planes, kIn, 1] at the (last writers') indices.
  const strides = i64([kIn, 1, 1]);
  check(
    x.lib,
    x.lib.lits_scatter_add_f32(src.ptr, scatterAt.ptr, strides, y.ptr, planes, r, kIn, 1),
    desc,
  );
  return record(y, {
    name: where,
    inputs: [x],
    saved: [idx],
    backward: (g) => {
      const rows = reshape(g, [planes, r]);
      const taken = takeAlong(rows, 1, reshape(idx, [planes, kIn]), "dense", false, where);
      return [reshape(taken, [...x.shape])];
    },
  });
}

/**
 * The partial inverse of `F.maxPool1d` with `returnIndices`, as
 * `F.max_unpool1d`: x [N, C, L] (or [C, L]) put back at its int32
 * `indices` along a length of zeros, `(L - 1) * stride - 2 * padding +
 * kernel` unless `outputSize` says (within a stride of that, as torch's).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const [values, indices] = F.maxPool1d(tensor([[[1, 3, 2, 5]]]), 2, { returnIndices: true });
 * console.log(F.maxUnpool1d(values, indices, 2).toArray()); // Float32Array [0, 3, 0, 5]
 * ```
 */
export function maxUnpool1d(
  x: Tensor,
  indices: Tensor,
  kernelSize: Single,
  options: MaxUnpool1dOptions = {},
): Tensor {
  return maxUnpool("maxUnpool1d", 1, arguments.length, x, indices, kernelSize, options);
}

/**
 * The partial inverse of `F.maxPool2d` with `returnIndices`, as
 * `F.max_unpool2d`: x [N, C, H, W] (or [C, H, W]) put back at its int32
 * `indices` (flat within each plane) in planes of zeros,
 * `(in - 1) * stride - 2 * padding + kernel` per dimension unless
 * `outputSize` says (within a stride of that, as torch's: pass the pooled
 * input's shape after an odd size). An index repeated within a plane
 * keeps its last value (torch's CPU kernel); the gradient of x is the
 * output's gradient at the indices.
 *
 * @example
 * ```ts
 * import { functional as F, randn } from "@lits/vision";
 * const x = randn([1, 2, 5, 5]);
 * const [values, indices] = F.maxPool2d(x, 2, { returnIndices: true });
 * const y = F.maxUnpool2d(values, indices, 2, { outputSize: x.shape });
 * console.log(y.shape); // [1, 2, 5, 5]
 * ```
 */
export function maxUnpool2d(
  x: Tensor,
  indices: Tensor,
  kernelSize: Pair,
  options: MaxUnpool2dOptions = {},
): Tensor {
  return maxUnpool("maxUnpool2d", 2, arguments.length, x, indices, kernelSize, options);
}

/**
 * The partial inverse of `F.maxPool3d` with `returnIndices`, as
 * `F.max_unpool3d`: x [N, C, D, H, W] (or [C, D, H, W]) put back at its
 * int32 `indices` (flat within each volume) in volumes of zeros, sized as
 * `maxUnpool2d`'s.
 *
 * @example
 * ```ts
 * import { functional as F, randn } from "@lits/vision";
 * const [values, indices] = F.maxPool3d(randn([1, 1, 4, 4, 4]), 2, { returnIndices: true });
 * console.log(F.maxUnpool3d(values, indices, 2).shape); // [1, 1, 4, 4, 4]
 * ```
 */
export function maxUnpool3d(
  x: Tensor,
  indices: Tensor,
  kernelSize: Triple,
  options: MaxUnpool3dOptions = {},
): Tensor {
  return maxUnpool("maxUnpool3d", 3, arguments.length, x, indices, kernelSize, options);
}
