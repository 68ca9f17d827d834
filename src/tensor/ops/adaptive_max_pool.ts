/**
 * `F.adaptiveMaxPool2d`: max pooling of x [N, C, H, W] (or [C, H, W]) to a
 * given output size, over torch's bins (rows floor(i H / oh) up to
 * ceil((i + 1) H / oh), columns the same).
 *
 * The 1 x 1 head is a max over each flattened plane; where the bins tile
 * the image evenly (H and W multiples of the output) it is max pooling with
 * kernel = stride = H / oh, on the backend's kernel. Otherwise each bin is a max over its flattened
 * block. Either way the gradient goes to the first maximum of each bin in
 * row-major order, as torch's. `returnIndices` (here and for the 1-D and
 * 3-D adaptive pools) takes pool_indices.ts over torch's bins instead (on
 * the CPU its native kernel, elsewhere the gather path).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { max } from "./reduce.ts";
import { flatten, narrow, reshape, squeeze, unsqueeze } from "./shape.ts";
import { stack } from "./join.ts";
import { type AdaptiveSize, adaptiveSize, maxPool2d } from "./pool.ts";
import { adaptiveAxis, maxPoolWithIndices } from "./pool_indices.ts";
import { checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** Options of the adaptive max pools (`adaptiveMaxPool1d`, `2d`, `3d` and their layers). */
export interface AdaptiveMaxPoolOptions {
  /**
   * Also return each output's index, flat within its plane (h W + w; d H W
   * + h W + w for 3-D; the position along L for 1-D), int32 (torch's
   * int64), as `[values, indices]` (default false).
   */
  returnIndices?: boolean;
}

/** The option names of the adaptive max pools. */
const ADAPTIVE_MAX_POOL_OPTIONS: (keyof AdaptiveMaxPoolOptions)[] = ["returnIndices"];

/**
 * @internal Checks an adaptive max pool's call (`given` its
 * `arguments.length`, `most` the arguments it takes) and its options:
 * whether it returns the indices.
 */
export function adaptiveMaxOptions(
  where: string,
  given: number,
  most: number,
  options: unknown,
  usage: string,
): boolean {
  const o = checkCall<AdaptiveMaxPoolOptions>(
    where,
    given,
    most,
    options,
    ADAPTIVE_MAX_POOL_OPTIONS,
    usage,
  );
  const flag = o.returnIndices;
  if (flag !== undefined && typeof flag !== "boolean") {
    throw new Error(`${where}: returnIndices must be true or false, got ${showValue(flag)}`);
  }
  return flag ?? false;
}

/**
 * @internal Adaptive max pooling of x [P, ...sizes] (one to three spatial
 * dimensions) to `outs` with torch's indices: `[values, indices]`, both
 * [P, ...outs], the indices int32 and flat within each plane, each bin's
 * first maximum (or its last NaN), the values x at them (so the gradient
 * goes there), as torch's `adaptive_max_poolNd`.
 */
export function adaptiveMaxWithIndices(
  x: Tensor,
  outs: readonly number[],
  where: string,
): [Tensor, Tensor] {
  const axes = outs.map((o, d) => adaptiveAxis(x.shape[d + 1], o));
  return maxPoolWithIndices(x, axes, where);
}

/**
 * Adaptive max pooling of x [N, C, H, W] (or unbatched [C, H, W]) to
 * [N, C, oh, ow], as `F.adaptive_max_pool2d(x, outputSize)`: `outputSize`
 * is one number or [oh, ow], where null keeps that input dimension. The
 * average and max heads of many classifiers concatenate this with
 * `adaptiveAvgPool2d`. With `returnIndices: true` it returns
 * `[values, indices]`, the indices flat within each plane (h W + w) as
 * int32 (torch's int64): each bin's first maximum in (row, column) order,
 * or its last NaN, where the gradient goes, as torch's; `F.maxUnpool2d`
 * takes them (with a kernel and stride whose default output size is within
 * a stride of the input's, and `outputSize: x.shape`).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[[1, 5, 2], [4, 3, 6]]]]);
 * console.log(F.adaptiveMaxPool2d(x, 1).toArray()); // Float32Array [6]
 * console.log(F.adaptiveMaxPool2d(x, [1, 2]).toArray()); // Float32Array [5, 6]
 * const [values, indices] = F.adaptiveMaxPool2d(x, [1, 2], { returnIndices: true });
 * console.log(values.toArray(), indices.toArray()); // Float32Array [5, 6], Int32Array [1, 5]
 * ```
 */
