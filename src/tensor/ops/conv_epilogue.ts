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
 * @internal act(batchNorm(conv2d(x, weight, bias, options), bn) (+ residual))
 * in one kernel, as `conv2dBatchNormAddRelu` (MobileNet's
 * Conv2dNormActivation with ReLU6, and its blocks' last convolution with
 * the residual and no activation), or null where one kernel cannot do it.
 */
export function conv2dBatchNormAct(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats,
  act: EpilogueActivation,
  residual: Tensor | null,
): Tensor | null {
  const lib = x.lib;
  const tensors = [x, weight, bias, bn.runningMean, bn.runningVar, bn.weight, bn.bias, residual];
  // Under autocast, the bf16 convolution's (bf16 inputs, fp32 sums) with the same epilogue.
  const bf16 = matrixOpInBf16(x);
  const kernel = bf16
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
  const cx = contiguous(x), cw = contiguous(weight), cb = bias ? contiguous(bias) : null;
  const cr = residual ? contiguous(residual) : null;
  const xin = fusion.input(cx, n, c, h * w);
  // The residual as an unwritten batch norm (a downsampling shortcut's) is read through its transform.
  const r = cr ? fusion.operandOf(cr, n, k, oh * ow) : null;
  const coef = inferCoef(bn);
  const y = Tensor.empty(shape, "float32", x.device);
  const args = [
    params,
    xin.ptr,
    xin.coef,
    xin.relu,
    cw.ptr,
    cb?.ptr ?? null,
    coef.ptr,
    r ? fusion.operandPtr(r) : cr?.ptr ?? null,
    r?.coef?.ptr ?? null,
    ACT_CODE[act],
    y.ptr,
  ] as const;
  const prep = bf16 || cw !== weight ? null : preparedWeights(weight, params);
  check(
    lib,
    bf16
      ? lib.lits_conv2d_forward_epilogue_bf16_f32!(...args)
      : lib.lits_conv2d_forward_epilogue_f32!(...args, prep?.ptr ?? null, prep?.bytes ?? 0),
    desc,
  );
  coef.dispose();
  return y;
}
