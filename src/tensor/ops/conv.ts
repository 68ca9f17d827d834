/**
 * 2-D convolution (PyTorch's F.conv2d) on the backend's forward,
 * backward-data, backward-filter and bias-gradient kernels.
 *
 * @module
 */
import { check, int32Params } from "../../ffi/native.ts";
import { refuseBiasOptions } from "./keyword_args.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled, record } from "../autograd.ts";
import { contiguous } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { pad } from "./pad.ts";
import * as fusion from "./fusion.ts";
import * as batchMoments from "./batch_moments.ts";
import { preparedWeights, releasePreparedWeights } from "./conv_prepared.ts";
import { checkCall } from "../../options.ts";
import { checkElements } from "../sizes.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import { bf16Values, markBf16Dy } from "./bf16_grad.ts";

/** A size given once for both dimensions, or as [height, width]. */
export type Pair = number | [number, number];

/** Expands a `Pair` and checks it. */
export function pair(v: Pair, what: string, min: number): [number, number] {
  if (typeof v !== "number" && !(Array.isArray(v) && v.length === 2)) {
    // torch: "expected stride to be a single integer value or a list of 2 values".
    throw new Error(`${what} must be a number or 2 numbers, got ${JSON.stringify(v) ?? String(v)}`);
  }
  const p: [number, number] = typeof v === "number" ? [v, v] : [v[0], v[1]];
  if (p.some((x) => !Number.isInteger(x) || x < min)) {
    const shown = typeof v === "number" ? String(v) : `[${v.map(String)}]`; // NaN, not null
    throw new Error(`${what} must be integers >= ${min}, got ${shown}`);
  }
  return p;
}

/**
 * A convolution's padding: zeros on each side, or PyTorch's "valid" (none)
 * and "same" (the output keeps the input's size; stride 1).
 */
export type Padding = Pair | "valid" | "same";

/**
 * `padding` as zeros on each side for a kernel of `kernel` taps spaced
 * `dilation` at `stride`: "same" pads dilation * (kernel - 1) in all, half
 * on each side; where that is odd (an even kernel) PyTorch pads one more
 * on the right, which this convolution cannot, so it says so.
 */
export function paddingPair(
  padding: Padding,
  kernel: readonly number[],
  dilation: readonly number[],
  stride: readonly number[],
  what: string,
): [number, number] {
  if (padding === "valid") return [0, 0];
  if (padding !== "same") {
    if (typeof padding === "string") {
      throw new Error(
        `${what}: padding must be integers >= 0, "valid" or "same", got ${JSON.stringify(padding)}`,
      );
    }
    return pair(padding, `${what}: padding`, 0);
  }
  if (stride[0] !== 1 || stride[1] !== 1) {
    throw new Error(
      `${what}: padding "same" is not supported for strided convolutions (stride ${stride}), ` +
        "as in PyTorch; give the padding as numbers",
    );
  }
  const total = [0, 1].map((i) => dilation[i] * (kernel[i] - 1));
  if (total.some((t) => t % 2 !== 0)) {
    throw new Error(
      `${what}: padding "same" for kernel ${kernel} (dilation ${dilation}) needs ${total} ` +
        "zeros in all, one more on one side than the other, and this convolution pads both " +
        "sides alike; use an odd kernel size, or pad the input yourself",
    );
  }
  return [total[0] / 2, total[1] / 2];
}

/** Options of `conv2d`. */
export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: Pair;
  /** Zero padding on each side (default 0), or "valid" (0) or "same" (stride 1). */
  padding?: Padding;
  /** Spacing of the kernel's taps (default 1). */
  dilation?: Pair;
  /** Channel groups (default 1). */
  groups?: number;
}

/** The option names of `conv2d` (`nn.Conv2d` adds `bias`). */
export const CONV2D_OPTIONS: (keyof Conv2dOptions)[] = ["stride", "padding", "dilation", "groups"];

