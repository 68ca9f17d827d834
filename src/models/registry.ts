/**
 * Models by name, for the command line (`--model resnet50`).
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { simpleCNN, type SimpleCNNOptions } from "./simple_cnn.ts";
import { alexnet, ALEXNET_MIN_SIZE } from "./alexnet.ts";
import {
  vgg11,
  vgg11Bn,
  vgg13,
  vgg13Bn,
  vgg16,
  vgg16Bn,
  vgg19,
  vgg19Bn,
  VGG_MIN_SIZE,
  type VGGModelOptions,
} from "./vgg.ts";
import { squeezenet1_0, squeezenet1_1, SQUEEZENET_MIN_SIZE } from "./squeezenet.ts";
import { resnet18, resnet34, resnet50 } from "./resnet.ts";
import {
  resnet101,
  resnet152,
  resnext101_32x8d,
  resnext50_32x4d,
  wideResnet101_2,
  wideResnet50_2,
} from "./resnet_family.ts";
import {
  nearestSizes,
  VisionTransformer,
  VIT_B_16,
  VIT_B_32,
  VIT_H_14,
  VIT_L_16,
  VIT_L_32,
  type ViTConfig,
} from "./vit.ts";
import {
  densenet121,
  densenet161,
  densenet169,
  densenet201,
  DENSENET_MIN_SIZE,
} from "./densenet.ts";
import { mobilenetV2 } from "./mobilenet.ts";
import { efficientnetB0 } from "./efficientnet.ts";
import { convnextBase, convnextLarge, convnextSmall, convnextTiny } from "./convnext.ts";
import { swinB, swinS, swinT } from "./swin.ts";
import { INCEPTION_V3_AUX_MIN_SIZE, INCEPTION_V3_MIN_SIZE, inceptionV3 } from "./inception.ts";
import { googlenet, GOOGLENET_MIN_SIZE } from "./googlenet.ts";
import {
  efficientnetB1,
  efficientnetB2,
  efficientnetB3,
  efficientnetB4,
  efficientnetB5,
  efficientnetB6,
  efficientnetB7,
} from "./efficientnet_b.ts";
import { mobilenetV3Large, mobilenetV3Small } from "./mobilenet_v3.ts";
import { efficientnetV2L, efficientnetV2M, efficientnetV2S } from "./efficientnet_v2.ts";
import {
  regnetY128gf,
  regnetY16gf,
  regnetY1_6gf,
  regnetY32gf,
  regnetY3_2gf,
  regnetY400mf,
  regnetY800mf,
  regnetY8gf,
} from "./regnet_y.ts";
import {
  regnetX16gf,
  regnetX1_6gf,
  regnetX32gf,
  regnetX3_2gf,
  regnetX400mf,
  regnetX800mf,
  regnetX8gf,
} from "./regnet_x.ts";
import {
  shufflenetV2X0_5,
  shufflenetV2X1_0,
  shufflenetV2X1_5,
  shufflenetV2X2_0,
} from "./shufflenet.ts";
import { resnet3d10, resnet3d18, resnet3d34, resnet3d50 } from "./resnet3d.ts";
import { densenet3d121, densenet3d169, densenet3d201, densenet3d264 } from "./densenet3d.ts";
import { checkArity, checkOptions } from "../options.ts";

/**
 * The union of the models' options; each model takes the ones it has.
 * `dropout` (simple, alexnet, the vggs, the squeezenets, mobilenetv2,
 * mobilenetv3large/small, the efficientnets, the ViTs and Swins, inception_v3,
 * googlenet), `batchNorm` and
 * `globalPool` (simple) are
 * documented on `SimpleCNNOptions`.
 */
export interface ModelOptions
  extends Pick<SimpleCNNOptions, "dropout" | "batchNorm" | "globalPool"> {
  /** Input channels (all models). */
  inChannels?: number;
  /** Output classes (all models). */
  numClasses?: number;
  /**
   * Input height and width. SimpleCNN sizes its classifier from it; the
   * other models pool adaptively and take any size from their minimum up,
   * so for them it is only checked against that minimum.
   */
  imageSize?: number;
  /** Zero-init each residual block's last BatchNorm (resnet18, resnet34, resnet50). */
  zeroInitResidual?: boolean;
  /** Dropout after each dense layer, in training (the densenets; torch's `drop_rate`, default 0). */
  dropRate?: number;
  /** Dropout on the attention weights (the ViTs and Swins; torch's `attention_dropout`, default 0). */
  attentionDropout?: number;
  /** Width of the ViTs' `pre_logits` layer (torch's `representation_size`, default none). */
  representationSize?: number | null;
  /**
   * Build the auxiliary classifiers, whose logits training returns with the
   * main ones (inception_v3, googlenet; torch's `aux_logits`, default true).
   */
  auxLogits?: boolean;
}