export function adaptiveMaxPool2d(
  x: Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions & { returnIndices: true },
): [Tensor, Tensor];
export function adaptiveMaxPool2d(
  x: Tensor,
  outputSize: AdaptiveSize,
  options?: AdaptiveMaxPoolOptions & { returnIndices?: false },
): Tensor;
export function adaptiveMaxPool2d(
  x: Tensor,
  outputSize: AdaptiveSize,
  options?: AdaptiveMaxPoolOptions,
): Tensor | [Tensor, Tensor];
export function adaptiveMaxPool2d(
  x: Tensor,
  outputSize: AdaptiveSize,
  options: AdaptiveMaxPoolOptions = {},
): Tensor | [Tensor, Tensor] {
  const where = "adaptiveMaxPool2d";
  const usage = "F.adaptiveMaxPool2d(x, [1, 1], { returnIndices: true })";
  const indices = adaptiveMaxOptions(where, arguments.length, 3, options, usage);
  expectTensor(x, where, usage);
  requireFloat(x, where);
  if (!indices) return adaptiveMax2d(x, outputSize);
  if (x.ndim === 3) {
    const [v, i] = adaptiveMaxPool2d(unsqueeze(x, 0), outputSize, { returnIndices: true });
    return [squeeze(v, 0), squeeze(i, 0)];
  }
  const [n, c, h, w] = checkPlanes(where, x);
  const [oh, ow] = adaptiveSize(where, outputSize, h, w);
  const [v, i] = adaptiveMaxWithIndices(reshape(x, [n * c, h, w]), [oh, ow], where);
  return [reshape(v, [n, c, oh, ow]), reshape(i, [n, c, oh, ow])];
}

/** x's [N, C, H, W], or an Error for another rank or an empty plane. */
function checkPlanes(where: string, x: Tensor): readonly number[] {
  if (x.ndim !== 4) {
    throw new Error(`${where}: expected [N, C, H, W] or [C, H, W], got [${x.shape}]`);
  }
  const [, , h, w] = x.shape;
  if (h < 1 || w < 1) throw new Error(`${where}: input [${x.shape}] has an empty plane`);
  return x.shape;
}

/** The values alone, on reductions and the backend's pool (the path without indices). */
function adaptiveMax2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const where = "adaptiveMaxPool2d";
  if (x.ndim === 3) return squeeze(adaptiveMax2d(unsqueeze(x, 0), outputSize), 0);
  const [, , h, w] = checkPlanes(where, x);
  const [oh, ow] = adaptiveSize(where, outputSize, h, w);
  // The global pool as a reduction: the pooling kernel walks a whole plane per output (100x slower).
  if (oh === 1 && ow === 1) return unsqueeze(unsqueeze(max(flatten(x, 2), 2), 2), 3);
  if (h % oh === 0 && w % ow === 0) return maxPool2d(x, [h / oh, w / ow]);
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const h0 = Math.floor((i * h) / oh), h1 = Math.ceil(((i + 1) * h) / oh);
    const band = narrow(x, 2, h0, h1 - h0);
    const bins: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const w0 = Math.floor((j * w) / ow), w1 = Math.ceil(((j + 1) * w) / ow);
      bins.push(max(flatten(narrow(band, 3, w0, w1 - w0), 2), 2));
    }
    rows.push(stack(bins, 2));
  }
  return stack(rows, 2);
}
