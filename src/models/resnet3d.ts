/**
 * The 3-D ResNet of MONAI 1.3 (`monai.networks.nets.resnet10/18/34/50` with
 * `spatial_dims=3`; Hara, Kataoka & Satoh, "Can Spatiotemporal 3D CNNs
 * Retrace the History of 2D CNNs and ImageNet?", CVPR 2018, and Chen, Ma &
 * Zheng, "Med3D", 2019), with MONAI's defaults and state-dict names, so a
 * MONAI checkpoint's keys and shapes match one for one: `conv1.weight`,
 * `bn1.running_mean`, `layer1.0.conv1.weight`,
 * `layer2.0.downsample.0.bias`, `layer2.0.downsample.1.running_var`,
 * `fc.weight`. Input volumes [N, C, D, H, W].
 *
 * MONAI's defaults differ from torchvision's 2-D ResNet: the stem convolution
 * has stride 1 (`conv1TStride`), the downsampling shortcut's 1x1x1
 * convolution has a bias (`biasDownsample`), and there are 400 classes.
 * Later MONAI versions add `act` and `norm` options and call the activation
 * `act`; it has no parameters, so their state dicts are the same.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { type Triple, triple } from "../tensor/ops/conv3d.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { Module } from "../layers/module.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { BatchNorm3d } from "../layers/norm3d.ts";
import { ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool3d, MaxPool3d } from "../layers/pool3d.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { constant_, kaimingNormal_ } from "../layers/init.ts";
import {
  ResNet3dBlock,
  type ResNet3dBlockType,
  ResNet3dBottleneck,
  type ResNet3dShortcut,
  ZeroPadShortcut,
} from "./resnet3d_blocks.ts";
import type { InputSpec } from "./input.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";

/** A 3-D ResNet's table row: MONAI's `block`, `layers` and `block_inplanes`. */
export interface ResNet3dConfig {
  /** Name used in messages ("ResNet3d-18"; default "ResNet3d"). */
  readonly name?: string;
  /** `ResNet3dBlock` or `ResNet3dBottleneck`, or MONAI's "basic" or "bottleneck". */
  readonly block: ResNet3dBlockType | "basic" | "bottleneck";
  /** Blocks in each of the four stages. */
  readonly layers: readonly [number, number, number, number];
  /** Base widths of the four stages (MONAI's `block_inplanes`; default [64, 128, 256, 512]). */
  readonly blockInplanes?: readonly [number, number, number, number];
}

/** MONAI's resnet10: ResNet3dBlock, [1, 1, 1, 1]. */
export const RESNET3D10: ResNet3dConfig = {
  name: "ResNet3d-10",
  block: ResNet3dBlock,
  layers: [1, 1, 1, 1],
};
/** MONAI's resnet18: ResNet3dBlock, [2, 2, 2, 2]. */
export const RESNET3D18: ResNet3dConfig = {
  name: "ResNet3d-18",
  block: ResNet3dBlock,
  layers: [2, 2, 2, 2],
};
/** MONAI's resnet34: ResNet3dBlock, [3, 4, 6, 3]. */
export const RESNET3D34: ResNet3dConfig = {
  name: "ResNet3d-34",
  block: ResNet3dBlock,
  layers: [3, 4, 6, 3],
};
/** MONAI's resnet50: ResNet3dBottleneck, [3, 4, 6, 3]. */
export const RESNET3D50: ResNet3dConfig = {
  name: "ResNet3d-50",
  block: ResNet3dBottleneck,
  layers: [3, 4, 6, 3],
};

/** MONAI's `get_inplanes()`. */
const INPLANES = [64, 128, 256, 512] as const;

/**
 * Options of `ResNet3d` and `resnet3d10/18/34/50`: MONAI's keyword arguments
 * in camelCase, with MONAI 1.3's defaults (`n_input_channels` is `inChannels`,
 * as in the rest of the zoo).
 */
export interface ResNet3dOptions {
  /** Input channels (MONAI's `n_input_channels`, default 3). */
  inChannels?: number;
  /** Output classes of `fc` (default 400). */
  numClasses?: number;
  /** Stem kernel size, one number or [d, h, w] (`conv1_t_size`, default 7); padding is k // 2. */
  conv1TSize?: Triple;
  /** Stem stride, one number or [d, h, w] (`conv1_t_stride`, default 1). */
  conv1TStride?: Triple;
  /** Leave out the stem's max-pool (`no_max_pool`, default false). */
  noMaxPool?: boolean;
  /**
   * The shortcut where a stage changes stride or width (default "B"): "B" a
   * 1x1x1 convolution and BatchNorm3d, "A" the input subsampled and
   * zero-padded along the channels, without parameters or gradient
   * (`ZeroPadShortcut`).
   */
  shortcutType?: "A" | "B";
  /** Multiplies the stage widths, truncated as MONAI's `int(x * widen_factor)` (default 1). */
  widenFactor?: number;
  /** Add the Linear classifier `fc` (default true); false gives the pooled features [N, C]. */
  feedForward?: boolean;
  /** A bias on shortcut "B"'s convolution (`bias_downsample`, default true). */
  biasDownsample?: boolean;
  /** MONAI's `spatial_dims`: only 3 (for images, `models.resnet18` is torchvision's 2-D ResNet). */
  spatialDims?: 3;
}

