/**
 * EfficientNet: Tan & Le, "EfficientNet: Rethinking Model Scaling for
 * Convolutional Neural Networks", ICML 2019, Table 1 (B0), as torchvision
 * 0.14 builds it, with its width and depth multipliers for the other
 * members of the family. State-dict names are torchvision's:
 * `features.0.0.weight` (stem), `features.1.0.block.0.0.weight` (the first
 * MBConv's depthwise convolution), `features.1.0.block.1.fc1.weight`
 * (squeeze-and-excitation), `features.8.1.running_var`, `classifier.1.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Dropout } from "../layers/basic.ts";
import { SiLU } from "../layers/activation_hard.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { StochasticDepth } from "../layers/stochastic_depth.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { chain } from "../layers/chain.ts";
import { uniform_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
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
import { squeezeBlockEval } from "./squeeze_fused.ts";
import { FusedMBConv } from "./fused_mbconv.ts";

/** One stage of MBConv blocks (a row of Table 1, after the multipliers). */
export interface MBConvConfig {
  /** Expansion factor of the first 1x1 convolution (1: none). */
  readonly expandRatio: number;
  /** Depthwise kernel size (3 or 5). */
  readonly kernel: number;
  /** Stride of the stage's first block. */
  readonly stride: number;
  /** Input channels of the stage's first block. */
  readonly inputChannels: number;
  /** Output channels of every block of the stage. */
  readonly outChannels: number;
  /** Blocks in the stage. */
  readonly numLayers: number;
  /** The stage's block: "MBConv" (default) or EfficientNetV2's "FusedMBConv". */
  readonly block?: "MBConv" | "FusedMBConv";
}

/**
 * Table 1 (EfficientNet-B0), one row per stage 2-8: expansion, kernel,
 * stride, input channels, output channels, layers.
 */
export const EFFICIENTNET_B_STAGES: readonly (readonly [
  number,
  number,
  number,
  number,
  number,
  number,
])[] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

/** A member of the EfficientNet-B family: its compound-scaling multipliers and dropout. */
export interface EfficientNetConfig {
  /** Name used in messages ("EfficientNet-B0"). */
  readonly name: string;
  /** Channel multiplier. */
  readonly widthMult: number;
  /** Depth (blocks per stage) multiplier. */
  readonly depthMult: number;
  /** Dropout before the classifier's Linear. */
  readonly dropout: number;
  /** Every batch norm's eps (default PyTorch's 1e-5; torchvision's B5-B7 pass 1e-3). */
  readonly normEps?: number;
  /** Every batch norm's momentum (default PyTorch's 0.1; torchvision's B5-B7 pass 0.01). */
  readonly normMomentum?: number;
  /**
   * The stages as given (EfficientNetV2's Table 4), in place of Table 1
   * scaled by `widthMult` and `depthMult`, which must then be 1.
   */
  readonly stages?: readonly MBConvConfig[];
  /** Output channels of the last 1x1 convolution (default 4 x the last stage's; V2: 1280). */
  readonly lastChannel?: number;
}

/** torchvision's `efficientnet_b0`: width 1, depth 1, dropout 0.2. */
export const EFFICIENTNET_B0: EfficientNetConfig = {
  name: "EfficientNet-B0",
  widthMult: 1,
  depthMult: 1,
  dropout: 0.2,
};

/**
 * The stages of an EfficientNet-B model with these multipliers, as
 * torchvision's `_efficientnet_conf("efficientnet_b*", ...)`: channels times
 * `widthMult` rounded to a multiple of 8 (`makeDivisible`), layers times
 * `depthMult` rounded up.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const stages = models.efficientnetStages(0.25, 0.5);
 * console.log(stages.map((s) => s.outChannels)); // [8, 8, 16, 24, 32, 48, 80]
 * console.log(stages.map((s) => s.numLayers)); // [1, 1, 1, 2, 2, 2, 1]
 * ```
 */
