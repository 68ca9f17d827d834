/**
 * Transposed 2-D convolution (PyTorch's F.conv_transpose2d) on the
 * convolution kernels, with no kernel of its own: its forward is the
 * backward-data pass of the convolution that maps its output back to its
 * input (whose weight, [inChannels, outChannels / groups, kh, kw], is
 * exactly torch's ConvTranspose2d weight); its input gradient is that
 * convolution's forward, its weight gradient that convolution's
 * backward-filter pass (the roles of input and output swapped), its bias
 * gradient the backward-bias pass.
 *
 * @module
 */
import { check, int32Params } from "../../ffi/native.ts";
import { refuseBiasOptions } from "./keyword_args.ts";
import { BINARY_OP } from "../../ffi/codes.ts";
import { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import { contiguous, i64 } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { noChannels, type Pair, pair } from "./conv.ts";
import { pad } from "./pad.ts";
import * as fusion from "./fusion.ts";
import { checkCall } from "../../options.ts";

/** Options of `convTranspose2d` (torch's names, camelCase). */
export interface ConvTranspose2dOptions {
  /** Step of the window in the output (default 1). */
  stride?: Pair;
  /** Rows and columns cut from each side of the full output (default 0). */
  padding?: Pair;
  /** Rows and columns added at the bottom and right (default 0): below stride or dilation. */
  outputPadding?: Pair;
  /** Channel groups (default 1). */
  groups?: number;
  /** Spacing of the kernel's taps (default 1). */
  dilation?: Pair;
}

/** The option names of `convTranspose2d` (`nn.ConvTranspose2d` adds `bias`). */
export const CONV_TRANSPOSE2D_OPTIONS: (keyof ConvTranspose2dOptions)[] = [
  "stride",
  "padding",
  "outputPadding",
  "groups",
  "dilation",
];

/** A checked transposed convolution, as the convolution it transposes. */
export interface ConvTransposeGeometry {
  /** lits_conv2d_params of the convolution [n, outC, oh, ow] -> [n, inC, h + eh, w + ew]. */
  params: Int32Array;
  /** Batch size. */
  n: number;
  /** Input channels (the weight's first dimension). */
  inC: number;
  /** Output channels (the weight's second dimension times groups). */
  outC: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
  /**
   * Zero rows and columns that input needs at the bottom and right: that
   * convolution's output is taller than the input by floor(outputPadding /
   * stride), nonzero only where outputPadding >= stride (allowed when
   * below the dilation).
   */
  eh: number;
  /** The same for columns. */
  ew: number;
  /** The call, for error messages. */
  desc: () => string;
}

/** `ConvTranspose2dOptions` checked, with every default filled in and pairs for sizes. */
export interface ConvTransposeSettings {
  /** [sh, sw]. */
  stride: [number, number];
  /** [ph, pw]. */
  padding: [number, number];
  /** [oph, opw]. */
  outputPadding: [number, number];
  /** [dh, dw]. */
  dilation: [number, number];
  /** Channel groups. */
  groups: number;
}

/** The options checked (padding strings refused, torch's output padding rule) and filled in. */
export function transposeOptions(o: ConvTranspose2dOptions, what: string): ConvTransposeSettings {
  if (typeof o.padding === "string") {
    throw new Error(
      `${what}: padding must be integers >= 0, got ${JSON.stringify(o.padding)}; PyTorch's ` +
        `transposed convolutions take no "same" or "valid" padding (to double a size, write ` +
        `{ stride: 2 } with kernel 2, or kernel 4, padding 1; or pass an outputSize to forward)`,
    );
  }
  const stride = pair(o.stride ?? 1, `${what}: stride`, 1);
  const padding = pair(o.padding ?? 0, `${what}: padding`, 0);
  const outputPadding = pair(o.outputPadding ?? 0, `${what}: outputPadding`, 0);
  const dilation = pair(o.dilation ?? 1, `${what}: dilation`, 1);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${what}: groups must be an integer >= 1, got ${String(groups)}`);
  }
  for (const i of [0, 1]) {
    if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i]) {
      // torch: "output padding must be smaller than either stride or dilation".
      throw new Error(
        `${what}: outputPadding ${outputPadding} must be smaller than either stride ` +
          `${stride} or dilation ${dilation}, in each dimension`,
      );
    }
  }
  return { stride, padding, outputPadding, dilation, groups };
}

/** convTranspose2d's geometry on a 4-D input of `shape`, weight `wshape`, bias `bshape`. */
export function convTransposeGeometry(
  shape: readonly number[],
  wshape: readonly number[],
  bshape: readonly number[] | null,
  o: ConvTranspose2dOptions,
): ConvTransposeGeometry {
  const { stride, padding, outputPadding, dilation, groups } = transposeOptions(
    o,
    "convTranspose2d",
  );
  const [sh, sw] = stride, [ph, pw] = padding, [dh, dw] = dilation;
  const desc = () =>
    `convTranspose2d x [${shape}] weight [${wshape}]${bshape ? ` bias [${bshape}]` : ""} ` +
    `stride ${stride} padding ${padding} outputPadding ${outputPadding} dilation ${dilation} ` +
    `groups ${groups}`;
  if (shape.length !== 4 || wshape.length !== 4) {
    throw new Error(`${desc()}: expected a 3-D or 4-D input and a 4-D weight`);
  }
  if (shape[1] === 0) throw new Error(noChannels("convTranspose2d", shape, wshape));
  const [n, inC, h, w] = shape;
  const [wk, cg, kh, kw] = wshape;
  if (wk % groups !== 0) {
    throw new Error(`${desc()}: the weight's ${wk} input channels are not divisible by groups`);
  }
  if (inC !== wk) {
    throw new Error(
      `${desc()}: the weight [inChannels, outChannels / groups, kh, kw] expects ${wk} input ` +
        `channels, got ${inC}`,
    );
  }
  const outC = cg * groups;
  if (bshape && (bshape.length !== 1 || bshape[0] !== outC)) {
    throw new Error(`${desc()}: bias must be [${outC}] (outChannels)`);
  }
  if (h < 1 || w < 1 || inC < 1 || cg < 1 || kh < 1 || kw < 1) {
    throw new Error(`${desc()}: sizes must be >= 1 (the batch may be 0)`);
  }
  const oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + outputPadding[0] + 1;
  const ow = (w - 1) * sw - 2 * pw + dw * (kw - 1) + outputPadding[1] + 1;
  if (oh < 1 || ow < 1) {
    throw new Error(`${desc()}: output would be ${oh} x ${ow}; the padding is too large`);
  }
  const eh = Math.floor(outputPadding[0] / sh), ew = Math.floor(outputPadding[1] / sw);
  // lits_conv2d_params of the convolution [n, outC, oh, ow] -> [n, inC, h + eh, w + ew].
  const params = int32Params([n, outC, oh, ow, inC, kh, kw, sh, sw, ph, pw, dh, dw, groups], desc);
  return { params, n, inC, outC, oh, ow, eh, ew, desc };
}

