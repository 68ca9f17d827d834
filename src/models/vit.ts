/**
 * Vision Transformer: Dosovitskiy et al., "An Image is Worth 16x16 Words:
 * Transformers for Image Recognition at Scale", ICLR 2021, Table 1 (ViT-Base,
 * Large, Huge), as torchvision 0.14's `VisionTransformer` builds it: the
 * image cut into patches by a strided convolution (`conv_proj`), a learned
 * class token, the Transformer encoder, and a head on the class token.
 * State-dict names are torchvision's: `class_token`, `conv_proj.weight`,
 * `encoder.pos_embedding`, `encoder.layers.encoder_layer_0.ln_1.weight`,
 * `encoder.layers.encoder_layer_0.self_attention.in_proj_weight`,
 * `encoder.layers.encoder_layer_0.mlp.0.weight`, `encoder.ln.bias`,
 * `heads.head.weight`.
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { cat } from "../tensor/ops/join.ts";
import { zeros } from "../tensor/ops/creation.ts";
import { Module, Parameter } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Linear } from "../layers/linear.ts";
import { Tanh } from "../layers/activation.ts";
import { Sequential } from "../layers/sequential.ts";
import { zeros_ } from "../layers/init.ts";
import { truncNormal_ } from "../layers/init_structured.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkCount, checkProbability } from "./mobile_blocks.ts";
import { Encoder, legacyMlpKey } from "./vit_blocks.ts";
import type { IncompatibleKeys, LoadOptions } from "../layers/module.ts";

/** A ViT's table row (Table 1 of the paper, with the patch size). */
export interface ViTConfig {
  /** Name used in messages ("ViT-B/16"). */
  readonly name: string;
  /** Side of the square patches (the stride and kernel of conv_proj). */
  readonly patchSize: number;
  /** Encoder blocks. */
  readonly numLayers: number;
  /** Attention heads per block. */
  readonly numHeads: number;
  /** Token width (D). */
  readonly hiddenDim: number;
  /** Width of the MLP's hidden layer. */
  readonly mlpDim: number;
}

/** ViT-Base, 16x16 patches. */
export const VIT_B_16: ViTConfig = {
  name: "ViT-B/16",
  patchSize: 16,
  numLayers: 12,
  numHeads: 12,
  hiddenDim: 768,
  mlpDim: 3072,
};
/** ViT-Base, 32x32 patches. */
export const VIT_B_32: ViTConfig = { ...VIT_B_16, name: "ViT-B/32", patchSize: 32 };
/** ViT-Large, 16x16 patches. */
export const VIT_L_16: ViTConfig = {
  name: "ViT-L/16",
  patchSize: 16,
  numLayers: 24,
  numHeads: 16,
  hiddenDim: 1024,
  mlpDim: 4096,
};
/** ViT-Large, 32x32 patches. */
export const VIT_L_32: ViTConfig = { ...VIT_L_16, name: "ViT-L/32", patchSize: 32 };
/** ViT-Huge, 14x14 patches. */
export const VIT_H_14: ViTConfig = {
  name: "ViT-H/14",
  patchSize: 14,
  numLayers: 32,
  numHeads: 16,
  hiddenDim: 1280,
  mlpDim: 5120,
};

/** Options of `VisionTransformer` and `vitB16` ... `vitH14` (torchvision's keywords, camelCase). */
export interface ViTOptions {
  /**
   * Input channels (default 3): conv_proj takes them, so 1 gives a CT
   * model directly. torchvision has no such option: there one replaces the
   * stem, `model.conv_proj = nn.Conv2d(1, hidden_dim, kernel_size=patch,
   * stride=patch)`, and initialises it again.
   */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /**
   * Height and width of the input (default 224), divisible by the patch
   * size; the input must be exactly this size, as torchvision asserts,
   * since the position embedding has one entry per patch.
   */
  imageSize?: number;
  /** Dropout after the position embedding, the attention and in the MLPs (default 0). */
  dropout?: number;
  /** Dropout on the attention weights (default 0). */
  attentionDropout?: number;
  /**
   * Width of a `pre_logits` Linear + Tanh before the head (default null:
   * none), torchvision's `representation_size`.
   */
  representationSize?: number | null;
}

