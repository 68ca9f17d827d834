/**
 * MobileNetV3: Howard et al., "Searching for MobileNetV3", ICCV 2019,
 * Tables 1 (Large) and 2 (Small), as torchvision 0.14 builds them.
 * State-dict names are torchvision's: `features.0.0.weight` (stem),
 * `features.4.block.2.fc1.weight` (a block's squeeze-and-excitation),
 * `features.16.1.running_var` (the last 1x1 convolution's batch norm),
 * `classifier.0.weight`, `classifier.3.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Dropout, ReLU } from "../layers/basic.ts";
import { Hardsigmoid, Hardswish } from "../layers/activation_hard.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { normal_ } from "../layers/init.ts";
import { checkArity, checkOptions } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { isPlain } from "./plain.ts";
import {
  checkCount,
  checkProbability,
  Conv2dNormActivation,
  convNormAct,
  fusesConvNormAct,
  initMobile,
  makeDivisible,
  type NormLayer,
  SqueezeExcitation,
} from "./mobile_blocks.ts";

/** One bottleneck of Table 1 or 2, after the width multiplier (torchvision's `InvertedResidualConfig`). */
export interface MobileNetV3BlockConfig {
  /** Input channels. */
  readonly inputChannels: number;
  /** Depthwise kernel size. */
  readonly kernel: number;
  /** Channels after the 1x1 expansion ("exp size"). */
  readonly expandedChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** Whether the block has squeeze-and-excitation ("SE"). */
  readonly useSe: boolean;
  /** Hardswish ("HS") rather than ReLU ("RE"). */
  readonly useHs: boolean;
  /** Stride of the depthwise convolution (1 where it is dilated). */
  readonly stride: number;
  /** Dilation of the depthwise convolution. */
  readonly dilation: number;
}

/** The two members, as torchvision's `arch`. */
export type MobileNetV3Arch = "mobilenet_v3_large" | "mobilenet_v3_small";

/** Options of `mobilenetV3Setting` (torchvision's `_mobilenet_v3_conf` keywords). */
export interface MobileNetV3SettingOptions {
  /** Channel multiplier (default 1). */
  widthMult?: number;
  /** Halve the last stage's and the classifier's channels (default false). */
  reducedTail?: boolean;
  /** Dilation 2 in the last stage instead of its stride (default false). */
  dilated?: boolean;
}

/** A row before the width multiplier: input, kernel, expanded, out, SE, activation, stride, dilation. */
type Row = [number, number, number, number, boolean, "RE" | "HS", number, number];

/**
 * The bottlenecks of `arch` and the classifier's hidden width, as
 * torchvision's `_mobilenet_v3_conf(arch, width_mult, reduced_tail,
 * dilated)`: every channel count times `widthMult` rounded to a multiple of
 * 8; `reducedTail` halves the channels of the last stage (C4) and the
 * classifier's width, `dilated` gives the last stage dilation 2.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const { blocks, lastChannel } = models.mobilenetV3Setting("mobilenet_v3_small");
 * console.log(blocks.length, blocks[0].outChannels, lastChannel); // 11 16 1024
 * ```
 */