/**
 * Transposed 2-D convolution, as torch's `F.conv_transpose2d`: x [N, inC,
 * H, W] (or unbatched [inC, H, W]), weight [inC, outC / groups, kh, kw],
 * bias [outC] or null. The output is [N, outC, H', W'], H' = (H - 1) *
 * stride - 2 * padding + dilation * (kh - 1) + outputPadding + 1. Runs in
 * fp32 under `autocast`, as PyTorch's CPU autocast does.
 *
 * @example
 * ```ts
 * import { functional as F, randn } from "@lits/vision";
 * const up = F.convTranspose2d(randn([1, 8, 5, 5]), randn([8, 4, 3, 3]), null, {
 *   stride: 2,
 *   padding: 1,
 *   outputPadding: 1,
 * });
 * console.log(up.shape); // [1, 4, 10, 10]
 * ```
 */
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: ConvTranspose2dOptions = {},
): Tensor {
  const usage = "F.convTranspose2d(x, weight, bias, { stride: 2, padding: 1, outputPadding: 1 })";
  if (!(x instanceof Tensor) || !(weight instanceof Tensor)) {
    throw new Error(`convTranspose2d: x and weight must be Tensors; write ${usage}`);
  }
  refuseBiasOptions("F.convTranspose2d", bias);
  if (bias !== null && !(bias instanceof Tensor)) {
    throw new Error(
      `convTranspose2d: the third argument is the bias (a Tensor or null), got ${
        typeof bias === "object" ? JSON.stringify(bias) : String(bias)
      }; options go fourth: F.convTranspose2d(x, weight, null, { stride: 2 })`,
    );
  }
  const o = checkCall<ConvTranspose2dOptions>(
    "convTranspose2d",
    arguments.length,
    4,
    options,
    CONV_TRANSPOSE2D_OPTIONS,
    usage,
  );
  for (const t of bias ? [x, weight, bias] : [x, weight]) {
    requireFloat(t, "convTranspose2d");
    sameDevice(x, t, "convTranspose2d");
  }
  if (x.ndim === 3) {
    // torch's unbatched input: [C, H, W] -> [1, C, H, W] and back.
    convTransposeGeometry([1, ...x.shape], weight.shape, bias?.shape ?? null, o);
    return convTranspose2d(x.unsqueeze(0), weight, bias, o).squeeze(0);
  }
  const g = convTransposeGeometry(x.shape, weight.shape, bias?.shape ?? null, o);
  // Zeros below and right of x where outputPadding reaches a row past x's last.
  const xp = g.eh > 0 || g.ew > 0 ? pad(x, [0, g.ew, 0, g.eh]) : x;
  return transposed(g, contiguous(xp), contiguous(weight), bias ? contiguous(bias) : null);
}