const DEFAULTS: Required<ViTOptions> = {
  inChannels: 3,
  numClasses: 1000,
  imageSize: 224,
  dropout: 0,
  attentionDropout: 0,
  representationSize: null,
};

/** @internal the imageSize values nearest `size` that are multiples of `patch` (for messages). */
export function nearestSizes(size: number, patch: number): string {
  const below = Math.floor(size / patch) * patch;
  return below >= patch ? `${below} or ${below + patch}` : `${patch}`;
}

/**
 * A Vision Transformer built from a configuration: `conv_proj` (Conv2d with
 * kernel and stride the patch size) turns [N, C, H, W] into (H / p)(W / p)
 * tokens, a learned `class_token` goes in front, `encoder` (position
 * embedding, `numLayers` blocks, LayerNorm) runs, and `heads` classifies
 * the class token. Initialised as torchvision: conv_proj truncated normal
 * with std sqrt(1 / fan_in) and zero bias, class token zero, position
 * embedding N(0, 0.02^2), MLP Linear xavier-uniform, attention as
 * `nn.MultiheadAttention`, `pre_logits` truncated normal, `head` zero.
 *
 * torchvision's `conv_stem_configs` and `norm_layer` arguments are not
 * offered (an option of that name is an error).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const config = { name: "ViT tiny", patchSize: 8, numLayers: 2, numHeads: 2, hiddenDim: 16, mlpDim: 32 };
 * const net = new models.VisionTransformer(config, { imageSize: 32, inChannels: 1, numClasses: 3 });
 * console.log(net.eval().forward(zeros([2, 1, 32, 32])).shape); // [2, 3]
 * ```
 */
export class VisionTransformer extends Module {
  /** The learned class token [1, 1, hidden] (zero at first). */
  class_token: Parameter;
  /** Patch embedding: Conv2d(inChannels, hidden, patch, stride patch). */
  conv_proj: Conv2d;
  /** Position embedding, the encoder blocks and the last LayerNorm. */
  encoder: Encoder;
  /** `head` (Linear), after `pre_logits` and `act` (Tanh) with a representation size. */
  heads: Sequential;
  /** Input height and width. */
  readonly imageSize: number;
  /** Patch side. */
  readonly patchSize: number;
  /** Token width. */
  readonly hiddenDim: number;
  /** MLP hidden width. */
  readonly mlpDim: number;
  /** Patches plus the class token. */
  readonly seqLength: number;
  /** The options the model was built with (a layer replaced later is not reflected here). */
  readonly options: Required<ViTOptions>;

  constructor(readonly config: ViTConfig, options: ViTOptions = {}) {
    super();
    const usage = "models.vitB16({ inChannels: 1, numClasses: 3, imageSize: 224 })";
    const where = `models.VisionTransformer (${config?.name})`;
    checkArity("models.VisionTransformer", arguments.length, 2, usage);
    const o = modelOptions(where, options, DEFAULTS, usage);
    this.options = o;
    const { patchSize, numLayers, numHeads, hiddenDim, mlpDim } = config;
    for (const [k, v] of Object.entries({ patchSize, numLayers, numHeads, hiddenDim, mlpDim })) {
      checkCount(where, `config.${k}`, v, usage);
    }
    for (const k of ["inChannels", "numClasses", "imageSize"] as const) {
      checkCount(where, k, o[k], usage);
    }
    checkProbability(where, "dropout", o.dropout, usage);
    checkProbability(where, "attentionDropout", o.attentionDropout, usage);
    if (o.representationSize !== null) {
      checkCount(where, "representationSize", o.representationSize, usage);
    }
    if (o.imageSize % patchSize !== 0) {
      throw new Error(
        `${where}: imageSize ${o.imageSize} is not divisible by the patch size ${patchSize} ` +
          `(torchvision: "Input shape indivisible by patch size!"); use imageSize ` +
          nearestSizes(o.imageSize, patchSize),
      );
    }
    this.imageSize = o.imageSize;
    this.patchSize = patchSize;
    this.hiddenDim = hiddenDim;
    this.mlpDim = mlpDim;
    this.seqLength = (o.imageSize / patchSize) ** 2 + 1;
    this.class_token = new Parameter(zeros([1, 1, hiddenDim]));
    this.conv_proj = new Conv2d(o.inChannels, hiddenDim, patchSize, { stride: patchSize });
    const { dropout, attentionDropout } = o;
    this.encoder = new Encoder(
      this.seqLength,
      numLayers,
      numHeads,
      hiddenDim,
      mlpDim,
      dropout,
      attentionDropout,
    );
    const heads = new Map<string, Module>();
    if (o.representationSize === null) heads.set("head", new Linear(hiddenDim, o.numClasses));
    else {
      const pre = new Linear(hiddenDim, o.representationSize);
      truncNormal_(pre.weight, { std: Math.sqrt(1 / hiddenDim) });
      zeros_(pre.bias!);
      heads.set("pre_logits", pre);
      heads.set("act", new Tanh());
      heads.set("head", new Linear(o.representationSize, o.numClasses));
    }
    this.heads = new Sequential(heads);
    // torchvision: trunc_normal_(std=sqrt(1 / fan_in)) cut at +-2 (values, not stds).
    const fanIn = o.inChannels * patchSize * patchSize;
    truncNormal_(this.conv_proj.weight, { std: Math.sqrt(1 / fanIn) });
    zeros_(this.conv_proj.bias!);
    const head = heads.get("head") as Linear;
    zeros_(head.weight);
    zeros_(head.bias!);
  }

