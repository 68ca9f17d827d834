/**
 * 1-D pooling (PyTorch's F.max_pool1d, avg_pool1d, adaptive_avg_pool1d and
 * adaptive_max_pool1d), composed on the 2-D pools with a height of 1: x
 * [N, C, L] (or unbatched [C, L]) is pooled as [N, C, 1, L], so the values,
 * ceil mode, divisors and gradients are the 2-D kernels'. The max pool's
 * `dilation` and `returnIndices`, which the 2-D kernel does not offer, go
 * to pool_indices.ts (on the CPU its native kernel; elsewhere the gather
 * path: the values taken from x at the indices, so the gradient goes where
 * torch's does), as does the adaptive max pool's `returnIndices`.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { reshape, squeeze, unsqueeze } from "./shape.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "./pool.ts";
import {
  adaptiveMaxOptions,
  adaptiveMaxPool2d,
  type AdaptiveMaxPoolOptions,
} from "./adaptive_max_pool.ts";
import { maxPoolWithIndices } from "./pool_indices.ts";
import { type Single, single } from "./conv1d.ts";
import { checkArity, checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** Options of `maxPool1d` and `avgPool1d`. */
export interface Pool1dOptions {
  /** Step of the window (default: the kernel size). */
  stride?: Single;
  /** Implicit padding on each side (default 0; at most half the kernel). */
  padding?: Single;
  /** maxPool1d: spacing of the window's taps (default 1). */
  dilation?: Single;
  /**
   * maxPool1d: also return each output's index along L (int32; torch's
   * int64), as `[values, indices]` (default false).
   */
  returnIndices?: boolean;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** avgPool1d: count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
}

/** The options each 1-D pool takes (and its layer, `nn.MaxPool1d` or `nn.AvgPool1d`). */
export const POOL1D_OPTIONS: Record<"maxPool1d" | "avgPool1d", (keyof Pool1dOptions)[]> = {
  maxPool1d: ["stride", "padding", "dilation", "ceilMode", "returnIndices"],
  avgPool1d: ["stride", "padding", "ceilMode", "countIncludePad"],
};

/** x [N, C, L] or [C, L], checked, as [N, C, 1, L]; `undo` brings a pooled result back. */
function asPlane(x: unknown, where: string, usage: string): [Tensor, (y: Tensor) => Tensor] {
  expectTensor(x, where, usage);
  requireFloat(x, where);
  if (x.ndim !== 2 && x.ndim !== 3) {
    throw new Error(
      `${where}: expected a 2-D (unbatched [C, L]) or 3-D ([N, C, L]) input, got [${x.shape}]`,
    );
  }
  if (x.shape[x.ndim - 1] < 1) throw new Error(`${where}: input [${x.shape}] has no positions`);
  const batched = x.ndim === 3;
  const plane = unsqueeze(batched ? x : unsqueeze(x, 0), 2);
  return [plane, (y) => (batched ? squeeze(y, 2) : squeeze(squeeze(y, 2), 0))];
}

/** The checked window of a 1-D pool: kernel, stride, padding, dilation, ceil mode. */
function window(where: keyof typeof POOL1D_OPTIONS, kernel: unknown, o: Pool1dOptions) {
  const k = single(kernel, `${where}: kernel size`, 1);
  const s = single(o.stride ?? k, `${where}: stride`, 1);
  const p = single(o.padding ?? 0, `${where}: padding`, 0);
  if (p > k / 2) {
    throw new Error(`${where}: padding ${p} must be at most half the kernel size ${k}`);
  }
  const d = single(o.dilation ?? 1, `${where}: dilation`, 1);
  for (const flag of ["ceilMode", "returnIndices"] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== "boolean") {
      throw new Error(`${where}: ${flag} must be true or false, got ${showValue(o[flag])}`);
    }
  }
  return { k, s, p, d, ceil: o.ceilMode ?? false };
}

/**
 * The output length, or an Error where the window leaves none (torch's
 * "Output size is too small"): torch's formula, dilation and ceil mode in.
 */
function checkFits(
  where: string,
  x: Tensor,
  k: number,
  s: number,
  p: number,
  ceil: boolean,
  d = 1,
): number {
  const l = x.shape[3], span = l + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= l + p) out--;
  if (out < 1) {
    throw new Error(
      `${where}: input of length ${l} is too small for kernel ${k} (padding ${p}` +
        `${d === 1 ? "" : `, dilation ${d}`}); make the kernel, padding or dilation smaller`,
    );
  }
  return out;
}

/**
 * Max pooling over windows of x [N, C, L] (or [C, L]), as `F.max_pool1d`;
 * the stride defaults to the kernel size; padding (-inf), `dilation` and
 * `ceilMode` as torch's. With `returnIndices: true` it returns
 * `[values, indices]`, the indices along L as int32 (torch's int64): each
 * window's first maximum, or its last NaN, where the gradient goes, as
 * torch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[1, 3, 2, 5, 4]]]);
 * console.log(F.maxPool1d(x, 2).toArray()); // Float32Array [3, 5]
 * const [values, indices] = F.maxPool1d(x, 2, { dilation: 2, stride: 1, returnIndices: true });
 * console.log(values.toArray(), indices.toArray()); // Float32Array [2, 5, 4], Int32Array [2, 3, 4]
 * ```
 */
