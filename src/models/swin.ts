/**
 * Swin Transformer: Liu et al., "Swin Transformer: Hierarchical Vision
 * Transformer using Shifted Windows", ICCV 2021, Table 7 (Swin-T, Swin-S,
 * Swin-B), as torchvision 0.14's `SwinTransformer` (V1) builds it. State-dict
 * names are torchvision's: `features.0.0.weight` (the 4x4 stride-4 patch
 * embedding), `features.0.2.weight` (its LayerNorm),
 * `features.1.0.attn.relative_position_bias_table`,
 * `features.1.1.mlp.0.weight`, `features.2.reduction.weight` (a patch
 * merging), `norm.weight`, `head.bias`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Flatten } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { LayerNorm } from "../layers/norm_layers.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { normal_, zeros_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkCount, checkProbability } from "./mobile_blocks.ts";
import { Permute } from "./convnext_blocks.ts";
import { checkSize2, type Size2 } from "./swin_attention.ts";
import { checkMlpRatio, PatchMerging, SwinTransformerBlock } from "./swin_blocks.ts";

/** A Swin Transformer's table row (torchvision's `_swin_transformer` arguments). */
export interface SwinConfig {
  /** Name used in messages ("Swin-T"). */
  readonly name: string;
  /** Patch [height, width]: kernel and stride of the embedding convolution. */
  readonly patchSize: Size2;
  /** Channels after the patch embedding (C); stage i has C * 2^i. */
  readonly embedDim: number;
  /** Blocks per stage. */
  readonly depths: readonly number[];
  /** Attention heads per stage. */
  readonly numHeads: readonly number[];
  /** Attention window [height, width]. */
  readonly windowSize: Size2;
  /** Stochastic depth of the last block (torchvision's default for the model). */
  readonly stochasticDepthProb: number;
}

/** torchvision's `swin_t`: C = 96, depths (2, 2, 6, 2), heads (3, 6, 12, 24), stochastic depth 0.2. */
export const SWIN_T: SwinConfig = {
  name: "Swin-T",
  patchSize: [4, 4],
  embedDim: 96,
  depths: [2, 2, 6, 2],
  numHeads: [3, 6, 12, 24],
  windowSize: [7, 7],
  stochasticDepthProb: 0.2,
};
/** torchvision's `swin_s`: C = 96, depths (2, 2, 18, 2), heads (3, 6, 12, 24), stochastic depth 0.3. */
export const SWIN_S: SwinConfig = {
  ...SWIN_T,
  name: "Swin-S",
  depths: [2, 2, 18, 2],
  stochasticDepthProb: 0.3,
};
/** torchvision's `swin_b`: C = 128, depths (2, 2, 18, 2), heads (4, 8, 16, 32), stochastic depth 0.5. */
export const SWIN_B: SwinConfig = {
  ...SWIN_T,
  name: "Swin-B",
  embedDim: 128,
  depths: [2, 2, 18, 2],
  numHeads: [4, 8, 16, 32],
  stochasticDepthProb: 0.5,
};

/** Options of the Swin builders and `SwinTransformer` (torchvision's keywords, camelCase). */
export interface SwinOptions {
  /**
   * Input channels of the patch embedding `features.0.0` (default 3): 1
   * builds it as Conv2d(1, C, 4, stride 4), what a torchvision user gets by
   * replacing `model.features[0][0]` for CT slices (torchvision's stem
   * always takes 3); 3-channel pretrained weights load into it through
   * `models.loadPretrained`, which adapts the stem.
   */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /**
   * Stochastic depth of the last block; block i of the n (from 0) drops its
   * branches with probability stochasticDepthProb * i / (n - 1) (default the
   * model's: 0.2 swin_t, 0.3 swin_s, 0.5 swin_b; 0.1 for
   * `new SwinTransformer(config)` without a config value, as torchvision's class).
   */
  stochasticDepthProb?: number;
  /**
   * Dropout after each attention's projection and in the MLPs (default 0).
   * In training only: torchvision 0.14's attention applies it in eval mode
   * too (pytorch/vision#7103, fixed in 0.15).
   */
  dropout?: number;
  /** Dropout on the attention weights, in training only, as `dropout` (default 0). */
  attentionDropout?: number;
  /** MLP hidden width over the channels (default 4). */
  mlpRatio?: number;
}

const USAGE = "models.swinT({ inChannels: 1, numClasses: 3 })";