export function mobilenetV3Setting(
  arch: MobileNetV3Arch,
  options: MobileNetV3SettingOptions = {},
): { blocks: MobileNetV3BlockConfig[]; lastChannel: number } {
  const usage = 'models.mobilenetV3Setting("mobilenet_v3_large", { widthMult: 0.75 })';
  checkArity("models.mobilenetV3Setting", arguments.length, 2, usage);
  const { widthMult = 1, reducedTail = false, dilated = false } = checkOptions<
    MobileNetV3SettingOptions
  >("models.mobilenetV3Setting", options, ["widthMult", "reducedTail", "dilated"], usage);
  if (typeof widthMult !== "number" || !(Number.isFinite(widthMult) && widthMult > 0)) {
    throw new Error(
      `models.mobilenetV3Setting: widthMult must be a number > 0, got ${widthMult}; write ${usage}`,
    );
  }
  const r = reducedTail ? 2 : 1, d = dilated ? 2 : 1;
  const t = (c: number) => Math.floor(c / r); // Python's `c // reduce_divider`
  let rows: Row[], last: number;
  if (arch === "mobilenet_v3_large") {
    rows = [
      [16, 3, 16, 16, false, "RE", 1, 1],
      [16, 3, 64, 24, false, "RE", 2, 1], // C1
      [24, 3, 72, 24, false, "RE", 1, 1],
      [24, 5, 72, 40, true, "RE", 2, 1], // C2
      [40, 5, 120, 40, true, "RE", 1, 1],
      [40, 5, 120, 40, true, "RE", 1, 1],
      [40, 3, 240, 80, false, "HS", 2, 1], // C3
      [80, 3, 200, 80, false, "HS", 1, 1],
      [80, 3, 184, 80, false, "HS", 1, 1],
      [80, 3, 184, 80, false, "HS", 1, 1],
      [80, 3, 480, 112, true, "HS", 1, 1],
      [112, 3, 672, 112, true, "HS", 1, 1],
      [112, 5, 672, t(160), true, "HS", 2, d], // C4
      [t(160), 5, t(960), t(160), true, "HS", 1, d],
      [t(160), 5, t(960), t(160), true, "HS", 1, d],
    ];
    last = t(1280); // C5
  } else if (arch === "mobilenet_v3_small") {
    rows = [
      [16, 3, 16, 16, true, "RE", 2, 1], // C1
      [16, 3, 72, 24, false, "RE", 2, 1], // C2
      [24, 3, 88, 24, false, "RE", 1, 1],
      [24, 5, 96, 40, true, "HS", 2, 1], // C3
      [40, 5, 240, 40, true, "HS", 1, 1],
      [40, 5, 240, 40, true, "HS", 1, 1],
      [40, 5, 120, 48, true, "HS", 1, 1],
      [48, 5, 144, 48, true, "HS", 1, 1],
      [48, 5, 288, t(96), true, "HS", 2, d], // C4
      [t(96), 5, t(576), t(96), true, "HS", 1, d],
      [t(96), 5, t(576), t(96), true, "HS", 1, d],
    ];
    last = t(1024); // C5
  } else {
    throw new Error(
      `models.mobilenetV3Setting: arch must be "mobilenet_v3_large" or "mobilenet_v3_small", ` +
        `got ${JSON.stringify(arch)}`,
    );
  }
  const width = (c: number) => makeDivisible(c * widthMult, 8);
  const blocks = rows.map(([input, kernel, expanded, out, useSe, act, stride, dilation]) => ({
    inputChannels: width(input),
    kernel,
    expandedChannels: width(expanded),
    outChannels: width(out),
    useSe,
    useHs: act === "HS",
    stride,
    dilation,
  }));
  return { blocks, lastChannel: width(last) };
}

/** torchvision's MobileNetV3 batch norm: `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`. */
const batchNorm: NormLayer = (c) => new BatchNorm2d(c, { eps: 0.001, momentum: 0.01 });
const hardswish = () => new Hardswish(true);
const relu = () => new ReLU(true);

/**
 * MobileNetV3's bottleneck (section 5 of the paper), torchvision's
 * `mobilenetv3.InvertedResidual`: 1x1 expansion (left out when it would
 * keep the channels), depthwise convolution (dilated instead of strided
 * where the configuration dilates), squeeze-and-excitation with a hard
 * sigmoid gate squeezing to `makeDivisible(expanded / 4, 8)` channels
 * (where the row has SE), 1x1 projection without activation; ReLU or
 * Hardswish as the row says; the input is added back when the stride is 1
 * and the channels stay. Batch norm: eps 0.001, momentum 0.01.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const cnf = models.mobilenetV3Setting("mobilenet_v3_large").blocks[4];
 * const block = new models.InvertedResidualV3(cnf);
 * console.log(block.useResConnect, [...block.block].length); // true 4
 * console.log(block.eval()(randn([1, 40, 8, 8])).shape); // [1, 40, 8, 8]
 * ```
 */
export class InvertedResidualV3 extends Module {
  /** Expansion, depthwise, squeeze-and-excitation and projection. */
  block: Sequential;
  /** Whether forward adds the input (stride 1, same channels). */
  readonly useResConnect: boolean;
  /** Output channels. */
  readonly outChannels: number;