  /** What `forward` accepts: conv_proj's channels (as it is now) and exactly imageSize. */
  get inputSpec(): InputSpec {
    return {
      model: this.config.name,
      ...firstLayer("conv_proj", this.conv_proj),
      size: this.imageSize,
    };
  }

  /** Images [N, C, imageSize, imageSize] -> tokens [N, patches, hidden] (torchvision's `_process_input`). */
  processInput(x: Tensor): Tensor {
    const spec = this.inputSpec;
    if (
      x instanceof Tensor && x.ndim === 4 && x.shape[1] === spec.channels &&
      (x.shape[2] !== this.imageSize || x.shape[3] !== this.imageSize)
    ) {
      const side = x.shape[2] === x.shape[3] ? x.shape[2] : null;
      const fix = side !== null && side % this.patchSize === 0
        ? `, or build the model with { imageSize: ${side} }`
        : "";
      throw new Error(
        `${this.config.name}: input [${x.shape}] is ${x.shape[2]} x ${x.shape[3]}, but the model ` +
          `was built for imageSize ${this.imageSize} (its pos_embedding has one position per ` +
          `${this.patchSize} x ${this.patchSize} patch; torchvision asserts the same); resize ` +
          `the images to ${this.imageSize} x ${this.imageSize}${fix}`,
      );
    }
    checkInput(x, spec);
    const n = x.shape[0], side = this.imageSize / this.patchSize;
    const y = this.conv_proj.forward(x);
    return y.reshape(n, this.hiddenDim, side * side).permute(0, 2, 1);
  }