/**
 * The refusal of a convolution whose input has 0 channels (torch 1.13 returns
 * an empty `[N, 0, ...]` tensor there, whatever the weight's output channels,
 * and the native kernels take sizes >= 1).
 */
export function noChannels(
  op: string,
  shape: readonly number[],
  wshape: readonly number[],
): string {
  return `${op}: the input has 0 channels (x [${shape}], weight [${wshape}]); give it at ` +
    "least 1 input channel";
}

/** A checked convolution: `lits_conv2d_params` and the sizes it implies. */
export interface ConvGeometry {
  /** lits_conv2d_params, in its field order. */
  params: Int32Array;
  n: number;
  c: number;
  h: number;
  w: number;
  k: number;
  oh: number;
  ow: number;
  /** The call, for error messages. */
  desc: () => string;
}

/**
 * y = conv2d(x, weight) + bias, x [N, C, H, W], weight [K, C / groups, R, S].
 * "same" padding of an even kernel pads one more zero after than before
 * (bottom, right), as torch's.
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv2dOptions = {},
): Tensor {
  const usage = "F.conv2d(x, weight, bias, { stride: 1, padding: 1 })";
  refuseBiasOptions("F.conv2d", bias);
  if (bias !== null && !(bias instanceof Tensor)) {
    // F.conv2d(x, w, { padding: 1 }): the options landed in the bias slot.
    throw new Error(
      `conv2d: the third argument is the bias (a Tensor or null), got ${
        typeof bias === "object" ? JSON.stringify(bias) : String(bias)
      }; options go fourth: F.conv2d(x, weight, null, { padding: 1 })`,
    );
  }
  const o = checkCall<Conv2dOptions>("conv2d", arguments.length, 4, options, CONV2D_OPTIONS, usage);
  const uneven = unevenSamePadding(x, weight, o);
  if (uneven) return conv2d(pad(x, uneven), weight, bias, { ...o, padding: 0 });
  const { params, n, c, h, w, k, oh, ow, desc } = convGeometry(x, weight, bias, o);
  const cx = contiguous(x), cw = contiguous(weight), cb = bias ? contiguous(bias) : null;
  const lib = x.lib;
  // Under autocast: bf16 inputs, fp32 sums, forward and backward alike.
  const bf16 = matrixOpInBf16(x);
  const y = Tensor.empty([n, k, oh, ow], "float32", x.device);
  // A residual block's output read as bf16 (fusion.bf16Input), or a deferred
  // batch norm / ReLU on x applied while reading it.
  const x16 = bf16 && !cb ? heldBf16X(cx, params, desc) : null;
  const xin = x16 ? null : fusion.input(cx, n, c, h * w);
  // Weights that no gradient is recorded for keep their prepared form.
  const trains = isGradEnabled() && weight.requiresGrad;
  if (trains) releasePreparedWeights(weight);
  const prep = trains || bf16 || cw !== weight ? null : preparedWeights(weight, params);
  const args = xin &&
    [params, xin.ptr, xin.coef, xin.relu, cw.ptr, cb?.ptr ?? null, y.ptr] as const;
  // Asked by a model whose batch norm in training reads y next: y's moments as y is written.
  const gather = bf16
    ? lib.lits_conv2d_forward_moments_bf16_f32
    : lib.lits_conv2d_forward_moments_f32;
  const moments = batchMoments.takeRequest() && !prep && fusion.canFuse(y) && gather
    ? new Float64Array(2 * k)
    : null;
  check(
    lib,
    x16
      ? lib.lits_conv2d_forward_bf16x_f32!(
        params,
        x16,
        cw.ptr,
        y.ptr,
        moments && Deno.UnsafePointer.of(moments),
      )
      : moments
      ? gather!(...args!, Deno.UnsafePointer.of(moments))
      : bf16
      ? lib.lits_conv2d_forward_bf16_f32!(...args!)
      : prep
      ? lib.lits_conv2d_forward_prepared_f32!(...args!, prep.ptr, prep.bytes)
      : lib.lits_conv2d_forward_f32(...args!),
    desc,
  );
  if (moments) batchMoments.hold(y, moments);
  // Its batch norm may hand back dy in bf16, read as it is (bf16_grad.ts).
  if (bf16 && !cb && isGradEnabled() && (cx.requiresGrad || cw.requiresGrad)) {
    markBf16Dy(y, params);
  }
  return recordConv(y, cx, cw, cb, params, bf16, desc);
}

/** lits_conv2d_bf16x_takes's out-parameter, shared (one call per such convolution forward). */
const takesX16 = new Int32Array(1);