/** The options and MONAI 1.3's defaults. */
const DEFAULTS: Required<ResNet3dOptions> = {
  inChannels: 3,
  numClasses: 400,
  conv1TSize: 7,
  conv1TStride: 1,
  noMaxPool: false,
  shortcutType: "B",
  widenFactor: 1,
  feedForward: true,
  biasDownsample: true,
  spatialDims: 3,
};

const USAGE = "models.resnet3d18({ inChannels: 1, numClasses: 2 })";

/** MONAI's own keywords that have another form here, and what to write. */
const MONAI_ONLY: Record<string, string> = {
  n_input_channels: "MONAI's n_input_channels is inChannels here; write " + USAGE,
  nInputChannels: "MONAI's n_input_channels is inChannels here; write " + USAGE,
  pretrained: "pretrained weights are not downloaded; load a MONAI or MedicalNet checkpoint " +
    'with model.loadStateDict (MedicalNet\'s: feedForward: false, shortcutType "A" for ' +
    "depths 18 and 34, biasDownsample: false for 10 and 50)",
  block_inplanes: "block_inplanes belongs to the configuration; write new models.ResNet3d(" +
    "{ block: models.ResNet3dBlock, layers: [1, 1, 1, 1], blockInplanes: [32, 64, 128, 256] })",
};

