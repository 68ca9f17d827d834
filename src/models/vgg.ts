/**
 * VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for
 * Large-Scale Image Recognition", ICLR 2015, as torchvision 0.14 builds it:
 * configurations A, B, D and E of Table 1 (VGG-11, -13, -16, -19), with or
 * without batch norm after each convolution, adaptive average pooling to
 * 7 x 7 and the three-layer classifier. Same names as torchvision:
 * `features.0.weight`, ..., `classifier.6.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { Dropout, ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { constant_, kaimingNormal_, normal_ } from "../layers/init.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkArity, checkOptions } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkCount, checkProbability } from "./mobile_blocks.ts";

const USAGE = "models.vgg16({ inChannels: 1, numClasses: 3, dropout: 0.5 })";
const CLASS_USAGE = "new models.VGG(models.makeLayers(models.VGG_CFGS.D, true), { numClasses: 3 })";
const LAYERS_USAGE = "models.makeLayers(models.VGG_CFGS.D, true, { inChannels: 1 })";

/** One VGG configuration: 3 x 3 convolutions' output channels, "M" for a 2 x 2 max-pool. */
export type VGGCfg = readonly (number | "M")[];

/**
 * Table 1's configurations, torchvision's `cfgs`: A (VGG-11), B (VGG-13),
 * D (VGG-16) and E (VGG-19).
 */
