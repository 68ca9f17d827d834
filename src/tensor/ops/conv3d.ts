/**
 * 3-D convolution (PyTorch's F.conv3d) over [N, C, D, H, W], composed on
 * `conv2d`'s native kernels: the kernel's depth taps become input channels.
 *
 * Each output depth od reads the input depths od * sD + kd * dD (kd < kD);
 * one gather lays them out as a batch of N * Dout images with kD * C
 * channels, [N, Dout, groups, kD, C / groups, H, W] (a depth in the padding
 * reads 0), and the weight [K, C / groups, kD, kH, kW] as
 * [K, kD * C / groups, kH, kW], so that one `conv2d` (groups, H and W
 * stride, padding and dilation its own) computes every tap. Large inputs
 * go in chunks of samples (or of output depths), see `conv3dChecked`. Measured on a 2-core AMD EPYC for [2, 16, 32, 64, 64] -> 32,
 * 3x3x3, padding 1: this one call beat kD separate `conv2d`s summed (26 ms
 * against 41 ms forward, 87 against 192 forward and backward), its GEMMs
 * being kD times deeper.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { refuseBiasOptions } from "./keyword_args.ts";
import { contiguousStrides, Tensor } from "../tensor.ts";
import { isGradEnabled, noGrad, record } from "../autograd.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import { contiguous, denseCopy, i64, squeeze, unsqueeze } from "./shape.ts";
import { add, requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { filledOp } from "./creation.ts";
import { conv2d, convGeometryOf, noChannels } from "./conv.ts";
import { pad } from "./pad.ts";
import { type CallContract, checkContract } from "../../options.ts";
import {
  at,
  chunkOfOutput,
  chunksOf,
  chunkToOutput,
  gatherWindows,
  type Sizes,
  windowIndex,
} from "./conv3d_windows.ts";

export { setConv3dWindowBytes } from "./conv3d_windows.ts";

/** A size given once for all three dimensions, or as [depth, height, width]. */
export type Triple = number | [number, number, number];

/** Expands a `Triple` and checks it (torch's `_triple`). */
export function triple(v: Triple, what: string, min: number): [number, number, number] {
  if (typeof v !== "number" && !(Array.isArray(v) && v.length === 3)) {
    throw new Error(
      `${what} must be a number or 3 numbers [depth, height, width], got ${
        JSON.stringify(v) ?? String(v)
      }`,
    );
  }
  const t: [number, number, number] = typeof v === "number" ? [v, v, v] : [v[0], v[1], v[2]];
  if (t.some((x) => !Number.isInteger(x) || x < min)) {
    const shown = typeof v === "number" ? String(v) : `[${v.map(String)}]`; // NaN, not null
    throw new Error(`${what} must be integers >= ${min}, got ${shown}`);
  }
  return t;
}

/** A 3-D convolution's padding: zeros on each side, "valid" (none) or "same" (stride 1). */
export type Padding3d = Triple | "valid" | "same";

/**
 * Zeros (before, after) per dimension [depth, height, width] for `padding`:
 * numbers pad both sides alike; "same" pads dilation * (kernel - 1) in all,
 * the odd one (an even kernel) after, as torch's.
 */
export function paddingSides(
  padding: Padding3d,
  kernel: readonly number[],
  dilation: readonly number[],
  stride: readonly number[],
  what: string,
): [number, number][] {
  if (padding === "valid") return [[0, 0], [0, 0], [0, 0]];
  if (padding !== "same") {
    if (typeof padding === "string") {
      throw new Error(
        `${what}: padding must be integers >= 0, "valid" or "same", got ${JSON.stringify(padding)}`,
      );
    }
    return triple(padding, `${what}: padding`, 0).map((p) => [p, p] as [number, number]);
  }
  if (stride.some((s) => s !== 1)) {
    throw new Error(
      `${what}: padding "same" is not supported for strided convolutions (stride ${stride}), ` +
        "as in PyTorch; give the padding as numbers",
    );
  }
  return [0, 1, 2].map((i) => {
    const total = dilation[i] * (kernel[i] - 1);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as [number, number];
  });
}

/** Options of `conv3d`. */
export interface Conv3dOptions {
  /** Step of the window (default 1). */
  stride?: Triple;
  /** Zero padding on each side (default 0), or "valid" (0) or "same" (stride 1). */
  padding?: Padding3d;
  /** Spacing of the kernel's taps (default 1). */
  dilation?: Triple;
  /** Channel groups (default 1). */
  groups?: number;
}

