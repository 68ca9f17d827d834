/**
 * Adaptive 3-D pooling (PyTorch's `F.adaptive_avg_pool3d` and
 * `F.adaptive_max_pool3d`) over [N, C, D, H, W] or one volume [C, D, H, W]:
 * torch's bins along depth, each an average or max of the 2-D adaptive pool
 * over height and width. The max pool's `returnIndices` takes
 * pool_indices.ts over the three dimensions' bins (on the CPU its native
 * kernel, elsewhere the gather path).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { max, mean } from "./reduce.ts";
import { narrow, reshape, squeeze, unsqueeze } from "./shape.ts";
import { stack } from "./join.ts";
import { adaptiveAvgPool2d } from "./pool.ts";
import {
  adaptiveMaxOptions,
  adaptiveMaxPool2d,
  type AdaptiveMaxPoolOptions,
  adaptiveMaxWithIndices,
} from "./adaptive_max_pool.ts";
/** An adaptive 3-D pool's output size: one number, or [od, oh, ow] where null keeps that size. */
export type AdaptiveSize3d = number | [number | null, number | null, number | null];

/** An adaptive size as given: numbers as `String` writes them (NaN, not JSON's null). */
function showSize(size: unknown): string {
  if (Array.isArray(size)) return `[${size.map((v) => (v === null ? "null" : showSize(v)))}]`;
  return typeof size === "number" ? String(size) : JSON.stringify(size) ?? String(size);
}

/**
 * [od, oh, ow] from an adaptive size, null taking the input's size (torch's
 * None). `usage` is what to write (default: the functional call `F.${where}`).
 */
export function adaptiveSize3d(
  where: string,
  size: unknown,
  dhw: readonly number[],
  usage = `F.${where}(x, [1, 1, 1])`,
): number[] {
  const hint = `${usage} (null keeps that size)`;
  const given = typeof size === "number" ? [size, size, size] : size;
  if (!Array.isArray(given) || given.length !== 3) {
    throw new Error(
      `${where}: output size must be a number or 3 entries [depth, height, width], got ${
        showSize(size)
      }; write ${hint}`,
    );
  }
  const out = given.map((v, i) => v ?? dhw[i]);
  if (out.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(
      `${where}: output size must be integers >= 1 (or null), got ${showSize(size)}; ` +
        `write ${hint}`,
    );
  }
  return out;
}

/** Checks an adaptive pool's input; unbatched [C, D, H, W] is pooled as one sample. */
function adaptiveInput(where: string, x: Tensor, outputSize: unknown, given: number): number[] {
  const usage = `F.${where}(x, [1, 1, 1])`;
  if (where === "adaptiveAvgPool3d" && given > 2) {
    throw new Error(`${where}: takes (x, outputSize), got ${given} arguments; write ${usage}`);
  }
  expectTensor(x, where, usage);
  requireFloat(x, where);
  if (x.ndim !== 5) {
    throw new Error(`${where}: expected [N, C, D, H, W] or [C, D, H, W], got [${x.shape}]`);
  }
  const dhw = x.shape.slice(2);
  if (dhw.some((v) => v < 1)) throw new Error(`${where}: input [${x.shape}] has an empty volume`);
  return adaptiveSize3d(where, outputSize, dhw);
}

/** torch's adaptive bins of `size` into `out`: [start, length] of each. */
function bins(size: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, i) => {
    const start = Math.floor((i * size) / out), end = Math.ceil(((i + 1) * size) / out);
    return [start, end - start];
  });
}

/** x [M, D, I] reduced over torch's adaptive depth bins into [M, od, I]. */
function depthBins(x: Tensor, od: number, reduce: "max" | "mean"): Tensor {
  const [m, d, i] = x.shape;
  if (od === d) return x;
  const op = reduce === "max" ? max : mean;
  if (d % od === 0) return op(reshape(x, [m, od, d / od, i]), 2);
  return stack(bins(d, od).map(([start, len]) => op(narrow(x, 1, start, len), 1)), 1);
}