export function efficientnetStages(widthMult: number, depthMult: number): MBConvConfig[] {
  const usage = "models.efficientnetStages(1.0, 1.0)";
  checkArity("models.efficientnetStages", arguments.length, 2, usage);
  for (const [name, v] of [["widthMult", widthMult], ["depthMult", depthMult]] as const) {
    if (typeof v !== "number" || !(Number.isFinite(v) && v > 0)) {
      throw new Error(`models.efficientnetStages: ${name} must be a number > 0, got ${v}`);
    }
  }
  const width = (c: number) => makeDivisible(c * widthMult, 8);
  return EFFICIENTNET_B_STAGES.map(([expandRatio, kernel, stride, input, out, layers]) => ({
    expandRatio,
    kernel,
    stride,
    inputChannels: width(input),
    outChannels: width(out),
    numLayers: Math.ceil(layers * depthMult),
  }));
}

const silu = () => new SiLU(true);
const batchNorm: NormLayer = (c) => new BatchNorm2d(c);

/**
 * The batch norm of a configuration: torchvision's `partial(nn.BatchNorm2d,
 * eps=..., momentum=...)` where the builder passes one (B5-B7), else PyTorch's.
 */
function normOf(where: string, config: EfficientNetConfig): NormLayer {
  const eps = config.normEps ?? 1e-5, momentum = config.normMomentum ?? 0.1;
  if (!(typeof eps === "number" && eps > 0 && Number.isFinite(eps))) {
    throw new Error(`${where}: config.normEps must be a number > 0, got ${eps}`);
  }
  if (!(typeof momentum === "number" && momentum >= 0 && momentum <= 1)) {
    throw new Error(`${where}: config.normMomentum must be a number in [0, 1], got ${momentum}`);
  }
  if (eps === 1e-5 && momentum === 0.1) return batchNorm;
  return (c) => new BatchNorm2d(c, { eps, momentum });
}

/**
 * The stages of a configuration: its own `stages` (checked), else Table 1
 * scaled by its multipliers.
 */
function stagesOf(where: string, config: EfficientNetConfig): readonly MBConvConfig[] {
  if (config.stages === undefined) return efficientnetStages(config.widthMult, config.depthMult);
  const stages = config.stages;
  if (!Array.isArray(stages) || stages.length === 0) {
    throw new Error(`${where}: config.stages must be a non-empty array of stage configurations`);
  }
  if (config.widthMult !== 1 || config.depthMult !== 1) {
    throw new Error(
      `${where}: config.stages are used as given, so widthMult and depthMult must be 1, got ` +
        `${config.widthMult} and ${config.depthMult}; scale the stages' channels and layers instead`,
    );
  }
  const usage = "{ expandRatio: 4, kernel: 3, stride: 2, inputChannels: 24, outChannels: 48, " +
    'numLayers: 4, block: "FusedMBConv" }';
  stages.forEach((s, i) => {
    for (const k of ["kernel", "inputChannels", "outChannels", "numLayers"] as const) {
      checkCount(where, `config.stages[${i}].${k}`, s[k], usage);
    }
    if (typeof s.expandRatio !== "number" || !(s.expandRatio > 0)) {
      throw new Error(
        `${where}: config.stages[${i}].expandRatio must be a number > 0, got ${s.expandRatio}`,
      );
    }
    if (s.block !== undefined && s.block !== "MBConv" && s.block !== "FusedMBConv") {
      throw new Error(
        `${where}: config.stages[${i}].block must be "MBConv" or "FusedMBConv", got ` +
          JSON.stringify(s.block),
      );
    }
  });
  return stages;
}

/**
 * The mobile inverted bottleneck of EfficientNet as torchvision's `MBConv`:
 * 1x1 expansion (left out when it would keep the channels), depthwise
 * convolution, squeeze-and-excitation (squeezing to a quarter of the input
 * channels), 1x1 projection without activation, all with SiLU; when the
 * stride is 1 and the channels stay, the branch goes through stochastic
 * depth (per sample, in training) and the input is added back.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const cnf = { expandRatio: 6, kernel: 3, stride: 1, inputChannels: 16, outChannels: 16, numLayers: 1 };
 * const block = new models.MBConv(cnf, 0.1);
 * console.log(block.useResConnect, block.stochastic_depth.p); // true 0.1
 * console.log(block.eval()(randn([2, 16, 8, 8])).shape); // [2, 16, 8, 8]
 * ```
 */
export class MBConv extends Module {
  /** Expansion, depthwise, squeeze-and-excitation and projection. */
  block: Sequential;
  /** Drops the branch per sample in training (torchvision's name). */
  stochastic_depth: StochasticDepth;
  /** Whether forward adds the input (stride 1, same channels). */
  readonly useResConnect: boolean;
  /** Output channels. */
  readonly outChannels: number;