/** The option names of `conv3d` (`nn.Conv3d` adds `bias` and `paddingMode`). */
export const CONV3D_OPTIONS: (keyof Conv3dOptions)[] = ["stride", "padding", "dilation", "groups"];

const CONV3D: CallContract<Conv3dOptions> = {
  where: "conv3d",
  most: 4,
  known: CONV3D_OPTIONS,
  usage: "F.conv3d(x, weight, bias, { stride: 1, padding: 1 })",
};

/** @internal conv3d's checked geometry: per-dimension stride, dilation, (before, after) pads, output size. */
export interface Geometry3d {
  stride: [number, number, number];
  dilation: [number, number, number];
  pads: [number, number][];
  groups: number;
  out: [number, number, number];
}

/**
 * y = conv3d(x, weight) + bias, as `F.conv3d`: x [N, C, D, H, W] (or one
 * unbatched volume [C, D, H, W]), weight [K, C / groups, kD, kH, kW], bias
 * [K] or null; y [N, K, D', H', W'] (or [K, D', H', W']).
 * "same" padding with an even kernel pads the extra zero after, as torch.
 *
 * @example
 * ```ts
 * import { functional as F, ones, randn } from "@lits/vision";
 * const x = randn([1, 2, 4, 5, 5]);
 * console.log(F.conv3d(x, randn([3, 2, 3, 3, 3]), null, { padding: 1 }).shape); // [1, 3, 4, 5, 5]
 * // A box of ones sums its window: 2 channels x 2 x 2 x 2 taps of ones.
 * console.log(F.conv3d(ones([1, 2, 2, 2, 2]), ones([1, 2, 2, 2, 2])).item()); // 16
 * ```
 */
export function conv3d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv3dOptions = {},
): Tensor {
  refuseBiasOptions("F.conv3d", bias);
  if (bias !== null && !(bias instanceof Tensor)) {
    // F.conv3d(x, w, { padding: 1 }): the options landed in the bias slot.
    throw new Error(
      `conv3d: the third argument is the bias (a Tensor or null), got ${
        typeof bias === "object" ? JSON.stringify(bias) : String(bias)
      }; options go fourth: F.conv3d(x, weight, null, { padding: 1 })`,
    );
  }
  const o = checkContract(CONV3D, arguments.length, options);
  expectTensor(x, "conv3d", CONV3D.usage);
  expectTensor(weight, "conv3d: weight", CONV3D.usage);
  requireFloat(x, "conv3d");
  requireFloat(weight, "conv3d");
  sameDevice(x, weight, "conv3d");
  if (bias) sameDevice(x, bias, "conv3d");
  if (x.ndim === 4 && weight.ndim === 5) {
    // One unbatched volume [C, D, H, W], as torch: a batch of one.
    const g = conv3dGeometry([1, ...x.shape], weight, bias, o);
    return squeeze(conv3dChecked(unsqueeze(x, 0), weight, bias, g), 0);
  }
  const g = conv3dGeometry(x.shape, weight, bias, o);
  return conv3dChecked(x, weight, bias, g);
}

