/**
 * 1-D convolution (PyTorch's F.conv1d), composed on `conv2d` with a height
 * of 1: x [N, C, L] is [N, C, 1, L], the weight [K, C / groups, k] is
 * [K, C / groups, 1, k], so the values and gradients are conv2d's kernels'.
 * `single` and `paddingAmounts` are shared with the 1-D pools and layers.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { refuseBiasOptions } from "./keyword_args.ts";
import { conv2d, noChannels } from "./conv.ts";
import { pad } from "./pad.ts";
import { squeeze, unsqueeze } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** A 1-D size: a number, or torch's one-element tuple `[n]`. */
export type Single = number | [number];

/** Expands a `Single` and checks it is an integer >= `min`. */
export function single(v: unknown, what: string, min: number): number {
  const n = typeof v === "number" ? v : Array.isArray(v) && v.length === 1 ? v[0] : undefined;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) {
    throw new Error(`${what} must be an integer >= ${min} (or [n]), got ${showValue(v)}`);
  }
  return n;
}

/** A 1-D convolution's padding: zeros on each side, or "valid" (none) or "same" (stride 1). */
export type Padding1d = Single | "valid" | "same";

/**
 * [left, right] zeros for `padding` with a kernel of `kernel` taps spaced
 * `dilation` at `stride`. "same" pads dilation * (kernel - 1) in all, the
 * odd one on the right, as torch's; it is refused for a stride > 1, as torch's.
 */
export function paddingAmounts(
  padding: unknown,
  kernel: number,
  dilation: number,
  stride: number,
  what: string,
): [number, number] {
  if (padding === "valid") return [0, 0];
  if (padding === "same") {
    if (stride !== 1) {
      throw new Error(
        `${what}: padding "same" is not supported for strided convolutions (stride ${stride}), ` +
          "as in PyTorch; give the padding as a number",
      );
    }
    const total = dilation * (kernel - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  if (typeof padding === "string") {
    throw new Error(
      `${what}: padding must be an integer >= 0, "valid" or "same", got ${showValue(padding)}`,
    );
  }
  const p = single(padding, `${what}: padding`, 0);
  return [p, p];
}

/** Options of `conv1d`. */
export interface Conv1dOptions {
  /** Step of the window (default 1). */
  stride?: Single;
  /** Zeros on each side (default 0), or "valid" (0) or "same" (stride 1). */
  padding?: Padding1d;
  /** Spacing of the kernel's taps (default 1). */
  dilation?: Single;
  /** Channel groups (default 1). */
  groups?: number;
}

/** The option names of `conv1d` (`nn.Conv1d` adds `bias` and `paddingMode`). */
export const CONV1D_OPTIONS: (keyof Conv1dOptions)[] = ["stride", "padding", "dilation", "groups"];

/**
 * y = conv1d(x, weight) + bias, as `F.conv1d`: x [N, C, L] or unbatched
 * [C, L], weight [K, C / groups, k], bias [K] or null; y [N, K, L'] (or
 * [K, L']). "same" padding with an even span pads the extra zero on the
 * right, as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const y = F.conv1d(ones([1, 2, 5]), ones([3, 2, 3]), null, { padding: 1 });
 * console.log(y.shape, y.toArray().slice(0, 5)); // [1, 3, 5] Float32Array(5) [4, 6, 6, 6, 4]
 * ```
 */
export function conv1d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv1dOptions = {},
): Tensor {
  const where = "conv1d";
  const usage = "F.conv1d(x, weight, bias, { stride: 1, padding: 1 })";
  expectTensor(x, where, usage);
  expectTensor(weight, `${where}: weight`, usage);
  refuseBiasOptions("F.conv1d", bias);
  if (bias !== null && bias !== undefined && !(bias instanceof Tensor)) {
    throw new Error(
      `${where}: the third argument is the bias (a Tensor or null), got ${showValue(bias)}; ` +
        "options go fourth: F.conv1d(x, weight, null, { padding: 1 })",
    );
  }
  const o = checkCall<Conv1dOptions>(where, arguments.length, 4, options, CONV1D_OPTIONS, usage);
  requireFloat(x, where);
  requireFloat(weight, where);
  sameDevice(x, weight, where);
  if (bias) {
    requireFloat(bias, where);
    sameDevice(x, bias, where);
  }
  if (x.ndim !== 2 && x.ndim !== 3) {
    throw new Error(
      `${where}: expected a 2-D (unbatched [C, L]) or 3-D ([N, C, L]) input, got [${x.shape}]`,
    );
  }
  if (weight.ndim !== 3) {
    throw new Error(`${where}: expected a 3-D weight [out, in / groups, k], got [${weight.shape}]`);
  }
  if (x.shape[x.ndim - 2] === 0) throw new Error(noChannels(where, x.shape, weight.shape));
  const stride = single(o.stride ?? 1, `${where}: stride`, 1);
  const dilation = single(o.dilation ?? 1, `${where}: dilation`, 1);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${where}: groups must be an integer >= 1, got ${showValue(groups)}`);
  }
  const [k, cg, kw] = weight.shape;
  const c = x.shape[x.ndim - 2], l = x.shape[x.ndim - 1];
  const desc = `${where} x [${x.shape}] weight [${weight.shape}]`;
  if (c !== cg * groups || k % groups !== 0) {
    throw new Error(
      `${desc}: the input has ${c} channels, the weight expects ${cg} x ${groups} groups` +
        (k % groups !== 0 ? ` and its ${k} outputs do not divide into ${groups} groups` : ""),
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== k)) {
    throw new Error(`${desc}: bias must be [${k}], got [${bias.shape}]`);
  }
  const [left, right] = paddingAmounts(o.padding ?? 0, kw, dilation, stride, where);
  const span = dilation * (kw - 1) + 1;
  if (l + left + right < span) {
    throw new Error(
      `${desc}: the padded input has ${l + left + right} positions, fewer than the kernel's ` +
        `span ${span}; the output would be empty`,
    );
  }
  const batched = x.ndim === 3 ? x : unsqueeze(x, 0);
  // The odd "same" zero goes on the right: pad first, then convolve unpadded.
  const padded = left === right ? batched : pad(batched, [left, right]);
  const p = left === right ? left : 0;
  const y = conv2d(unsqueeze(padded, 2), unsqueeze(weight, 2), bias ?? null, {
    stride: [1, stride],
    padding: [0, p],
    dilation: [1, dilation],
    groups,
  });
  const out = squeeze(y, 2);
  return x.ndim === 3 ? out : squeeze(out, 0);
}
