/**
 * MobileNetV2's inverted residual block in evaluation without gradients as
 * one kernel (`invertedResidualEval`): the modules one by one write the
 * expanded activation (six times the block's input), read it back in the
 * depthwise convolution, write its output and read that back in the
 * projection; the kernel keeps both in cache a band of rows at a time.
 * The same bits as the modules' fused convolutions.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Module } from "../layers/module.ts";
import type { Conv2d } from "../layers/conv.ts";
import type { BatchNorm2d } from "../layers/batchnorm.ts";
import type { Sequential } from "../layers/sequential.ts";
import { type ConvBnStage, invertedResidualEval } from "../tensor/ops/inverted_residual.ts";
import { isPlain } from "./plain.ts";
import { Conv2dNormActivation, epilogueOf, fusesConvNormAct } from "./mobile_blocks.ts";

/** The stage of a Conv2d (without bias) and its BatchNorm2d in evaluation, or null. */
function stageOf(layers: readonly Module[]): ConvBnStage | null {
  if (!fusesConvNormAct([...layers])) return null;
  const conv = layers[0] as Conv2d, norm = layers[1] as BatchNorm2d;
  if (conv.bias !== null) return null;
  return {
    weight: conv.weight,
    options: conv.options,
    bn: {
      runningMean: norm.runningMean!,
      runningVar: norm.runningVar!,
      weight: norm.weight,
      bias: norm.bias,
      eps: norm.eps,
    },
  };
}

/**
 * @internal `layers` (an InvertedResidual's `conv`: an optional expansion
 * and a depthwise Conv2dNormActivation with the same activation, then the
 * projection's Conv2d and BatchNorm2d, each as built) applied to x, plus
 * `residual` (null for none), as one kernel. Null where that does not
 * apply (training, a gradient recorded, a hook or another layer, a
 * backend without the kernel): the caller runs the modules.
 */
export function invertedResidualBlockEval(
  layers: readonly Module[],
  x: Tensor,
  residual: Tensor | null,
): Tensor | null {
  if (layers.length !== 3 && layers.length !== 4) return null;
  const hidden = layers.slice(0, -2);
  if (!hidden.every((m) => isPlain(m, Conv2dNormActivation))) return null;
  const inner = hidden.map((m) => [...(m as Sequential)]);
  const acts = inner.map((l) => l.length === 3 ? epilogueOf(l[2]) : null);
  if (acts.some((a) => a === null || a !== acts[0])) return null;
  const stages = [...inner, layers.slice(-2)].map(stageOf);
  if (stages.some((s) => s === null) || layers.slice(-2).length !== 2) return null;
  const [expand, depthwise, project] = stages.length === 3 ? stages : [null, ...stages];
  return invertedResidualEval(x, expand, depthwise!, project!, acts[0]!, residual);
}
