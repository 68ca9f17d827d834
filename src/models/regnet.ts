/**
 * RegNet: Radosavovic, Kosaraju, Girshick, He & Dollár, "Designing Network
 * Design Spaces", CVPR 2020, as torchvision 0.14 builds it: a 3x3 stride-2
 * stem of 32 channels, four stages of residual bottleneck blocks whose
 * widths and depths come from a design's quantised linear rule
 * (`regnetBlockParams`), squeeze-and-excitation in the RegNetY models,
 * global average pool and `fc`. State-dict names are torchvision's:
 * `stem.0.weight`, `trunk_output.block1.block1-0.proj.1.running_var`,
 * `trunk_output.block2.block2-1.f.b.0.weight`, `...f.se.fc1.bias`,
 * `fc.weight`. The members are in `regnet_y.ts` and `regnet_x.ts`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { normal_, ones_, zeros_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkCount } from "./mobile_blocks.ts";
import {
  AnyStage,
  type RegNetBlockParams,
  regnetBlockParams,
  type RegNetDesign,
  SimpleStemIN,
} from "./regnet_blocks.ts";

/** A member of the family: its name and design (torchvision's `from_init_params` arguments). */
export interface RegNetConfig {
  /** Name used in messages ("RegNetY-400MF"). */
  readonly name: string;
  /** The design the stages are computed from. */
  readonly design: RegNetDesign;
}

/** Options of `RegNet` and its builders. */
export interface RegNetOptions {
  /** Input channels of the stem convolution (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
}

const DEFAULTS: Required<RegNetOptions> = { inChannels: 3, numClasses: 1000 };

/** torchvision's `stem_width`. */
const STEM_WIDTH = 32;

/**
 * A RegNet as torchvision builds it: `stem` (3x3 stride-2 convolution to
 * 32 channels, batch norm, ReLU), `trunk_output` (stages `block1` ..
 * `block4` from the design's block parameters, each block a
 * `ResBottleneckBlock`), global average pool and `fc`. Batch norm has
 * PyTorch's eps 1e-5 and momentum 0.1. Initialised as torchvision:
 * convolution weights N(0, 2 / (k * k * out channels)) (squeeze-and-
 * excitation biases keep PyTorch's default), batch norm weight 1 and bias 0,
 * `fc` weight N(0, 0.01) and bias 0.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const design = { depth: 4, w0: 16, wa: 16, wm: 2, groupWidth: 8, seRatio: 0.25 };
 * const net = new models.RegNet({ name: "RegNet (small)", design }, { inChannels: 1, numClasses: 3 });
 * console.log(net.blockParams.widths, net.eval()(zeros([1, 1, 32, 32])).shape); // [16, 32, 64] [1, 3]
 * ```
 */
export class RegNet extends Module {
  /** 3x3 stride-2 convolution, batch norm, ReLU. */
  stem: SimpleStemIN;
  /** The stages `block1` .. `blockN` (torchvision's name). */
  trunk_output: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Linear(last stage's width, numClasses). */
  fc: Linear;
  /** The stages' settings computed from the design. */
  readonly blockParams: RegNetBlockParams;
  /**
   * The options the model was built with. A layer replaced later (the stem,
   * `fc`) is not reflected here: read the layer itself, as `inputSpec` does.
   */
  readonly options: Required<RegNetOptions>;

  constructor(readonly config: RegNetConfig, options: RegNetOptions = {}) {
    super();
    const usage = "models.regnetY400mf({ inChannels: 1, numClasses: 3 })";
    checkArity("models.RegNet", arguments.length, 2, usage);
    const where = `models.RegNet (${config?.name})`;
    const o = modelOptions(where, options, DEFAULTS, usage);
    checkCount(where, "inChannels", o.inChannels, usage);
    checkCount(where, "numClasses", o.numClasses, usage);
    this.options = o;
    const p = regnetBlockParams(config.design);
    this.blockParams = p;
    this.stem = new SimpleStemIN(o.inChannels, STEM_WIDTH);
    const stages: Record<string, Module> = {};
    let width = STEM_WIDTH;
    p.widths.forEach((out, i) => {
      stages[`block${i + 1}`] = new AnyStage(width, out, p.strides[i], p.depths[i], {
        groupWidth: p.groupWidths[i],
        bottleneckMultiplier: p.bottleneckMultipliers[i],
        seRatio: p.seRatio,
      }, i + 1);
      width = out;
    });
    this.trunk_output = new Sequential(stages);
    this.avgpool = new AdaptiveAvgPool2d([1, 1]);
    this.fc = new Linear(width, o.numClasses);
    for (const m of this.modules()) {
      if (m instanceof Conv2d) {
        const [out, , kh, kw] = m.weight.shape;
        normal_(m.weight, 0, Math.sqrt(2 / (kh * kw * out)));
      } else if (m instanceof BatchNorm2d && m.weight && m.bias) {
        ones_(m.weight);
        zeros_(m.bias);
      } else if (m instanceof Linear) {
        normal_(m.weight, 0, 0.01);
        if (m.bias) zeros_(m.bias);
      }
    }
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `stem` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    return { model: this.config.name, ...firstLayer("stem", this.stem) };
  }

  /** x [N, inChannels, H, W] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    return chain(x, [
      (t) => this.stem(t),
      (t) => this.trunk_output(t),
      (t) => this.fc(flatten(this.avgpool(t), 1)),
    ]);
  }
}
