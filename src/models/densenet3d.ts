/**
 * MONAI 1.3's DenseNet for volumes (`monai.networks.nets.DenseNet121/169/
 * 201/264` with `spatial_dims=3`; Huang et al., "Densely Connected
 * Convolutional Networks", CVPR 2017), as MONAI's 3-D classification
 * tutorials train it (`DenseNet121(spatial_dims=3, in_channels=1,
 * out_channels=2)`), with MONAI's defaults and state-dict names, so a MONAI
 * checkpoint's keys and shapes match one for one: `features.conv0.weight`,
 * `features.norm0.running_mean`,
 * `features.denseblock1.denselayer1.layers.norm1.weight`,
 * `features.transition1.conv.weight`, `features.norm5.bias`,
 * `class_layers.out.weight`. Input volumes [N, C, D, H, W].
 *
 * MONAI's names differ from torchvision's 2-D DenseNet (`models.densenet121`):
 * each dense layer keeps its modules in a Sequential `layers` and returns
 * its input concatenated with its new features, and the head is the
 * Sequential `class_layers` (relu, pool, flatten, out) rather than
 * `classifier`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { Module } from "../layers/module.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { BatchNorm3d } from "../layers/norm3d.ts";
import { Flatten, ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool3d, MaxPool3d } from "../layers/pool3d.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { constant_, kaimingNormal_ } from "../layers/init.ts";
import { DenseBlock3d, Transition3d } from "./densenet3d_blocks.ts";
import { denseNetMinSize } from "./densenet.ts";
import type { InputSpec } from "./input.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";

/** MONAI's `act`: only its default, ReLU (`("relu", {"inplace": True})`). */
export type DenseNet3dAct = "relu" | readonly ["relu", { inplace?: boolean }];
/** MONAI's `norm`: only its default, batch norm (`"batch"`). */
export type DenseNet3dNorm = "batch" | readonly ["batch", Record<string, never>];

/**
 * Options of `DenseNet3d` and `densenet3d121/169/201/264`: MONAI's keyword
 * arguments in camelCase, with MONAI 1.3's defaults (its `out_channels` is
 * `numClasses`, as in the rest of the zoo). `inChannels` and `numClasses`
 * are required, as in MONAI.
 */
export interface DenseNet3dOptions {
  /** Input channels (MONAI's `in_channels`, required). */
  inChannels?: number;
  /** Output classes of `class_layers.out` (MONAI's `out_channels`, required). */
  numClasses?: number;
  /** Channels of the stem convolution `features.conv0` (`init_features`, default 64). */
  initFeatures?: number;
  /** Channels each dense layer adds (`growth_rate`, default 32). */
  growthRate?: number;
  /**
   * Dense layers in each block (`block_config`); a transition follows all
   * but the last. Default the builder's: [6, 12, 24, 16] (121), [6, 12, 32,
   * 32] (169), [6, 12, 48, 32] (201), [6, 12, 64, 48] (264).
   */
  blockConfig?: readonly number[];
  /** Bottleneck width of a dense layer, in multiples of the growth rate (`bn_size`, default 4). */
  bnSize?: number;
  /** The activation (default "relu"; MONAI's other activations are not available). */
  act?: DenseNet3dAct;
  /** The normalisation (default "batch"; MONAI's other norms are not available). */
  norm?: DenseNet3dNorm;
  /**
   * Channel dropout (`nn.Dropout3d`, MONAI's `Dropout[DROPOUT, 3]`) at the
   * end of each dense layer's `layers`, in training (`dropout_prob`,
   * default 0: no dropout module).
   */
  dropoutProb?: number;
  /** MONAI's `spatial_dims`: only 3 (for images, `models.densenet121` is torchvision's 2-D DenseNet). */
  spatialDims?: 3;
}

/** The options and MONAI 1.3's defaults (inChannels and numClasses are required). */
const DEFAULTS: Required<DenseNet3dOptions> = {
  inChannels: 1,
  numClasses: 2,
  initFeatures: 64,
  growthRate: 32,
  blockConfig: [6, 12, 24, 16],
  bnSize: 4,
  act: "relu",
  norm: "batch",
  dropoutProb: 0,
  spatialDims: 3,
};