export function maxPool1d(
  x: Tensor,
  kernelSize: Single,
  options: Pool1dOptions & { returnIndices: true },
): [Tensor, Tensor];
export function maxPool1d(
  x: Tensor,
  kernelSize: Single,
  options?: Pool1dOptions & { returnIndices?: false },
): Tensor;
export function maxPool1d(
  x: Tensor,
  kernelSize: Single,
  options?: Pool1dOptions,
): Tensor | [Tensor, Tensor];
export function maxPool1d(
  x: Tensor,
  kernelSize: Single,
  options: Pool1dOptions = {},
): Tensor | [Tensor, Tensor] {
  refuseKeywords("F.maxPool1d", kernelSize, "x", ["kernelSize"], [], true);
  const where = "maxPool1d", usage = "F.maxPool1d(x, 3, { stride: 2, padding: 1 })";
  const o = checkCall<Pool1dOptions>(
    where,
    arguments.length,
    3,
    options,
    POOL1D_OPTIONS[where],
    usage,
  );
  const [plane, undo] = asPlane(x, where, usage);
  const { k, s, p, d, ceil } = window(where, kernelSize, o);
  const out = checkFits(where, plane, k, s, p, ceil, d);
  if (d === 1 && !o.returnIndices) {
    return undo(maxPool2d(plane, [1, k], { stride: [1, s], padding: [0, p], ceilMode: ceil }));
  }
  const [n, c, , l] = plane.shape;
  const rows = reshape(plane, [n * c, l]);
  const [values, indices] = maxPoolWithIndices(rows, [{ k, s, p, dil: d, out }], where);
  const back = (t: Tensor) => undo(unsqueeze(reshape(t, [n, c, out]), 2));
  return o.returnIndices ? [back(values), back(indices)] : back(values);
}

/**
 * Average pooling over windows of x [N, C, L] (or [C, L]), as
 * `F.avg_pool1d`; the stride defaults to the kernel size, and padded zeros
 * count in the divisor unless `countIncludePad: false`.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.avgPool1d(tensor([[[1, 3, 2, 6]]]), 2).toArray()); // Float32Array [2, 4]
 * ```
 */
export function avgPool1d(x: Tensor, kernelSize: Single, options: Pool1dOptions = {}): Tensor {
  refuseKeywords("F.avgPool1d", kernelSize, "x", ["kernelSize"], [], true);
  const where = "avgPool1d", usage = "F.avgPool1d(x, 3, { stride: 2, padding: 1 })";
  const o = checkCall<Pool1dOptions>(
    where,
    arguments.length,
    3,
    options,
    POOL1D_OPTIONS[where],
    usage,
  );
  const [plane, undo] = asPlane(x, where, usage);
  const { k, s, p, ceil } = window(where, kernelSize, o);
  if (o.countIncludePad !== undefined && typeof o.countIncludePad !== "boolean") {
    throw new Error(
      `${where}: countIncludePad must be true or false, got ${showValue(o.countIncludePad)}`,
    );
  }
  checkFits(where, plane, k, s, p, ceil);
  return undo(avgPool2d(plane, [1, k], {
    stride: [1, s],
    padding: [0, p],
    ceilMode: ceil,
    countIncludePad: o.countIncludePad ?? true,
  }));
}

/**
 * Adaptive average pooling of x [N, C, L] (or [C, L]) to [N, C, outputSize]
 * over torch's bins (floor(i L / o) up to ceil((i + 1) L / o)), as
 * `F.adaptive_avg_pool1d`.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.adaptiveAvgPool1d(tensor([[[1, 3, 2, 6]]]), 1).toArray()); // Float32Array [3]
 * ```
 */
export function adaptiveAvgPool1d(x: Tensor, outputSize: Single): Tensor {
  const where = "adaptiveAvgPool1d";
  checkArity(where, arguments.length, 2, "F.adaptiveAvgPool1d(x, 4)");
  const [plane, undo] = asPlane(x, where, "F.adaptiveAvgPool1d(x, 4)");
  const o = single(outputSize, `${where}: output size`, 1);
  return undo(adaptiveAvgPool2d(plane, [1, o]));
}

/**
 * Adaptive max pooling of x [N, C, L] (or [C, L]) to [N, C, outputSize]
 * over torch's bins, as `F.adaptive_max_pool1d`; the gradient goes to the
 * first maximum of each bin. With `returnIndices: true` it returns
 * `[values, indices]`, the indices along L as int32 (torch's int64): each
 * bin's first maximum, or its last NaN, where the gradient goes, as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.adaptiveMaxPool1d(tensor([[[1, 3, 2, 6, 0]]]), 2).toArray()); // Float32Array [3, 6]
 * const [values, indices] = F.adaptiveMaxPool1d(tensor([[[1, 3, 2, 6, 0]]]), 2, { returnIndices: true });
 * console.log(values.toArray(), indices.toArray()); // Float32Array [3, 6], Int32Array [1, 3]
 * ```
 */
export function adaptiveMaxPool1d(
  x: Tensor,
  outputSize: Single,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
export function adaptiveMaxPool1d(
  x: Tensor,
  outputSize: Single,
  options?: AdaptiveMaxPoolOptions & { returnIndices?: false },
): Tensor;
export function adaptiveMaxPool1d(
  x: Tensor,
  outputSize: Single,
  options?: AdaptiveMaxPoolOptions,
): Tensor | [Tensor, Tensor];
export function adaptiveMaxPool1d(
  x: Tensor,
  outputSize: Single,
  options: AdaptiveMaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  const where = "adaptiveMaxPool1d";
  const usage = "F.adaptiveMaxPool1d(x, 4, { returnIndices: true })";
  const indices = adaptiveMaxOptions(where, arguments.length, 3, options, usage);
  const [plane, undo] = asPlane(x, where, usage);
  const o = single(outputSize, `${where}: output size`, 1);
  if (!indices) return undo(adaptiveMaxPool2d(plane, [1, o]));
  // A plane of height 1: the flat index h W + w is the position along L.
  const [values, at] = adaptiveMaxPool2d(plane, [1, o], { returnIndices: true });
  return [undo(values), undo(at)];
}