export const VGG_CFGS: Readonly<Record<"A" | "B" | "D" | "E", VGGCfg>> = {
  A: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  B: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
  D: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
  E: [
    ...[64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M"] as const,
    ...[512, 512, 512, 512, "M", 512, 512, 512, 512, "M"] as const,
  ],
};

/** The pooled size before the classifier (AdaptiveAvgPool2d((7, 7))), and its hidden width. */
const POOLED = 7, HIDDEN = 4096;

/**
 * Smallest input height and width of the VGGs: five 2 x 2 max-pools halve
 * it to 1 (32 -> 16 -> 8 -> 4 -> 2 -> 1; torchvision's `min_size`).
 */
export const VGG_MIN_SIZE = 32;

/** Options of `makeLayers`. */
export interface MakeLayersOptions {
  /** Input channels of the first convolution (default 3, torchvision's only value). */
  inChannels?: number;
}

/**
 * torchvision's `make_layers`: the feature extractor of a configuration,
 * each number a 3 x 3 convolution (padding 1) followed by BatchNorm2d (with
 * `batchNorm`) and ReLU, each "M" a 2 x 2 max-pool of stride 2.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const features = models.makeLayers(models.VGG_CFGS.A, true, { inChannels: 1 });
 * console.log(features.numParameters()); // 9223680
 * ```
 */
export function makeLayers(
  cfg: VGGCfg,
  batchNorm = false,
  options: MakeLayersOptions = {},
): Sequential {
  const where = "models.makeLayers";
  checkArity(where, arguments.length, 3, LAYERS_USAGE);
  const o = checkOptions<MakeLayersOptions>(where, options, ["inChannels"], LAYERS_USAGE);
  if (!Array.isArray(cfg) || cfg.length === 0) {
    throw new Error(
      `${where}: cfg must be a list of channel counts and "M"; write ${LAYERS_USAGE}`,
    );
  }
  if (typeof batchNorm !== "boolean") {
    throw new Error(
      `${where}: batchNorm must be true or false, got ${batchNorm}; write ${LAYERS_USAGE}`,
    );
  }
  let channels = o.inChannels ?? 3;
  checkCount(where, "inChannels", channels, LAYERS_USAGE);
  const layers: Module[] = [];
  for (const v of cfg) {
    if (v === "M") {
      layers.push(new MaxPool2d(2, { stride: 2 }));
      continue;
    }
    checkCount(where, `cfg entry ${JSON.stringify(v)} (channels, or "M")`, v, LAYERS_USAGE);
    layers.push(new Conv2d(channels, v, 3, { padding: 1 }));
    if (batchNorm) layers.push(new BatchNorm2d(v));
    layers.push(new ReLU());
    channels = v;
  }
  return new Sequential(...layers);
}

/** Options of the `VGG` class (torchvision's `VGG(features, ...)` keywords). */
export interface VGGOptions {
  /** Output classes (default 1000). */
  numClasses?: number;
  /**
   * torchvision's initialisation (default true): convolutions kaiming-normal
   * (fan_out, ReLU), batch norm weight 1 and bias 0, Linear N(0, 0.01) and
   * bias 0. With false the layers keep PyTorch's default initialisation.
   */
  initWeights?: boolean;
  /** Dropout probability after each of the first two Linear layers (default 0.5). */
  dropout?: number;
}

/** Options of `vgg11` ... `vgg19Bn`: `VGGOptions` and the input channels. */
export interface VGGModelOptions extends VGGOptions {
  /** Input channels (default 3). */
  inChannels?: number;
}

const DEFAULTS: Required<VGGOptions> = { numClasses: 1000, initWeights: true, dropout: 0.5 };

/** Whether `v` (a number or a pair) is `n` in both directions. */
function both(v: unknown, n: number): boolean {
  return Array.isArray(v) ? v.length === 2 && v[0] === n && v[1] === n : v === n;
}

/**
 * What a VGG feature extractor is as `makeLayers` builds it (read from the
 * layers as they are now): its name ("VGG-16-BN"), the last max-pool and
 * the count of 2 x 2 pools, or null when a layer differs (a replaced stem),
 * whose own checks then judge the input size.
 */
function plainFeatures(features: Module): { name: string; lastPool: number; pools: number } | null {
  if (!(features instanceof Sequential)) return null;
  let convs = 0, pools = 0, norms = 0, lastPool = -1, i = 0;
  for (const m of features) {
    if (m instanceof Conv2d) {
      const o = m.options;
      if (!both(m.kernelSize, 3) || !both(o.stride, 1) || !both(o.padding, 1)) return null;
      if (!both(o.dilation, 1)) return null;
      convs++;
    } else if (m instanceof MaxPool2d) {
      const o = m.options;
      if (!both(m.kernelSize, 2) || !both(o.stride ?? 2, 2) || !both(o.padding ?? 0, 0)) {
        return null;
      }
      if (!both(o.dilation ?? 1, 1) || o.ceilMode) return null;
      pools++;
      lastPool = i;
    } else if (m instanceof BatchNorm2d) norms++;
    else if (!(m instanceof ReLU)) return null;
    i++;
  }
  if (pools === 0) return null;
  const name = `VGG-${convs + 3}${norms > 0 ? "-BN" : ""}`;
  return { name, lastPool, pools };
}

/**
 * VGG as torchvision builds it around a feature extractor (`makeLayers`):
 * AdaptiveAvgPool2d((7, 7)), then Linear(512 * 7 * 7, 4096), ReLU, Dropout,
 * Linear(4096, 4096), ReLU, Dropout, Linear(4096, numClasses); initialised
 * as torchvision's (see `VGGOptions.initWeights`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const features = models.makeLayers(models.VGG_CFGS.A, true, { inChannels: 1 });
 * using net = new models.VGG(features, { numClasses: 3 });
 * console.log(net.numParameters()); // 128782979
 * console.log(net.eval().forward(zeros([1, 1, 32, 32])).shape); // [1, 3]
 * ```
 */
export class VGG extends Module {
  /** The convolutions, batch norms, ReLUs and max-pools (indices as torchvision's). */
  features: Module;
  /** Adaptive average pool to 7 x 7. */
  avgpool: AdaptiveAvgPool2d;
  /** Linear, ReLU, Dropout, Linear, ReLU, Dropout, Linear. */
  classifier: Sequential;
  /**
   * The options the model was built with. A layer replaced later (a
   * classifier layer) is not reflected here: read the layer itself.
   */
  readonly options: Required<VGGOptions>;

  constructor(features: Module, options: VGGOptions = {}) {
    super();
    checkArity("models.VGG", arguments.length, 2, CLASS_USAGE);
    if (!(features instanceof Module)) {
      throw new Error(
        `models.VGG: features must be a Module (models.makeLayers); write ${CLASS_USAGE}`,
      );
    }
    // Messages name the architecture ("models.VGG (VGG-16-BN)").
    const where = `models.VGG (${plainFeatures(features)?.name ?? "custom features"})`;
    const o = modelOptions(where, options, DEFAULTS, USAGE);
    checkCount(where, "numClasses", o.numClasses, USAGE);
    checkProbability(where, "dropout", o.dropout, USAGE);
    this.options = o;
    this.features = features;
    this.avgpool = new AdaptiveAvgPool2d([POOLED, POOLED]);
    this.classifier = new Sequential(
      new Linear(512 * POOLED * POOLED, HIDDEN),
      new ReLU(),
      new Dropout(o.dropout),
      new Linear(HIDDEN, HIDDEN),
      new ReLU(),
      new Dropout(o.dropout),
      new Linear(HIDDEN, o.numClasses),
    );
    if (o.initWeights) initVGG(this);
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from the layers as they are now: the channels from `features.0`,
   * and for features as `makeLayers` builds them the smallest size (2 to the
   * number of max-pools: 32).
   */
  get inputSpec(): InputSpec {
    const f = this.features;
    const first = f instanceof Sequential
      ? firstLayer("features.0", f[0])
      : firstLayer("features", f);
    const plain = plainFeatures(f);
    if (plain === null) return { model: "VGG", ...first };
    return {
      model: plain.name,
      ...first,
      sizeLayer: `features.${plain.lastPool} (MaxPool2d), the last of ${plain.pools} ` +
        "2 x 2 max-pools, which needs a 2 x 2 map",
      minSize: 2 ** plain.pools,
    };
  }

  /** x [N, inChannels, H, W] (H, W >= 32) -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    x = this.features.forward(x);
    x = this.avgpool.forward(x);
    x = flatten(x, 1);
    return this.classifier.forward(x);
  }
}

/** torchvision's VGG initialisation, over every module (user-given features too). */
function initVGG(model: Module): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
      if (m.bias) constant_(m.bias, 0);
    } else if (m instanceof BatchNorm2d && m.weight && m.bias) {
      constant_(m.weight, 1);
      constant_(m.bias, 0);
    } else if (m instanceof Linear) {
      normal_(m.weight, 0, 0.01);
      if (m.bias) constant_(m.bias, 0);
    }
  }
}