/** MONAI's DenseNet121/169/201/264: their `block_config`. */
const BLOCKS: Record<number, readonly number[]> = {
  121: [6, 12, 24, 16],
  169: [6, 12, 32, 32],
  201: [6, 12, 48, 32],
  264: [6, 12, 64, 48],
};

const CLASS_USAGE =
  "new models.DenseNet3d({ inChannels: 1, numClasses: 2, blockConfig: [6, 12, 24, 16] })";

/** The depth of MONAI's named DenseNet the options build, or null. */
function depthOf(o: Record<string, unknown>): number | null {
  const b = o.blockConfig;
  if (!Array.isArray(b) || (o.initFeatures ?? 64) !== 64 || (o.growthRate ?? 32) !== 32) {
    return null;
  }
  const hit = Object.entries(BLOCKS).find(([, row]) => row.join() === b.join());
  return hit ? Number(hit[0]) : null;
}

/** Options with another form here (MONAI's own, torchvision's), and what to write. */
function otherNames(usage: string): Record<string, string> {
  const pretrained = "MONAI has no pretrained 3-D DenseNet (its DenseNet121 raises " +
    "NotImplementedError for spatial_dims > 2); train it, or load a MONAI checkpoint with " +
    "model.loadStateDict (the names match)";
  return {
    out_channels: `MONAI's out_channels is numClasses here; write ${usage}`,
    outChannels: `MONAI's out_channels is numClasses here; write ${usage}`,
    pretrained,
    progress: pretrained,
    dropRate: "torchvision's drop_rate is dropoutProb here (MONAI's dropout_prob; the 3-D " +
      "DenseNet drops whole channels, nn.Dropout3d)",
    numInitFeatures: "torchvision's num_init_features is initFeatures here (MONAI's init_features)",
    memoryEfficient: "torchvision's memory_efficient (gradient checkpointing) is not in MONAI's " +
      "DenseNet or here; leave it out and lower the batch or volume size if memory is short",
  };
}

/** Throws unless `v` is a positive integer. */
function positive(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${showValue(v)}`);
  }
  return v as number;
}

/** Throws unless `act` is MONAI's default, ReLU. */
function checkAct(where: string, act: unknown): void {
  const name = Array.isArray(act) ? act[0] : act;
  const args = Array.isArray(act) ? act[1] : {};
  const plain = args !== null && typeof args === "object" && !Array.isArray(args) &&
    Object.keys(args).every((k) => k === "inplace");
  const ok = typeof name === "string" && name.toLowerCase() === "relu" && plain &&
    (!Array.isArray(act) || act.length === 2);
  if (!ok) {
    throw new Error(
      `${where}: act must be "relu" (MONAI's default, ("relu", {"inplace": True})), got ` +
        `${showValue(act)}; other activations are not available here: leave act out`,
    );
  }
}

/** Throws unless `norm` is MONAI's default, batch norm. */
function checkNorm(where: string, norm: unknown): void {
  const name = Array.isArray(norm) ? norm[0] : norm;
  const args = Array.isArray(norm) ? norm[1] : {};
  const empty = args !== null && typeof args === "object" && !Array.isArray(args) &&
    Object.keys(args).length === 0;
  const ok = typeof name === "string" && name.toLowerCase() === "batch" && empty &&
    (!Array.isArray(norm) || norm.length === 2);
  if (!ok) {
    throw new Error(
      `${where}: norm must be "batch" (MONAI's default, BatchNorm3d with torch's eps and ` +
        `momentum), got ${showValue(norm)}; other norms are not available here: leave norm out`,
    );
  }
}