/** Throws unless `config` is a usable SwinConfig. */
function checkConfig(where: string, config: SwinConfig): void {
  const usage =
    "new models.SwinTransformer({ name: 'Swin tiny', patchSize: [4, 4], embedDim: 16, " +
    "depths: [2, 2], numHeads: [2, 4], windowSize: [4, 4], stochasticDepthProb: 0.1 })";
  if (typeof config !== "object" || config === null) {
    throw new Error(`${where}: needs a config (models.SWIN_T or your own); write ${usage}`);
  }
  checkSize2(where, "config.patchSize", config.patchSize, 1, usage);
  checkSize2(where, "config.windowSize", config.windowSize, 1, usage);
  checkCount(where, "config.embedDim", config.embedDim, usage);
  const { depths, numHeads } = config;
  if (!Array.isArray(depths) || depths.length === 0 || !Array.isArray(numHeads)) {
    throw new Error(`${where}: config.depths and config.numHeads must be arrays; write ${usage}`);
  }
  if (numHeads.length !== depths.length) {
    throw new Error(
      `${where}: config.numHeads [${numHeads}] needs one entry per stage of depths [${depths}]`,
    );
  }
  depths.forEach((d) => checkCount(where, "each of config.depths", d, usage));
  numHeads.forEach((h, i) => {
    checkCount(where, "each of config.numHeads", h, usage);
    const dim = config.embedDim * 2 ** i;
    if (dim % h !== 0) {
      throw new Error(
        `${where}: stage ${i} has ${dim} channels, which do not split into ${h} heads`,
      );
    }
  });
}

/**
 * A Swin Transformer (V1) as torchvision builds it: `features` (patch
 * embedding: Conv2d with kernel and stride the patch size, Permute to
 * channels-last, LayerNorm; then each stage's `SwinTransformerBlock`s, the
 * odd ones with windows shifted by half a window, and a `PatchMerging`
 * between stages), `norm` (LayerNorm), `permute` back to channels-first,
 * `avgpool`, `flatten`, `head` (Linear). LayerNorms have eps 1e-5.
 * Initialised as torchvision: every Linear's weight N(0, 0.02) (torchvision's
 * trunc_normal_ cuts at +-2, 100 std out) and bias 0, the bias tables
 * N(0, 0.02), the stem as a fresh Conv2d. Stochastic depth rises linearly
 * over the blocks from 0 to `stochasticDepthProb` (a model of one block gets
 * 0, where torchvision's formula divides by 0). Any input side from the
 * patch size up works: maps are padded to whole windows, and odd sides to
 * even before a merging, as torchvision does.
 *
 * torchvision's `norm_layer`, `block` and `downsample_layer` arguments
 * (its V2 parts) are not offered (an option of that name is an error).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const config = { name: "Swin tiny", patchSize: [4, 4], embedDim: 16, depths: [2, 2], numHeads: [2, 4], windowSize: [4, 4], stochasticDepthProb: 0.1 } as const;
 * const net = new models.SwinTransformer(config, { inChannels: 1, numClasses: 3 });
 * console.log(net.eval().forward(zeros([2, 1, 40, 36])).shape); // [2, 3]
 * ```
 */
export class SwinTransformer extends Module {
  /** Patch embedding, then each stage (a Sequential of blocks) and its PatchMerging. */
  features: Sequential;
  /** LayerNorm of the last stage's channels. */
  norm: LayerNorm;
  /** Channels-last to channels-first. */
  permute: Permute;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Flatten(1). */
  flatten: Flatten;
  /** Linear(last channels, numClasses). */
  head: Linear;
  /** The model's table row. */
  readonly config: SwinConfig;
  /** The options the model was built with (a layer replaced later is not reflected here). */
  readonly options: Required<SwinOptions>;