/** conv3d's checks of shapes and options (the messages as conv2d's), and its geometry. */
function conv3dGeometry(
  shape: readonly number[],
  weight: Tensor,
  bias: Tensor | null,
  o: Conv3dOptions,
): Geometry3d {
  const stride = triple(o.stride ?? 1, "conv3d: stride", 1);
  const dilation = triple(o.dilation ?? 1, "conv3d: dilation", 1);
  if (shape.length !== 5 || weight.ndim !== 5) {
    throw new Error(
      `conv3d x [${shape}] weight [${weight.shape}]: expected input [N, C, D, H, W] (or ` +
        "unbatched [C, D, H, W]) and weight [K, C / groups, kD, kH, kW]",
    );
  }
  if (shape[1] === 0) throw new Error(noChannels("conv3d", shape, weight.shape));
  const pads = paddingSides(o.padding ?? 0, weight.shape.slice(2), dilation, stride, "conv3d");
  const groups = o.groups ?? 1;
  const shownPads = pads.map(([a, b]) => (a === b ? a : `${a}+${b}`));
  const desc = `conv3d x [${shape}] weight [${weight.shape}]` +
    (bias ? ` bias [${bias.shape}]` : "") +
    ` stride ${stride} padding ${shownPads} dilation ${dilation} groups ${groups}`;
  const [, c] = shape;
  const [k, cg] = weight.shape;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${desc}: groups must be an integer >= 1, got ${String(groups)}`);
  }
  if (k % groups !== 0) {
    // torch: "expected weight to be divisible by 2 at dimension 0".
    throw new Error(
      `${desc}: the weight's ${k} output channels (dimension 0) are not divisible by groups ` +
        `${groups}`,
    );
  }
  if (c % groups !== 0 || cg !== c / groups) {
    throw new Error(`${desc}: input has ${c} channels, weight expects ${cg} x ${groups} groups`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== k)) {
    throw new Error(`${desc}: bias must be [${k}]`);
  }
  const padded = [0, 1, 2].map((i) => shape[i + 2] + pads[i][0] + pads[i][1]);
  const span = [0, 1, 2].map((i) => dilation[i] * (weight.shape[i + 2] - 1) + 1);
  if (span.some((v, i) => v > padded[i])) {
    // torch: "Kernel size can't be greater than actual input size".
    throw new Error(
      `${desc}: the kernel spans ${span.join(" x ")} (dilation * (kernel - 1) + 1), more than ` +
        `the padded input ${padded.join(" x ")}; use a smaller kernel or dilation, or more padding`,
    );
  }
  const out = [0, 1, 2].map((i) => Math.floor((padded[i] - span[i]) / stride[i]) + 1) as [
    number,
    number,
    number,
  ];
  return { stride, dilation, pads, groups, out };
}

/**
 * The convolution of checked arguments, by chunks: each chunk's depth
 * windows are gathered from the input (no padded copy: a depth in the
 * padding reads 0), convolved by one `conv2d` and copied into its place
 * in the output, then freed, so that only the output and one chunk's
 * windows and result are held at once. Its gradient goes through the same
 * chunks: the windows are gathered again for the weight's gradient (not
 * kept from the forward), the input's is scatter-added from each chunk's.
 *
 * Conv3d(32, 32, 3, padding 1) on [2, 32, 48, 96, 96], 2-core AMD EPYC
 * (shared, loaded), peak RSS over the inputs' in a fresh process: forward
 * under noGrad +331 MB (one padded copy, all windows, conv2d's output and
 * its permuted copy held at once before: +669; torch +220), forward and
 * backward +604 MB (+1332 before; torch +440); time the same (fastest of
 * 5, interleaved: forward 288 against 308 ms, forward and backward 388
 * against 384).
 */
