/**
 * Pooling: max, average and adaptive average (PyTorch's semantics,
 * ceil mode included), each with the backend's backward kernel. The max
 * pool's `dilation` and `returnIndices`, which the kernel does not offer,
 * take the gather path of pool_indices.ts.
 *
 * @module
 */
import { check, int32Params } from "../../ffi/native.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { Tensor } from "../tensor.ts";
import { contiguous, reshape, squeeze, unsqueeze } from "./shape.ts";
import { recordKernelGrad } from "./kernel_grad.ts";
import { isGradEnabled } from "../autograd.ts";
import { div, mul, requireFloat } from "./elementwise.ts";
import { fromHost } from "./creation.ts";
import { type Pair, pair } from "./conv.ts";
import * as fusion from "./fusion.ts";
import { maxPoolWithIndices } from "./pool_indices.ts";
import { showValue } from "./show_value.ts";
import { checkArity, checkCall } from "../../options.ts";

/** Options of `maxPool2d` and `avgPool2d`. */
export interface Pool2dOptions {
  /** Step of the window (default: the kernel size). */
  stride?: Pair;
  /** Implicit padding on each side (default 0; at most half the kernel). */
  padding?: Pair;
  /** maxPool2d: spacing of the window's taps (default 1). */
  dilation?: Pair;
  /**
   * maxPool2d: also return each output's index, flat within its plane
   * (h W + w; int32, torch's int64), as `[values, indices]` (default false).
   */
  returnIndices?: boolean;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** avgPool2d: count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
  /** avgPool2d: divide every window's sum by this instead (default null: its count). */
  divisorOverride?: number | null;
}

/** The options each pooling op takes (and its layer, `nn.MaxPool2d` or `nn.AvgPool2d`). */
export const POOL_OPTIONS: Record<"maxPool2d" | "avgPool2d", (keyof Pool2dOptions)[]> = {
  maxPool2d: ["stride", "padding", "dilation", "ceilMode", "returnIndices"],
  avgPool2d: ["stride", "padding", "ceilMode", "countIncludePad", "divisorOverride"],
};

function outSize(size: number, k: number, s: number, p: number, ceil: boolean, d = 1): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch: the last window must start inside the input or left padding.
  if (ceil && (o - 1) * s >= size + p) o--;
  return o;
}

function geometry(
  what: keyof typeof POOL_OPTIONS,
  given: number,
  x: Tensor,
  kernel: Pair,
  opts: Pool2dOptions,
) {
  // F.max_pool2d(x, 3, 2) is PyTorch's kernel 3, stride 2.
  const usage = `F.${what}(x, 3, { stride: 2, padding: 1 })`;
  const options = checkCall<Pool2dOptions>(what, given, 3, opts, POOL_OPTIONS[what], usage);
  requireFloat(x, what);
  if (x.ndim !== 4) {
    throw new Error(
      `${what}: expected a 4-D input [N, C, H, W] or a 3-D unbatched [C, H, W], got [${x.shape}]`,
    );
  }
  const [kh, kw] = pair(kernel, `${what}: kernel size`, 1);
  const [sh, sw] = pair(options.stride ?? [kh, kw], `${what}: stride`, 1);
  const [ph, pw] = pair(options.padding ?? 0, `${what}: padding`, 0);
  const [dh, dw] = pair(options.dilation ?? 1, `${what}: dilation`, 1);
  if (ph > kh / 2 || pw > kw / 2) {
    throw new Error(`${what}: padding ${ph},${pw} must be at most half the kernel ${kh},${kw}`);
  }
  for (const flag of ["ceilMode", "returnIndices"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") {
      throw new Error(`${what}: ${flag} must be true or false, got ${showValue(options[flag])}`);
    }
  }
  const [n, c, h, w] = x.shape;
  const ceil = options.ceilMode ?? false;
  const oh = outSize(h, kh, sh, ph, ceil, dh), ow = outSize(w, kw, sw, pw, ceil, dw);
  if (oh < 1 || ow < 1) {
    const dil = dh === 1 && dw === 1
      ? ""
      : ` (dilation ${dh},${dw}: a window spans ${dh * (kh - 1) + 1} x ${
        dw * (kw - 1) + 1
      }); make the kernel or dilation smaller`;
    throw new Error(`${what}: input [${x.shape}] is too small for kernel ${kh},${kw}${dil}`);
  }
  const desc = () =>
    `${what} x [${x.shape}] kernel ${kh},${kw} stride ${sh},${sw} padding ${ph},${pw}`;
  // lits_pool2d_params, in its field order.
  const params = int32Params([n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow], desc);
  const dilation = [dh, dw] as const;
  return { geom: [n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow] as const, params, desc, dilation };
}

