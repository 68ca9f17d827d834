/**
 * A ResNet block's output in evaluation, relu(batchNorm(conv2d(x)) +
 * residual), as one kernel (`lits_conv2d_forward_epilogue_f32`): the
 * convolution's output goes through the batch norm's transform, the
 * residual and the ReLU as it is written, instead of being written, then
 * read back with the residual by the pass that makes the block's output
 * (ONNX Runtime fuses Conv + Add + Relu likewise). The bits are those of
 * the ops run one by one.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled } from "../autograd.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import { type Conv2dOptions, convGeometry } from "./conv.ts";
import { preparedWeights } from "./conv_prepared.ts";
import * as fusion from "./fusion.ts";
import { type EvalStats, inferCoef } from "./norm.ts";
import { contiguous } from "./shape.ts";

/**
 * @internal relu(batchNorm(conv2d(x, weight, bias, options), bn) + residual)
 * with the batch norm on its running statistics, or null where one kernel
 * cannot do it (a gradient is recorded, a backend without the
 * kernel, shapes that differ, dtypes other than float32): the caller then
 * runs the ops one by one, which also report any error.
 */
export function conv2dBatchNormAddRelu(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats,
  residual: Tensor,
): Tensor | null {
  return conv2dBatchNormAct(x, weight, bias, options, bn, "relu", residual);
}

/** The activation an epilogue applies: lits.h's relu codes 0 to 3. */
export type EpilogueActivation = "none" | "relu" | "relu6" | "silu";
const ACT_CODE: Record<EpilogueActivation, number> = { none: 0, relu: 1, relu6: 2, silu: 3 };

/**
 * @internal What a squeeze-and-excitation block asks of the convolutions
 * around it (`conv2dBatchNormAct`, float32 only; under bf16 autocast the
 * kernels' bf16 forms): `pooled`
 * [n, k] gets the mean of each plane of the output (the depthwise
 * convolution's, read by the block's global pool), or each plane of the
 * input is multiplied by `xScale` [n, c] (the gate) before the
 * convolution (the projection's), without the product being written.
 */
export interface SqueezeIo {
  /** Written: [n, k], contiguous, the output's plane means. */
  pooled?: Tensor;
  /** Read: [n, c] (or [n, c, 1, 1]), the input's per-plane factors. */
  xScale?: Tensor;
}

/**
 * @internal act(batchNorm(conv2d(x, weight, bias, options), bn) (+ residual))
 * in one kernel, as `conv2dBatchNormAddRelu` (MobileNet's
 * Conv2dNormActivation with ReLU6, and its blocks' last convolution with
 * the residual and no activation), or null where one kernel cannot do it;
 * with `se`, also a squeeze-and-excitation's pool or scale (`SqueezeIo`).
 */
export function conv2dBatchNormAct(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats,
  act: EpilogueActivation,
  residual: Tensor | null,
  se: SqueezeIo | null = null,
): Tensor | null {
  const lib = x.lib;
  const pooled = se?.pooled ?? null, xScale = se?.xScale ?? null;
  const tensors = [
    x,
    weight,
    bias,
    bn.runningMean,
    bn.runningVar,
    bn.weight,
    bn.bias,
    residual,
    pooled,
    xScale,
  ];
  // Under autocast, the bf16 convolution's (bf16 inputs, fp32 sums) with the same epilogue.
  const bf16 = matrixOpInBf16(x);
  const kernel = pooled
    ? (bf16
      ? lib.lits_conv2d_forward_epilogue_pool_bf16_f32
      : lib.lits_conv2d_forward_epilogue_pool_f32)
    : xScale
    ? (bf16
      ? lib.lits_conv2d_forward_epilogue_scaled_bf16_f32
      : lib.lits_conv2d_forward_epilogue_scaled_f32)
    : bf16
    ? lib.lits_conv2d_forward_epilogue_bf16_f32
    : lib.lits_conv2d_forward_epilogue_f32;
  if (
    !kernel || !fusion.canFuse(x) ||
    tensors.some((t) => t !== null && (t.dtype !== "float32" || t.device !== x.device)) ||
    (isGradEnabled() && tensors.some((t) => t?.requiresGrad))
  ) {
    return null;
  }
  const { params, n, c, h, w, k, oh, ow, desc } = convGeometry(x, weight, bias, options);
  const shape = [n, k, oh, ow];
  if (residual && (residual.ndim !== 4 || residual.shape.some((d, i) => d !== shape[i]))) {
    return null;
  }
  if (bn.runningMean.numel() !== k) return null;
  if (pooled && (pooled.numel() !== n * k || !pooled.isContiguous)) return null;
  if (xScale && (xScale.numel() !== n * c || xScale.shape[0] !== n)) return null;
  const cx = contiguous(x), cw = contiguous(weight), cb = bias ? contiguous(bias) : null;
  const cr = residual ? contiguous(residual) : null;
  const xin = fusion.input(cx, n, c, h * w);
  // The scale multiplies x's memory: an unwritten input is written first.
  if (xScale && (xin.coef !== null || xin.relu)) return null;
  // The residual as an unwritten batch norm (a downsampling shortcut's) is read through its transform.
  const r = cr ? fusion.operandOf(cr, n, k, oh * ow) : null;
  const coef = inferCoef(bn);
  const y = Tensor.empty(shape, "float32", x.device);
  // weight, bias, then the epilogue: y_coef, r, r_coef, act, y
  const tail = [
    cw.ptr,
    cb?.ptr ?? null,
    coef.ptr,
    r ? fusion.operandPtr(r) : cr?.ptr ?? null,
    r?.coef?.ptr ?? null,
    ACT_CODE[act],
    y.ptr,
  ] as const;
  const args = [params, xin.ptr, xin.coef, xin.relu, ...tail] as const;
  const prep = bf16 || cw !== weight ? null : preparedWeights(weight, params);
  const pp = prep?.ptr ?? null, pb = prep?.bytes ?? 0;
  let status: number;
  if (pooled) {
    status = bf16
      ? lib.lits_conv2d_forward_epilogue_pool_bf16_f32!(...args, pooled.ptr)
      : lib.lits_conv2d_forward_epilogue_pool_f32!(...args, pooled.ptr, pp, pb);
  } else if (xScale) {
    const cs = contiguous(xScale);
    status = bf16
      ? lib.lits_conv2d_forward_epilogue_scaled_bf16_f32!(params, xin.ptr, cs.ptr, ...tail)
      : lib.lits_conv2d_forward_epilogue_scaled_f32!(params, xin.ptr, cs.ptr, ...tail, pp, pb);
    if (cs !== xScale) cs.dispose();
  } else {
    status = bf16
      ? lib.lits_conv2d_forward_epilogue_bf16_f32!(...args)
      : lib.lits_conv2d_forward_epilogue_f32!(...args, pp, pb);
  }
  check(lib, status, desc);
  coef.dispose();
  return y;
}