/** The forward on dense tensors, and its gradient (recorded). */
function transposed(g: ConvTransposeGeometry, cx: Tensor, cw: Tensor, cb: Tensor | null): Tensor {
  const { params, n, outC, oh, ow, desc } = g;
  const lib = cx.lib;
  const y = Tensor.empty([n, outC, oh, ow], "float32", cx.device);
  // cx.ptr writes a deferred (fused) value first: backward-data reads plain memory.
  check(lib, lib.lits_conv2d_backward_data_f32(params, cw.ptr, cx.ptr, y.ptr), desc);
  if (cb && n > 0) {
    const shape = [n, outC, oh, ow];
    const ys = i64([outC * oh * ow, oh * ow, ow, 1]);
    check(
      lib,
      lib.lits_binary_f32(
        BINARY_OP.add,
        4,
        i64(shape),
        y.ptr,
        ys,
        cb.ptr,
        i64([0, 1, 0, 0]),
        y.ptr,
      ),
      desc,
    );
  }
  return record(y, {
    name: "convTranspose2d",
    inputs: cb ? [cx, cw, cb] : [cx, cw],
    saved: [cx, cw], // the bias's gradient needs no values
    backward: (gy) => {
      // A ReLU's deferred gradient is written with the bias gradient, in one pass.
      const db = cb?.requiresGrad ? Tensor.empty([outC], "float32", cx.device) : null;
      const biasDone = db !== null && fusion.withChannelSums(gy, db, n, outC, oh * ow);
      const dy = contiguous(gy);
      let dx: Tensor | null = null, dwt: Tensor | null = null;
      if (cx.requiresGrad) {
        // The input's gradient: the convolution's forward of dy.
        dx = Tensor.empty(cx.shape, "float32", cx.device);
        check(
          lib,
          lib.lits_conv2d_forward_f32(params, dy.ptr, null, 0, cw.ptr, null, dx.ptr),
          desc,
        );
      }
      if (cw.requiresGrad) {
        // The weight's: the convolution's backward-filter, dy as its input, x as its dy.
        dwt = Tensor.empty(cw.shape, "float32", cx.device);
        check(
          lib,
          lib.lits_conv2d_backward_filter_f32(params, dy.ptr, null, 0, cx.ptr, dwt.ptr),
          desc,
        );
      }
      if (db && !biasDone) {
        check(lib, lib.lits_conv2d_backward_bias_f32(dy.ptr, db.ptr, n, outC, oh * ow), desc);
      }
      return [dx, dwt, db];
    },
  });
}