  constructor(cnf: MobileNetV3BlockConfig, normLayer: NormLayer = batchNorm) {
    super();
    const usage =
      'new models.InvertedResidualV3(models.mobilenetV3Setting("mobilenet_v3_large").blocks[3])';
    checkArity("models.InvertedResidualV3", arguments.length, 2, usage);
    if (cnf.stride !== 1 && cnf.stride !== 2) {
      throw new Error(`models.InvertedResidualV3: stride must be 1 or 2, got ${cnf.stride}`);
    }
    const { inputChannels: input, expandedChannels: expanded, outChannels: out } = cnf;
    this.useResConnect = cnf.stride === 1 && input === out;
    const activationLayer = cnf.useHs ? hardswish : relu;
    const layers: Module[] = [];
    if (expanded !== input) {
      layers.push(
        new Conv2dNormActivation(input, expanded, { kernelSize: 1, normLayer, activationLayer }),
      );
    }
    layers.push(
      new Conv2dNormActivation(expanded, expanded, {
        kernelSize: cnf.kernel,
        stride: cnf.dilation > 1 ? 1 : cnf.stride,
        dilation: cnf.dilation,
        groups: expanded,
        normLayer,
        activationLayer,
      }),
    );
    if (cnf.useSe) {
      const squeeze = makeDivisible(Math.floor(expanded / 4), 8);
      layers.push(
        new SqueezeExcitation(expanded, squeeze, { scaleActivation: () => new Hardsigmoid() }),
      );
    }
    layers.push(
      new Conv2dNormActivation(expanded, out, { kernelSize: 1, normLayer, activationLayer: null }),
    );
    this.block = new Sequential(...layers);
    this.outChannels = out;
  }

  /**
   * block(x), plus x where the shapes allow the residual. In evaluation
   * without gradients the projection, its batch norm and the residual add
   * run as one kernel (`convNormAct`), as MBConv's; the hard-sigmoid
   * squeeze-and-excitation runs as its modules.
   */
  forward(x: Tensor): Tensor {
    const layers = [...this.block], last = layers.at(-1)!;
    if (
      this.useResConnect && isPlain(this.block, Sequential) &&
      isPlain(last, Conv2dNormActivation) && fusesConvNormAct([...(last as Sequential)])
    ) {
      const hidden = chain(x, layers.slice(0, -1).map((m) => (t: Tensor) => m(t)));
      return convNormAct([...(last as Sequential)], hidden, x) ?? last(hidden).add(x);
    }
    const out = this.block(x);
    return this.useResConnect ? out.add(x) : out;
  }
}

/** Options of `MobileNetV3`, `mobilenetV3Large` and `mobilenetV3Small` (torchvision's keyword arguments). */
export interface MobileNetV3Options {
  /** Input channels of the stem convolution (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Width multiplier: every layer's channels times this, rounded to a multiple of 8 (default 1). */
  widthMult?: number;
  /** Halve the channels of the last stage and of the classifier (torchvision's `reduced_tail`, default false). */
  reducedTail?: boolean;
  /** Dilate the last stage instead of striding it (torchvision's `dilated`, default false). */
  dilated?: boolean;
  /** Dropout between the classifier's two Linear layers (default 0.2). */
  dropout?: number;
}

const DEFAULTS: Required<MobileNetV3Options> = {
  inChannels: 3,
  numClasses: 1000,
  widthMult: 1,
  reducedTail: false,
  dilated: false,
  dropout: 0.2,
};

const NAMES: Record<MobileNetV3Arch, string> = {
  mobilenet_v3_large: "MobileNetV3-Large",
  mobilenet_v3_small: "MobileNetV3-Small",
};

/**
 * MobileNetV3 as torchvision builds it: stem (3x3 stride-2 convolution,
 * batch norm, Hardswish), the bottlenecks of Table 1 or 2, a 1x1
 * convolution to six times the last one's channels (Hardswish), global
 * average pool, and the classifier Linear, Hardswish, Dropout, Linear.
 * Batch norm eps 0.001 and momentum 0.01. Initialised as torchvision:
 * convolutions kaiming-normal (fan_out) with zero bias, batch norm weight
 * 1 and bias 0, Linear weight N(0, 0.01) and bias 0.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = new models.MobileNetV3("mobilenet_v3_small", { inChannels: 1, numClasses: 3, widthMult: 0.5 });
 * console.log(net.eval()(zeros([1, 1, 32, 32])).shape); // [1, 3]
 * ```
 */