/** The stem and blocks: `features`, with MONAI's child names. */
export type DenseNet3dFeatures =
  & Sequential
  & {
    /** 7x7x7 stride-2 stem convolution, padding 3, no bias. */
    conv0: Conv3d;
    /** Stem batch norm. */
    norm0: BatchNorm3d;
    /** Stem ReLU. */
    relu0: ReLU;
    /** 3x3x3 stride-2 max-pool, padding 1. */
    pool0: MaxPool3d;
    /** The final batch norm (`class_layers` follows). */
    norm5: BatchNorm3d;
  }
  & { [block: `denseblock${number}`]: DenseBlock3d }
  & { [transition: `transition${number}`]: Transition3d };

/** The head: `class_layers`, with MONAI's child names. */
export type DenseNet3dClassLayers =
  & Sequential
  & {
    /** ReLU of norm5's output. */
    relu: ReLU;
    /** Global average pool to [N, C, 1, 1, 1]. */
    pool: AdaptiveAvgPool3d;
    /** nn.Flatten(1): [N, C]. */
    flatten: Flatten;
    /** Linear to the classes. */
    out: Linear;
  };

/**
 * A DenseNet for volumes as MONAI 1.3 builds it (`DenseNet(spatial_dims=3,
 * in_channels, out_channels, init_features, growth_rate, block_config,
 * bn_size, act, norm, dropout_prob)`): `features` = a 7x7x7 stride-2 stem
 * convolution, batch norm, ReLU and 3x3x3 stride-2 max-pool, then dense
 * blocks joined by transitions that halve the channels (rounding down) and
 * the size, and `norm5`; `class_layers` = ReLU, AdaptiveAvgPool3d(1),
 * Flatten and Linear. Initialised as MONAI: convolutions kaiming-normal
 * (torch's defaults: fan_in, ReLU gain), batch norm weight 1 and bias 0,
 * Linear bias 0 (its weight keeps PyTorch's default).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = new models.DenseNet3d({
 *   inChannels: 1, numClasses: 2, initFeatures: 8, growthRate: 4, blockConfig: [2, 2],
 * });
 * console.log(net.eval().forward(zeros([1, 1, 8, 16, 16])).shape); // [1, 2]
 * ```
 */
export class DenseNet3d extends Module {
  /**
   * `conv0`, `norm0`, `relu0`, `pool0`, `denseblock1`, `transition1`, ...,
   * `denseblockB`, `norm5`.
   */
  features: DenseNet3dFeatures;
  /** `relu`, `pool`, `flatten`, `out` (MONAI's attribute name). */
  class_layers: DenseNet3dClassLayers;
  /** "DenseNet3d-121" (169, 201, 264) for MONAI's named configurations, else "DenseNet3d". */
  readonly modelName: string;
  /**
   * The options the model was built with, defaults filled in. A layer
   * replaced later (features.conv0, class_layers.out) is not reflected
   * here: read the layer itself, as `inputSpec` does.
   */
  readonly options: Required<DenseNet3dOptions>;

