/**
 * Layer and group normalisation (F.layer_norm, F.group_norm): each sample
 * normalised by its own mean and biased variance over trailing elements,
 * then scaled and shifted elementwise (layer norm) or per channel (group
 * norm). Layer norm runs the backend's kernels where it has them (the CPU's
 * `lits_layer_norm_f32`, one pass per row, and its backward: transformers
 * and ConvNeXt call it on every block); elsewhere, and group norm always,
 * it is composed from differentiable ops, (x - mean) / sqrt(var + eps), so
 * the gradient is the chain rule's.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { numel, Tensor } from "../tensor.ts";
import { isGradEnabled, record } from "../autograd.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { add, div, mul, requireFloat, sameDevice, sqrt, sub } from "./elementwise.ts";
import { mean } from "./reduce.ts";
import { contiguous, reshape } from "./shape.ts";
import { expectTensor } from "./compare.ts";

// Their torch keywords, and defaults, for refuseKeywords.
const WEIGHT_BIAS_EPS = ["weight", "bias", "eps"], NO_WEIGHT_BIAS = [null, null, 1e-5];

/** (x - mean) / sqrt(biased var + eps) over `dims`. */
function normalize(x: Tensor, dims: number[], eps: number): Tensor {
  const d = sub(x, mean(x, dims, true));
  const v = mean(mul(d, d), dims, true);
  return div(d, sqrt(add(v, eps)));
}

function checkEps(where: string, eps: unknown, usage: string): number {
  if (typeof eps !== "number" || !Number.isFinite(eps)) {
    throw new Error(`${where}: eps must be a finite number, got ${String(eps)}; write ${usage}`);
  }
  return eps;
}

/** Throws unless `t` (weight or bias) is null or a float32 tensor of `shape` on x's device. */
function checkAffine(
  where: string,
  t: Tensor | null | undefined,
  name: string,
  shape: readonly number[],
  x: Tensor,
): void {
  if (t === null || t === undefined) return;
  expectTensor(t, `${where}: ${name}`, `${where}(x, ..., weight, bias)`);
  requireFloat(t, `${where} ${name}`);
  sameDevice(x, t, `${where} ${name}`);
  if (t.shape.join() !== shape.join()) {
    throw new Error(`${where}: ${name} [${t.shape}] must have shape [${shape}]`);
  }
}