/** Throws unless `v` is a positive integer. */
function positive(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${showValue(v)}`);
  }
  return v as number;
}

/** The block class of a configuration, and its checked stage sizes. */
function checkConfig(config: ResNet3dConfig): {
  block: ResNet3dBlockType;
  layers: number[];
  inplanes: number[];
} {
  const usage = "new models.ResNet3d(models.RESNET3D18, { inChannels: 1, numClasses: 2 })";
  if (config === null || typeof config !== "object") {
    throw new Error(`models.ResNet3d: a configuration is required; write ${usage}`);
  }
  const where = `models.ResNet3d (${config.name ?? "ResNet3d"})`;
  const known = ["name", "block", "layers", "blockInplanes"];
  for (const k of Object.keys(config)) {
    if (!known.includes(k)) {
      throw new Error(`${where}: unknown configuration key '${k}'; it takes ${known.join(", ")}`);
    }
  }
  const { block: b } = config;
  const block = b === "basic" ? ResNet3dBlock : b === "bottleneck" ? ResNet3dBottleneck : b;
  if (block !== ResNet3dBlock && block !== ResNet3dBottleneck) {
    // MONAI: "Unknown block '...', use basic or bottleneck".
    throw new Error(
      `${where}: unknown block ${showValue(b)}; use "basic", "bottleneck", ` +
        "models.ResNet3dBlock or models.ResNet3dBottleneck",
    );
  }
  const four = (name: string, v: unknown): number[] => {
    if (!Array.isArray(v) || v.length !== 4) {
      throw new Error(`${where}: ${name} must be 4 positive integers, got ${showValue(v)}`);
    }
    return v.map((n, i) => positive(where, `${name}[${i}]`, n));
  };
  return {
    block,
    layers: four("layers", config.layers),
    inplanes: four("blockInplanes", config.blockInplanes ?? INPLANES),
  };
}

/**
 * A 3-D ResNet as MONAI 1.3 builds it: stem (`conv1TSize` convolution with
 * padding k // 2 and stride `conv1TStride`, BatchNorm3d, ReLU, then a 3x3x3
 * stride-2 max-pool unless `noMaxPool`), four stages (stride 1, 2, 2, 2) of
 * `config.block`, AdaptiveAvgPool3d(1), flatten and, with `feedForward`,
 * Linear. Initialised as MONAI: convolutions kaiming-normal (fan_out, ReLU
 * gain), batch norm weight 1 and bias 0, Linear bias 0 (its weight and the
 * shortcut convolution's bias keep PyTorch's defaults). `maxpool` is there
 * with `noMaxPool` too, unused, as in MONAI.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = new models.ResNet3d(models.RESNET3D10, { inChannels: 1, numClasses: 2, widenFactor: 0.25 });
 * console.log(net.eval().forward(zeros([1, 1, 8, 16, 16])).shape); // [1, 2]
 * ```
 */
export class ResNet3d extends Module {
  /** Stem convolution (7x7x7, stride 1 by default), no bias. */
  conv1: Conv3d;
  /** Stem batch norm. */
  bn1: BatchNorm3d;
  /** Shared stem activation. */
  relu: ReLU;
  /** Stem max-pool 3x3x3, stride 2, padding 1 (skipped with `noMaxPool`). */
  maxpool: MaxPool3d;
  /** Stage 1 (width blockInplanes[0] * widenFactor). */
  layer1: Sequential;
  /** Stage 2 (stride 2). */
  layer2: Sequential;
  /** Stage 3 (stride 2). */
  layer3: Sequential;
  /** Stage 4 (stride 2). */
  layer4: Sequential;
  /** Global average pool to [N, C, 1, 1, 1]. */
  avgpool: AdaptiveAvgPool3d;
  /** Classifier, or null with `feedForward: false`. */
  fc: Linear | null;
  /** The options the model was built with, defaults filled in. */
  readonly options: Required<ResNet3dOptions>;
  /** The block class of the stages. */
  readonly block: ResNet3dBlockType;

  constructor(readonly config: ResNet3dConfig, options: ResNet3dOptions = {}) {
    super();
    checkArity("models.ResNet3d", arguments.length, 2, USAGE);
    const { block, layers, inplanes } = checkConfig(config);
    const where = `models.ResNet3d (${config.name ?? "ResNet3d"})`;
    if (options !== null && typeof options === "object") {
      for (const k of Object.keys(options)) {
        if (Object.hasOwn(MONAI_ONLY, k)) throw new Error(`${where}: ${MONAI_ONLY[k]}`);
      }
    }
    const o = modelOptions(where, options, DEFAULTS, USAGE);
    positive(where, "inChannels", o.inChannels);
    positive(where, "numClasses", o.numClasses);
    const kernel = triple(o.conv1TSize, `${where}: conv1TSize`, 1);
    const stride = triple(o.conv1TStride, `${where}: conv1TStride`, 1);
    if (o.shortcutType !== "A" && o.shortcutType !== "B") {
      throw new Error(
        `${where}: shortcutType must be "A" or "B", got ${showValue(o.shortcutType)}`,
      );
    }
    if (o.spatialDims !== 3) {
      throw new Error(
        `${where}: spatialDims must be 3 (volumes [N, C, D, H, W]), got ` +
          `${showValue(o.spatialDims)}; for 2-D images use models.resnet18 (torchvision's ResNet)`,
      );
    }
    if (typeof o.widenFactor !== "number" || !(o.widenFactor > 0 && isFinite(o.widenFactor))) {
      throw new Error(
        `${where}: widenFactor must be a positive number, got ${showValue(o.widenFactor)}`,
      );
    }
    const widths = inplanes.map((x) => Math.trunc(x * o.widenFactor));
    const zero = widths.findIndex((w) => w < 1);
    if (zero >= 0) {
      throw new Error(
        `${where}: widenFactor ${o.widenFactor} leaves stage ${zero + 1} without channels ` +
          `(int(${inplanes[zero]} * ${o.widenFactor}) = 0)`,
      );
    }
    this.options = o;
    this.block = block;
    this.conv1 = new Conv3d(o.inChannels, widths[0], kernel, {
      stride,
      padding: kernel.map((k) => Math.floor(k / 2)) as [number, number, number],
      bias: false,
    });
    this.bn1 = new BatchNorm3d(widths[0]);
    this.relu = new ReLU();
    this.maxpool = new MaxPool3d(3, { stride: 2, padding: 1 });
    let inPlanes = widths[0];
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const out = planes * block.expansion;
      let shortcut: ResNet3dShortcut = null;
      if (stride !== 1 || inPlanes !== out) {
        shortcut = o.shortcutType === "A" ? new ZeroPadShortcut(out, stride) : new Sequential(
          new Conv3d(inPlanes, out, 1, { stride, bias: o.biasDownsample }),
          new BatchNorm3d(out),
        );
      }
      const list = [new block(inPlanes, planes, stride, shortcut)];
      inPlanes = out;
      for (let i = 1; i < blocks; i++) list.push(new block(inPlanes, planes));
      return new Sequential(...list);
    };
    this.layer1 = stage(widths[0], layers[0], 1);
    this.layer2 = stage(widths[1], layers[1], 2);
    this.layer3 = stage(widths[2], layers[2], 2);
    this.layer4 = stage(widths[3], layers[3], 2);
    this.avgpool = new AdaptiveAvgPool3d(1);
    this.fc = o.feedForward ? new Linear(widths[3] * block.expansion, o.numClasses) : null;
    for (const m of this.modules()) {
      if (m instanceof Conv3d) kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
      else if (m instanceof BatchNorm3d && m.weight && m.bias) {
        constant_(m.weight, 1);
        constant_(m.bias, 0);
      } else if (m instanceof Linear && m.bias) constant_(m.bias, 0);
    }
  }

  /**
   * What `forward` accepts, read from `conv1` as it is now (a replaced stem
   * sets the channels); `checkVolume` prints it as [N, C, D, H, W].
   */
  get inputSpec(): InputSpec {
    const c = this.conv1;
    return {
      model: this.config.name ?? "ResNet3d",
      layer: `conv1 (${c instanceof Module ? c.constructor.name : typeof c})`,
      channels: c instanceof Conv3d ? c.inChannels : undefined,
    };
  }

  /** x [N, inChannels, D, H, W] -> logits [N, numClasses] (features [N, C] without `fc`). */
  forward(x: Tensor): Tensor {
    checkVolume(x.shape, this.inputSpec);
    const stages = [this.layer1, this.layer2, this.layer3, this.layer4];
    // Inside noGrad, chain frees each stage's tensors once the next has used them.
    return chain(x, [
      (t) => {
        const y = this.relu.forward(this.bn1.forward(this.conv1.forward(t)));
        return this.options.noMaxPool ? y : this.maxpool.forward(y);
      },
      ...stages.map((s) => (t: Tensor) => s.forward(t)),
      (t) => {
        const features = flatten(this.avgpool.forward(t), 1);
        return this.fc ? this.fc.forward(features) : features;
      },
    ]);
  }
}