/**
 * Max pooling over windows of x [N, C, H, W] (or unbatched [C, H, W]),
 * as `F.max_pool2d`: the stride defaults to the kernel size; padding
 * (-inf, at most half the kernel), `dilation` and `ceilMode` as torch's.
 * With `returnIndices: true` it returns `[values, indices]`, the indices
 * flat within each plane (h W + w) as int32 (torch's int64): each
 * window's first maximum in (row, column) order, or its last NaN, where
 * the gradient goes, as torch's; `F.maxUnpool2d` takes them.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[[[1, 2, 0, 1], [3, 4, 5, 0], [0, 1, 2, 2], [6, 0, 1, 3]]]]);
 * console.log(F.maxPool2d(x, 2).toArray()); // Float32Array [4, 5, 6, 3]
 * const [values, indices] = F.maxPool2d(x, 2, { returnIndices: true });
 * console.log(indices.toArray()); // Int32Array [5, 6, 12, 15]
 * console.log(F.maxPool2d(x, 2, { dilation: 2, stride: 1 }).toArray()); // Float32Array [2, 2, 6, 4]
 * ```
 */
export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  options: Pool2dOptions & { returnIndices: true },
): [Tensor, Tensor];
export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  options?: Pool2dOptions & { returnIndices?: false },
): Tensor;
export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  options?: Pool2dOptions,
): Tensor | [Tensor, Tensor];
export function maxPool2d(
  x: Tensor,
  kernel: Pair,
  options: Pool2dOptions = {},
): Tensor | [Tensor, Tensor] {
  refuseKeywords("F.maxPool2d", kernel, "x", ["kernelSize"], [], true);
  const given = arguments.length;
  if (!(x instanceof Tensor && x.ndim === 3)) return maxPool2dOf(x, kernel, options, given);
  // Unbatched [C, H, W], pooled as a batch of one (as torch).
  const y = maxPool2dOf(unsqueeze(x, 0), kernel, options, given);
  return Array.isArray(y) ? [squeeze(y[0], 0), squeeze(y[1], 0)] : squeeze(y, 0);
}

function maxPool2dOf(
  x: Tensor,
  kernel: Pair,
  options: Pool2dOptions,
  given: number,
): Tensor | [Tensor, Tensor] {
  const { geom, params, desc, dilation } = geometry("maxPool2d", given, x, kernel, options);
  const [n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow] = geom;
  if (options.returnIndices || dilation[0] !== 1 || dilation[1] !== 1) {
    // The gather path: torch's indices, and the values taken at them.
    const [values, indices] = maxPoolWithIndices(reshape(x, [n * c, h, w]), [
      { k: kh, s: sh, p: ph, dil: dilation[0], out: oh },
      { k: kw, s: sw, p: pw, dil: dilation[1], out: ow },
    ], "maxPool2d");
    const shape = [n, c, oh, ow];
    const y = reshape(values, shape);
    return options.returnIndices ? [y, reshape(indices, shape)] : y;
  }
  const cx = contiguous(x);
  const lib = x.lib;
  const y = Tensor.empty([n, c, oh, ow], "float32", x.device);
  // The argmax indices only serve the backward: without a gradient to record
  // (eval, noGrad) the CPU kernel writes none, a sixth of its traffic. The
  // CUDA kernel still wants them.
  const recording = isGradEnabled() && cx.requiresGrad;
  const idx = recording || x.device !== "cpu"
    ? Tensor.empty([n, c, oh, ow], "int32", x.device)
    : null;
  // A deferred ReLU (or batch norm) on x is applied while reading it.
  const xin = fusion.input(cx, n, c, h * w);
  check(
    lib,
    lib.lits_maxpool2d_forward_f32(params, xin.ptr, xin.coef, xin.relu, y.ptr, idx?.ptr ?? null),
    desc,
  );
  if (idx === null) return y;
  const out = { y, version: y.storage.version };
  // x for backends that want it; an unwritten deferred x (only backends with
  // the fused kernels make one, and they do not read it) stays unwritten.
  const xPtr = () => fusion.memoryOrNull(cx);
  return recordKernelGrad(
    y,
    "maxPool2d",
    cx,
    (dy, dx) => lib.lits_maxpool2d_backward_f32(params, xPtr(), y.ptr, dy.ptr, idx.ptr, dx.ptr),
    desc,
    // idx: checked up front, so a released one is named before any .grad is written.
    { deferred: (dy) => fusion.poolGrad(dy, idx, params, cx, out), reads: [idx] },
  );
}

/**
 * Average pooling over windows of x [N, C, H, W] (or unbatched [C, H, W], as
 * torch), as `F.avg_pool2d`: the stride defaults to the kernel; zero padding
 * (at most half the kernel), `ceilMode`, `countIncludePad` (default true)
 * and `divisorOverride` (each window's sum divided by it) as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const x = ones([1, 1, 2, 2]);
 * console.log(F.avgPool2d(x, 2).item()); // 1
 * console.log(F.avgPool2d(x, 2, { divisorOverride: 3 }).item()); // 1.3333333730697632
 * ```
 */
