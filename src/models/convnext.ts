/**
 * ConvNeXt: Liu et al., "A ConvNet for the 2020s", CVPR 2022, Section 3
 * (Tiny, Small, Base, Large), as torchvision 0.14 builds it. State-dict
 * names are torchvision's: `features.0.0.weight` (the 4x4 stride-4 stem),
 * `features.0.1.weight` (its LayerNorm2d), `features.1.0.layer_scale`,
 * `features.1.0.block.3.weight` (a block's first Linear),
 * `features.2.1.weight` (a 2x2 stride-2 downsampling), `classifier.2.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Flatten } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { LayerNorm2d } from "../layers/layer_norm_2d.ts";
import { chain } from "../layers/chain.ts";
import { normal_, zeros_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkCount, checkProbability, Conv2dNormActivation } from "./mobile_blocks.ts";
import { checkLayerScale, checkStage, CNBlock, CNBlockConfig } from "./convnext_blocks.ts";

/** A member of the ConvNeXt family: its stages and default stochastic depth. */
export interface ConvNeXtConfig {
  /** Name used in messages ("ConvNeXt-Tiny"). */
  readonly name: string;
  /** The stages (torchvision's `block_setting`). */
  readonly blockSetting: readonly CNBlockConfig[];
  /** Stochastic depth of the last block (torchvision's default for the model). */
  readonly stochasticDepthProb: number;
}

const stages = (c: number, layers: number[]) =>
  layers.map((n, i) => new CNBlockConfig(c << i, i < 3 ? c << (i + 1) : null, n));

/** torchvision's `convnext_tiny`: 96-768 channels, (3, 3, 9, 3) blocks, stochastic depth 0.1. */
export const CONVNEXT_TINY: ConvNeXtConfig = {
  name: "ConvNeXt-Tiny",
  blockSetting: stages(96, [3, 3, 9, 3]),
  stochasticDepthProb: 0.1,
};
/** torchvision's `convnext_small`: 96-768 channels, (3, 3, 27, 3) blocks, stochastic depth 0.4. */
export const CONVNEXT_SMALL: ConvNeXtConfig = {
  name: "ConvNeXt-Small",
  blockSetting: stages(96, [3, 3, 27, 3]),
  stochasticDepthProb: 0.4,
};
/** torchvision's `convnext_base`: 128-1024 channels, (3, 3, 27, 3) blocks, stochastic depth 0.5. */
export const CONVNEXT_BASE: ConvNeXtConfig = {
  name: "ConvNeXt-Base",
  blockSetting: stages(128, [3, 3, 27, 3]),
  stochasticDepthProb: 0.5,
};
/** torchvision's `convnext_large`: 192-1536 channels, (3, 3, 27, 3) blocks, stochastic depth 0.5. */
export const CONVNEXT_LARGE: ConvNeXtConfig = {
  name: "ConvNeXt-Large",
  blockSetting: stages(192, [3, 3, 27, 3]),
  stochasticDepthProb: 0.5,
};

/** Options of the ConvNeXt builders and `ConvNeXt`. */
export interface ConvNeXtOptions {
  /**
   * Input channels of the stem convolution `features.0.0` (default 3): 1
   * builds it as Conv2d(1, C, 4, stride 4), what a torchvision user gets by
   * replacing `features[0][0]` for CT slices; 3-channel pretrained weights
   * load into it through `models.loadPretrained` (which adapts the stem).
   */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /**
   * Stochastic depth of the last block; block i of the n (from 0) drops its
   * branch with probability stochasticDepthProb * i / (n - 1) (default the
   * model's: 0.1 tiny, 0.4 small, 0.5 base and large; 0 for
   * `new ConvNeXt(blockSetting)`, as torchvision's class).
   */
  stochasticDepthProb?: number;
  /** Initial value of every block's `layer_scale` (default 1e-6). */
  layerScale?: number;
}

const USAGE = "models.convnextTiny({ inChannels: 1, numClasses: 3 })";