/**
 * Layer normalisation over the last dimensions, as `F.layer_norm`: `x`'s
 * trailing dimensions must be `normalizedShape`; each sample is normalised
 * by the mean and biased variance of those elements, then multiplied by
 * `weight` and shifted by `bias` (both of `normalizedShape`, either may be
 * left out). eps is added to the variance (default 1e-5).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const y = F.layerNorm(tensor([[1, 2, 3], [2, 4, 6]]), [3]);
 * console.log(Array.from(y.toArray(), (v) => v.toFixed(4))); // [ "-1.2247", "0.0000", "1.2247", "-1.2247", "0.0000", "1.2247" ]
 * ```
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const given = JSON.stringify(normalizedShape);
  refuseKeywords("F.layerNorm", weight, `x, ${given}`, WEIGHT_BIAS_EPS, NO_WEIGHT_BIAS);
  const usage = "F.layerNorm(x, [C], weight, bias, 1e-5)";
  if (arguments.length > 5) {
    throw new Error(`layerNorm: takes at most 5 arguments, got ${arguments.length}; ${usage}`);
  }
  expectTensor(x, "layerNorm", usage);
  requireFloat(x, "layerNorm");
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((s) => !Number.isInteger(s))) {
    throw new Error(
      `layerNorm: normalizedShape must be a size or a non-empty array of sizes, got ` +
        `${JSON.stringify(normalizedShape)}; write ${usage}`,
    );
  }
  const k = shape.length;
  if (x.ndim < k || x.shape.slice(x.ndim - k).join() !== shape.join()) {
    throw new Error(
      `layerNorm: given normalizedShape [${shape}], expected an input of shape ` +
        `[*, ${shape.join(", ")}], got [${x.shape}]`,
    );
  }
  checkAffine("layerNorm", weight, "weight", shape, x);
  checkAffine("layerNorm", bias, "bias", shape, x);
  const e = checkEps("layerNorm", eps, usage);
  const cols = numel(shape);
  if (x.lib.lits_layer_norm_f32 && cols > 0 && x.numel() > 0 && e >= 0) {
    return nativeLayerNorm(x, cols, weight ?? null, bias ?? null, e);
  }
  const dims = shape.map((_, i) => x.ndim - k + i);
  let y = normalize(x, dims, e);
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** layerNorm on the backend's kernels: x viewed as [rows, cols], weight and bias [cols]. */
function nativeLayerNorm(
  x: Tensor,
  cols: number,
  weight: Tensor | null,
  bias: Tensor | null,
  eps: number,
): Tensor {
  const lib = x.lib;
  const cx = contiguous(x);
  const [w, b] = [weight && contiguous(weight), bias && contiguous(bias)];
  const rows = cx.numel() / cols;
  const desc = () => `layerNorm x [${x.shape}] over the last ${cols} elements`;
  const wantsGrad = isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad);
  const y = Tensor.empty(x.shape, "float32", x.device);
  // The row statistics are kept only for the backward.
  const rowMean = wantsGrad ? Tensor.empty([rows], "float32", x.device) : null;
  const rowRstd = wantsGrad ? Tensor.empty([rows], "float32", x.device) : null;
  check(
    lib,
    lib.lits_layer_norm_f32!(
      cx.ptr,
      w?.ptr ?? null,
      b?.ptr ?? null,
      y.ptr,
      rowMean?.ptr ?? null,
      rowRstd?.ptr ?? null,
      rows,
      cols,
      eps,
    ),
    desc,
  );
  if (!wantsGrad) return y;
  const inputs = [cx, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record(y, {
    name: "layerNorm",
    inputs,
    saved: [cx, ...(w ? [w] : [])], // the shift's gradient needs no values
    backward: (g) => {
      const dy = contiguous(g);
      const dx = cx.requiresGrad ? Tensor.empty(x.shape, "float32", x.device) : null;
      const dw = w?.requiresGrad ? Tensor.empty(w.shape, "float32", x.device) : null;
      const db = b?.requiresGrad ? Tensor.empty(b.shape, "float32", x.device) : null;
      check(
        lib,
        lib.lits_layer_norm_backward_f32!(
          cx.ptr,
          dy.ptr,
          w?.ptr ?? null,
          rowMean!.ptr,
          rowRstd!.ptr,
          dx?.ptr ?? null,
          dw?.ptr ?? null,
          db?.ptr ?? null,
          rows,
          cols,
        ),
        () => `${desc()} backward`,
      );
      return [dx, ...(w ? [dw] : []), ...(b ? [db] : [])];
    },
  });
}

/**
 * Group normalisation, as `F.group_norm`: the channels of x [N, C, ...]
 * are split into `numGroups` groups (C must divide evenly), each sample's
 * group normalised by its mean and biased variance, then each channel
 * multiplied by `weight` [C] and shifted by `bias` [C] (either may be left
 * out). eps is added to the variance (default 1e-5).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const y = F.groupNorm(tensor([[[1, 3], [5, 5]]]), 2);
 * console.log(Array.from(y.toArray(), (v) => v.toFixed(3))); // [ "-1.000", "1.000", "0.000", "0.000" ]
 * ```
 */
export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  refuseKeywords("F.groupNorm", weight, `x, ${numGroups}`, WEIGHT_BIAS_EPS, NO_WEIGHT_BIAS);
  const usage = "F.groupNorm(x, 4, weight, bias, 1e-5)";
  if (arguments.length > 5) {
    throw new Error(`groupNorm: takes at most 5 arguments, got ${arguments.length}; ${usage}`);
  }
  expectTensor(x, "groupNorm", usage);
  requireFloat(x, "groupNorm");
  if (x.ndim < 2) throw new Error(`groupNorm: expected an input [N, C, ...], got [${x.shape}]`);
  const [n, c] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups < 1 || c % numGroups !== 0) {
    throw new Error(
      `groupNorm: the number of channels must be divisible by numGroups, got an input of ` +
        `shape [${x.shape}] and numGroups=${numGroups}`,
    );
  }
  checkAffine("groupNorm", weight, "weight", [c], x);
  checkAffine("groupNorm", bias, "bias", [c], x);
  const grouped = reshape(x, [n, numGroups, numel(x.shape.slice(1)) / numGroups]);
  let y = reshape(normalize(grouped, [2], checkEps("groupNorm", eps, usage)), [...x.shape]);
  const perChannel = [c, ...x.shape.slice(2).map(() => 1)];
  if (weight) y = mul(y, reshape(weight, perChannel));
  if (bias) y = add(y, reshape(bias, perChannel));
  return y;
}