  constructor(cnf: MBConvConfig, stochasticDepthProb: number, normLayer: NormLayer = batchNorm) {
    super();
    const usage = "new models.MBConv(models.efficientnetStages(1, 1)[1], 0.1)";
    checkArity("models.MBConv", arguments.length, 3, usage);
    if (cnf.stride !== 1 && cnf.stride !== 2) {
      throw new Error(`models.MBConv: stride must be 1 or 2, got ${cnf.stride}`);
    }
    checkProbability("models.MBConv", "stochasticDepthProb", stochasticDepthProb, usage);
    const { inputChannels: input, outChannels: out } = cnf;
    this.useResConnect = cnf.stride === 1 && input === out;
    const expanded = makeDivisible(input * cnf.expandRatio, 8);
    const layers: Module[] = [];
    if (expanded !== input) {
      layers.push(
        new Conv2dNormActivation(input, expanded, {
          kernelSize: 1,
          normLayer,
          activationLayer: silu,
        }),
      );
    }
    layers.push(
      new Conv2dNormActivation(expanded, expanded, {
        kernelSize: cnf.kernel,
        stride: cnf.stride,
        groups: expanded,
        normLayer,
        activationLayer: silu,
      }),
      new SqueezeExcitation(expanded, Math.max(1, Math.floor(input / 4)), { activation: silu }),
      new Conv2dNormActivation(expanded, out, { kernelSize: 1, normLayer, activationLayer: null }),
    );
    this.block = new Sequential(...layers);
    this.stochastic_depth = new StochasticDepth(stochasticDepthProb, "row");
    this.outChannels = out;
  }

  /**
   * block(x), plus x through stochastic depth where the shapes allow the
   * residual. In evaluation without gradients, the projection, its batch
   * norm and the residual add run as one kernel (`convNormAct`; stochastic
   * depth is the identity there), with the same bits; and the
   * squeeze-and-excitation is folded into the convolutions around it
   * (`squeezeBlockEval`: its pool into the depthwise one, its scale into the
   * projection), within a few ulps of the modules.
   */
  forward(x: Tensor): Tensor {
    const layers = [...this.block], last = layers.at(-1)!;
    const residual = this.useResConnect && isPlain(this.stochastic_depth, StochasticDepth) &&
        !this.stochastic_depth.training
      ? x
      : null;
    if (isPlain(this.block, Sequential) && (residual !== null || !this.useResConnect)) {
      const out = squeezeBlockEval(layers, x, residual);
      if (out !== null) return out;
    }
    if (
      this.useResConnect && isPlain(this.block, Sequential) &&
      isPlain(this.stochastic_depth, StochasticDepth) && !this.stochastic_depth.training &&
      isPlain(last, Conv2dNormActivation) && fusesConvNormAct([...(last as Sequential)])
    ) {
      const hidden = chain(x, layers.slice(0, -1).map((m) => (t: Tensor) => m(t)));
      return convNormAct([...(last as Sequential)], hidden, x) ??
        this.stochastic_depth(last(hidden)).add(x);
    }
    const out = this.block(x);
    return this.useResConnect ? this.stochastic_depth(out).add(x) : out;
  }
}

/** Options of `efficientnetB0` and `EfficientNet`. */
export interface EfficientNetOptions {
  /** Input channels of the stem convolution (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Dropout before the classifier's Linear (default the configuration's: 0.2 for B0). */
  dropout?: number;
  /**
   * Stochastic depth of the last block; block i of the n drops its branch
   * with probability stochasticDepthProb * i / n (default 0.2).
   */
  stochasticDepthProb?: number;
}

/**
 * An EfficientNet-B model as torchvision builds it: stem (3x3 stride-2
 * convolution, batch norm, SiLU), seven stages of MBConv blocks, a 1x1
 * convolution to four times the last stage's channels, global average pool,
 * Dropout and Linear. EfficientNetV2 (`efficientnet_v2.ts`) is the same
 * class with its own stages (`config.stages`, Fused-MBConv in the first
 * ones) and 1280 channels in the last convolution (`config.lastChannel`).
 * Initialised as torchvision: convolutions
 * kaiming-normal (fan_out) with zero bias, batch norm weight 1 and bias 0,
 * Linear weight U(-1/sqrt(classes), 1/sqrt(classes)) and bias 0. Batch norm
 * takes the configuration's eps and momentum (`normEps`, `normMomentum`;
 * PyTorch's 1e-5 and 0.1 unless given, as torchvision 0.14's B0-B4; its
 * B5-B7 pass 1e-3 and 0.01).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const config = { name: "EfficientNet (small)", widthMult: 0.25, depthMult: 0.5, dropout: 0.2 };
 * const net = new models.EfficientNet(config, { inChannels: 1, numClasses: 3 });
 * console.log(net.eval()(zeros([1, 1, 32, 32])).shape); // [1, 3]
 * ```
 */