  /** Builds the model of `config`, with torchvision's init; `options` as `SwinOptions`. */
  constructor(config: SwinConfig, options: SwinOptions = {}) {
    super();
    checkArity("models.SwinTransformer", arguments.length, 2, USAGE);
    const where = `models.SwinTransformer (${config?.name ?? "Swin"})`;
    checkConfig(where, config);
    this.config = config;
    const o = modelOptions(where, options, {
      inChannels: 3,
      numClasses: 1000,
      stochasticDepthProb: config.stochasticDepthProb ?? 0.1,
      dropout: 0,
      attentionDropout: 0,
      mlpRatio: 4,
    }, USAGE);
    checkCount(where, "inChannels", o.inChannels, USAGE);
    checkCount(where, "numClasses", o.numClasses, USAGE);
    for (const k of ["stochasticDepthProb", "dropout", "attentionDropout"] as const) {
      checkProbability(where, k, o[k], USAGE);
    }
    checkMlpRatio(where, o.mlpRatio, config.embedDim, USAGE);
    this.options = o;
    const { patchSize, embedDim, depths, numHeads, windowSize } = config;
    const layers: Module[] = [
      new Sequential(
        new Conv2d(o.inChannels, embedDim, [patchSize[0], patchSize[1]], {
          stride: [patchSize[0], patchSize[1]],
        }),
        new Permute([0, 2, 3, 1]),
        new LayerNorm(embedDim, { eps: 1e-5 }),
      ),
    ];
    const total = depths.reduce((a, b) => a + b, 0);
    let id = 0;
    depths.forEach((depth, stage) => {
      const dim = embedDim * 2 ** stage;
      const blocks: Module[] = [];
      for (let i = 0; i < depth; i++, id++) {
        // The same float operations as torchvision's, so the probabilities are equal.
        const p = total > 1 ? (o.stochasticDepthProb * id) / (total - 1) : 0;
        const shift = windowSize.map((w) => (i % 2 === 0 ? 0 : Math.floor(w / 2)));
        blocks.push(
          new SwinTransformerBlock(dim, numHeads[stage], windowSize, shift as [number, number], {
            mlpRatio: o.mlpRatio,
            dropout: o.dropout,
            attentionDropout: o.attentionDropout,
            stochasticDepthProb: p,
          }),
        );
      }
      layers.push(new Sequential(...blocks));
      if (stage < depths.length - 1) layers.push(new PatchMerging(dim));
    });
    this.features = new Sequential(...layers);
    const numFeatures = embedDim * 2 ** (depths.length - 1);
    this.norm = new LayerNorm(numFeatures, { eps: 1e-5 });
    this.permute = new Permute([0, 3, 1, 2]);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.flatten = new Flatten(1);
    this.head = new Linear(numFeatures, o.numClasses);
    for (const m of this.modules()) {
      if (m instanceof Linear) {
        // torchvision's trunc_normal_(std=0.02) cuts at +-2, 100 std out; our normal draws
        // stop at 5.8 std, so this is the same distribution without truncNormal_'s redraws.
        normal_(m.weight, 0, 0.02);
        if (m.bias) zeros_(m.bias);
      }
    }
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export):
   * channels read from `features.0` as it is now, so a replaced stem sets
   * them; sides of at least the patch size.
   */
  get inputSpec(): InputSpec {
    return {
      model: this.config.name,
      ...firstLayer("features.0", this.features[0]),
      sizeLayer: "features.0.0 (the patch embedding)",
      minSize: Math.max(...this.config.patchSize),
    };
  }

  /** x [N, inChannels, H, W] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    if (x instanceof Tensor) checkInput(x, this.inputSpec);
    else throw new Error(`${this.config.name}: forward takes a Tensor [N, C, H, W], got ${x}`);
    return chain(x, [
      (t) => this.features.forward(t),
      (t) => this.permute.forward(this.norm.forward(t)),
      (t) => this.head.forward(this.flatten.forward(this.avgpool.forward(t))),
    ]);
  }
}

/** A builder's arity check, then the model. */
function build(name: string, config: SwinConfig, given: number, options: SwinOptions) {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 3 })`);
  return new SwinTransformer(config, options);
}

/**
 * torchvision's `swin_t` (28,288,354 parameters with the defaults, 27,518,589 for
 * 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.swinT({ inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 27518589
 * ```
 */
export function swinT(options: SwinOptions = {}): SwinTransformer {
  return build("swinT", SWIN_T, arguments.length, options);
}

/**
 * torchvision's `swin_s` (49,606,258 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.SWIN_S.depths); // [2, 2, 18, 2]
 * ```
 */
export function swinS(options: SwinOptions = {}): SwinTransformer {
  return build("swinS", SWIN_S, arguments.length, options);
}

/**
 * torchvision's `swin_b` (87,768,224 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.SWIN_B.embedDim, models.SWIN_B.numHeads); // 128 [4, 8, 16, 32]
 * ```
 */
export function swinB(options: SwinOptions = {}): SwinTransformer {
  return build("swinB", SWIN_B, arguments.length, options);
}