/** The model's config from a config or a bare `blockSetting` (torchvision's first argument). */
function configOf(given: ConvNeXtConfig | readonly CNBlockConfig[]): ConvNeXtConfig {
  const usage =
    "new models.ConvNeXt([new models.CNBlockConfig(96, 192, 3), ...], { numClasses: 3 })";
  const config = Array.isArray(given)
    ? { name: "ConvNeXt", blockSetting: given, stochasticDepthProb: 0 }
    : given as ConvNeXtConfig;
  const setting = config?.blockSetting;
  if (!Array.isArray(setting) || setting.length === 0) {
    throw new Error(
      `models.ConvNeXt: needs a non-empty blockSetting (an array of CNBlockConfig); write ${usage}`,
    );
  }
  setting.forEach((cnf, i) => checkStage(`models.ConvNeXt (stage ${i})`, cnf, usage));
  let channels = setting[0].inputChannels;
  setting.forEach((cnf, i) => {
    // torchvision would fail only in forward, inside the stage's first convolution.
    if (cnf.inputChannels !== channels) {
      throw new Error(
        `models.ConvNeXt: stage ${i} takes ${cnf.inputChannels} channels, but stage ${
          i - 1
        } gives ${channels}; set the earlier stage's outChannels to ${cnf.inputChannels}`,
      );
    }
    channels = cnf.outChannels ?? cnf.inputChannels;
  });
  return config;
}

/**
 * A ConvNeXt as torchvision builds it: stem (4x4 stride-4 convolution with
 * bias, LayerNorm2d), the stages of `CNBlock`s, each but the last followed
 * by a downsampling (LayerNorm2d, 2x2 stride-2 convolution), global average
 * pool, and the classifier (LayerNorm2d, Flatten, Linear). Every LayerNorm
 * has eps 1e-6. Initialised as torchvision: convolution and Linear weights
 * truncated normal (std 0.02, cut at +-2), biases 0, norms 1 and 0,
 * `layer_scale` filled with `layerScale`. Stochastic depth rises linearly
 * over the blocks, from 0 at the first to `stochasticDepthProb` at the last
 * (a model of one block gets 0, where torchvision's formula divides by 0).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const setting = [new models.CNBlockConfig(8, 16, 1), new models.CNBlockConfig(16, null, 1)];
 * const net = new models.ConvNeXt(setting, { inChannels: 1, numClasses: 3 });
 * console.log(net.eval()(zeros([2, 1, 32, 32])).shape); // [2, 3]
 * ```
 */
export class ConvNeXt extends Module {
  /** Stem, then each stage (a Sequential of CNBlock) and its downsampling. */
  features: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** LayerNorm2d, Flatten, Linear(last channels, numClasses). */
  classifier: Sequential;
  /** The model's stages and defaults. */
  readonly config: ConvNeXtConfig;
  /**
   * The options the model was built with. A layer replaced later (the stem,
   * the classifier) is not reflected here: read the layer itself, as
   * `inputSpec` does.
   */
  readonly options: Required<ConvNeXtOptions>;