export function avgPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  refuseKeywords("F.avgPool2d", kernel, "x", ["kernelSize"], [], true);
  if (x instanceof Tensor && x.ndim === 3) {
    // Unbatched [C, H, W], pooled as a batch of one (as torch).
    return squeeze(avgPool2dOf(unsqueeze(x, 0), kernel, options, arguments.length), 0);
  }
  return avgPool2dOf(x, kernel, options, arguments.length);
}

function avgPool2dOf(x: Tensor, kernel: Pair, options: Pool2dOptions, given: number): Tensor {
  const { geom, params, desc } = geometry("avgPool2d", given, x, kernel, options);
  const [n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow] = geom;
  const override = options.divisorOverride ?? null;
  if (override !== null && (!Number.isInteger(override) || override === 0)) {
    // torch: "divisor must be not zero" (and an int: 2.5 is a TypeError there).
    throw new Error(
      `avgPool2d: divisorOverride must be a nonzero integer or null, got ${showValue(override)}`,
    );
  }
  const inc = options.countIncludePad ?? true ? 1 : 0;
  const cx = contiguous(x);
  const y = Tensor.empty([n, c, oh, ow], "float32", x.device);
  check(x.lib, x.lib.lits_avgpool2d_forward_f32(params, cx.ptr, y.ptr, inc), desc);
  const means = recordKernelGrad(
    y,
    "avgPool2d",
    cx,
    (dy, dx) => x.lib.lits_avgpool2d_backward_f32(params, dy.ptr, dx.ptr, inc),
    desc,
    { readsX: false },
  );
  if (override === null) return means;
  // Back to sums with the kernel's divisors (torch's, for these options), then / override.
  const dh = avgDivisors(h, kh, sh, ph, oh, inc === 1);
  const dw = avgDivisors(w, kw, sw, pw, ow, inc === 1);
  const counts = dh.flatMap((a) => dw.map((b) => a * b));
  const sums = mul(means, fromHost(counts, [oh, ow], { device: x.device }, true));
  return div(sums, override);
}

/** @internal torch's avg-pool divisor at each output position along one dimension. */
export function avgDivisors(
  size: number,
  k: number,
  s: number,
  p: number,
  out: number,
  includePad: boolean,
): number[] {
  return Array.from({ length: out }, (_, o) => {
    const start = o * s - p, end = Math.min(start + k, size + p);
    return includePad ? end - start : Math.min(end, size) - Math.max(start, 0);
  });
}

/** An adaptive pool's output size: one number, or [oh, ow] where null keeps that input size. */
export type AdaptiveSize = number | [number | null, number | null];

/** [oh, ow] from an adaptive size, null taking the input's h or w (torch's None). */
export function adaptiveSize(where: string, size: unknown, h: number, w: number): [number, number] {
  const usage = `F.${where}(x, [1, 1]) (null keeps that size)`;
  const given = typeof size === "number" ? [size, size] : size;
  if (!Array.isArray(given) || given.length !== 2) {
    throw new Error(
      `${where}: output size must be a number or 2 entries, got ${JSON.stringify(size)}; ` +
        `write ${usage}`,
    );
  }
  const out = [given[0] ?? h, given[1] ?? w];
  if (out.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(
      `${where}: output size must be integers >= 1 (or null), got ${JSON.stringify(size)}; ` +
        `write ${usage}`,
    );
  }
  return out as [number, number];
}

/**
 * Adaptive average pooling of x [N, C, H, W] (or unbatched [C, H, W]) to
 * [N, C, oh, ow] (PyTorch's bins); `outputSize` is one number or [oh, ow],
 * where null keeps that input dimension (torch's None).
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  checkArity("adaptiveAvgPool2d", arguments.length, 2, "F.adaptiveAvgPool2d(x, [1, 1])");
  requireFloat(x, "adaptiveAvgPool2d");
  if (x.ndim === 3) return squeeze(adaptiveAvgPool2d(unsqueeze(x, 0), outputSize), 0);
  if (x.ndim !== 4) {
    throw new Error(
      `adaptiveAvgPool2d: expected [N, C, H, W] or [C, H, W], got [${x.shape}]`,
    );
  }
  const [n, c, h, w] = x.shape;
  if (h < 1 || w < 1) throw new Error(`adaptiveAvgPool2d: input [${x.shape}] has an empty plane`);
  const [oh, ow] = adaptiveSize("adaptiveAvgPool2d", outputSize, h, w);
  const desc = () => `adaptiveAvgPool2d x [${x.shape}] to ${oh} x ${ow}`;
  int32Params([n, c, h, w, oh, ow], desc);
  const cx = contiguous(x);
  const y = Tensor.empty([n, c, oh, ow], "float32", x.device);
  check(
    x.lib,
    x.lib.lits_adaptive_avgpool2d_forward_f32(cx.ptr, y.ptr, n, c, h, w, oh, ow),
    desc,
  );
  return recordKernelGrad(
    y,
    "adaptiveAvgPool2d",
    cx,
    (dy, dx) => x.lib.lits_adaptive_avgpool2d_backward_f32(dy.ptr, dx.ptr, n, c, h, w, oh, ow),
    desc,
    { readsX: false },
  );
}