/** A VGG of configuration `cfg` built for the builder `where`. */
function vgg(where: string, cfg: VGGCfg, batchNorm: boolean, options: unknown): VGG {
  const usage = `models.${where}({ inChannels: 1, numClasses: 3, dropout: 0.5 })`;
  const o = checkOptions<VGGModelOptions>(
    `models.${where}`,
    options,
    ["inChannels", "numClasses", "initWeights", "dropout"],
    usage,
  );
  const { inChannels, ...rest } = o;
  if (inChannels !== undefined) checkCount(`models.${where}`, "inChannels", inChannels, usage);
  const features = makeLayers(cfg, batchNorm, { inChannels });
  try {
    return new VGG(features, rest);
  } catch (e) {
    features.dispose(); // a bad option leaves no memory behind
    throw e;
  }
}

/**
 * torchvision's `vgg11` (configuration A; 132,863,336 parameters with the
 * defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * using net = models.vgg11({ inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 128777475
 * ```
 */
export function vgg11(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg11", arguments.length, 1, USAGE);
  return vgg("vgg11", VGG_CFGS.A, false, options);
}

/**
 * torchvision's `vgg11_bn` (configuration A with batch norm; 132,868,840
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * using net = models.vgg11Bn({ inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 128782979
 * ```
 */
export function vgg11Bn(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg11Bn", arguments.length, 1, USAGE);
  return vgg("vgg11Bn", VGG_CFGS.A, true, options);
}

/**
 * torchvision's `vgg13` (configuration B; 133,047,848 parameters with the
 * defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * // initWeights: false skips torchvision's init (weights loaded from a file next)
 * using net = models.vgg13({ inChannels: 1, numClasses: 3, initWeights: false });
 * console.log(net.numParameters()); // 128961987
 * ```
 */
export function vgg13(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg13", arguments.length, 1, USAGE);
  return vgg("vgg13", VGG_CFGS.B, false, options);
}

/**
 * torchvision's `vgg13_bn` (configuration B with batch norm; 133,053,736
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * // initWeights: false skips torchvision's init (weights loaded from a file next)
 * using net = models.vgg13Bn({ inChannels: 1, numClasses: 3, initWeights: false });
 * console.log(net.numParameters()); // 128967875
 * ```
 */
export function vgg13Bn(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg13Bn", arguments.length, 1, USAGE);
  return vgg("vgg13Bn", VGG_CFGS.B, true, options);
}

/**
 * torchvision's `vgg16` (configuration D; 138,357,544 parameters with the
 * defaults), the one of the tutorials.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * // initWeights: false skips torchvision's init (weights loaded from a file next)
 * using net = models.vgg16({ inChannels: 1, numClasses: 3, initWeights: false });
 * console.log(net.numParameters()); // 134271683
 * ```
 */
export function vgg16(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg16", arguments.length, 1, USAGE);
  return vgg("vgg16", VGG_CFGS.D, false, options);
}

/**
 * torchvision's `vgg16_bn` (configuration D with batch norm; 138,365,992
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * // initWeights: false skips torchvision's init (weights loaded from a file next)
 * using net = models.vgg16Bn({ inChannels: 1, numClasses: 3, initWeights: false });
 * console.log(net.numParameters()); // 134280131
 * ```
 */
export function vgg16Bn(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg16Bn", arguments.length, 1, USAGE);
  return vgg("vgg16Bn", VGG_CFGS.D, true, options);
}

/**
 * torchvision's `vgg19` (configuration E; 143,667,240 parameters with the
 * defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * // initWeights: false skips torchvision's init (weights loaded from a file next)
 * using net = models.vgg19({ inChannels: 1, numClasses: 3, initWeights: false });
 * console.log(net.numParameters()); // 139581379
 * ```
 */
export function vgg19(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg19", arguments.length, 1, USAGE);
  return vgg("vgg19", VGG_CFGS.E, false, options);
}

/**
 * torchvision's `vgg19_bn` (configuration E with batch norm; 143,678,248
 * parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * // initWeights: false skips torchvision's init (weights loaded from a file next)
 * using net = models.vgg19Bn({ inChannels: 1, numClasses: 3, initWeights: false });
 * console.log(net.numParameters()); // 139592387
 * ```
 */
export function vgg19Bn(options: VGGModelOptions = {}): VGG {
  checkArity("models.vgg19Bn", arguments.length, 1, USAGE);
  return vgg("vgg19Bn", VGG_CFGS.E, true, options);
}
