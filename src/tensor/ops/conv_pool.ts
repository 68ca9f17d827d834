/**
 * A convolution, its batch norm in evaluation, a ReLU and a max pool as one
 * kernel: a stage of the small CNN, maxPool2d(relu(batchNorm?(conv2d(x))),
 * 2) (`lits_conv2d_relu_maxpool2_f32`; under bf16 autocast its first, one-
 * channel stage), and ResNet's stem on one-channel
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

/** A fused kernel's entry points, as lits.h declares them (null: the backend has none). */
interface Kernel {
  takes: ((params: Int32Array, takes: Int32Array) => number) | null;
  run:
    | ((
      params: Int32Array,
      x: Deno.PointerValue,
      w: Deno.PointerValue,
      b: Deno.PointerValue,
      coef: Deno.PointerValue,
      y: Deno.PointerValue,
    ) => number)
    | null;
}

/**
 * The fused kernel's output [n, k, ...pooled(oh, ow)], or null where it does
 * not serve the call (see the two functions below).
 */
function convReluMaxPool(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats | null,
  kernel: Kernel,
  pooled: (size: number) => number,
): Tensor | null {
  const tensors = [x, weight, bias, bn?.runningMean, bn?.runningVar, bn?.weight, bn?.bias];
  if (
    !kernel.run || !kernel.takes || !fusion.canFuse(x) ||
    tensors.some((t) => t && (t.dtype !== "float32" || t.device !== x.device)) ||
    (isGradEnabled() && tensors.some((t) => t?.requiresGrad))
  ) {
    return null;
  }
  const lib = x.lib;
  const { params, n, k, oh, ow, desc } = convGeometry(x, weight, bias, options);
  if (bn && bn.runningMean.numel() !== k) return null;
  const takes = new Int32Array(1);
  check(lib, kernel.takes(params, takes), desc);
  if (takes[0] !== 1) return null;
  const cx = contiguous(x), cw = contiguous(weight), cb = bias ? contiguous(bias) : null;
  const coef = bn ? inferCoef(bn) : null;
  const y = Tensor.empty([n, k, pooled(oh), pooled(ow)], "float32", x.device);
  check(lib, kernel.run(params, cx.ptr, cw.ptr, cb?.ptr ?? null, coef?.ptr ?? null, y.ptr), desc);
  coef?.dispose();
  return y;
}

/**
 * @internal maxPool2d(relu(batchNorm(conv2d(x, weight, bias, options), bn)),
 * 2, stride 2) with the batch norm (bn null: none) on its running
 * statistics, under bf16 autocast as the convolution alone would run; or
 * null where one kernel does not do it (a gradient is recorded, a backend
 * or CPU without the kernel, a geometry it does not serve; under autocast,
 * all but one input channel): the caller then runs the ops one by one,
 * which also report any error.
 */
export function conv2dReluMaxPool2(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  options: Conv2dOptions,
  bn: EvalStats | null,
): Tensor | null {
  const lib = x.lib, bf16 = matrixOpInBf16(x);
  const kernel = {
    takes: bf16 ? lib.lits_conv2d_relu_maxpool2_bf16_takes : lib.lits_conv2d_relu_maxpool2_takes,
    run: bf16 ? lib.lits_conv2d_relu_maxpool2_bf16_f32 : lib.lits_conv2d_relu_maxpool2_f32,
  };
  return convReluMaxPool(x, weight, bias, options, bn, kernel, (size) => Math.floor(size / 2));
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
  const lib = x.lib, bf16 = matrixOpInBf16(x);
  const takes = lib.lits_conv2d_relu_maxpool3s2_takes;
  const kernel = {
    takes: takes && ((params: Int32Array, out: Int32Array) => takes(params, bf16 ? 1 : 0, out)),
    run: bf16 ? lib.lits_conv2d_relu_maxpool3s2_bf16_f32 : lib.lits_conv2d_relu_maxpool3s2_f32,
  };
  return convReluMaxPool(
    x,
    weight,
    bias,
    options,
    bn,
    kernel,
    (size) => Math.floor((size - 1) / 2) + 1,
  );
}