type Option = keyof ModelOptions;

interface Entry {
  build: (o: ModelOptions) => Module;
  options: readonly Option[];
  /** Smallest image size the model takes. */
  minSize: number;
  /** A volume model (input [N, C, D, H, W]): in `volumeNames()`, not `names()`. */
  volume?: boolean;
  /** The image side must be a multiple of this (a ViT's patch size); default 1. */
  sizeMultiple?: number;
  /**
   * The built model takes images of its `imageSize` only (the small CNN's
   * classifier, a ViT's position embeddings are sized for it).
   */
  builtSizeOnly?: boolean;
  /**
   * What training with the default auxiliary heads needs beyond `minSize`
   * (inception_v3's AuxLogits): the side, and why in a phrase.
   */
  train?: TrainSizeRule;
}

/** @internal A larger side than `minImageSize` that a model needs to train, and why. */
export interface TrainSizeRule {
  /** The smallest image side training takes. */
  minSize: number;
  /** Why, as a phrase after the model's name ("'s auxiliary classifier ... needs ..."). */
  rule: string;
}

const INCEPTION_AUX: TrainSizeRule = {
  minSize: INCEPTION_V3_AUX_MIN_SIZE,
  rule: `inception_v3's auxiliary classifier (AuxLogits, run in training) needs images of at ` +
    `least ${INCEPTION_V3_AUX_MIN_SIZE} pixels`,
};

const COMMON: readonly Option[] = ["inChannels", "numClasses", "imageSize"];
const RESNET: readonly Option[] = [...COMMON, "zeroInitResidual"];
const ALL_OPTIONS: Option[] = [
  ...COMMON,
  "dropout",
  "batchNorm",
  "globalPool",
  "zeroInitResidual",
  "dropRate",
  "attentionDropout",
  "representationSize",
  "auxLogits",
];
const DENSENET: readonly Option[] = [...COMMON, "dropRate"];
const VOLUME: readonly Option[] = ["inChannels", "numClasses"];

/** An image model that pools adaptively from `minSize` up and has a classifier dropout. */
function withDropout(build: (o: VGGModelOptions) => Module, minSize: number): Entry {
  return { build: ({ imageSize: _, ...o }) => build(o), options: [...COMMON, "dropout"], minSize };
}

/** A ViT's entry: its image side (default 224) a multiple of its patch size. */
function vit(config: ViTConfig): Entry {
  return {
    build: (o) => new VisionTransformer(config, o),
    options: [...COMMON, "dropout", "attentionDropout", "representationSize"],
    minSize: config.patchSize,
    sizeMultiple: config.patchSize,
    builtSizeOnly: true,
  };
}

/** A Swin Transformer's entry: dropout and attention dropout; any side from its 4x4 patch up. */
function swin(build: (o: Omit<ModelOptions, "imageSize">) => Module): Entry {
  return {
    build: ({ imageSize: _, ...o }) => build(o),
    options: [...COMMON, "dropout", "attentionDropout"],
    minSize: 4,
  };
}

/** A mobile model (any size from 1 up), with a classifier dropout unless `dropout` is false. */
function mobile(build: (o: Omit<ModelOptions, "imageSize">) => Module, dropout = true): Entry {
  return {
    build: ({ imageSize: _, ...o }) => build(o),
    options: dropout ? [...COMMON, "dropout"] : COMMON,
    minSize: 1,
  };
}

/** A volume model's entry: MONAI's option set, its smallest side. */
function volume3d(build: Entry["build"], minSize: number): Entry {
  return { build, options: VOLUME, minSize, volume: true };
}