  /**
   * `Module.loadStateDict`, reading torchvision's legacy MLP names
   * (`mlp.linear_1.weight`, in its published ViT files) as `mlp.0.weight`,
   * as torchvision's `MLPBlock` does, so `torch.load`'s dict loads as is.
   * Weights for another image size (their `encoder.pos_embedding` has
   * another square grid of patches) are refused, as torch refuses the
   * shape, with the call that resizes them (`models.interpolateEmbeddings`,
   * or `models.loadPretrained`, which resizes by itself).
   */
  override loadStateDict(
    stateDict: Map<string, Tensor> | Record<string, Tensor>,
    options: LoadOptions = {},
  ): IncompatibleKeys {
    const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict ?? {});
    this.#checkImageSize(entries.find(([k]) => k === "encoder.pos_embedding")?.[1]);
    if (!entries.some(([k]) => legacyMlpKey(k) !== null)) {
      return super.loadStateDict(stateDict, options);
    }
    return super.loadStateDict(
      new Map(entries.map(([k, t]) => [legacyMlpKey(k) ?? k, t])),
      options,
    );
  }

  /** Throws when `pos` is a position embedding of this width for another square grid. */
  #checkImageSize(pos: unknown): void {
    // Against the embedding the model holds now (a user may have resized it by hand).
    const own = this.encoder?.pos_embedding;
    if (
      !(pos instanceof Tensor) || !(own instanceof Tensor) || pos.ndim !== 3 ||
      pos.shape[0] !== 1 || pos.shape[2] !== own.shape[2] || pos.shape[1] === own.shape[1]
    ) return; // absent, ours, or a shape the usual check reports
    const square = (seq: number) => {
      const g = Math.round(Math.sqrt(seq - 1));
      return g >= 1 && g * g === seq - 1 ? g : null;
    };
    const grid = square(pos.shape[1]), side = square(own.shape[1]), p = this.patchSize;
    if (grid === null || side === null) return;
    throw new Error(
      `${this.config.name}.loadStateDict: 'encoder.pos_embedding' [${pos.shape.join(", ")}] is ` +
        `for ${grid} x ${grid} patches (imageSize ${grid * p} at patch ${p}), this model has ` +
        `${side} x ${side} (imageSize ${side * p}); resize it as torchvision's ` +
        `interpolate_embeddings does: model.loadStateDict(models.interpolateEmbeddings(` +
        `${side * p}, ${p}, stateDict)), or write models.loadPretrained(model, stateDict), ` +
        "which resizes it by itself",
    );
  }

  /** Images [N, inChannels, imageSize, imageSize] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    const tokens = this.processInput(x);
    const n = tokens.shape[0];
    const withClass = cat([this.class_token.expand(n, -1, -1), tokens], 1);
    const encoded = this.encoder.forward(withClass);
    // The class token's output, as language models classify.
    return this.heads.forward(encoded.select(1, 0));
  }
}

// torchvision's attribute names that this class spells in camelCase.
addNameHints(VisionTransformer.prototype, "models.VisionTransformer", {
  image_size: "write vit.imageSize",
  patch_size: "write vit.patchSize",
  hidden_dim: "write vit.hiddenDim",
  mlp_dim: "write vit.mlpDim",
  seq_length: "write vit.seqLength",
  num_classes: "write vit.options.numClasses",
  representation_size: "write vit.options.representationSize",
  attention_dropout: "write vit.options.attentionDropout",
  _process_input: "write vit.processInput(x)",
});

/** The body of the builders: `given` is their `arguments.length`. */
function build(name: string, config: ViTConfig, given: number, options: ViTOptions) {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 3 })`);
  return new VisionTransformer(config, options);
}

/**
 * torchvision's `vit_b_16`: ViT-Base with 16x16 patches (86,567,656
 * parameters with the defaults, 224 x 224 input).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.vitB16().numParameters()); // 86567656
 * ```
 */
export function vitB16(options: ViTOptions = {}): VisionTransformer {
  return build("vitB16", VIT_B_16, arguments.length, options);
}

/**
 * torchvision's `vit_b_32`: ViT-Base with 32x32 patches (88,224,232
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.vitB32({ numClasses: 3 }).seqLength); // 50
 * ```
 */
export function vitB32(options: ViTOptions = {}): VisionTransformer {
  return build("vitB32", VIT_B_32, arguments.length, options);
}

/**
 * torchvision's `vit_l_16`: ViT-Large with 16x16 patches (304,326,632
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.VIT_L_16.numLayers, models.VIT_L_16.hiddenDim); // 24 1024
 * ```
 */
export function vitL16(options: ViTOptions = {}): VisionTransformer {
  return build("vitL16", VIT_L_16, arguments.length, options);
}

/**
 * torchvision's `vit_l_32`: ViT-Large with 32x32 patches (306,535,400
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.VIT_L_32.patchSize); // 32
 * ```
 */
export function vitL32(options: ViTOptions = {}): VisionTransformer {
  return build("vitL32", VIT_L_32, arguments.length, options);
}

/**
 * torchvision's `vit_h_14`: ViT-Huge with 14x14 patches (632,045,800
 * parameters at 224 x 224; torchvision's SWAG weights are for imageSize 518).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.VIT_H_14.numLayers, models.VIT_H_14.hiddenDim); // 32 1280
 * ```
 */
export function vitH14(options: ViTOptions = {}): VisionTransformer {
  return build("vitH14", VIT_H_14, arguments.length, options);
}
