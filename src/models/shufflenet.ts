/**
 * ShuffleNet V2: Ma, Zhang, Zheng & Sun, "ShuffleNet V2: Practical
 * Guidelines for Efficient CNN Architecture Design", ECCV 2018, Table 5,
 * as torchvision 0.14 builds it. State-dict names are torchvision's:
 * `conv1.0.weight` (stem), `stage2.0.branch1.0.weight` (the downsampling
 * unit's depthwise convolution), `stage3.1.branch2.7.running_var`,
 * `conv5.1.bias`, `fc.weight`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { cat } from "../tensor/ops/join.ts";
import { channelShuffle } from "../tensor/ops/channel_shuffle.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkCount } from "./mobile_blocks.ts";

/** A member of the family: units per stage and output channels of each stage (Table 5). */
export interface ShuffleNetV2Config {
  /** Name used in messages ("ShuffleNetV2 x1.0"). */
  readonly name: string;
  /** Units in stage2, stage3 and stage4. */
  readonly stagesRepeats: readonly [number, number, number];
  /** Output channels of conv1, stage2, stage3, stage4 and conv5. */
  readonly stagesOutChannels: readonly [number, number, number, number, number];
}

/** torchvision's `shufflenet_v2_x0_5`. */
export const SHUFFLENET_V2_X0_5: ShuffleNetV2Config = {
  name: "ShuffleNetV2 x0.5",
  stagesRepeats: [4, 8, 4],
  stagesOutChannels: [24, 48, 96, 192, 1024],
};
/** torchvision's `shufflenet_v2_x1_0`. */
export const SHUFFLENET_V2_X1_0: ShuffleNetV2Config = {
  name: "ShuffleNetV2 x1.0",
  stagesRepeats: [4, 8, 4],
  stagesOutChannels: [24, 116, 232, 464, 1024],
};
/** torchvision's `shufflenet_v2_x1_5`. */
export const SHUFFLENET_V2_X1_5: ShuffleNetV2Config = {
  name: "ShuffleNetV2 x1.5",
  stagesRepeats: [4, 8, 4],
  stagesOutChannels: [24, 176, 352, 704, 1024],
};
/** torchvision's `shufflenet_v2_x2_0`. */
export const SHUFFLENET_V2_X2_0: ShuffleNetV2Config = {
  name: "ShuffleNetV2 x2.0",
  stagesRepeats: [4, 8, 4],
  stagesOutChannels: [24, 244, 488, 976, 2048],
};

const relu = () => new ReLU(true);
const depthwise = (c: number, stride: number) =>
  new Conv2d(c, c, 3, { stride, padding: 1, groups: c, bias: false });
const pointwise = (i: number, o: number) => new Conv2d(i, o, 1, { bias: false });

/**
 * The ShuffleNet V2 unit (Fig. 3c and 3d), torchvision's
 * `shufflenetv2.InvertedResidual`: at stride 1 the channels are split in
 * two halves, one kept and one through `branch2` (1x1, depthwise 3x3,
 * 1x1); at stride 2 `branch1` (depthwise 3x3 stride 2, 1x1) and `branch2`
 * both see the whole input. The two halves are concatenated and their
 * channels shuffled across 2 groups.
 *
 * @example
 * ```ts
 * import { models, randn } from "@lits/vision";
 * const unit = new models.ShuffleInvertedResidual(24, 48, 2);
 * console.log(unit.eval()(randn([1, 24, 8, 8])).shape); // [1, 48, 4, 4]
 * ```
 */
export class ShuffleInvertedResidual extends Module {
  /** Depthwise, BN, 1x1, BN, ReLU at stride > 1; empty at stride 1. */
  branch1: Sequential;
  /** 1x1, BN, ReLU, depthwise, BN, 1x1, BN, ReLU. */
  branch2: Sequential;