const MODELS: Record<string, Entry> = {
  simple: {
    build: (o) => simpleCNN(o),
    options: [...COMMON, "dropout", "batchNorm", "globalPool"],
    minSize: 16,
    builtSizeOnly: true,
  },
  // imageSize is only checked against minSize for these: their builders do not take it.
  alexnet: {
    build: ({ imageSize: _, ...o }) => alexnet(o),
    options: [...COMMON, "dropout"],
    minSize: ALEXNET_MIN_SIZE,
  },
  // torchvision's VGGs and SqueezeNets ("vgg16_bn" and "squeezenet10" are aliases).
  vgg11: withDropout(vgg11, VGG_MIN_SIZE),
  vgg11bn: withDropout(vgg11Bn, VGG_MIN_SIZE),
  vgg13: withDropout(vgg13, VGG_MIN_SIZE),
  vgg13bn: withDropout(vgg13Bn, VGG_MIN_SIZE),
  vgg16: withDropout(vgg16, VGG_MIN_SIZE),
  vgg16bn: withDropout(vgg16Bn, VGG_MIN_SIZE),
  vgg19: withDropout(vgg19, VGG_MIN_SIZE),
  vgg19bn: withDropout(vgg19Bn, VGG_MIN_SIZE),
  squeezenet1_0: withDropout(squeezenet1_0, SQUEEZENET_MIN_SIZE["1_0"]),
  squeezenet1_1: withDropout(squeezenet1_1, SQUEEZENET_MIN_SIZE["1_1"]),
  resnet18: { build: ({ imageSize: _, ...o }) => resnet18(o), options: RESNET, minSize: 1 },
  resnet34: { build: ({ imageSize: _, ...o }) => resnet34(o), options: RESNET, minSize: 1 },
  resnet50: { build: ({ imageSize: _, ...o }) => resnet50(o), options: RESNET, minSize: 1 },
  resnet101: { build: ({ imageSize: _, ...o }) => resnet101(o), options: RESNET, minSize: 1 },
  resnet152: { build: ({ imageSize: _, ...o }) => resnet152(o), options: RESNET, minSize: 1 },
  resnext50_32x4d: {
    build: ({ imageSize: _, ...o }) => resnext50_32x4d(o),
    options: RESNET,
    minSize: 1,
  },
  resnext101_32x8d: {
    build: ({ imageSize: _, ...o }) => resnext101_32x8d(o),
    options: RESNET,
    minSize: 1,
  },
  wide_resnet50_2: {
    build: ({ imageSize: _, ...o }) => wideResnet50_2(o),
    options: RESNET,
    minSize: 1,
  },
  wide_resnet101_2: {
    build: ({ imageSize: _, ...o }) => wideResnet101_2(o),
    options: RESNET,
    minSize: 1,
  },
  densenet121: {
    build: ({ imageSize: _, ...o }) => densenet121(o),
    options: DENSENET,
    minSize: DENSENET_MIN_SIZE,
  },
  densenet161: {
    build: ({ imageSize: _, ...o }) => densenet161(o),
    options: DENSENET,
    minSize: DENSENET_MIN_SIZE,
  },
  densenet169: {
    build: ({ imageSize: _, ...o }) => densenet169(o),
    options: DENSENET,
    minSize: DENSENET_MIN_SIZE,
  },
  densenet201: {
    build: ({ imageSize: _, ...o }) => densenet201(o),
    options: DENSENET,
    minSize: DENSENET_MIN_SIZE,
  },
  mobilenetv2: {
    build: ({ imageSize: _, ...o }) => mobilenetV2(o),
    options: [...COMMON, "dropout"],
    minSize: 1,
  },
  efficientnetb0: {
    build: ({ imageSize: _, ...o }) => efficientnetB0(o),
    options: [...COMMON, "dropout"],
    minSize: 1,
  },
  // torchvision's other mobile classifiers (dropout default per model; ShuffleNet has none).
  efficientnetb1: mobile(efficientnetB1),
  efficientnetb2: mobile(efficientnetB2),
  efficientnetb3: mobile(efficientnetB3),
  efficientnetb4: mobile(efficientnetB4),
  efficientnetb5: mobile(efficientnetB5),
  efficientnetb6: mobile(efficientnetB6),
  efficientnetb7: mobile(efficientnetB7),
  mobilenetv3large: mobile(mobilenetV3Large),
  mobilenetv3small: mobile(mobilenetV3Small),
  shufflenetv2x0_5: mobile(shufflenetV2X0_5, false),
  shufflenetv2x1_0: mobile(shufflenetV2X1_0, false),
  shufflenetv2x1_5: mobile(shufflenetV2X1_5, false),
  shufflenetv2x2_0: mobile(shufflenetV2X2_0, false),
  // torchvision's EfficientNetV2s (dropout 0.2, 0.3, 0.4) and RegNets (no dropout).
  efficientnetv2s: mobile(efficientnetV2S),
  efficientnetv2m: mobile(efficientnetV2M),
  efficientnetv2l: mobile(efficientnetV2L),
  regnety400mf: mobile(regnetY400mf, false),
  regnety800mf: mobile(regnetY800mf, false),
  regnety1_6gf: mobile(regnetY1_6gf, false),
  regnety3_2gf: mobile(regnetY3_2gf, false),
  regnety8gf: mobile(regnetY8gf, false),
  regnety16gf: mobile(regnetY16gf, false),
  regnety32gf: mobile(regnetY32gf, false),
  regnety128gf: mobile(regnetY128gf, false),
  regnetx400mf: mobile(regnetX400mf, false),
  regnetx800mf: mobile(regnetX800mf, false),
  regnetx1_6gf: mobile(regnetX1_6gf, false),
  regnetx3_2gf: mobile(regnetX3_2gf, false),
  regnetx8gf: mobile(regnetX8gf, false),
  regnetx16gf: mobile(regnetX16gf, false),
  regnetx32gf: mobile(regnetX32gf, false),
  // torchvision's ConvNeXts: a 4x4 stride-4 stem and three 2x2 stride-2 downsamplings.
  convnexttiny: {
    build: ({ imageSize: _, ...o }) => convnextTiny(o),
    options: COMMON,
    minSize: 32,
  },
  convnextsmall: {
    build: ({ imageSize: _, ...o }) => convnextSmall(o),
    options: COMMON,
    minSize: 32,
  },
  convnextbase: {
    build: ({ imageSize: _, ...o }) => convnextBase(o),
    options: COMMON,
    minSize: 32,
  },
  convnextlarge: {
    build: ({ imageSize: _, ...o }) => convnextLarge(o),
    options: COMMON,
    minSize: 32,
  },
  // torchvision's ViTs: imageSize (default 224) fixes the position embedding; a patch multiple.
  vit_b_16: vit(VIT_B_16),
  vit_b_32: vit(VIT_B_32),
  vit_l_16: vit(VIT_L_16),
  vit_l_32: vit(VIT_L_32),
  vit_h_14: vit(VIT_H_14),
  // torchvision's Swin Transformers: any side from the 4x4 patch up (maps are padded to windows).
  swin_t: swin(swinT),
  swin_s: swin(swinS),
  swin_b: swin(swinB),
  // torchvision's Inception v3 and GoogLeNet: in training they return the auxiliary heads'
  // logits too (InceptionOutputs, GoogLeNetOutputs), on which the trainer adds their losses.
  inception_v3: {
    build: ({ imageSize, ...o }) => {
      if (imageSize !== undefined && imageSize < INCEPTION_AUX.minSize && o.auxLogits !== false) {
        throw new Error(
          `models.create: ${INCEPTION_AUX.rule}, got imageSize ${imageSize}; give ` +
            `--image-size ${INCEPTION_AUX.minSize} (torchvision's crop), or build it without: ` +
            `models.create("inception_v3", { auxLogits: false, ... })`,
        );
      }
      return inceptionV3(o);
    },
    options: [...COMMON, "dropout", "auxLogits"],
    minSize: INCEPTION_V3_MIN_SIZE,
    train: INCEPTION_AUX,
  },
  googlenet: {
    build: ({ imageSize: _, ...o }) => googlenet(o),
    options: [...COMMON, "dropout", "auxLogits"],
    minSize: GOOGLENET_MIN_SIZE,
  },
  // MONAI's 3-D ResNets; their other options are the builders' (models.resnet3d18).
  resnet3d10: volume3d(resnet3d10, 1),
  resnet3d18: volume3d(resnet3d18, 1),
  resnet3d34: volume3d(resnet3d34, 1),
  resnet3d50: volume3d(resnet3d50, 1),
  // MONAI's 3-D DenseNets (inChannels and numClasses required, as MONAI's).
  densenet3d121: volume3d(densenet3d121, DENSENET_MIN_SIZE),
  densenet3d169: volume3d(densenet3d169, DENSENET_MIN_SIZE),
  densenet3d201: volume3d(densenet3d201, DENSENET_MIN_SIZE),
  densenet3d264: volume3d(densenet3d264, DENSENET_MIN_SIZE),
};

