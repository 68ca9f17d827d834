/**
 * Pooling: max, average and adaptive average (PyTorch's semantics,
 * ceil mode included), each with the backend's backward kernel.
 *
 * @module
 */
import { check, int32Params } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { contiguous, squeeze, unsqueeze } from "./shape.ts";
import { recordKernelGrad } from "./kernel_grad.ts";
import { isGradEnabled } from "../autograd.ts";
import { requireFloat } from "./elementwise.ts";
import { type Pair, pair } from "./conv.ts";
import * as fusion from "./fusion.ts";
import { checkArity, checkCall } from "../../options.ts";

/** Options of `maxPool2d` and `avgPool2d`. */
export interface Pool2dOptions {
  /** Step of the window (default: the kernel size). */
  stride?: Pair;
  /** Implicit padding on each side (default 0; at most half the kernel). */
  padding?: Pair;
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** avgPool2d: count padded zeros in the divisor (default true). */
  countIncludePad?: boolean;
}

/** The options each pooling op takes (and its layer, `nn.MaxPool2d` or `nn.AvgPool2d`). */
export const POOL_OPTIONS: Record<"maxPool2d" | "avgPool2d", (keyof Pool2dOptions)[]> = {
  maxPool2d: ["stride", "padding", "ceilMode"],
  avgPool2d: ["stride", "padding", "ceilMode", "countIncludePad"],
};

function outSize(size: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = size + 2 * p - k;
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
  if (x.ndim !== 4) throw new Error(`${what}: expected a 4-D input [N, C, H, W], got [${x.shape}]`);
  const [kh, kw] = pair(kernel, `${what}: kernel size`, 1);
  const [sh, sw] = pair(options.stride ?? [kh, kw], `${what}: stride`, 1);
  const [ph, pw] = pair(options.padding ?? 0, `${what}: padding`, 0);
  if (ph > kh / 2 || pw > kw / 2) {
    throw new Error(`${what}: padding ${ph},${pw} must be at most half the kernel ${kh},${kw}`);
  }
  const [n, c, h, w] = x.shape;
  const ceil = options.ceilMode ?? false;
  const oh = outSize(h, kh, sh, ph, ceil), ow = outSize(w, kw, sw, pw, ceil);
  if (oh < 1 || ow < 1) {
    throw new Error(`${what}: input [${x.shape}] is too small for kernel ${kh},${kw}`);
  }
  const desc = () =>
    `${what} x [${x.shape}] kernel ${kh},${kw} stride ${sh},${sw} padding ${ph},${pw}`;
  // lits_pool2d_params, in its field order.
  const params = int32Params([n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow], desc);
  return { geom: [n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow] as const, params, desc };
}

/** Max pooling over windows of x [N, C, H, W]. */
export function maxPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  const { geom, params, desc } = geometry("maxPool2d", arguments.length, x, kernel, options);
  const [n, c, , , , , , , , , oh, ow] = geom;
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
  const [, , h, w] = geom;
  const xin = fusion.input(cx, n, c, h * w);
  check(
    lib,
    lib.lits_maxpool2d_forward_f32(params, xin.ptr, xin.coef, xin.relu, y.ptr, idx?.ptr ?? null),
    desc,
  );
  if (idx === null) return y;
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
    { deferred: (dy) => fusion.poolGrad(dy, idx, params, cx), reads: [idx] },
  );
}

/** Average pooling over windows of x [N, C, H, W]. */
export function avgPool2d(x: Tensor, kernel: Pair, options: Pool2dOptions = {}): Tensor {
  const { geom, params, desc } = geometry("avgPool2d", arguments.length, x, kernel, options);
  const [n, c, , , , , , , , , oh, ow] = geom;
  const inc = options.countIncludePad ?? true ? 1 : 0;
  const cx = contiguous(x);
  const y = Tensor.empty([n, c, oh, ow], "float32", x.device);
  check(x.lib, x.lib.lits_avgpool2d_forward_f32(params, cx.ptr, y.ptr, inc), desc);
  return recordKernelGrad(
    y,
    "avgPool2d",
    cx,
    (dy, dx) => x.lib.lits_avgpool2d_backward_f32(params, dy.ptr, dx.ptr, inc),
    desc,
    { readsX: false },
  );
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
