/**
 * DenseNet-BC: Huang, Liu, van der Maaten & Weinberger, "Densely Connected
 * Convolutional Networks", CVPR 2017, Table 1, as torchvision 0.14 builds
 * it: a 7x7 stride-2 stem with max-pool, dense blocks joined by transitions
 * that halve the channels and the size, a final batch norm, ReLU, global
 * average pool and Linear. State-dict names are torchvision's:
 * `features.conv0.weight`, `features.norm0.running_mean`,
 * `features.denseblock1.denselayer1.norm1.weight`,
 * `features.transition1.conv.weight`, `features.norm5.bias`,
 * `classifier.weight`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { relu } from "../tensor/ops/elementwise.ts";
import { adaptiveAvgPool2d } from "../tensor/ops/pool.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { constant_, kaimingNormal_ } from "../layers/init.ts";
import { DenseBlock, Transition } from "./densenet_blocks.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkArity, checkOptions } from "../options.ts";
import { modelOptions } from "./defaults.ts";

/** A DenseNet's table column: growth rate, layers per dense block, stem width. */
export interface DenseNetConfig {
  /** Name used in messages and summaries ("DenseNet-121"; default "DenseNet"). */
  readonly name?: string;
  /** Channels each dense layer adds (torch's `growth_rate`). */
  readonly growthRate: number;
  /** Dense layers in each block (torch's `block_config`); a transition follows all but the last. */
  readonly blockConfig: readonly number[];
  /** Channels of the stem convolution (torch's `num_init_features`). */
  readonly numInitFeatures: number;
}

/** Table 1, DenseNet-121 (k = 32). */
export const DENSENET121: DenseNetConfig = {
  name: "DenseNet-121",
  growthRate: 32,
  blockConfig: [6, 12, 24, 16],
  numInitFeatures: 64,
};
/** Table 1, DenseNet-161 (k = 48). */
export const DENSENET161: DenseNetConfig = {
  name: "DenseNet-161",
  growthRate: 48,
  blockConfig: [6, 12, 36, 24],
  numInitFeatures: 96,
};
/** Table 1, DenseNet-169 (k = 32). */
export const DENSENET169: DenseNetConfig = {
  name: "DenseNet-169",
  growthRate: 32,
  blockConfig: [6, 12, 32, 32],
  numInitFeatures: 64,
};
/** Table 1, DenseNet-201 (k = 32). */
export const DENSENET201: DenseNetConfig = {
  name: "DenseNet-201",
  growthRate: 32,
  blockConfig: [6, 12, 48, 32],
  numInitFeatures: 64,
};

/** Options of `DenseNet`, `densenet121`, `densenet161`, `densenet169` and `densenet201`. */
export interface DenseNetOptions {
  /** Input channels of `features.conv0` (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Bottleneck width of a dense layer, in multiples of the growth rate (torch's `bn_size`, default 4). */
  bnSize?: number;
  /** Dropout probability after each dense layer, in training (torch's `drop_rate`, default 0). */
  dropRate?: number;
  /**
   * torch's `memory_efficient` (default false): recomputing each dense
   * layer's concatenation in the backward pass (torch.utils.checkpoint)
   * instead of keeping it. This library has no checkpointing, so `true` is
   * an Error rather than silently ignored; the numbers are the same either way.
   */
  memoryEfficient?: boolean;
}

/** The options a DenseNet takes, and their defaults (torchvision's). */
const DEFAULTS: Required<DenseNetOptions> = {
  inChannels: 3,
  numClasses: 1000,
  bnSize: 4,
  dropRate: 0,
  memoryEfficient: false,
};

const USAGE = "models.densenet121({ inChannels: 1, numClasses: 3 })";
const CONFIG_USAGE =
  "new models.DenseNet({ growthRate: 32, blockConfig: [6, 12, 24, 16], numInitFeatures: 64 }, " +
  "{ inChannels: 1, numClasses: 3 })";

/**
 * The smallest input height and width a DenseNet with `numBlocks` blocks
 * takes: the stem halves twice (conv0 and pool0, both rounding up), and each
 * of the `numBlocks - 1` transitions' 2x2 average pools needs a 2 x 2 map.
 * 29 for DenseNet-121/161/169/201 (29 -> 15 -> 8 -> 4 -> 2 -> 1).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.denseNetMinSize(4), models.denseNetMinSize(1)); // 29 1
 * ```
 */
export function denseNetMinSize(numBlocks: number): number {
  for (let size = 1;; size++) {
    let h = Math.floor((size - 1) / 2) + 1; // conv0: 7x7, stride 2, padding 3
    h = Math.floor((h - 1) / 2) + 1; // pool0: 3x3, stride 2, padding 1
    for (let i = 1; i < numBlocks && h >= 1; i++) h = Math.floor(h / 2);
    if (h >= 1) return size;
  }
}

