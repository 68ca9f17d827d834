/**
 * MobileNetV2: Sandler, Howard, Zhu, Zhmoginov & Chen, "MobileNetV2:
 * Inverted Residuals and Linear Bottlenecks", CVPR 2018, Table 2, as
 * torchvision 0.14 builds it. State-dict names are torchvision's:
 * `features.0.0.weight` (stem), `features.1.conv.0.0.weight` (a block's
 * depthwise convolution), `features.18.1.running_var` (the last 1x1
 * convolution's batch norm), `classifier.1.weight`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { adaptiveAvgPool2d } from "../tensor/ops/pool.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { Dropout } from "../layers/basic.ts";
import { ReLU6 } from "../layers/activation_hard.ts";
import { Linear } from "../layers/linear.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { isPlain } from "./plain.ts";
import { normal_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import {
  checkCount,
  checkProbability,
  Conv2dNormActivation,
  convNormAct,
  fusesConvNormAct,
  initMobile,
  makeDivisible,
} from "./mobile_blocks.ts";
import { invertedResidualBlockEval } from "./inverted_residual_fused.ts";

/**
 * Table 2: one row per stage, [t, c, n, s]: expansion factor, output
 * channels, repeats, stride of the first repeat.
 */
export const MOBILENET_V2: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** The stem's output channels, and the last 1x1 convolution's, before the width multiplier. */
const STEM = 32, LAST = 1280;

/** Python's `round`: halves to even (`int(round(inp * expand_ratio))`). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const relu6 = () => new ReLU6(true);

/**
 * The inverted residual with a linear bottleneck (Fig. 3b, Table 1):
 * 1x1 expansion (left out for t = 1), 3x3 depthwise convolution, 1x1
 * projection without activation; the input is added back when the stride
 * is 1 and the channels stay. As torchvision's: `conv` holds
 * Conv2dNormActivation blocks (ReLU6), then the projection Conv2d and its
 * BatchNorm2d.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const block = new models.InvertedResidual(16, 16, 1, 6);
 * console.log(block.useResConnect); // true
 * console.log(block(randn([2, 16, 8, 8])).shape); // [2, 16, 8, 8]
 * ```
 */
export class InvertedResidual extends Module {
  /** Expansion, depthwise and projection layers. */
  conv: Sequential;
  /** Whether forward adds the input (stride 1, same channels). */
  readonly useResConnect: boolean;
  /** Output channels. */
  readonly outChannels: number;

  constructor(
    inp: number,
    oup: number,
    readonly stride: number,
    expandRatio: number,
  ) {
    super();
    const usage = "new models.InvertedResidual(24, 32, 2, 6)";
    checkArity("models.InvertedResidual", arguments.length, 4, usage);
    if (stride !== 1 && stride !== 2) {
      throw new Error(`models.InvertedResidual: stride must be 1 or 2, got ${stride}`);
    }
    if (typeof expandRatio !== "number" || !(expandRatio > 0)) {
      throw new Error(
        `models.InvertedResidual: expandRatio must be a number > 0, got ${expandRatio}; ` +
          `write ${usage}`,
      );
    }
    const hidden = roundHalfEven(inp * expandRatio);
    this.useResConnect = stride === 1 && inp === oup;
    const layers: Module[] = [];
    if (expandRatio !== 1) {
      layers.push(new Conv2dNormActivation(inp, hidden, { kernelSize: 1, activationLayer: relu6 }));
    }
    layers.push(
      new Conv2dNormActivation(hidden, hidden, { stride, groups: hidden, activationLayer: relu6 }),
      new Conv2d(hidden, oup, 1, { bias: false }),
      new BatchNorm2d(oup),
    );
    this.conv = new Sequential(...layers);
    this.outChannels = oup;
  }

  /**
   * x + conv(x) with the residual connection, else conv(x). In evaluation
   * without gradients the whole block (expansion, depthwise, projection,
   * their batch norms, ReLU6 and the residual add) runs as one kernel
   * that keeps the expanded activation in cache
   * (`invertedResidualBlockEval`), or, where that does not apply, the last
   * convolution, its batch norm and the residual add as one
   * (`convNormAct`), with the same bits.
   */
  forward(x: Tensor): Tensor {
    const layers = [...this.conv];
    if (isPlain(this.conv, Sequential)) {
      const y = invertedResidualBlockEval(layers, x, this.useResConnect ? x : null);
      if (y) return y;
    }
    if (isPlain(this.conv, Sequential) && layers.length > 2 && fusesConvNormAct(layers.slice(-2))) {
      const head = layers.slice(0, -2);
      const hidden = chain(x, head.map((m) => (t: Tensor) => m(t)));
      const y = convNormAct(layers.slice(-2), hidden, this.useResConnect ? x : null);
      if (y) return y;
      const out = chain(hidden, layers.slice(-2).map((m) => (t: Tensor) => m(t)));
      return this.useResConnect ? x.add(out) : out;
    }
    const out = this.conv(x);
    return this.useResConnect ? x.add(out) : out;
  }
}