  constructor(options: DenseNet3dOptions) {
    super();
    checkArity("models.DenseNet3d", arguments.length, 1, CLASS_USAGE);
    const raw = options !== null && typeof options === "object"
      ? options as Record<string, unknown>
      : {};
    const depth = depthOf({ ...raw, blockConfig: raw.blockConfig ?? DEFAULTS.blockConfig });
    this.modelName = depth === null ? "DenseNet3d" : `DenseNet3d-${depth}`;
    const where = `models.DenseNet3d (${this.modelName})`;
    const usage = depth === null
      ? CLASS_USAGE
      : `models.densenet3d${depth}({ inChannels: 1, numClasses: 2 })`;
    const other = otherNames(usage);
    for (const k of Object.keys(raw)) {
      if (Object.hasOwn(other, k)) throw new Error(`${where}: ${other[k]}`);
    }
    const o = modelOptions(where, options, DEFAULTS, usage);
    for (const [k, monai] of [["inChannels", "in_channels"], ["numClasses", "out_channels"]]) {
      if (raw[k] === undefined) {
        throw new Error(
          `${where}: ${k} is required (MONAI's ${monai} has no default); write ${usage}`,
        );
      }
    }
    positive(where, "inChannels", o.inChannels);
    positive(where, "numClasses", o.numClasses);
    positive(where, "initFeatures", o.initFeatures);
    positive(where, "growthRate", o.growthRate);
    positive(where, "bnSize", o.bnSize);
    const blocks = o.blockConfig;
    if (!Array.isArray(blocks) || blocks.length === 0) {
      throw new Error(
        `${where}: blockConfig must be a non-empty list of layer counts, got ` +
          `${showValue(blocks)}; write ${CLASS_USAGE}`,
      );
    }
    blocks.forEach((n, i) => positive(where, `blockConfig[${i}]`, n));
    if (typeof o.dropoutProb !== "number" || !(o.dropoutProb >= 0 && o.dropoutProb <= 1)) {
      throw new Error(
        `${where}: dropoutProb must be a number in [0, 1], got ${showValue(o.dropoutProb)}`,
      );
    }
    checkAct(where, o.act);
    checkNorm(where, o.norm);
    if (o.spatialDims !== 3) {
      throw new Error(
        `${where}: spatialDims must be 3 (volumes [N, C, D, H, W]), got ` +
          `${showValue(o.spatialDims)}; for 2-D images use models.densenet121 (torchvision's ` +
          "DenseNet, whose state-dict names are torchvision's, not MONAI's)",
      );
    }
    this.options = { ...o, blockConfig: [...blocks] };

    const k = o.initFeatures;
    const features = new Sequential({
      conv0: new Conv3d(o.inChannels, k, 7, { stride: 2, padding: 3, bias: false }),
      norm0: new BatchNorm3d(k),
      relu0: new ReLU(true),
      pool0: new MaxPool3d(3, { stride: 2, padding: 1 }),
    });
    let channels = k;
    blocks.forEach((layers, i) => {
      const block = new DenseBlock3d(layers, channels, o.bnSize, o.growthRate, o.dropoutProb);
      features.addModule(`denseblock${i + 1}`, block);
      channels += layers * o.growthRate;
      if (i === blocks.length - 1) {
        features.addModule("norm5", new BatchNorm3d(channels));
      } else {
        const out = Math.floor(channels / 2);
        features.addModule(`transition${i + 1}`, new Transition3d(channels, out));
        channels = out;
      }
    });
    this.features = features as DenseNet3dFeatures;
    this.class_layers = new Sequential({
      relu: new ReLU(true),
      pool: new AdaptiveAvgPool3d(1),
      flatten: new Flatten(1),
      out: new Linear(channels, o.numClasses),
    }) as DenseNet3dClassLayers;
    for (const m of this.modules()) {
      if (m instanceof Conv3d) kaimingNormal_(m.weight);
      else if (m instanceof BatchNorm3d && m.weight && m.bias) {
        constant_(m.weight, 1);
        constant_(m.bias, 0);
      } else if (m instanceof Linear && m.bias) constant_(m.bias, 0);
    }
  }

  /**
   * What `forward` accepts, read from `features.conv0` as it is now (a
   * replaced stem sets the channels): [N, C, D, H, W] with each of D, H, W
   * at least `models.denseNetMinSize(blocks)` (29 for four blocks), so that
   * the last transition's 2x2x2 average pool has a 2 x 2 x 2 map.
   */
  get inputSpec(): InputSpec {
    const c = this.features.conv0;
    const blocks = this.options.blockConfig.length;
    const last = `features.transition${blocks - 1}.pool (AvgPool3d), which needs a 2 x 2 x 2 map`;
    return {
      model: this.modelName,
      layer: `features.conv0 (${c instanceof Module ? c.constructor.name : typeof c})`,
      channels: c instanceof Conv3d ? c.inChannels : undefined,
      ...(blocks > 1 ? { sizeLayer: last } : {}),
      minSize: denseNetMinSize(blocks),
    };
  }