/**
 * Adaptive average pooling of x [N, C, D, H, W] (or unbatched
 * [C, D, H, W]) to [N, C, od, oh, ow], as `F.adaptive_avg_pool3d`, with
 * torch's bins; `outputSize` is one number or [od, oh, ow], null keeping
 * that input dimension.
 *
 * @example
 * ```ts
 * import { functional as F, randn } from "@lits/vision";
 * console.log(F.adaptiveAvgPool3d(randn([2, 8, 5, 7, 7]), 1).shape); // [2, 8, 1, 1, 1]
 * console.log(F.adaptiveAvgPool3d(randn([2, 8, 5, 7, 7]), [2, null, 3]).shape); // [2, 8, 2, 7, 3]
 * ```
 */
export function adaptiveAvgPool3d(x: Tensor, outputSize: AdaptiveSize3d): Tensor {
  return adaptive3d("adaptiveAvgPool3d", x, outputSize, arguments.length);
}

/**
 * Adaptive max pooling of x [N, C, D, H, W] (or unbatched [C, D, H, W])
 * to [N, C, od, oh, ow], as `F.adaptive_max_pool3d`, with torch's bins;
 * `outputSize` is one number or [od, oh, ow], null keeping that input
 * dimension. The gradient goes to each bin's first maximum in (depth, row,
 * column) order, as torch's. With `returnIndices: true` it returns
 * `[values, indices]`, the indices flat within each volume
 * (d H W + h W + w) as int32 (torch's int64): each bin's first maximum, or
 * its last NaN, where the gradient goes, as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, arange } from "@lits/vision";
 * const x = arange(0, 27).reshape([1, 1, 3, 3, 3]);
 * console.log(F.adaptiveMaxPool3d(x, 1).item()); // 26
 * console.log(F.adaptiveMaxPool3d(x, [2, 1, 1]).toArray()); // Float32Array [17, 26]
 * const [values, indices] = F.adaptiveMaxPool3d(x, [2, 1, 1], { returnIndices: true });
 * console.log(indices.toArray()); // Int32Array [17, 26]
 * ```
 */
export function adaptiveMaxPool3d(
  x: Tensor,
  outputSize: AdaptiveSize3d,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
export function adaptiveMaxPool3d(
  x: Tensor,
  outputSize: AdaptiveSize3d,
  options?: AdaptiveMaxPoolOptions & { returnIndices?: false },
): Tensor;
export function adaptiveMaxPool3d(
  x: Tensor,
  outputSize: AdaptiveSize3d,
  options?: AdaptiveMaxPoolOptions,
): Tensor | [Tensor, Tensor];
export function adaptiveMaxPool3d(
  x: Tensor,
  outputSize: AdaptiveSize3d,
  options: AdaptiveMaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  const where = "adaptiveMaxPool3d";
  const usage = "F.adaptiveMaxPool3d(x, [1, 1, 1], { returnIndices: true })";
  if (!adaptiveMaxOptions(where, arguments.length, 3, options, usage)) {
    return adaptive3d(where, x, outputSize, 2);
  }
  if (x instanceof Object && (x as Tensor).ndim === 4) {
    const [v, i] = adaptiveMaxPool3d(unsqueeze(x, 0), outputSize, { returnIndices: true });
    return [squeeze(v, 0), squeeze(i, 0)];
  }
  const [od, oh, ow] = adaptiveInput(where, x, outputSize, 2);
  const [n, c, d, h, w] = x.shape, shape = [n, c, od, oh, ow];
  const [v, i] = adaptiveMaxWithIndices(reshape(x, [n * c, d, h, w]), [od, oh, ow], where);
  return [reshape(v, shape), reshape(i, shape)];
}

function adaptive3d(
  where: "adaptiveAvgPool3d" | "adaptiveMaxPool3d",
  x: Tensor,
  outputSize: AdaptiveSize3d,
  given: number,
): Tensor {
  if (x instanceof Object && (x as Tensor).ndim === 4) {
    return squeeze(adaptive3d(where, unsqueeze(x, 0), outputSize, given), 0);
  }
  const [od, oh, ow] = adaptiveInput(where, x, outputSize, given);
  const [n, c, d, h, w] = x.shape;
  const planes = reshape(x, [n, c * d, h, w]);
  const pooled = where === "adaptiveMaxPool3d"
    ? adaptiveMaxPool2d(planes, [oh, ow])
    : adaptiveAvgPool2d(planes, [oh, ow]);
  const y = depthBins(
    reshape(pooled, [n * c, d, oh * ow]),
    od,
    where === "adaptiveMaxPool3d" ? "max" : "mean",
  );
  return reshape(y, [n, c, od, oh, ow]);
}
