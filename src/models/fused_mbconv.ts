/**
 * EfficientNetV2's Fused-MBConv (Tan & Le, "EfficientNetV2: Smaller Models
 * and Faster Training", ICML 2021, Fig. 2) as torchvision 0.14's
 * `FusedMBConv`: the expansion and depthwise convolutions of MBConv
 * replaced by one full k x k convolution, no squeeze-and-excitation.
 * State-dict names are torchvision's: `block.0.0.weight` (the fused
 * expansion), `block.1.1.running_var` (the projection's batch norm).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { SiLU } from "../layers/activation_hard.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { Sequential } from "../layers/sequential.ts";
import { StochasticDepth } from "../layers/stochastic_depth.ts";
import { chain } from "../layers/chain.ts";
import { checkArity } from "../options.ts";
import { isPlain } from "./plain.ts";
import {
  checkProbability,
  Conv2dNormActivation,
  convNormAct,
  fusesConvNormAct,
  makeDivisible,
  type NormLayer,
} from "./mobile_blocks.ts";
import type { MBConvConfig } from "./efficientnet.ts";

const silu = () => new SiLU(true);
const batchNorm: NormLayer = (c) => new BatchNorm2d(c);

/**
 * Fused-MBConv as torchvision's `FusedMBConv`: with an expansion, a k x k
 * convolution (the block's stride) to the expanded channels with SiLU, then
 * a 1x1 projection without activation; without one (expansion 1), a single
 * k x k convolution with SiLU. When the stride is 1 and the channels stay,
 * the branch goes through stochastic depth (per sample, in training) and
 * the input is added back.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const cnf = { expandRatio: 4, kernel: 3, stride: 1, inputChannels: 8, outChannels: 8, numLayers: 1 };
 * const block = new models.FusedMBConv(cnf, 0.1);
 * console.log([...block.stateDict().keys()][0], block.useResConnect); // "block.0.0.weight" true
 * console.log(block.eval()(randn([2, 8, 6, 6])).shape); // [2, 8, 6, 6]
 * ```
 */
export class FusedMBConv extends Module {
  /** The fused expansion and the projection, or one k x k convolution. */
  block: Sequential;
  /** Drops the branch per sample in training (torchvision's name). */
  stochastic_depth: StochasticDepth;
  /** Whether forward adds the input (stride 1, same channels). */
  readonly useResConnect: boolean;
  /** Output channels. */
  readonly outChannels: number;

  constructor(cnf: MBConvConfig, stochasticDepthProb: number, normLayer: NormLayer = batchNorm) {
    super();
    const usage =
      'new models.FusedMBConv({ ...models.EFFICIENTNET_V2_S.stages![1], block: "FusedMBConv" }, 0.1)';
    checkArity("models.FusedMBConv", arguments.length, 3, usage);
    if (cnf.stride !== 1 && cnf.stride !== 2) {
      throw new Error(`models.FusedMBConv: stride must be 1 or 2, got ${cnf.stride}`);
    }
    checkProbability("models.FusedMBConv", "stochasticDepthProb", stochasticDepthProb, usage);
    const { inputChannels: input, outChannels: out, kernel, stride } = cnf;
    this.useResConnect = stride === 1 && input === out;
    // torchvision's `adjust_channels(input, expand_ratio)`.
    const expanded = makeDivisible(input * cnf.expandRatio, 8);
    const layers = expanded !== input
      ? [
        new Conv2dNormActivation(input, expanded, {
          kernelSize: kernel,
          stride,
          normLayer,
          activationLayer: silu,
        }),
        new Conv2dNormActivation(expanded, out, {
          kernelSize: 1,
          normLayer,
          activationLayer: null,
        }),
      ]
      : [
        new Conv2dNormActivation(input, out, {
          kernelSize: kernel,
          stride,
          normLayer,
          activationLayer: silu,
        }),
      ];
    this.block = new Sequential(...layers);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
    this.outChannels = out;
  }

  /**
   * block(x), plus x through stochastic depth where the shapes allow the
   * residual. In evaluation without gradients, a projection without
   * activation, its batch norm and the residual add run as one kernel
   * (`convNormAct`; stochastic depth is the identity there), with the same
   * bits. A single convolution ends in SiLU, which torchvision applies
   * before the add, so its residual is added after it.
   */
  forward(x: Tensor): Tensor {
    if (!this.useResConnect) return this.block(x);
    const layers = [...this.block], last = layers.at(-1)!;
    const lastLayers = isPlain(last, Conv2dNormActivation) ? [...(last as Sequential)] : [];
    if (
      isPlain(this.block, Sequential) && isPlain(this.stochastic_depth, StochasticDepth) &&
      !this.stochastic_depth.training && lastLayers.length === 2 && fusesConvNormAct(lastLayers)
    ) {
      const hidden = chain(x, layers.slice(0, -1).map((m) => (t: Tensor) => m(t)));
      return convNormAct(lastLayers, hidden, x) ?? this.stochastic_depth(last(hidden)).add(x);
    }
    return this.stochastic_depth(this.block(x)).add(x);
  }
}