/** Other spellings people type. */
const ALIASES: Record<string, string> = {
  simplecnn: "simple",
  simple_cnn: "simple",
  mobilenet_v2: "mobilenetv2",
  efficientnet_b0: "efficientnetb0",
  efficientnet_b1: "efficientnetb1",
  efficientnet_b2: "efficientnetb2",
  efficientnet_b3: "efficientnetb3",
  efficientnet_b4: "efficientnetb4",
  efficientnet_b5: "efficientnetb5",
  efficientnet_b6: "efficientnetb6",
  efficientnet_b7: "efficientnetb7",
  mobilenet_v3_large: "mobilenetv3large",
  mobilenet_v3_small: "mobilenetv3small",
  shufflenet_v2_x0_5: "shufflenetv2x0_5",
  shufflenet_v2_x1_0: "shufflenetv2x1_0",
  shufflenet_v2_x1_5: "shufflenetv2x1_5",
  shufflenet_v2_x2_0: "shufflenetv2x2_0",
  efficientnet_v2_s: "efficientnetv2s",
  efficientnet_v2_m: "efficientnetv2m",
  efficientnet_v2_l: "efficientnetv2l",
  regnet_y_400mf: "regnety400mf",
  regnet_y_800mf: "regnety800mf",
  regnet_y_1_6gf: "regnety1_6gf",
  regnet_y_3_2gf: "regnety3_2gf",
  regnet_y_8gf: "regnety8gf",
  regnet_y_16gf: "regnety16gf",
  regnet_y_32gf: "regnety32gf",
  regnet_y_128gf: "regnety128gf",
  regnet_x_400mf: "regnetx400mf",
  regnet_x_800mf: "regnetx800mf",
  regnet_x_1_6gf: "regnetx1_6gf",
  regnet_x_3_2gf: "regnetx3_2gf",
  regnet_x_8gf: "regnetx8gf",
  regnet_x_16gf: "regnetx16gf",
  regnet_x_32gf: "regnetx32gf",
  convnext_tiny: "convnexttiny",
  convnext_small: "convnextsmall",
  convnext_base: "convnextbase",
  convnext_large: "convnextlarge",
  vgg11_bn: "vgg11bn",
  vgg13_bn: "vgg13bn",
  vgg16_bn: "vgg16bn",
  vgg19_bn: "vgg19bn",
  squeezenet10: "squeezenet1_0",
  squeezenet11: "squeezenet1_1",
  vitb16: "vit_b_16",
  vitb32: "vit_b_32",
  vitl16: "vit_l_16",
  vitl32: "vit_l_32",
  vith14: "vit_h_14",
  swint: "swin_t",
  swins: "swin_s",
  swinb: "swin_b",
  inceptionv3: "inception_v3",
  inception3: "inception_v3",
  wideresnet50_2: "wide_resnet50_2",
  wideresnet101_2: "wide_resnet101_2",
};