/**
 * `x` as bf16 where it is a residual block's output that may be held so
 * and the backend reads a bf16 x as it is for this geometry, else null.
 */
function heldBf16X(x: Tensor, params: Int32Array, desc: () => string): Deno.PointerObject | null {
  const lib = x.lib;
  if (!lib.lits_conv2d_bf16x_takes || !fusion.mayReadBf16(x)) return null;
  check(lib, lib.lits_conv2d_bf16x_takes(params, takesX16), desc);
  return takesX16[0] === 1 ? fusion.bf16Input(x) : null;
}

/**
 * F.pad's [left, right, top, bottom] for "same" padding that needs one more
 * zero after than before (an even kernel, as torch pads it), else null.
 */
function unevenSamePadding(x: Tensor, weight: Tensor, o: Conv2dOptions): number[] | null {
  if (o.padding !== "same" || !(x instanceof Tensor) || !(weight instanceof Tensor)) return null;
  if (x.ndim !== 4 || weight.ndim !== 4) return null; // convGeometry says what is wrong
  const stride = pair(o.stride ?? 1, "conv2d: stride", 1);
  if (stride[0] !== 1 || stride[1] !== 1) return null; // refused by paddingPair
  const dilation = pair(o.dilation ?? 1, "conv2d: dilation", 1);
  const [hb, ha, wb, wa] = [2, 3].flatMap((d, i) => {
    const total = dilation[i] * (weight.shape[d] - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
  return hb === ha && wb === wa ? null : [wb, wa, hb, ha];
}

/** conv2d's checks of its arguments, and its geometry. */
export function convGeometry(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  o: Conv2dOptions,
): ConvGeometry {
  requireFloat(x, "conv2d");
  requireFloat(weight, "conv2d");
  sameDevice(x, weight, "conv2d");
  if (bias) sameDevice(x, bias, "conv2d");
  return convGeometryOf(x.shape, weight, bias, o);
}

/** conv2d's geometry on an input of `shape` (the checks of shapes and options only). */
export function convGeometryOf(
  shape: readonly number[],
  weight: Tensor,
  bias: Tensor | null,
  o: Conv2dOptions,
): ConvGeometry {
  const [sh, sw] = pair(o.stride ?? 1, "conv2d: stride", 1);
  const [dh, dw] = pair(o.dilation ?? 1, "conv2d: dilation", 1);
  if (shape.length !== 4 || weight.ndim !== 4) {
    throw new Error(
      `conv2d x [${shape}] weight [${weight.shape}]: expected 4-D input and weight`,
    );
  }
  if (shape[1] === 0) throw new Error(noChannels("conv2d", shape, weight.shape));
  const [ph, pw] = paddingPair(o.padding ?? 0, weight.shape.slice(2), [dh, dw], [sh, sw], "conv2d");
  const groups = o.groups ?? 1;
  const desc = () =>
    `conv2d x [${shape}] weight [${weight.shape}]${bias ? ` bias [${bias.shape}]` : ""} ` +
    `stride ${sh},${sw} padding ${ph},${pw} dilation ${dh},${dw} groups ${groups}`;
  const [n, c, h, w] = shape;
  const [k, cg, r, s] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1) {
    // torch: "non-positive groups is not supported".
    throw new Error(`${desc()}: groups must be an integer >= 1, got ${String(groups)}`);
  }
  if (c % groups !== 0 || k % groups !== 0 || cg !== c / groups) {
    throw new Error(`${desc()}: input has ${c} channels, weight expects ${cg} x ${groups} groups`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== k)) {
    throw new Error(`${desc()}: bias must be [${k}]`);
  }
  const oh = Math.floor((h + 2 * ph - dh * (r - 1) - 1) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - dw * (s - 1) - 1) / sw) + 1;
  if (oh < 1 || ow < 1) {
    throw new Error(`${desc()}: output would be ${oh} x ${ow}; the input is too small`);
  }
  checkElements([n, k, oh, ow], "conv2d");
  // lits_conv2d_params, in its field order.
  const params = int32Params([n, c, h, w, k, r, s, sh, sw, ph, pw, dh, dw, groups], desc);
  return { params, n, c, h, w, k, oh, ow, desc };
}

/** Records conv2d's backward for y = conv(cx, cw) + cb (in bf16 where bf16). */
function recordConv(
  y: Tensor,
  cx: Tensor,
  cw: Tensor,
  cb: Tensor | null,
  params: Int32Array,
  bf16: boolean,
  desc: () => string,
): Tensor {
  const [n, c, h, w, k] = params;
  const [oh, ow] = [y.shape[2], y.shape[3]];
  const lib = cx.lib;
  const backwardData = bf16
    ? lib.lits_conv2d_backward_data_bf16_f32!
    : lib.lits_conv2d_backward_data_f32;
  const backwardFilter = bf16
    ? lib.lits_conv2d_backward_filter_bf16_f32!
    : lib.lits_conv2d_backward_filter_f32;
  return record(y, {
    name: "conv2d",
    inputs: cb ? [cx, cw, cb] : [cx, cw],
    saved: [cx, cw], // the bias's gradient needs no values
    backward: (g) => {
      // A ReLU's deferred gradient is written out together with the bias
      // gradient (its channel sums): one pass over dy instead of two.
      const db = cb?.requiresGrad ? Tensor.empty([k], "float32", cx.device) : null;
      const biasDone = db !== null && fusion.withChannelSums(g, db, n, k, oh * ow);
      // dy as a batch norm wrote it in bf16 (no bias: markBf16Dy), read as it is.
      const half = bf16 && !db ? bf16Values(g) : null;
      const dy = half ? null : contiguous(g);
      let dx: Tensor | null = null, dwt: Tensor | null = null;
      if (cx.requiresGrad) {
        dx = Tensor.empty(cx.shape, "float32", cx.device);
        check(
          lib,
          half
            ? lib.lits_conv2d_backward_data_bf16dy_f32!(params, cw.ptr, half, dx.ptr)
            : backwardData(params, cw.ptr, dy!.ptr, dx.ptr),
          desc,
        );
      }
      // x as the forward read it, where it is still held as bf16.
      const x16 = bf16 && cw.requiresGrad ? fusion.bf16Input(cx, true) : null;
      if (x16) {
        dwt = Tensor.empty(cw.shape, "float32", cx.device);
        const bf16x = lib.lits_conv2d_backward_filter_bf16x_f32!;
        check(lib, bf16x(params, x16, half ? null : dy!.ptr, half, dwt.ptr), desc);
      } else if (cw.requiresGrad) {
        dwt = Tensor.empty(cw.shape, "float32", cx.device);
        const xin = fusion.input(cx, n, c, h * w);
        check(
          lib,
          half
            ? lib.lits_conv2d_backward_filter_bf16dy_f32!(
              params,
              xin.ptr,
              xin.coef,
              xin.relu,
              half,
              dwt.ptr,
            )
            : backwardFilter(params, xin.ptr, xin.coef, xin.relu, dy!.ptr, dwt.ptr),
          desc,
        );
      }
      if (db && !biasDone) {
        check(lib, lib.lits_conv2d_backward_bias_f32(dy!.ptr, db.ptr, n, k, oh * ow), desc);
      }
      return [dx, dwt, db];
    },
  });
}