/** Options of `mobilenetV2`. */
export interface MobileNetV2Options {
  /** Input channels of the stem convolution (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Width multiplier: every layer's channels times this, rounded (default 1). */
  widthMult?: number;
  /** Channels are rounded to a multiple of this (default 8; 1 turns rounding off). */
  roundNearest?: number;
  /** Dropout probability before the classifier's Linear (default 0.2). */
  dropout?: number;
}

const DEFAULTS: Required<MobileNetV2Options> = {
  inChannels: 3,
  numClasses: 1000,
  widthMult: 1,
  roundNearest: 8,
  dropout: 0.2,
};

const USAGE = "models.mobilenetV2({ inChannels: 1, numClasses: 3, dropout: 0.2 })";

/**
 * MobileNetV2 as torchvision builds it: stem (3x3 stride-2 convolution,
 * batch norm, ReLU6), 17 inverted residual blocks (Table 2), a 1x1
 * convolution to 1280 channels, global average pool, Dropout and Linear.
 * Initialised as torchvision: convolutions kaiming-normal (fan_out), batch
 * norm weight 1 and bias 0, Linear weight N(0, 0.01) and bias 0.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = new models.MobileNetV2({ inChannels: 1, numClasses: 3, widthMult: 0.5 });
 * console.log(net.eval()(zeros([1, 1, 32, 32])).shape); // [1, 3]
 * ```
 */
export class MobileNetV2 extends Module {
  /** Stem, inverted residual blocks and the last 1x1 convolution (`features.0` .. `features.18`). */
  features: Sequential;
  /** Dropout, Linear(lastChannel, numClasses). */
  classifier: Sequential;
  /** Channels of the last convolution (1280 for a width multiplier up to 1). */
  readonly lastChannel: number;
  /**
   * The options the model was built with. A layer replaced later (the stem,
   * the classifier) is not reflected here: read the layer itself, as
   * `inputSpec` does.
   */
  readonly options: Required<MobileNetV2Options>;

  constructor(options: MobileNetV2Options = {}) {
    super();
    const where = "models.MobileNetV2";
    checkArity(where, arguments.length, 1, USAGE);
    const o = modelOptions(where, options, DEFAULTS, USAGE);
    checkCount(where, "inChannels", o.inChannels, USAGE);
    checkCount(where, "numClasses", o.numClasses, USAGE);
    checkCount(where, "roundNearest", o.roundNearest, USAGE);
    checkProbability(where, "dropout", o.dropout, USAGE);
    if (typeof o.widthMult !== "number" || !(Number.isFinite(o.widthMult) && o.widthMult > 0)) {
      throw new Error(
        `${where}: widthMult must be a number > 0, got ${o.widthMult}; write ${USAGE}`,
      );
    }
    this.options = o;
    let input = makeDivisible(STEM * o.widthMult, o.roundNearest);
    this.lastChannel = makeDivisible(LAST * Math.max(1, o.widthMult), o.roundNearest);
    const features: Module[] = [
      new Conv2dNormActivation(o.inChannels, input, { stride: 2, activationLayer: relu6 }),
    ];
    for (const [t, c, n, s] of MOBILENET_V2) {
      const output = makeDivisible(c * o.widthMult, o.roundNearest);
      for (let i = 0; i < n; i++) {
        features.push(new InvertedResidual(input, output, i === 0 ? s : 1, t));
        input = output;
      }
    }
    features.push(
      new Conv2dNormActivation(input, this.lastChannel, { kernelSize: 1, activationLayer: relu6 }),
    );
    this.features = new Sequential(...features);
    this.classifier = new Sequential(
      new Dropout(o.dropout),
      new Linear(this.lastChannel, o.numClasses),
    );
    initMobile(this, (w) => normal_(w, 0, 0.01));
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `features.0` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    return { model: "MobileNetV2", ...firstLayer("features.0", this.features[0]) };
  }

  /** x [N, inChannels, H, W] -> logits [N, numClasses] (features, global average pool, classifier). */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    return chain(x, [
      (t) => this.features(t),
      (t) => this.classifier(flatten(adaptiveAvgPool2d(t, [1, 1]), 1)),
    ]);
  }
}

/**
 * torchvision's `mobilenet_v2` (3,504,872 parameters with the defaults,
 * 2,227,139 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.mobilenetV2().numParameters()); // 3504872
 * console.log(models.mobilenetV2({ inChannels: 1, numClasses: 3 }).numParameters()); // 2227139
 * ```
 */
export function mobilenetV2(options: MobileNetV2Options = {}): MobileNetV2 {
  checkArity("models.mobilenetV2", arguments.length, 1, USAGE);
  return new MobileNetV2(options);
}