export class MobileNetV3 extends Module {
  /** Stem, bottlenecks and the last 1x1 convolution. */
  features: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Linear, Hardswish, Dropout, Linear(lastChannel, numClasses). */
  classifier: Sequential;
  /** The classifier's hidden width (1280 for Large, 1024 for Small, before the multiplier). */
  readonly lastChannel: number;
  /**
   * The options the model was built with. A layer replaced later (the stem,
   * the classifier) is not reflected here: read the layer itself, as
   * `inputSpec` does.
   */
  readonly options: Required<MobileNetV3Options>;

  constructor(readonly arch: MobileNetV3Arch, options: MobileNetV3Options = {}) {
    super();
    const usage = "models.mobilenetV3Large({ inChannels: 1, numClasses: 3, dropout: 0.2 })";
    checkArity("models.MobileNetV3", arguments.length, 2, usage);
    if (!Object.hasOwn(NAMES, arch)) {
      throw new Error(
        `models.MobileNetV3: arch must be "mobilenet_v3_large" or "mobilenet_v3_small", ` +
          `got ${JSON.stringify(arch)}; write ${usage}`,
      );
    }
    const where = `models.MobileNetV3 (${NAMES[arch]})`;
    const o = modelOptions(where, options, DEFAULTS, usage);
    checkCount(where, "inChannels", o.inChannels, usage);
    checkCount(where, "numClasses", o.numClasses, usage);
    checkProbability(where, "dropout", o.dropout, usage);
    this.options = o;
    const { blocks, lastChannel } = mobilenetV3Setting(arch, {
      widthMult: o.widthMult,
      reducedTail: o.reducedTail,
      dilated: o.dilated,
    });
    this.lastChannel = lastChannel;
    const lastConv = 6 * blocks[blocks.length - 1].outChannels;
    this.features = new Sequential(
      new Conv2dNormActivation(o.inChannels, blocks[0].inputChannels, {
        stride: 2,
        normLayer: batchNorm,
        activationLayer: hardswish,
      }),
      ...blocks.map((cnf) => new InvertedResidualV3(cnf)),
      new Conv2dNormActivation(blocks[blocks.length - 1].outChannels, lastConv, {
        kernelSize: 1,
        normLayer: batchNorm,
        activationLayer: hardswish,
      }),
    );
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.classifier = new Sequential(
      new Linear(lastConv, lastChannel),
      new Hardswish(true),
      new Dropout(o.dropout, true),
      new Linear(lastChannel, o.numClasses),
    );
    initMobile(this, (w) => normal_(w, 0, 0.01));
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `features.0` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    return { model: NAMES[this.arch], ...firstLayer("features.0", this.features[0]) };
  }

  /** x [N, inChannels, H, W] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    return chain(x, [
      (t) => this.features(t),
      (t) => this.classifier(flatten(this.avgpool(t), 1)),
    ]);
  }
}

/**
 * torchvision's `mobilenet_v3_large` (5,483,032 parameters with the
 * defaults, 4,205,587 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.mobilenetV3Large().numParameters()); // 5483032
 * console.log(models.mobilenetV3Large({ inChannels: 1, numClasses: 3 }).numParameters()); // 4205587
 * ```
 */
export function mobilenetV3Large(options: MobileNetV3Options = {}): MobileNetV3 {
  const usage = "models.mobilenetV3Large({ inChannels: 1, numClasses: 3 })";
  checkArity("models.mobilenetV3Large", arguments.length, 1, usage);
  return new MobileNetV3("mobilenet_v3_large", options);
}

/**
 * torchvision's `mobilenet_v3_small` (2,542,856 parameters with the
 * defaults, 1,520,643 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.mobilenetV3Small().numParameters()); // 2542856
 * console.log(models.mobilenetV3Small({ inChannels: 1, numClasses: 3 }).numParameters()); // 1520643
 * ```
 */
export function mobilenetV3Small(options: MobileNetV3Options = {}): MobileNetV3 {
  const usage = "models.mobilenetV3Small({ inChannels: 1, numClasses: 3 })";
  checkArity("models.mobilenetV3Small", arguments.length, 1, usage);
  return new MobileNetV3("mobilenet_v3_small", options);
}
