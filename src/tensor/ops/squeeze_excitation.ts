/**
 * Squeeze-and-excitation's gate in evaluation as one native call
 * (`lits_squeeze_excitation_gate_f32`): sigmoid(fc2(act(fc1(pooled)))) of
 * the pooled [n, c] means, where torchvision's module runs two 1x1
 * convolutions on [n, c, 1, 1], an activation and a sigmoid: five op
 * dispatches and their tensors for a few thousand multiply-adds. With the
 * depthwise convolution's pool (`conv2dBatchNormAct`'s `pooled`) and the
 * projection's scale (its `xScale`) it makes EfficientNet's block in
 * evaluation (`../../models/squeeze_fused.ts`).
 *
 * @module
 */
import { check } from "../../ffi/native.ts";
import { Tensor } from "../tensor.ts";
import { isGradEnabled } from "../autograd.ts";
import { matrixOpInBf16 } from "../autocast.ts";
import type { EpilogueActivation } from "./conv_epilogue.ts";
import { contiguous } from "./shape.ts";

const ACT_CODE: Record<EpilogueActivation, number> = { none: 0, relu: 1, relu6: 2, silu: 3 };

/** A 1x1 convolution's parameters: weight [out, in, 1, 1], bias [out] or null. */
export interface PointwiseParams {
  /** [out, in, 1, 1]. */
  weight: Tensor;
  /** [out], or null. */
  bias: Tensor | null;
}

/**
 * @internal The gate [n, c] = sigmoid(fc2(act(fc1(pooled)))) of `pooled`
 * ([n, c] or [n, c, 1, 1]) in one kernel, or null where it cannot run (a
 * backend without it, another dtype or device, a gradient to record,
 * shapes that do not chain): the caller then runs the modules, which also
 * report any error. Under bf16 autocast the kernel's bf16 form rounds the
 * two convolutions' operands, as the modules' convolutions would.
 */
export function squeezeExcitationGate(
  pooled: Tensor,
  fc1: PointwiseParams,
  act: EpilogueActivation,
  fc2: PointwiseParams,
): Tensor | null {
  const lib = pooled.lib;
  const tensors = [pooled, fc1.weight, fc1.bias, fc2.weight, fc2.bias];
  const kernel = matrixOpInBf16(pooled)
    ? lib.lits_squeeze_excitation_gate_bf16_f32
    : lib.lits_squeeze_excitation_gate_f32;
  if (
    !kernel ||
    tensors.some((t) => t !== null && (t.dtype !== "float32" || t.device !== pooled.device)) ||
    (isGradEnabled() && tensors.some((t) => t?.requiresGrad))
  ) {
    return null;
  }
  const [n, c] = pooled.shape, squeeze = fc1.weight.shape[0];
  const pointwise = (w: Tensor, out: number, inp: number) =>
    w.ndim === 4 && w.shape[0] === out && w.shape[1] === inp && w.shape[2] === 1 &&
    w.shape[3] === 1;
  if (
    !(pooled.ndim === 2 || (pooled.ndim === 4 && pooled.shape[2] === 1 && pooled.shape[3] === 1)) ||
    c === 0 || !pointwise(fc1.weight, squeeze, c) || !pointwise(fc2.weight, c, squeeze) ||
    (fc1.bias !== null && (fc1.bias.ndim !== 1 || fc1.bias.shape[0] !== squeeze)) ||
    (fc2.bias !== null && (fc2.bias.ndim !== 1 || fc2.bias.shape[0] !== c))
  ) {
    return null;
  }
  const [p, w1, b1, w2, b2] = tensors.map((t) => t === null ? null : contiguous(t));
  const gate = Tensor.empty([n, c], "float32", pooled.device);
  check(
    lib,
    kernel(
      p!.ptr,
      w1!.ptr,
      b1?.ptr ?? null,
      w2!.ptr,
      b2?.ptr ?? null,
      gate.ptr,
      n,
      c,
      squeeze,
      ACT_CODE[act],
    ),
    () => `squeeze-and-excitation gate of [${pooled.shape}] through ${squeeze} channels`,
  );
  return gate;
}