  constructor(inp: number, oup: number, readonly stride: number) {
    super();
    const usage = "new models.ShuffleInvertedResidual(116, 116, 1)";
    checkArity("models.ShuffleInvertedResidual", arguments.length, 3, usage);
    if (!Number.isInteger(stride) || stride < 1 || stride > 3) {
      throw new Error(
        `models.ShuffleInvertedResidual: stride must be 1, 2 or 3, got ${stride}; write ${usage}`,
      );
    }
    checkCount("models.ShuffleInvertedResidual", "inp", inp, usage);
    checkCount("models.ShuffleInvertedResidual", "oup", oup, usage);
    const branch = Math.floor(oup / 2);
    if (stride === 1 && inp !== 2 * branch) {
      throw new Error(
        `models.ShuffleInvertedResidual: at stride 1 the input is split in halves of oup / 2, so ` +
          `inp must be 2 * floor(oup / 2) = ${2 * branch}, got inp ${inp} and oup ${oup}`,
      );
    }
    this.branch1 = stride > 1
      ? new Sequential(
        depthwise(inp, stride),
        new BatchNorm2d(inp),
        pointwise(inp, branch),
        new BatchNorm2d(branch),
        relu(),
      )
      : new Sequential();
    this.branch2 = new Sequential(
      pointwise(stride > 1 ? inp : branch, branch),
      new BatchNorm2d(branch),
      relu(),
      depthwise(branch, stride),
      new BatchNorm2d(branch),
      pointwise(branch, branch),
      new BatchNorm2d(branch),
      relu(),
    );
  }

  /** x [N, inp, H, W] -> [N, 2 * floor(oup / 2), H / stride, W / stride]. */
  forward(x: Tensor): Tensor {
    if (this.stride === 1) {
      const [x1, x2] = x.chunk(2, 1);
      return chain(x2, [(t) => this.branch2(t), (t) => channelShuffle(cat([x1, t], 1), 2)]);
    }
    return chain(x, [
      (t) => cat([this.branch1(t), this.branch2(t)], 1),
      (t) => channelShuffle(t, 2),
    ]);
  }
}

/** Options of `ShuffleNetV2` and its builders. */
export interface ShuffleNetV2Options {
  /** Input channels of the stem convolution (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
}

const DEFAULTS: Required<ShuffleNetV2Options> = { inChannels: 3, numClasses: 1000 };

/**
 * ShuffleNet V2 as torchvision builds it: conv1 (3x3 stride-2 convolution,
 * batch norm, ReLU), 3x3 stride-2 max pool, stages 2-4 of units (the first
 * of each at stride 2), conv5 (1x1, batch norm, ReLU), the mean over
 * height and width, and `fc`. No initialisation of its own: PyTorch's
 * defaults, as torchvision's (convolutions and Linear kaiming-uniform with
 * a = sqrt(5), batch norm weight 1 and bias 0).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const config = { name: "ShuffleNetV2 (small)", stagesRepeats: [2, 2, 2], stagesOutChannels: [8, 16, 32, 64, 128] } as const;
 * const net = new models.ShuffleNetV2(config, { inChannels: 1, numClasses: 3 });
 * console.log(net.eval()(zeros([1, 1, 64, 64])).shape); // [1, 3]
 * ```
 */
export class ShuffleNetV2 extends Module {
  /** Conv2d, BatchNorm2d, ReLU. */
  conv1: Sequential;
  /** 3x3 max pool, stride 2, padding 1. */
  maxpool: MaxPool2d;
  /** The units of stage 2. */
  stage2: Sequential;
  /** The units of stage 3. */
  stage3: Sequential;
  /** The units of stage 4. */
  stage4: Sequential;
  /** Conv2d 1x1, BatchNorm2d, ReLU. */
  conv5: Sequential;
  /** Linear(last channels, numClasses). */
  fc: Linear;
  /**
   * The options the model was built with. A layer replaced later (the stem,
   * `fc`) is not reflected here: read the layer itself, as `inputSpec` does.
   */
  readonly options: Required<ShuffleNetV2Options>;

