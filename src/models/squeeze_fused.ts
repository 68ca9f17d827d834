/**
 * EfficientNet's MBConv in evaluation without gradients: its depthwise
 * convolution, squeeze-and-excitation and projection as three kernels. The
 * modules one by one write the depthwise output d, read it back to pool
 * it, run the gate as five small ops, read d again to write gate * d, and
 * the projection reads that: three passes over the block's largest tensor
 * besides the one that writes it. Here the depthwise kernel sums each
 * plane as it writes d (`conv2dBatchNormAct`'s `pooled`), the gate is one
 * call (`squeezeGate`), and the projection multiplies each value of d by
 * its gate as it packs it (`xScale`): d is written once and read once.
 * Values within a few ulps of the modules' (the pool's and the gate's
 * sums go in another order; the projection's are the same sums). Under
 * bf16 autocast the same three calls in their bf16 forms, which round the
 * convolutions' operands as the modules' would; there the projection reads
 * a scaled copy of d (the bf16 GEMM's packing has no per-image scale).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { matrixOpInBf16 } from "../tensor/autocast.ts";
import { canFuse } from "../tensor/ops/fusion.ts";
import type { Module } from "../layers/module.ts";
import type { Conv2d } from "../layers/conv.ts";
import type { Sequential } from "../layers/sequential.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { chain } from "../layers/chain.ts";
import { isPlain } from "./plain.ts";
import {
  Conv2dNormActivation,
  convNormAct,
  fusesConvNormAct,
  SqueezeExcitation,
  squeezeGate,
} from "./mobile_blocks.ts";

/** Whether `m` is a plain global average pool (output 1 x 1). */
function isGlobalPool(m: Module): boolean {
  if (!isPlain(m, AdaptiveAvgPool2d)) return false;
  const s = (m as AdaptiveAvgPool2d).outputSize;
  return s === 1 || (Array.isArray(s) && s.length === 2 && s[0] === 1 && s[1] === 1);
}

/**
 * @internal `layers` (MBConv's block: an optional expansion, then a
 * depthwise Conv2dNormActivation, a SqueezeExcitation and the projection's
 * Conv2dNormActivation, each as built) applied to x, plus `residual`
 * (added before the projection's activation; null for none), with the
 * squeeze-and-excitation folded into the convolutions around it. Null
 * where that does not apply (training, a gradient recorded, a hook or
 * another layer, a backend without the kernels): the caller runs the
 * modules.
 */
export function squeezeBlockEval(
  layers: readonly Module[],
  x: Tensor,
  residual: Tensor | null,
): Tensor | null {
  if (layers.length < 3) return null;
  const [dw, se, proj] = layers.slice(-3);
  if (
    !isPlain(dw, Conv2dNormActivation) || !isPlain(se, SqueezeExcitation) ||
    !isPlain(proj, Conv2dNormActivation) || !isGlobalPool((se as SqueezeExcitation).avgpool)
  ) {
    return null;
  }
  const dwLayers = [...(dw as Sequential)], projLayers = [...(proj as Sequential)];
  const lib = x.lib;
  // Under bf16 autocast the kernels' bf16 forms (their convolutions round their operands).
  const kernels = matrixOpInBf16(x)
    ? [
      lib.lits_conv2d_forward_epilogue_pool_bf16_f32,
      lib.lits_squeeze_excitation_gate_bf16_f32,
      lib.lits_conv2d_forward_epilogue_scaled_bf16_f32,
    ]
    : [
      lib.lits_conv2d_forward_epilogue_pool_f32,
      lib.lits_squeeze_excitation_gate_f32,
      lib.lits_conv2d_forward_epilogue_scaled_f32,
    ];
  if (
    !fusesConvNormAct(dwLayers) || !fusesConvNormAct(projLayers) ||
    kernels.some((k) => !k) || !canFuse(x) ||
    (isGradEnabled() &&
      [x, residual, ...dw.parameters(), ...se.parameters(), ...proj.parameters()].some((t) =>
        t?.requiresGrad
      ))
  ) {
    return null;
  }
  const tail = (t: Tensor): Tensor => {
    const k = (dwLayers[0] as Conv2d).outChannels;
    const pooled = Tensor.empty([t.shape[0], k], "float32", t.device);
    const d = convNormAct(dwLayers, t, null, { pooled });
    if (d === null) { // the modules, as MBConv's own path runs them
      pooled.dispose();
      const h = se(dw(t));
      return convNormAct(projLayers, h, residual) ??
        (residual ? proj(h).add(residual) : proj(h));
    }
    const gate = squeezeGate(se as SqueezeExcitation, pooled);
    const scale = gate ?? (se as SqueezeExcitation).scale(d);
    return convNormAct(projLayers, d, residual, { xScale: scale }) ?? (() => {
      const h = (se as SqueezeExcitation).scale(d).mul(d);
      return residual ? proj(h).add(residual) : proj(h);
    })();
  };
  const steps = layers.slice(0, -3).map((m) => (t: Tensor) => m(t));
  return chain(x, [...steps, tail]);
}