  /** x [N, inChannels, D, H, W] -> class_layers(features(x)): logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkVolumeSize(x.shape, this.inputSpec);
    // Inside noGrad, chain (and Sequential) free each part's tensors once used.
    return chain(x, [(t) => this.features.forward(t), (t) => this.class_layers.forward(t)]);
  }
}

/**
 * @internal throws an Error naming the model, the layer that would refuse
 * the input and the shape it expects ([N, C, D, H, W] with D, H, W at least
 * `spec.minSize`) unless `shape` fits; the batch may be symbolic (ONNX
 * export checks its input shape with it).
 */
export function checkVolumeSize(shape: readonly (number | string)[], spec: InputSpec): void {
  const c = spec.channels;
  const min = spec.minSize ?? 1;
  let layer: string | null = null;
  if (shape.length !== 5 || (c !== undefined && shape[1] !== c)) layer = spec.layer;
  else if (shape.slice(2).some((d) => typeof d === "number" && d < min)) {
    layer = spec.sizeLayer ?? spec.layer;
  }
  if (layer === null) return;
  const sizes = min > 1 ? ` with D, H, W >= ${min}` : "";
  const hint = shape.length === 4 ? "; for one volume write x.unsqueeze(0)" : "";
  throw new Error(
    `${spec.model}: input [${shape}] does not fit ${layer}: expected ` +
      `[N, ${c ?? "C"}, D, H, W]${sizes}${hint}`,
  );
}

/** The body of the builders: `given` is their `arguments.length`. */
function build(depth: number, given: number, options: DenseNet3dOptions): DenseNet3d {
  const name = `models.densenet3d${depth}`;
  checkArity(name, given, 1, `${name}({ inChannels: 1, numClasses: 2 })`);
  if (options === undefined) {
    throw new Error(
      `${name}: inChannels and numClasses are required (MONAI's in_channels and ` +
        `out_channels have no default); write ${name}({ inChannels: 1, numClasses: 2 })`,
    );
  }
  const proto = options === null || typeof options !== "object"
    ? undefined
    : Object.getPrototypeOf(options);
  const plain = proto === Object.prototype || proto === null;
  const o = options as Record<string, unknown>;
  // MONAI's DenseNet121(...) takes block_config too, as a default the caller may change.
  return new DenseNet3d(
    plain && o.blockConfig === undefined ? { ...options, blockConfig: BLOCKS[depth] } : options,
  );
}

/**
 * MONAI's `DenseNet121(spatial_dims=3, ...)`: init features 64, growth rate
 * 32, blocks [6, 12, 24, 16] (11,244,674 parameters for 1 channel and 2
 * classes, MONAI's 3d_classification tutorial).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.densenet3d121({ inChannels: 1, numClasses: 2 });
 * console.log(net.numParameters(), net.stateDict().has("class_layers.out.weight")); // 11244674 true
 * ```
 */
export function densenet3d121(options: DenseNet3dOptions): DenseNet3d {
  return build(121, arguments.length, options);
}

/**
 * MONAI's `DenseNet169(spatial_dims=3, ...)`: blocks [6, 12, 32, 32]
 * (18,546,050 parameters for 1 channel and 2 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet3d169({ inChannels: 1, numClasses: 2 }).class_layers.out.inFeatures); // 1664
 * ```
 */
export function densenet3d169(options: DenseNet3dOptions): DenseNet3d {
  return build(169, arguments.length, options);
}

/**
 * MONAI's `DenseNet201(spatial_dims=3, ...)`: blocks [6, 12, 48, 32].
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet3d201({ inChannels: 1, numClasses: 2 }).class_layers.out.inFeatures); // 1920
 * ```
 */
export function densenet3d201(options: DenseNet3dOptions): DenseNet3d {
  return build(201, arguments.length, options);
}

/**
 * MONAI's `DenseNet264(spatial_dims=3, ...)`: blocks [6, 12, 64, 48].
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.densenet3d264({ inChannels: 1, numClasses: 2 }).class_layers.out.inFeatures); // 2688
 * ```
 */
export function densenet3d264(options: DenseNet3dOptions): DenseNet3d {
  return build(264, arguments.length, options);
}
