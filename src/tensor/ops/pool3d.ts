/**
 * 3-D pooling over [N, C, D, H, W] (PyTorch's F.max_pool3d, avg_pool3d; the
 * adaptive ones are pool3d_adaptive.ts), composed on the 2-D pools'
 * native kernels: a window's max (or sum) over depth, height and width is
 * the max (sum) over its depths of the 2-D window's. So H and W are pooled
 * first, as [N, C * D, H, W] images, and then each output depth reduces
 * its input depths (the max on the 2-D kernel again, a [kD, 1] window over
 * [D, H' W'] planes; with dilation, and the sums of the average, a gather
 * of the windows).
 *
 * The max's gradient goes to the first maximum in (depth, row, column)
 * order, or to the last NaN, as torch's: the 2-D pool sends it to the
 * first in its plane, the depth reduction to the first depth (and each to
 * the last NaN). Average divisors are torch's, a
 * product of one count per dimension, so they are divided out per stage.
 * `returnIndices` takes the gather path of pool_indices.ts instead.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { isGradEnabled } from "../autograd.ts";
import { requireFloat } from "./elementwise.ts";
import { isnan } from "./nonfinite.ts";
import { where } from "./where.ts";
import { div, mul } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { fromHost } from "./creation.ts";
import { max, mean, sum } from "./reduce.ts";
import { reshape, squeeze, unsqueeze } from "./shape.ts";
import { avgPool2d, maxPool2d } from "./pool.ts";
import { type Axis, maxPoolWithIndices, windows } from "./pool_indices.ts";
import { type Triple, triple } from "./conv3d.ts";
import { checkCall } from "../../options.ts";

/** Options of `maxPool3d` (and `nn.MaxPool3d`). */
export interface MaxPool3dOptions {
  /** Step of the window (default: the kernel size). */
  stride?: Triple | null;
  /** Implicit -inf padding on each side (default 0; at most half the kernel). */
  padding?: Triple;
  /** Spacing of the window's taps (default 1). */
  dilation?: Triple;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /**
   * Also return each output's index, flat within its volume
   * (d H W + h W + w; int32, torch's int64), as `[values, indices]`
   * (default false).
   */
  returnIndices?: boolean;
}