/**
 * The names of the image models `create` accepts (input [N, C, H, W]; the
 * command lines' `--model`); the volume models are in `volumeNames()`.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.names().includes("densenet121")); // true
 * ```
 */
export function names(): string[] {
  return Object.keys(MODELS).filter((k) => !MODELS[k].volume);
}

/**
 * The names of the volume models `create` accepts (input [N, C, D, H, W]).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.volumeNames().includes("densenet3d121")); // true
 * ```
 */
export function volumeNames(): string[] {
  return Object.keys(MODELS).filter((k) => MODELS[k].volume);
}

/**
 * The registry's name of model `name` (any case, or another spelling such
 * as torchvision's "mobilenet_v2"), or null for an unknown model.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.canonicalName("MobileNet_V2"), models.canonicalName("vgg16_bn")); // "mobilenetv2" "vgg16bn"
 * console.log(models.canonicalName("ViT_B_16"), models.canonicalName("vit_b_99")); // "vit_b_16" null
 * ```
 */
export function canonicalName(name: string): string | null {
  const key = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  return Object.hasOwn(MODELS, key) ? key : null;
}

/**
 * Whether model `name` takes `option` (say `dropout`, which the simple CNN,
 * AlexNet, the VGGs, the SqueezeNets, the MobileNets and the EfficientNets
 * have), so that a command line passes only what a model takes.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.takesOption("alexnet", "dropout"), models.takesOption("resnet18", "dropout")); // true false
 * ```
 */
export function takesOption(name: string, option: keyof ModelOptions): boolean {
  const key = canonicalName(name);
  return key !== null && MODELS[key].options.includes(option);
}

/**
 * The smallest input side model `name` takes (1 for the ResNets, which pool
 * adaptively); the command lines check `--image-size` against it.
 */
export function minImageSize(name: string): number {
  const key = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  if (!Object.hasOwn(MODELS, key)) {
    throw new Error(`unknown model '${name}'; choose one of ${names().join(", ")}`);
  }
  return MODELS[key].minSize;
}