function conv3dChecked(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  g: Geometry3d,
): Tensor {
  const [, ph, pw] = g.pads;
  // Uneven H/W pads ("same" with an even kernel) are made real zeros;
  // even ones are conv2d's own, depth pads the gather's.
  const extraH = ph[1] - ph[0], extraW = pw[1] - pw[0];
  const cx = contiguous(extraH || extraW ? pad(x, [0, extraW, 0, extraH]) : x);
  const [n, c, d, h, w] = cx.shape;
  const [k, cg, kd, kh, kw] = weight.shape;
  const [od, oh, ow] = g.out;
  const z: Sizes = { n, c, d, hw: h * w, k, kd, od, ohw: oh * ow, g };
  const w2 = depthTapsAsChannels(weight);
  const options2d = {
    stride: [g.stride[1], g.stride[2]] as [number, number],
    padding: [ph[0], pw[0]] as [number, number],
    dilation: [g.dilation[1], g.dilation[2]] as [number, number],
    groups: g.groups,
  };
  const chunks = chunksOf(n, od, kd * c * h * w * 4);
  const sliced = chunks.some((ch) => ch.cd < od);
  // Depth slices are added into the bias (or zeros); whole samples copied.
  const out = !sliced
    ? Tensor.empty([n, k, od, oh, ow], "float32", x.device)
    : bias
    ? reshaped(denseCopy(bias._view([n, k, od * oh * ow], [0, bias.strides[0], 0], bias.offset)), [
      n,
      k,
      od,
      oh,
      ow,
    ])
    : filledOp([n, k, od, oh, ow], 0, x.device);
  noGrad(() => {
    for (const ch of chunks) {
      const index = windowIndex(z, ch.d0, ch.cd, cx.device);
      const cols = gatherWindows(cx, z, ch, index);
      index.dispose();
      const y = conv2d(cols, w2, sliced ? null : bias, options2d);
      cols.dispose();
      chunkToOutput(y, out, z, ch);
      y.dispose();
    }
  });
  w2.dispose();
  const inputs = bias ? [cx, weight, bias] : [cx, weight];
  if (!inputs.some((t) => t.requiresGrad) || !isGradEnabled()) return out;
  // conv2d's choice for its windows, made again for the backward kernels.
  const bf16 = matrixOpInBf16(cx);
  const lib = cx.lib;
  const backwardData = bf16
    ? lib.lits_conv2d_backward_data_bf16_f32!
    : lib.lits_conv2d_backward_data_f32;
  const backwardFilter = bf16
    ? lib.lits_conv2d_backward_filter_bf16_f32!
    : lib.lits_conv2d_backward_filter_f32;
  return record(out, {
    name: "conv3d",
    inputs,
    saved: [cx, weight],
    backward: (grad) => {
      // Made again, not kept: a scope that ends before backward() would free it unseen.
      const w2 = depthTapsAsChannels(weight);
      const dy = contiguous(grad);
      let db: Tensor | null = null;
      if (bias?.requiresGrad) {
        db = Tensor.empty([k], "float32", cx.device);
        check(lib, lib.lits_conv2d_backward_bias_f32(dy.ptr, db.ptr, n, k, od * oh * ow), desc);
      }
      const dx = cx.requiresGrad ? filledOp(cx.shape, 0, cx.device) : null;
      let dw2: Tensor | null = null;
      for (const ch of chunks) {
        const b = ch.nn * ch.cd;
        const { params, desc } = convGeometryOf([b, kd * c, h, w], w2, null, options2d);
        const dyc = chunkOfOutput(dy, z, ch);
        const index = windowIndex(z, ch.d0, ch.cd, cx.device);
        if (dx) {
          const dcols = Tensor.empty([b, kd * c, h, w], "float32", cx.device);
          check(lib, backwardData(params, w2.ptr, dyc.ptr, dcols.ptr), desc);
          check(
            lib,
            lib.lits_scatter_add_f32(
              dcols.ptr,
              index.ptr,
              i64([0, 1, 0]),
              at(dx, ch.n0 * c * d * z.hw),
              ch.nn,
              c * d,
              ch.cd * kd * c,
              z.hw,
            ),
            desc,
          );
          dcols.dispose();
        }
        if (weight.requiresGrad) {
          const cols = gatherWindows(cx, z, ch, index);
          const part = Tensor.empty(w2.shape, "float32", cx.device);
          check(lib, backwardFilter(params, cols.ptr, null, 0, dyc.ptr, part.ptr), desc);
          cols.dispose();
          if (dw2 === null) dw2 = part;
          else {
            const sum = add(dw2, part);
            dw2.dispose();
            part.dispose();
            dw2 = sum;
          }
        }
        index.dispose();
        dyc.dispose();
      }
      // [K, kD, C / groups, kH, kW] -> the weight's [K, C / groups, kD, kH, kW].
      let dw: Tensor | null = null;
      if (dw2 !== null) {
        const v = dw2._view(
          [k, cg, kd, kh, kw],
          [kd * cg * kh * kw, kh * kw, cg * kh * kw, kw, 1],
          0,
        );
        dw = denseCopy(v);
        v.dispose();
        dw2.dispose();
      }
      return [dx, dw, db];
    },
  });

  function desc(): string {
    return `conv3d backward x [${cx.shape}] weight [${weight.shape}]`;
  }
}

/**
 * weight [K, C / groups, kD, kH, kW] as conv2d's [K, kD * C / groups, kH, kW]
 * over the windows' [groups, kD, C / groups] channels: one copy, no autograd
 * (conv3d's gradient puts the weight's back itself).
 */
function depthTapsAsChannels(weight: Tensor): Tensor {
  const [k, cg, kd, kh, kw] = weight.shape;
  const [s0, s1, s2, s3, s4] = weight.strides;
  const v = weight._view([k, kd, cg, kh, kw], [s0, s2, s1, s3, s4], weight.offset);
  const dense = denseCopy(v);
  v.dispose();
  return reshaped(dense, [k, kd * cg, kh, kw]);
}

/** A dense tensor of this library's own (no autograd) in another shape; `t` is let go. */
function reshaped(t: Tensor, shape: number[]): Tensor {
  const v = t._view(shape, contiguousStrides(shape), 0);
  t.dispose();
  return v;
}