  constructor(
    config: ConvNeXtConfig | readonly CNBlockConfig[],
    options: ConvNeXtOptions = {},
  ) {
    super();
    checkArity("models.ConvNeXt", arguments.length, 2, USAGE);
    this.config = configOf(config);
    const where = `models.ConvNeXt (${this.config.name})`;
    const defaults: Required<ConvNeXtOptions> = {
      inChannels: 3,
      numClasses: 1000,
      stochasticDepthProb: this.config.stochasticDepthProb,
      layerScale: 1e-6,
    };
    const o = modelOptions(where, options, defaults, USAGE);
    checkCount(where, "inChannels", o.inChannels, USAGE);
    checkCount(where, "numClasses", o.numClasses, USAGE);
    checkProbability(where, "stochasticDepthProb", o.stochasticDepthProb, USAGE);
    checkLayerScale(where, o.layerScale, USAGE);
    this.options = o;
    const setting = this.config.blockSetting;
    const norm = (c: number) => new LayerNorm2d(c, { eps: 1e-6 });
    const first = setting[0].inputChannels;
    const features: Module[] = [
      new Conv2dNormActivation(o.inChannels, first, {
        kernelSize: 4,
        stride: 4,
        padding: 0,
        normLayer: norm,
        activationLayer: null,
        bias: true,
      }),
    ];
    const total = setting.reduce((n, s) => n + s.numLayers, 0);
    let id = 0;
    for (const cnf of setting) {
      const blocks: Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++, id++) {
        // The same float operations as torchvision's, so the probabilities are equal.
        const p = total > 1 ? (o.stochasticDepthProb * id) / (total - 1) : 0;
        blocks.push(new CNBlock(cnf.inputChannels, o.layerScale, p));
      }
      features.push(new Sequential(...blocks));
      if (cnf.outChannels !== null) {
        features.push(
          new Sequential(
            norm(cnf.inputChannels),
            new Conv2d(cnf.inputChannels, cnf.outChannels, 2, { stride: 2 }),
          ),
        );
      }
    }
    this.features = new Sequential(...features);
    this.avgpool = new AdaptiveAvgPool2d(1);
    const last = setting.at(-1)!;
    const channels = last.outChannels ?? last.inputChannels;
    this.classifier = new Sequential(
      norm(channels),
      new Flatten(1),
      new Linear(channels, o.numClasses),
    );
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        // torchvision's trunc_normal_(std=0.02) cuts at +-2, 100 std out; our normal draws
        // stop at 5.8 std (Box-Muller on 24-bit uniforms), so this is the same
        // distribution, without truncNormal_'s redraw pass (6x slower on 28M weights).
        normal_(m.weight, 0, 0.02);
        if (m.bias) zeros_(m.bias);
      }
    }
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export):
   * channels read from `features.0` as it is now, so a replaced stem sets
   * them; sides of at least 4 (the stem) times 2 per downsampling.
   */
  get inputSpec(): InputSpec {
    const downsamplings = this.config.blockSetting.filter((s) => s.outChannels !== null).length;
    return {
      model: this.config.name,
      ...firstLayer("features.0", this.features[0]),
      sizeLayer: "features (the 4x4 stride-4 stem and the 2x2 stride-2 downsamplings)",
      minSize: 4 * 2 ** downsamplings,
    };
  }

  /** x [N, inChannels, H, W] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    return chain(x, [
      (t) => this.features(t),
      (t) => this.classifier(this.avgpool(t)),
    ]);
  }
}

/** A builder's arity check, then the model. */
function build(name: string, config: ConvNeXtConfig, given: number, options: ConvNeXtOptions) {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 3 })`);
  return new ConvNeXt(config, options);
}

/**
 * torchvision's `convnext_tiny` (28,589,128 parameters with the defaults,
 * 27,819,363 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.convnextTiny({ inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 27819363
 * ```
 */
export function convnextTiny(options: ConvNeXtOptions = {}): ConvNeXt {
  return build("convnextTiny", CONVNEXT_TINY, arguments.length, options);
}

/**
 * torchvision's `convnext_small` (50,223,688 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.CONVNEXT_SMALL.blockSetting.map((s) => s.numLayers)); // [3, 3, 27, 3]
 * ```
 */
export function convnextSmall(options: ConvNeXtOptions = {}): ConvNeXt {
  return build("convnextSmall", CONVNEXT_SMALL, arguments.length, options);
}

/**
 * torchvision's `convnext_base` (88,591,464 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.CONVNEXT_BASE.blockSetting.map((s) => s.inputChannels)); // [128, 256, 512, 1024]
 * ```
 */
export function convnextBase(options: ConvNeXtOptions = {}): ConvNeXt {
  return build("convnextBase", CONVNEXT_BASE, arguments.length, options);
}

/**
 * torchvision's `convnext_large` (197,767,336 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.CONVNEXT_LARGE.stochasticDepthProb); // 0.5
 * ```
 */
export function convnextLarge(options: ConvNeXtOptions = {}): ConvNeXt {
  return build("convnextLarge", CONVNEXT_LARGE, arguments.length, options);
}