/**
 * @internal throws an Error naming the model, its first layer and the
 * shape it expects ([N, C, D, H, W]) unless `shape` fits; the batch may be
 * symbolic (ONNX export checks its input shape with it).
 */
export function checkVolume(shape: readonly (number | string)[], spec: InputSpec): void {
  const c = spec.channels;
  if (shape.length === 5 && (c === undefined || shape[1] === c)) return;
  const hint = shape.length === 4 ? "; for one volume write x.unsqueeze(0)" : "";
  throw new Error(
    `${spec.model}: input [${shape}] does not fit ${spec.layer}: expected ` +
      `[N, ${c ?? "C"}, D, H, W]${hint}`,
  );
}

/** The body of the builders: `given` is their `arguments.length`. */
function build(
  name: string,
  config: ResNet3dConfig,
  given: number,
  options: ResNet3dOptions,
): ResNet3d {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 2 })`);
  return new ResNet3d(config, options);
}

/**
 * MONAI's `resnet10(spatial_dims=3, ...)`: ResNet3dBlock, [1, 1, 1, 1]
 * (14,357,442 parameters for 1 channel and 2 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.resnet3d10({ inChannels: 1, numClasses: 2 }).numParameters()); // 14357442
 * ```
 */
export function resnet3d10(options: ResNet3dOptions = {}): ResNet3d {
  return build("resnet3d10", RESNET3D10, arguments.length, options);
}

/**
 * MONAI's `resnet18(spatial_dims=3, ...)`: ResNet3dBlock, [2, 2, 2, 2]
 * (33,161,922 parameters for 1 channel and 2 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.resnet3d18({ inChannels: 1, numClasses: 2 });
 * console.log(net.numParameters(), net.stateDict().has("layer2.0.downsample.0.bias")); // 33161922 true
 * ```
 */
export function resnet3d18(options: ResNet3dOptions = {}): ResNet3d {
  return build("resnet3d18", RESNET3D18, arguments.length, options);
}

/**
 * MONAI's `resnet34(spatial_dims=3, ...)`: ResNet3dBlock, [3, 4, 6, 3].
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.resnet3d34({ numClasses: 3 }).fc!.outFeatures); // 3
 * ```
 */
export function resnet3d34(options: ResNet3dOptions = {}): ResNet3d {
  return build("resnet3d34", RESNET3D34, arguments.length, options);
}

/**
 * MONAI's `resnet50(spatial_dims=3, ...)`: ResNet3dBottleneck, [3, 4, 6, 3].
 * MedicalNet's checkpoint layout is `{ inChannels: 1, feedForward: false,
 * biasDownsample: false }`.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.resnet3d50({ inChannels: 1, feedForward: false, biasDownsample: false });
 * console.log(net.fc, net.stateDict().has("layer1.0.downsample.0.bias")); // null false
 * ```
 */
export function resnet3d50(options: ResNet3dOptions = {}): ResNet3d {
  return build("resnet3d50", RESNET3D50, arguments.length, options);
}