/** Options of `avgPool3d` (and `nn.AvgPool3d`). */
export interface AvgPool3dOptions {
  /** Step of the window (default: the kernel size). */
  stride?: Triple | null;
  /** Implicit zero padding on each side (default 0; at most half the kernel). */
  padding?: Triple;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead (default null: the window's count). */
  divisorOverride?: number | null;
}

/** The option names of each 3-D pool (its layer takes the same). */
export const POOL3D_OPTIONS = {
  maxPool3d: ["stride", "padding", "dilation", "ceilMode", "returnIndices"],
  avgPool3d: ["stride", "padding", "ceilMode", "countIncludePad", "divisorOverride"],
} as const;

/** torch's pooling_output_shape: the last window must start inside the input or left pad. */
function outSize(size: number, k: number, s: number, p: number, dil: number, ceil: boolean) {
  const span = size + 2 * p - dil * (k - 1) - 1;
  let o = Math.floor((span + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

/** Checks a 3-D pool's arguments; returns the per-dimension windows [D, H, W]. */
function geometry(
  what: keyof typeof POOL3D_OPTIONS,
  given: number,
  x: Tensor,
  kernel: Triple,
  options: MaxPool3dOptions & AvgPool3dOptions,
): Axis[] {
  const usage = `F.${what}(x, 2, { stride: 2, padding: 0 })`;
  const o = checkCall<MaxPool3dOptions & AvgPool3dOptions>(
    what,
    given,
    3,
    options,
    POOL3D_OPTIONS[what],
    usage,
  );
  expectTensor(x, what, usage);
  requireFloat(x, what);
  if (x.ndim !== 5) {
    throw new Error(
      `${what}: expected [N, C, D, H, W] or unbatched [C, D, H, W], got [${x.shape}]`,
    );
  }
  for (const key of ["ceilMode", "countIncludePad", "returnIndices"] as const) {
    if (o[key] !== undefined && typeof o[key] !== "boolean") {
      throw new Error(`${what}: ${key} must be true or false, got ${JSON.stringify(o[key])}`);
    }
  }
  const k = triple(kernel, `${what}: kernel size`, 1);
  const s = triple(o.stride ?? k, `${what}: stride`, 1);
  const p = triple(o.padding ?? 0, `${what}: padding`, 0);
  const dil = triple(o.dilation ?? 1, `${what}: dilation`, 1);
  if (p.some((v, i) => v > k[i] / 2)) {
    // torch: "pad should be smaller than or equal to half of kernel size".
    throw new Error(`${what}: padding ${p} must be at most half the kernel ${k}`);
  }
  const ceil = o.ceilMode ?? false;
  const axes = [0, 1, 2].map((i) => ({
    k: k[i],
    s: s[i],
    p: p[i],
    dil: dil[i],
    out: outSize(x.shape[i + 2], k[i], s[i], p[i], dil[i], ceil),
  }));
  if (axes.some((a) => a.out < 1)) {
    // A window spans dilation * (kernel - 1) + 1, more than the padded input.
    const span = axes.map((a) => a.dil * (a.k - 1) + 1).join(" x ");
    const padded = axes.map((a, i) => x.shape[i + 2] + 2 * a.p).join(" x ");
    throw new Error(
      `${what}: input [${x.shape}] is too small for kernel ${k} (dilation ${dil}, padding ${p}): ` +
        `a window spans ${span}, more than the padded input ${padded}; use a smaller kernel ` +
        "or dilation",
    );
  }
  return axes;
}

/** Whether the window along one dimension does nothing (kernel 1, stride 1, no padding). */
const identity = (a: Axis) => a.k === 1 && a.s === 1 && a.p === 0;

/**
 * Max over windows of dimension `dim` of x. The gradient goes where
 * torch's does: to the first maximum, or the last NaN of a window that
 * holds NaN (its kernels take a NaN over anything, later ones too). The
 * max's own gradient goes to the first, so where a gradient is recorded a
 * second max over the windows in reverse order gives the NaN windows'.
 */
function maxAlong(x: Tensor, dim: number, a: Axis): Tensor {
  if (identity(a)) return x;
  const outer = x.shape.slice(0, dim).reduce((m, v) => m * v, 1);
  const inner = x.shape.slice(dim + 1).reduce((m, v) => m * v, 1);
  const t = reshape(x, [outer, x.shape[dim], inner]);
  let y = max(windows(t, a, "max"), 2);
  if (isGradEnabled() && x.requiresGrad) {
    const lastNaN = max(windows(t, a, "max", true), 2);
    y = where(isnan(y), lastNaN, y);
  }
  return reshape(y, x.shape.map((v, i) => (i === dim ? a.out : v)));
}

/**
 * Max over the depth windows of y [N, C, D, H', W'] on the 2-D kernel, as
 * [N * C, 1, D, H' * W'] images pooled with a [kD, 1] window (no depth
 * dilation): its -inf padding, ties and NaN are torch's.
 */
function maxOverDepth(y: Tensor, a: Axis, ceilMode: boolean): Tensor {
  if (identity(a)) return y;
  const [n, c, d, h, w] = y.shape;
  const out = maxPool2d(reshape(y, [n * c, 1, d, h * w]), [a.k, 1], {
    stride: [a.s, 1],
    padding: [a.p, 0],
    ceilMode,
  });
  return reshape(out, [n, c, a.out, h, w]);
}

/**
 * Max pooling over windows of x [N, C, D, H, W] (or unbatched
 * [C, D, H, W]), as `F.max_pool3d`: the stride defaults to the kernel;
 * padding (-inf, at most half the kernel), dilation and ceil mode as
 * torch's. The gradient goes to each window's first maximum in (depth,
 * row, column) order, or its last NaN, as torch's. With `returnIndices:
 * true` it returns `[values, indices]`, the indices flat within each
 * volume (d H W + h W + w) as int32 (torch's int64), which
 * `F.maxUnpool3d` takes.
 *
 * @example
 * ```ts
 * import { functional as F, arange } from "@lits/vision";
 * const x = arange(0, 64).reshape([1, 1, 4, 4, 4]);
 * console.log(F.maxPool3d(x, 2).toArray()); // Float32Array [21, 23, 29, 31, 53, 55, 61, 63]
 * const [values, indices] = F.maxPool3d(x, 2, { returnIndices: true });
 * console.log(indices.toArray()); // Int32Array [21, 23, 29, 31, 53, 55, 61, 63]
 * ```
 */
export function maxPool3d(
  x: Tensor,
  kernelSize: Triple,
  options: MaxPool3dOptions & { returnIndices: true },
): [Tensor, Tensor];
export function maxPool3d(
  x: Tensor,
  kernelSize: Triple,
  options?: MaxPool3dOptions & { returnIndices?: false },
): Tensor;
export function maxPool3d(
  x: Tensor,
  kernelSize: Triple,
  options?: MaxPool3dOptions,
): Tensor | [Tensor, Tensor];
export function maxPool3d(
  x: Tensor,
  kernelSize: Triple,
  options: MaxPool3dOptions = {},
): Tensor | [Tensor, Tensor] {
  refuseKeywords("F.maxPool3d", kernelSize, "x", ["kernelSize"], [], true);
  const given = arguments.length;
  if (!unbatched(x)) return maxPool3dOf(x, kernelSize, options, given);
  const y = maxPool3dOf(unsqueeze(x, 0), kernelSize, options, given);
  return Array.isArray(y) ? [squeeze(y[0], 0), squeeze(y[1], 0)] : squeeze(y, 0);
}

/** Whether x is one unbatched volume [C, D, H, W] (pooled as a batch of one, as torch). */
const unbatched = (x: unknown): x is Tensor => x instanceof Tensor && x.ndim === 4;

function maxPool3dOf(
  x: Tensor,
  kernelSize: Triple,
  options: MaxPool3dOptions,
  given: number,
): Tensor | [Tensor, Tensor] {
  const [ad, ah, aw] = geometry("maxPool3d", given, x, kernelSize, options);
  const [n, c, d, h, w] = x.shape;
  if (options.returnIndices) {
    // The gather path: torch's indices, and the values taken at them.
    const [values, indices] = maxPoolWithIndices(
      reshape(x, [n * c, d, h, w]),
      [ad, ah, aw],
      "maxPool3d",
    );
    const shape = [n, c, ad.out, ah.out, aw.out];
    return [reshape(values, shape), reshape(indices, shape)];
  }
  const ceilMode = options.ceilMode ?? false;
  let y = x;
  if (identity(ah) && identity(aw)) {
    // Depth windows only.
  } else if (ah.dil === 1 && aw.dil === 1) {
    // Height and width on the 2-D kernel, the C * D planes as channels.
    y = maxPool2d(reshape(x, [n, c * d, h, w]), [ah.k, aw.k], {
      stride: [ah.s, aw.s],
      padding: [ah.p, aw.p],
      ceilMode,
    });
    y = reshape(y, [n, c, d, ah.out, aw.out]);
  } else {
    y = maxAlong(maxAlong(x, 4, aw), 3, ah);
  }
  return ad.dil === 1 ? maxOverDepth(y, ad, ceilMode) : maxAlong(y, 2, ad);
}

/** torch's divisor per output position along one dimension. */
function divisors(size: number, a: Axis, includePad: boolean): number[] {
  return Array.from({ length: a.out }, (_, o) => {
    const start = o * a.s - a.p;
    const end = Math.min(start + a.k, size + a.p);
    return includePad ? end - start : Math.min(end, size) - Math.max(start, 0);
  });
}

/**
 * Average pooling over windows of x [N, C, D, H, W] (or unbatched
 * [C, D, H, W]), as `F.avg_pool3d`: the stride defaults to the kernel; zero padding (at most half the
 * kernel), ceil mode, `countIncludePad` (default true) and
 * `divisorOverride` as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const x = ones([1, 1, 2, 2, 2]);
 * console.log(F.avgPool3d(x, 2).item()); // 1
 * console.log(F.avgPool3d(x, 2, { padding: 1 }).toArray()[0]); // 0.125
 * console.log(F.avgPool3d(x, 2, { divisorOverride: 2 }).item()); // 4
 * ```
 */
export function avgPool3d(x: Tensor, kernelSize: Triple, options: AvgPool3dOptions = {}): Tensor {
  refuseKeywords("F.avgPool3d", kernelSize, "x", ["kernelSize"], [], true);
  const given = arguments.length;
  if (unbatched(x)) return squeeze(avgPool3dOf(unsqueeze(x, 0), kernelSize, options, given), 0);
  return avgPool3dOf(x, kernelSize, options, given);
}

function avgPool3dOf(
  x: Tensor,
  kernelSize: Triple,
  options: AvgPool3dOptions,
  given: number,
): Tensor {
  const [ad, ah, aw] = geometry("avgPool3d", given, x, kernelSize, options);
  const override = options.divisorOverride ?? null;
  if (override !== null && (!Number.isInteger(override) || override === 0)) {
    // torch: "divisor must be not zero".
    throw new Error(
      `avgPool3d: divisorOverride must be a nonzero integer or null, got ${String(override)}`,
    );
  }
  const include = options.countIncludePad ?? true;
  const [n, c, d, h, w] = x.shape;
  const device = x.device;
  // Height and width on the 2-D kernel: the window means of each plane.
  let y = avgPool2d(reshape(x, [n, c * d, h, w]), [ah.k, aw.k], {
    stride: [ah.s, aw.s],
    padding: [ah.p, aw.p],
    ceilMode: options.ceilMode ?? false,
    countIncludePad: include,
  });
  const hw = ah.out * aw.out;
  y = reshape(y, [n * c, d, hw]);
  if (override !== null) {
    // Back to sums: times the 2-D divisors (torch's, for these options).
    const dh = divisors(h, ah, include), dw = divisors(w, aw, include);
    const counts = dh.flatMap((a) => dw.map((b) => a * b));
    y = mul(y, fromHost(counts, [1, 1, hw], { device }, true));
  }
  const depth = override !== null ? Array<number>(ad.out).fill(override) : divisors(d, ad, include);
  if (override === null && depth.every((v) => v === ad.k)) {
    // Every window counts its kernel: a mean (one pass).
    if (!identity(ad)) y = mean(windows(y, ad, "sum"), 2);
  } else {
    if (!identity(ad)) y = sum(windows(y, ad, "sum"), 2);
    y = div(y, fromHost(depth, [1, ad.out, 1], { device }, true));
  }
  return reshape(y, [n, c, ad.out, ah.out, aw.out]);
}

export {
  adaptiveAvgPool3d,
  adaptiveMaxPool3d,
  type AdaptiveSize3d,
  adaptiveSize3d,
} from "./pool3d_adaptive.ts";
