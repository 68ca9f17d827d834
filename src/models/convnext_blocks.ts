/**
 * ConvNeXt's building blocks as torchvision 0.14 has them: `CNBlockConfig`
 * (one stage of Section 3 of the paper), `Permute` (torchvision.ops.misc)
 * and `CNBlock`, whose children keep torchvision's state-dict names
 * (`block.0.weight` depthwise 7x7, `block.2.weight` the channels-last
 * LayerNorm, `block.3` and `block.5` the two Linears, `layer_scale`).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { permute } from "../tensor/ops/shape.ts";
import { constant_ } from "../layers/init.ts";
import { Module, Parameter } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Linear } from "../layers/linear.ts";
import { GELU } from "../layers/activation.ts";
import { LayerNorm } from "../layers/norm_layers.ts";
import { Sequential } from "../layers/sequential.ts";
import { StochasticDepth } from "../layers/stochastic_depth.ts";
import { checkArity } from "../options.ts";
import { checkCount, checkProbability, type NormLayer } from "./mobile_blocks.ts";

/**
 * One stage of a ConvNeXt (torchvision's `CNBlockConfig`): `numLayers`
 * blocks of `inputChannels`, then, unless `outChannels` is null (the last
 * stage), a downsampling layer to `outChannels`.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const stage = new models.CNBlockConfig(96, 192, 3);
 * console.log(stage.inputChannels, stage.outChannels, stage.numLayers); // 96 192 3
 * ```
 */
export class CNBlockConfig {
  constructor(
    readonly inputChannels: number,
    readonly outChannels: number | null,
    readonly numLayers: number,
  ) {
    const usage = "new models.CNBlockConfig(96, 192, 3) (null outChannels for the last stage)";
    checkArity("models.CNBlockConfig", arguments.length, 3, usage);
    if (arguments.length < 3) {
      throw new Error(
        `models.CNBlockConfig: takes inputChannels, outChannels and numLayers; write ${usage}`,
      );
    }
    checkStage("models.CNBlockConfig", this, usage);
  }
}

/** @internal throws unless `cnf` is a stage (integers >= 1; outChannels may be null). */
export function checkStage(where: string, cnf: CNBlockConfig, usage: string): void {
  if (typeof cnf !== "object" || cnf === null) {
    throw new Error(`${where}: a stage must be a models.CNBlockConfig, got ${cnf}; write ${usage}`);
  }
  checkCount(where, "inputChannels", cnf.inputChannels, usage);
  if (cnf.outChannels !== null) checkCount(where, "outChannels", cnf.outChannels, usage);
  checkCount(where, "numLayers", cnf.numLayers, usage);
}

/**
 * Reorders the dimensions of its input (torchvision.ops.misc.Permute), a
 * view: ConvNeXt's blocks go channels-last and back around their Linears.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.Permute([0, 2, 3, 1]).forward(zeros([2, 8, 5, 6])).shape); // [2, 5, 6, 8]
 * ```
 */
export class Permute extends Module {
  /** The new order of the input's dimensions. */
  readonly dims: readonly number[];

  constructor(dims: number[]) {
    super();
    const usage = "new models.Permute([0, 2, 3, 1])";
    checkArity("models.Permute", arguments.length, 1, usage);
    if (!Array.isArray(dims) || dims.length === 0 || dims.some((d) => !Number.isInteger(d))) {
      throw new Error(
        `models.Permute: dims must be an array of dimensions, got ${JSON.stringify(dims)}; ` +
          `write ${usage}`,
      );
    }
    this.dims = Object.freeze([...dims]);
  }

  /** x with its dimensions in the order `dims` (a view). */
  forward(x: Tensor): Tensor {
    return permute(x, [...this.dims]);
  }
}

const layerNorm: NormLayer = (c) => new LayerNorm(c, { eps: 1e-6 });

/**
 * The ConvNeXt block as torchvision's `CNBlock`: depthwise 7x7 convolution,
 * channels-last LayerNorm (eps 1e-6), Linear to 4 x dim, GELU, Linear back
 * to dim, channels-first again, times the learned per-channel `layer_scale`
 * [dim, 1, 1] (filled with `layerScale`), through stochastic depth ("row":
 * per sample, in training only), plus the input.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const block = new models.CNBlock(16, 1e-6, 0.1);
 * console.log([...block.stateDict().keys()].slice(0, 3)); // ["layer_scale", "block.0.weight", "block.0.bias"]
 * console.log(block.eval()(randn([2, 16, 8, 8])).shape); // [2, 16, 8, 8]
 * ```
 */
export class CNBlock extends Module {
  /** Depthwise conv, Permute, LayerNorm, Linear, GELU, Linear, Permute (torchvision's order). */
  block: Sequential;
  /** Per-channel scale of the branch [dim, 1, 1] (torchvision's name). */
  layer_scale: Parameter;
  /** Drops the branch per sample in training (torchvision's name). */
  stochastic_depth: StochasticDepth;

  constructor(
    readonly dim: number,
    layerScale: number,
    stochasticDepthProb: number,
    normLayer: NormLayer = layerNorm,
  ) {
    super();
    const usage = "new models.CNBlock(96, 1e-6, 0.1)";
    checkArity("models.CNBlock", arguments.length, 4, usage);
    checkCount("models.CNBlock", "dim", dim, usage);
    checkLayerScale("models.CNBlock", layerScale, usage);
    checkProbability("models.CNBlock", "stochasticDepthProb", stochasticDepthProb, usage);
    this.block = new Sequential(
      new Conv2d(dim, dim, 7, { padding: 3, groups: dim, bias: true }),
      new Permute([0, 2, 3, 1]),
      normLayer(dim),
      new Linear(dim, 4 * dim),
      new GELU(),
      new Linear(4 * dim, dim),
      new Permute([0, 3, 1, 2]),
    );
    const scale = constant_(Tensor.empty([dim, 1, 1], "float32", "cpu", false), layerScale);
    this.layer_scale = new Parameter(scale);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
  }

  /** x + stochasticDepth(layer_scale * block(x)); x [N, dim, H, W]. */
  forward(x: Tensor): Tensor {
    return this.stochastic_depth(this.layer_scale.mul(this.block(x))).add(x);
  }
}

/** @internal throws unless `v` is a finite number (the initial layer scale). */
export function checkLayerScale(where: string, v: unknown, usage: string): void {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${where}: layerScale must be a finite number, got ${v}; write ${usage}`);
  }
}