/**
 * @internal What model `name` needs of the image side to train with its
 * default (auxiliary) heads beyond `minImageSize`, or null: inception_v3's
 * AuxLogits needs 299. `deno task train` refuses a smaller `--image-size`
 * with it before building the model.
 */
export function trainSizeRule(name: string): TrainSizeRule | null {
  const key = canonicalName(name);
  return key === null ? null : MODELS[key].train ?? null;
}

/**
 * The number model `name`'s image side must be a multiple of (a ViT's patch
 * size, 16 for vit_b_16; 1 for the models that pool adaptively); the
 * command lines check `--image-size` against it.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.imageSizeMultiple("vit_h_14"), models.imageSizeMultiple("resnet50")); // 14 1
 * ```
 */
export function imageSizeMultiple(name: string): number {
  const key = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  if (!Object.hasOwn(MODELS, key)) {
    throw new Error(`unknown model '${name}'; choose one of ${names().join(", ")}`);
  }
  return MODELS[key].sizeMultiple ?? 1;
}

/**
 * @internal Whether model `name`, once built, takes images of its
 * `imageSize` only (the small CNN, the ViTs); the others take any side from
 * `minImageSize` up (in steps of `imageSizeMultiple`).
 */
export function builtSizeOnly(name: string): boolean {
  const key = canonicalName(name);
  return key !== null && MODELS[key].builtSizeOnly === true;
}

/**
 * A zoo model: a Module whose forward takes a batch of images [N, C, H, W] to logits [N, K]
 * (inception_v3 and googlenet in training return `InceptionOutputs` / `GoogLeNetOutputs`,
 * the logits with their auxiliary heads', as torchvision's; the trainer adds their losses).
 */
export interface ImageModel extends Module {
  /** Logits [N, K] of images [N, C, H, W]. */
  forward(x: Tensor): Tensor;
}

/**
 * Builds a model by name. An option the model does not have (say `dropout`
 * for a ResNet) is an error rather than silently ignored; options given as
 * `undefined` are skipped, so a command line can pass all its flags.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.create("resnet50", { inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 23507907
 * ```
 */
export function create(name: string, options: ModelOptions = {}): ImageModel {
  const usage = 'models.create("resnet18", { inChannels: 1, numClasses: 3 })';
  checkArity("models.create", arguments.length, 2, usage);
  // Undefined values (from a config without them) count as absent.
  options = Object.fromEntries(
    Object.entries(checkOptions<ModelOptions>("models.create", options, ALL_OPTIONS, usage))
      .filter(([, v]) => v !== undefined),
  );
  if (typeof name !== "string") {
    throw new Error(`models.create: name must be a string; write ${usage}`);
  }
  const key = ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  const entry = Object.hasOwn(MODELS, key) ? MODELS[key] : undefined;
  if (!entry) {
    throw new Error(`models.create: unknown model '${name}'; choose one of ${names().join(", ")}`);
  }
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined && !entry.options.includes(k as Option)) {
      throw new Error(
        `models.create: ${key} has no option '${k}'; it takes ${entry.options.join(", ")}`,
      );
    }
  }
  const size = options.imageSize;
  if (size !== undefined && (!Number.isInteger(size) || size < entry.minSize)) {
    throw new Error(
      `models.create: ${key} needs imageSize to be an integer >= ${entry.minSize}, got ${size}`,
    );
  }
  const multiple = entry.sizeMultiple ?? 1;
  if (size !== undefined && size % multiple !== 0) {
    throw new Error(
      `models.create: ${key} needs imageSize to be a multiple of its patch size ${multiple}, ` +
        `got ${size}; give imageSize ${nearestSizes(size, multiple)} (--image-size on the ` +
        "command line)",
    );
  }
  const model = entry.build(options);
  // How it was made, so that optim.swaUtils.AveragedModel can make its copy (JS has no deepcopy).
  Object.defineProperty(model, CREATED_AS, {
    value: Object.freeze({ name: key, rebuild: () => create(key, options) }),
  });
  return model;
}

/**
 * @internal the key of a non-enumerable property that `create` sets on the
 * models it makes: `{ name, rebuild }`, where `rebuild()` makes another of
 * the same architecture (fresh weights); `optim.swaUtils.AveragedModel`
 * copies a zoo model with it. A registered symbol, so readers need not
 * import the zoo.
 */
export const CREATED_AS: unique symbol = Symbol.for("@lits/vision/models.create");
