/**
 * A convolution, its batch norm in evaluation, a ReLU and a max pool as one
 * kernel: a stage of the small CNN, maxPool2d(relu(batchNorm?(conv2d(x))),
 * 2) (`lits_conv2d_relu_maxpool2_f32`), and ResNet's stem on one-channel
 * slices, maxPool2d(relu(batchNorm(conv2d(x))), 3, stride 2, padding 1)
 * (`lits_conv2d_relu_maxpool3s2_f32`, also under bf16 autocast). The
 * convolution's rows are pooled as they are made, in cache, instead of
 * being written and read back by the pool (four times the pooled output's
 * bytes each way). The bits are those of the ops run one by one.
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled } from "../autograd.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import { type Conv2dOptions, convGeometry } from "./conv.ts";
import * as fusion from "./fusion.ts";
import { type EvalStats, inferCoef } from "./norm.ts";
import { contiguous } from "./shape.ts";

/**
 * @internal maxPool2d(relu(batchNorm(conv2d(x, weight, bias, options), bn)),
 * 2, stride 2) with the batch norm (bn null: none) on its running
 * statistics, or null where one kernel does not do it (a gradient is
 * recorded, autocast, a backend or CPU without the kernel, a geometry it
 * does not serve): the caller then runs the ops one by one, which also
 * report any error.
 */
export function conv2dReluMaxPool2(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats | null,
): Tensor | null {
  const lib = x.lib;
  const tensors = [x, weight, bias, bn?.runningMean, bn?.runningVar, bn?.weight, bn?.bias];
  if (
    !lib.lits_conv2d_relu_maxpool2_f32 || !lib.lits_conv2d_relu_maxpool2_takes ||
    !fusion.canFuse(x) || matrixOpInBf16(x) ||
    tensors.some((t) => t && (t.dtype !== "float32" || t.device !== x.device)) ||
    (isGradEnabled() && tensors.some((t) => t?.requiresGrad))
  ) {
    return null;
  }
  const { params, n, k, oh, ow, desc } = convGeometry(x, weight, bias, options);
  if (bn && bn.runningMean.size !== k) return null;
  const takes = new Int32Array(1);
  check(lib, lib.lits_conv2d_relu_maxpool2_takes(params, takes), desc);
  if (takes[0] !== 1) return null;
  const cx = contiguous(x), cw = contiguous(weight), cb = bias ? contiguous(bias) : null;
  const coef = bn ? inferCoef(bn) : null;
  const y = Tensor.empty([n, k, Math.floor(oh / 2), Math.floor(ow / 2)], "float32", x.device);
  check(
    lib,
    lib.lits_conv2d_relu_maxpool2_f32(
      params,
      cx.ptr,
      cw.ptr,
      cb?.ptr ?? null,
      coef?.ptr ?? null,
      y.ptr,
    ),
    desc,
  );
  coef?.dispose();
  return y;
}

/**
 * @internal maxPool2d(relu(batchNorm(conv2d(x, weight, bias, options), bn)),
 * 3, stride 2, padding 1) with the batch norm (bn null: none) on its running
 * statistics (ResNet's stem in evaluation), under bf16 autocast as the
 * convolution alone would run; or null where one kernel does not do it (a
 * gradient is recorded, a backend or CPU without the kernel, a geometry it
 * does not serve: one input channel, stride 2): the caller then runs the
 * ops one by one, which also report any error.
 */
export function conv2dReluMaxPool3s2(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats | null,
): Tensor | null {
  const lib = x.lib;
  const tensors = [x, weight, bias, bn?.runningMean, bn?.runningVar, bn?.weight, bn?.bias];
  const bf16 = matrixOpInBf16(x);
  const kernel = bf16
    ? lib.lits_conv2d_relu_maxpool3s2_bf16_f32
    : lib.lits_conv2d_relu_maxpool3s2_f32;
  if (
    !kernel || !lib.lits_conv2d_relu_maxpool3s2_takes || !fusion.canFuse(x) ||
    tensors.some((t) => t && (t.dtype !== "float32" || t.device !== x.device)) ||
    (isGradEnabled() && tensors.some((t) => t?.requiresGrad))
  ) {
    return null;
  }
  const { params, n, k, oh, ow, desc } = convGeometry(x, weight, bias, options);
  if (bn && bn.runningMean.size !== k) return null;
  const takes = new Int32Array(1);
  check(lib, lib.lits_conv2d_relu_maxpool3s2_takes(params, bf16 ? 1 : 0, takes), desc);
  if (takes[0] !== 1) return null;
  const cx = contiguous(x), cw = contiguous(weight), cb = bias ? contiguous(bias) : null;
  const coef = bn ? inferCoef(bn) : null;
  const pooled = (size: number) => Math.floor((size - 1) / 2) + 1;
  const y = Tensor.empty([n, k, pooled(oh), pooled(ow)], "float32", x.device);
  check(lib, kernel(params, cx.ptr, cw.ptr, cb?.ptr ?? null, coef?.ptr ?? null, y.ptr), desc);
  coef?.dispose();
  return y;
}