/** Smallest input side of DenseNet-121/161/169/201 (four blocks). */
export const DENSENET_MIN_SIZE = 29;

/** The stem and blocks: `features`, with torchvision's child names. */
export type DenseNetFeatures =
  & Sequential
  & {
    /** 7x7 stride-2 stem convolution. */
    conv0: Conv2d;
    /** Stem batch norm. */
    norm0: BatchNorm2d;
    /** Stem ReLU. */
    relu0: ReLU;
    /** 3x3 stride-2 max-pool. */
    pool0: MaxPool2d;
    /** The final batch norm (ReLU and pooling follow in `forward`). */
    norm5: BatchNorm2d;
  }
  & { [block: `denseblock${number}`]: DenseBlock }
  & {
    [transition: `transition${number}`]: Transition;
  };

function positiveInt(where: string, name: string, v: unknown, usage: string): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${String(v)}; ${usage}`);
  }
  return v as number;
}

/** The configuration checked, with its name filled in. */
function checkConfig(config: unknown): Required<DenseNetConfig> {
  const where = "models.DenseNet";
  if (config === undefined) {
    throw new Error(`${where}: the configuration is required; write ${CONFIG_USAGE}`);
  }
  const c = checkOptions<DenseNetConfig>(where, config, [
    "name",
    "growthRate",
    "blockConfig",
    "numInitFeatures",
  ], CONFIG_USAGE);
  const blocks = c.blockConfig;
  if (!Array.isArray(blocks) || blocks.length === 0) {
    throw new Error(
      `${where}: blockConfig must be a non-empty list of layer counts, got ` +
        `${JSON.stringify(blocks)}; ${CONFIG_USAGE}`,
    );
  }
  blocks.forEach((n, i) => positiveInt(where, `blockConfig[${i}]`, n, CONFIG_USAGE));
  if (c.name !== undefined && typeof c.name !== "string") {
    throw new Error(`${where}: name must be a string, got ${String(c.name)}`);
  }
  return {
    name: c.name ?? "DenseNet",
    growthRate: positiveInt(where, "growthRate", c.growthRate, CONFIG_USAGE),
    blockConfig: [...blocks],
    numInitFeatures: positiveInt(where, "numInitFeatures", c.numInitFeatures, CONFIG_USAGE),
  };
}

/**
 * A DenseNet built from a configuration (torchvision's `DenseNet(growth_rate,
 * block_config, num_init_features, bn_size, drop_rate, num_classes)`), with
 * the input channels as an option. Initialised as torchvision: convolutions
 * kaiming-normal (fan_in, ReLU gain), batch norm weight 1 and bias 0, Linear
 * bias 0 (its weight PyTorch's default).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const tiny = { growthRate: 4, blockConfig: [2, 2], numInitFeatures: 8 };
 * const net = new models.DenseNet(tiny, { inChannels: 1, numClasses: 3 });
 * console.log(net.eval().forward(zeros([1, 1, 32, 32])).shape); // [1, 3]
 * ```
 */
export class DenseNet extends Module {
  /**
   * `conv0`, `norm0`, `relu0`, `pool0`, `denseblock1`, `transition1`, ...,
   * `denseblockB`, `norm5`.
   */
  features: DenseNetFeatures;
  /** Linear from the last block's channels to the classes. */
  classifier: Linear;
  /** The configuration, with its name filled in. */
  readonly config: Required<DenseNetConfig>;
  /**
   * The options the model was built with. A layer replaced later
   * (features.conv0, classifier) is not reflected here: read the layer
   * itself, as `inputSpec` does.
   */
  readonly options: Required<DenseNetOptions>;

  constructor(config: DenseNetConfig, options: DenseNetOptions = {}) {
    super();
    checkArity("models.DenseNet", arguments.length, 2, CONFIG_USAGE);
    const c = checkConfig(config);
    const where = `models.DenseNet (${c.name})`;
    const o = modelOptions(where, options, DEFAULTS, USAGE);
    positiveInt(where, "inChannels", o.inChannels, USAGE);
    positiveInt(where, "numClasses", o.numClasses, USAGE);
    positiveInt(where, "bnSize", o.bnSize, USAGE);
    if (typeof o.dropRate !== "number" || !(o.dropRate >= 0 && o.dropRate <= 1)) {
      throw new Error(`${where}: dropRate must be a probability in [0, 1], got ${o.dropRate}`);
    }
    if (o.memoryEfficient) {
      throw new Error(
        `${where}: memoryEfficient (torch's memory_efficient: gradient checkpointing of each ` +
          "dense layer's concatenation) is not supported; it saves memory, not changes the " +
          "numbers, so leave it out (false) and lower the batch size or image size if memory is short",
      );
    }
    this.config = c;
    this.options = o;
    const k = c.numInitFeatures;
    const features = new Sequential({
      conv0: new Conv2d(o.inChannels, k, 7, { stride: 2, padding: 3, bias: false }),
      norm0: new BatchNorm2d(k),
      relu0: new ReLU(),
      pool0: new MaxPool2d(3, { stride: 2, padding: 1 }),
    });
    let channels = k;
    c.blockConfig.forEach((layers, i) => {
      const block = new DenseBlock(layers, channels, o.bnSize, c.growthRate, o.dropRate);
      features.addModule(`denseblock${i + 1}`, block);
      channels += layers * c.growthRate;
      if (i === c.blockConfig.length - 1) return;
      features.addModule(`transition${i + 1}`, new Transition(channels, Math.floor(channels / 2)));
      channels = Math.floor(channels / 2);
    });
    features.addModule("norm5", new BatchNorm2d(channels));
    this.features = features as DenseNetFeatures;
    this.classifier = new Linear(channels, o.numClasses);
    this.#initialise();
  }