export class EfficientNet extends Module {
  /** Stem, the stages (`features.1` .. `features.7` for B0-B7, each a Sequential of MBConv or FusedMBConv) and the last 1x1 convolution. */
  features: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Dropout, Linear(the last convolution's channels, numClasses). */
  classifier: Sequential;
  /**
   * The options the model was built with. A layer replaced later (the stem,
   * the classifier) is not reflected here: read the layer itself, as
   * `inputSpec` does.
   */
  readonly options: Required<EfficientNetOptions>;

  constructor(readonly config: EfficientNetConfig, options: EfficientNetOptions = {}) {
    super();
    const where = `models.EfficientNet (${config.name})`;
    const usage = "models.efficientnetB0({ inChannels: 1, numClasses: 3, dropout: 0.2 })";
    checkArity("models.EfficientNet", arguments.length, 2, usage);
    const defaults: Required<EfficientNetOptions> = {
      inChannels: 3,
      numClasses: 1000,
      dropout: config.dropout,
      stochasticDepthProb: 0.2,
    };
    const o = modelOptions(where, options, defaults, usage);
    checkCount(where, "inChannels", o.inChannels, usage);
    checkCount(where, "numClasses", o.numClasses, usage);
    checkProbability(where, "dropout", o.dropout, usage);
    checkProbability(where, "stochasticDepthProb", o.stochasticDepthProb, usage);
    this.options = o;
    const normLayer = normOf(where, config);
    const stages = stagesOf(where, config);
    const features: Module[] = [
      new Conv2dNormActivation(o.inChannels, stages[0].inputChannels, {
        stride: 2,
        normLayer,
        activationLayer: silu,
      }),
    ];
    const total = stages.reduce((n, s) => n + s.numLayers, 0);
    let id = 0;
    for (const cnf of stages) {
      const blocks: Module[] = [];
      for (let i = 0; i < cnf.numLayers; i++) {
        // After the first block a stage keeps its channels and size.
        const block = i === 0 ? cnf : { ...cnf, inputChannels: cnf.outChannels, stride: 1 };
        // The same float operations as torchvision's, so the probabilities are equal.
        const p = (o.stochasticDepthProb * id) / total;
        blocks.push(
          cnf.block === "FusedMBConv"
            ? new FusedMBConv(block, p, normLayer)
            : new MBConv(block, p, normLayer),
        );
        id++;
      }
      features.push(new Sequential(...blocks));
    }
    const last = stages[stages.length - 1].outChannels;
    const lastConv = config.lastChannel ?? 4 * last;
    checkCount(where, "config.lastChannel", lastConv, usage);
    features.push(
      new Conv2dNormActivation(last, lastConv, { kernelSize: 1, normLayer, activationLayer: silu }),
    );
    this.features = new Sequential(...features);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.classifier = new Sequential(
      new Dropout(o.dropout, true),
      new Linear(lastConv, o.numClasses),
    );
    const range = 1 / Math.sqrt(o.numClasses);
    initMobile(this, (w) => uniform_(w, -range, range));
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `features.0` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    return { model: this.config.name, ...firstLayer("features.0", this.features[0]) };
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
 * torchvision's `efficientnet_b0` (5,288,548 parameters with the defaults,
 * 4,010,815 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.efficientnetB0().numParameters()); // 5288548
 * console.log(models.efficientnetB0({ inChannels: 1, numClasses: 3 }).numParameters()); // 4010815
 * ```
 */
export function efficientnetB0(options: EfficientNetOptions = {}): EfficientNet {
  checkArity(
    "models.efficientnetB0",
    arguments.length,
    1,
    "models.efficientnetB0({ inChannels: 1, numClasses: 3 })",
  );
  return new EfficientNet(EFFICIENTNET_B0, options);
}
