/**
 * Transposed 1-D convolution (PyTorch's F.conv_transpose1d), composed on
 * `convTranspose2d` with a height of 1, as `conv1d` is on `conv2d`: x
 * [N, C, L] is [N, C, 1, L] and the weight [C, outC / groups, k] is
 * [C, outC / groups, 1, k], so the values and gradients are the 2-D
 * kernels'. The arguments are checked here, in 1-D terms, first.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { refuseBiasOptions } from "./keyword_args.ts";
import { convTranspose2d } from "./conv_transpose.ts";
import { noChannels } from "./conv.ts";
import { type Single, single } from "./conv1d.ts";
import { squeeze, unsqueeze } from "./shape.ts";
import { requireFloat, sameDevice } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { checkCall } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** Options of `convTranspose1d` (torch's names, camelCase). */
export interface ConvTranspose1dOptions {
  /** Step of the window in the output (default 1). */
  stride?: Single;
  /** Positions cut from each end of the full output (default 0). */
  padding?: Single;
  /** Positions added at the end (default 0): below the stride or the dilation. */
  outputPadding?: Single;
  /** Channel groups (default 1). */
  groups?: number;
  /** Spacing of the kernel's taps (default 1). */
  dilation?: Single;
}

/** The option names of `convTranspose1d` (`nn.ConvTranspose1d` adds `bias`). */
export const CONV_TRANSPOSE1D_OPTIONS: (keyof ConvTranspose1dOptions)[] = [
  "stride",
  "padding",
  "outputPadding",
  "groups",
  "dilation",
];

/** `ConvTranspose1dOptions` checked, every default filled in. */
export interface ConvTranspose1dSettings {
  /** The stride. */
  stride: number;
  /** Positions cut from each end. */
  padding: number;
  /** Positions added at the end. */
  outputPadding: number;
  /** The dilation. */
  dilation: number;
  /** Channel groups. */
  groups: number;
}

/** The options checked (padding strings refused, torch's output padding rule) and filled in. */
export function transpose1dOptions(
  o: ConvTranspose1dOptions,
  what: string,
): ConvTranspose1dSettings {
  if (typeof o.padding === "string") {
    throw new Error(
      `${what}: padding must be an integer >= 0, got ${JSON.stringify(o.padding)}; PyTorch's ` +
        `transposed convolutions take no "same" or "valid" padding (to double a length, write ` +
        `{ stride: 2 } with kernel 2, or kernel 4, padding 1; or pass an outputSize to forward)`,
    );
  }
  const stride = single(o.stride ?? 1, `${what}: stride`, 1);
  const padding = single(o.padding ?? 0, `${what}: padding`, 0);
  const outputPadding = single(o.outputPadding ?? 0, `${what}: outputPadding`, 0);
  const dilation = single(o.dilation ?? 1, `${what}: dilation`, 1);
  const groups = o.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new Error(`${what}: groups must be an integer >= 1, got ${showValue(groups)}`);
  }
  if (outputPadding >= stride && outputPadding >= dilation) {
    // torch: "output padding must be smaller than either stride or dilation".
    throw new Error(
      `${what}: outputPadding ${outputPadding} must be smaller than either stride ${stride} ` +
        `or dilation ${dilation}`,
    );
  }
  return { stride, padding, outputPadding, dilation, groups };
}

/** The output length of a transposed 1-D convolution of length `l`, kernel `k`. */
export function transposedLength(l: number, k: number, s: ConvTranspose1dSettings): number {
  return (l - 1) * s.stride - 2 * s.padding + s.dilation * (k - 1) + s.outputPadding + 1;
}

/**
 * Transposed 1-D convolution, as torch's `F.conv_transpose1d`: x [N, inC,
 * L] (or unbatched [inC, L]), weight [inC, outC / groups, k], bias [outC]
 * or null. The output is [N, outC, L'] (or [outC, L']), L' = (L - 1) *
 * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const y = F.convTranspose1d(ones([1, 1, 3]), ones([1, 1, 2]), null, { stride: 2 });
 * console.log(y.shape, y.toArray()); // [1, 1, 6] Float32Array(6) [1, 1, 1, 1, 1, 1]
 * ```
 */
export function convTranspose1d(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: ConvTranspose1dOptions = {},
): Tensor {
  const where = "convTranspose1d";
  const usage = "F.convTranspose1d(x, weight, bias, { stride: 2, padding: 1, outputPadding: 1 })";
  expectTensor(x, where, usage);
  expectTensor(weight, `${where}: weight`, usage);
  refuseBiasOptions("F.convTranspose1d", bias);
  if (bias !== null && bias !== undefined && !(bias instanceof Tensor)) {
    throw new Error(
      `${where}: the third argument is the bias (a Tensor or null), got ${showValue(bias)}; ` +
        "options go fourth: F.convTranspose1d(x, weight, null, { stride: 2 })",
    );
  }
  const o = checkCall<ConvTranspose1dOptions>(
    where,
    arguments.length,
    4,
    options,
    CONV_TRANSPOSE1D_OPTIONS,
    usage,
  );
  for (const t of bias ? [x, weight, bias] : [x, weight]) {
    requireFloat(t, where);
    sameDevice(x, t, where);
  }
  if (x.ndim !== 2 && x.ndim !== 3) {
    throw new Error(
      `${where}: expected a 2-D (unbatched [C, L]) or 3-D ([N, C, L]) input, got [${x.shape}]`,
    );
  }
  if (weight.ndim !== 3) {
    throw new Error(
      `${where}: expected a 3-D weight [in, out / groups, k], got [${weight.shape}]`,
    );
  }
  if (x.shape[x.ndim - 2] === 0) throw new Error(noChannels(where, x.shape, weight.shape));
  const s = transpose1dOptions(o, where);
  const [wk, cg, k] = weight.shape;
  const c = x.shape[x.ndim - 2], l = x.shape[x.ndim - 1];
  const desc = `${where} x [${x.shape}] weight [${weight.shape}]`;
  if (c !== wk || wk % s.groups !== 0) {
    throw new Error(
      `${desc}: the weight [inChannels, outChannels / groups, k] expects ${wk} input channels` +
        (wk % s.groups !== 0 ? `, which do not divide into ${s.groups} groups` : "") +
        `; the input has ${c}`,
    );
  }
  const outC = cg * s.groups;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outC)) {
    throw new Error(`${desc}: bias must be [${outC}] (outChannels), got [${bias.shape}]`);
  }
  if (l < 1 || c < 1 || cg < 1 || k < 1) {
    throw new Error(`${desc}: sizes must be >= 1 (the batch may be 0)`);
  }
  const out = transposedLength(l, k, s);
  if (out < 1) {
    throw new Error(
      `${desc}: the output would have length ${out}; padding ${s.padding} is too large`,
    );
  }
  const batched = x.ndim === 3 ? x : unsqueeze(x, 0);
  const y = convTranspose2d(unsqueeze(batched, 2), unsqueeze(weight, 2), bias ?? null, {
    stride: [1, s.stride],
    padding: [0, s.padding],
    outputPadding: [0, s.outputPadding],
    dilation: [1, s.dilation],
    groups: s.groups,
  });
  const flat = squeeze(y, 2);
  return x.ndim === 3 ? flat : squeeze(flat, 0);
}