  #initialise(): void {
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight);
      else if (m instanceof BatchNorm2d && m.weight && m.bias) {
        constant_(m.weight, 1);
        constant_(m.bias, 0);
      } else if (m instanceof Linear && m.bias) constant_(m.bias, 0);
    }
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `features.conv0` as it is now, so a replaced stem sets the
   * channels.
   */
  get inputSpec(): InputSpec {
    const blocks = this.config.blockConfig.length;
    const last = `features.transition${blocks - 1}.pool (AvgPool2d), which needs a 2 x 2 map`;
    return {
      model: this.config.name,
      ...firstLayer("features.conv0", this.features.conv0),
      ...(blocks > 1 ? { sizeLayer: last } : {}),
      minSize: denseNetMinSize(blocks),
    };
  }

  /** x [N, inChannels, H, W] -> classifier(flatten(adaptiveAvgPool2d(relu(features(x)), 1))). */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    return chain(x, [
      (t) => this.features.forward(t),
      (t) => relu(t),
      (t) => flatten(adaptiveAvgPool2d(t, [1, 1]), 1),
      (t) => this.classifier.forward(t),
    ]);
  }
}

/** The body of the builders: `given` is their `arguments.length`. */
function build(
  name: string,
  config: DenseNetConfig,
  given: number,
  options: DenseNetOptions,
): DenseNet {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 3 })`);
  const o = options as Record<string, unknown> | null;
  // MONAI's DenseNet121(spatial_dims=3, ...) ported onto torchvision's 2-D builder.
  if (o !== null && typeof o === "object" && ("spatialDims" in o || "spatial_dims" in o)) {
    const dims = o.spatialDims ?? o.spatial_dims;
    const depth = name.slice("densenet".length);
    throw new Error(
      `models.${name}: unknown option 'spatialDims'; this is torchvision's 2-D DenseNet. ` +
        (depth === "161"
          ? "MONAI's 3-D DenseNets are models.densenet3d121/169/201/264"
          : dims === 3
          ? `MONAI's DenseNet${depth}(spatial_dims=3, in_channels, out_channels) is ` +
            `models.densenet3d${depth}({ inChannels: 1, numClasses: 2 })`
          : `leave spatialDims out (for volumes: models.densenet3d${depth})`),
    );
  }
  return new DenseNet(config, options);
}

/**
 * DenseNet-121 (growth rate 32, blocks [6, 12, 24, 16], 64 stem channels;
 * 7,978,856 parameters with the defaults, 6,950,659 for 1 input channel and
 * 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet121().numParameters()); // 7978856
 * ```
 */
export function densenet121(options: DenseNetOptions = {}): DenseNet {
  return build("densenet121", DENSENET121, arguments.length, options);
}

/**
 * DenseNet-161 (growth rate 48, blocks [6, 12, 36, 24], 96 stem channels;
 * 28,681,000 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet161({ numClasses: 3 }).classifier.inFeatures); // 2208
 * ```
 */
export function densenet161(options: DenseNetOptions = {}): DenseNet {
  return build("densenet161", DENSENET161, arguments.length, options);
}

/**
 * DenseNet-169 (growth rate 32, blocks [6, 12, 32, 32], 64 stem channels;
 * 14,149,480 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet169({ numClasses: 3 }).classifier.inFeatures); // 1664
 * ```
 */
export function densenet169(options: DenseNetOptions = {}): DenseNet {
  return build("densenet169", DENSENET169, arguments.length, options);
}

/**
 * DenseNet-201 (growth rate 32, blocks [6, 12, 48, 32], 64 stem channels;
 * 20,013,928 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet201({ numClasses: 3 }).classifier.inFeatures); // 1920
 * ```
 */
export function densenet201(options: DenseNetOptions = {}): DenseNet {
  return build("densenet201", DENSENET201, arguments.length, options);
}