  constructor(readonly config: ShuffleNetV2Config, options: ShuffleNetV2Options = {}) {
    super();
    const usage = "models.shufflenetV2X1_0({ inChannels: 1, numClasses: 3 })";
    checkArity("models.ShuffleNetV2", arguments.length, 2, usage);
    const where = `models.ShuffleNetV2 (${config.name})`;
    const o = modelOptions(where, options, DEFAULTS, usage);
    checkCount(where, "inChannels", o.inChannels, usage);
    checkCount(where, "numClasses", o.numClasses, usage);
    const { stagesRepeats: repeats, stagesOutChannels: channels } = config;
    if (repeats?.length !== 3 || channels?.length !== 5) {
      throw new Error(
        `${where}: expected stagesRepeats as 3 and stagesOutChannels as 5 positive integers, ` +
          `got ${JSON.stringify(repeats)} and ${JSON.stringify(channels)}`,
      );
    }
    for (const v of [...repeats, ...channels]) checkCount(where, "a stage setting", v, usage);
    this.options = o;
    this.conv1 = new Sequential(
      new Conv2d(o.inChannels, channels[0], 3, { stride: 2, padding: 1, bias: false }),
      new BatchNorm2d(channels[0]),
      relu(),
    );
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    let input = channels[0];
    const stages = repeats.map((n, s) => {
      const out = channels[s + 1];
      const units = [new ShuffleInvertedResidual(input, out, 2)];
      for (let i = 1; i < n; i++) units.push(new ShuffleInvertedResidual(out, out, 1));
      input = out;
      return new Sequential(...units);
    });
    [this.stage2, this.stage3, this.stage4] = stages;
    this.conv5 = new Sequential(
      new Conv2d(input, channels[4], 1, { bias: false }),
      new BatchNorm2d(channels[4]),
      relu(),
    );
    this.fc = new Linear(channels[4], o.numClasses);
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `conv1` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    return { model: this.config.name, ...firstLayer("conv1", this.conv1) };
  }

  /** x [N, inChannels, H, W] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    return chain(x, [
      (t) => this.conv1(t),
      (t) => this.maxpool(t),
      (t) => this.stage2(t),
      (t) => this.stage3(t),
      (t) => this.stage4(t),
      (t) => this.conv5(t),
      (t) => t.mean([2, 3]), // torchvision's global pool
      (t) => this.fc(t),
    ]);
  }
}

/**
 * torchvision's `shufflenet_v2_x0_5` (1,366,792 parameters with the
 * defaults, 344,435 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.shufflenetV2X0_5({ inChannels: 1, numClasses: 3 }).numParameters()); // 344435
 * ```
 */
export function shufflenetV2X0_5(options: ShuffleNetV2Options = {}): ShuffleNetV2 {
  checkArity(
    "models.shufflenetV2X0_5",
    arguments.length,
    1,
    "models.shufflenetV2X0_5({ inChannels: 1, numClasses: 3 })",
  );
  return new ShuffleNetV2(SHUFFLENET_V2_X0_5, options);
}

/**
 * torchvision's `shufflenet_v2_x1_0` (2,278,604 parameters with the
 * defaults, 1,256,247 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.shufflenetV2X1_0({ inChannels: 1, numClasses: 3 }).numParameters()); // 1256247
 * ```
 */
export function shufflenetV2X1_0(options: ShuffleNetV2Options = {}): ShuffleNetV2 {
  checkArity(
    "models.shufflenetV2X1_0",
    arguments.length,
    1,
    "models.shufflenetV2X1_0({ inChannels: 1, numClasses: 3 })",
  );
  return new ShuffleNetV2(SHUFFLENET_V2_X1_0, options);
}

/**
 * torchvision's `shufflenet_v2_x1_5` (3,503,624 parameters with the
 * defaults, 2,481,267 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.shufflenetV2X1_5({ inChannels: 1, numClasses: 3 }).numParameters()); // 2481267
 * ```
 */
export function shufflenetV2X1_5(options: ShuffleNetV2Options = {}): ShuffleNetV2 {
  checkArity(
    "models.shufflenetV2X1_5",
    arguments.length,
    1,
    "models.shufflenetV2X1_5({ inChannels: 1, numClasses: 3 })",
  );
  return new ShuffleNetV2(SHUFFLENET_V2_X1_5, options);
}

/**
 * torchvision's `shufflenet_v2_x2_0` (7,393,996 parameters with the
 * defaults, 5,350,711 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.shufflenetV2X2_0({ inChannels: 1, numClasses: 3 }).numParameters()); // 5350711
 * ```
 */
export function shufflenetV2X2_0(options: ShuffleNetV2Options = {}): ShuffleNetV2 {
  checkArity(
    "models.shufflenetV2X2_0",
    arguments.length,
    1,
    "models.shufflenetV2X2_0({ inChannels: 1, numClasses: 3 })",
  );
  return new ShuffleNetV2(SHUFFLENET_V2_X2_0, options);
}
