/**
 * ResNet: He, Zhang, Ren & Sun, "Deep Residual Learning for Image
 * Recognition", CVPR 2016, Table 1, as torchvision builds it (v1.5: the
 * stride of a Bottleneck stage sits on its 3x3 convolution). State-dict
 * names are torchvision's: `conv1.weight`, `bn1.running_mean`,
 * `layer1.0.conv1.weight`, `layer2.0.downsample.1.running_var`, `fc.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { convBeforeBatchNorm } from "../layers/conv_bn.ts";
import { pair } from "../tensor/ops/conv.ts";
import { conv2dReluMaxPool3s2 } from "../tensor/ops/conv_pool.ts";
import { constant_, kaimingNormal_ } from "../layers/init.ts";
import { BasicBlock, type BlockType, Bottleneck, downsample } from "./resnet_blocks.ts";
import { stagesInBf16 } from "./resnet_chain.ts";
import { isPlain } from "./plain.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";

/** A ResNet's table row: its block and the number of blocks per stage (conv2_x..conv5_x). */
export interface ResNetConfig {
  /** Name used in messages and summaries ("ResNet-50"). */
  readonly name: string;
  /** BasicBlock or Bottleneck. */
  readonly block: BlockType;
  /** Blocks in each of the four stages. */
  readonly layers: readonly [number, number, number, number];
  /** Groups of each Bottleneck's 3x3 convolution (default 1; ResNeXt's cardinality, 32). */
  readonly groups?: number;
  /** torchvision's `width_per_group` (default 64; ResNeXt 4 or 8, Wide ResNet 128). */
  readonly widthPerGroup?: number;
}

/** Table 1, 18-layer column. */
export const RESNET18: ResNetConfig = {
  name: "ResNet-18",
  block: BasicBlock,
  layers: [2, 2, 2, 2],
};
/** Table 1, 34-layer column. */
export const RESNET34: ResNetConfig = {
  name: "ResNet-34",
  block: BasicBlock,
  layers: [3, 4, 6, 3],
};
/** Table 1, 50-layer column. */
export const RESNET50: ResNetConfig = {
  name: "ResNet-50",
  block: Bottleneck,
  layers: [3, 4, 6, 3],
};

/** Base widths of the four stages; stage 2-4 open with stride 2. */
const WIDTHS = [64, 128, 256, 512] as const;

/** Options of `resnet18`, `resnet34` and `resnet50`. */
export interface ResNetOptions {
  /** Input channels (default 3; the stem convolution takes them). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Start each block's last BatchNorm at weight 0, so each block starts as the identity (default false). */
  zeroInitResidual?: boolean;
}

/** The options a ResNet takes, and their defaults. */
const DEFAULTS: Required<ResNetOptions> = {
  inChannels: 3,
  numClasses: 1000,
  zeroInitResidual: false,
};

/**
 * A ResNet built from a configuration: stem (7x7 stride-2 convolution,
 * batch norm, ReLU, 3x3 stride-2 max-pool), four stages, global average
 * pool, Linear. Initialised as torchvision: convolutions kaiming-normal
 * (fan_out, ReLU gain), batch norm weight 1 and bias 0, Linear PyTorch's
 * default.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = new models.ResNet(models.RESNET18, { inChannels: 1, numClasses: 3 });
 * console.log(net.eval().forward(zeros([1, 1, 64, 64])).shape); // [1, 3]
 * ```
 */
export class ResNet extends Module {
  /** Stem convolution 7x7, stride 2. */
  conv1: Conv2d;
  /** Stem batch norm. */
  bn1: BatchNorm2d;
  /** Stem activation. */
  relu: ReLU;
  /** Stem max-pool 3x3, stride 2. */
  maxpool: MaxPool2d;
  /** Stage conv2_x (width 64). */
  layer1: Sequential;
  /** Stage conv3_x (width 128, stride 2). */
  layer2: Sequential;
  /** Stage conv4_x (width 256, stride 2). */
  layer3: Sequential;
  /** Stage conv5_x (width 512, stride 2). */
  layer4: Sequential;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Classifier. */
  fc: Linear;
  /**
   * The options the model was built with. A layer replaced later (conv1,
   * fc) is not reflected here: read the layer itself, as `inputSpec` does.
   */
  readonly options: Required<ResNetOptions>;

  constructor(readonly config: ResNetConfig, options: ResNetOptions = {}) {
    super();
    const usage = "models.resnet50({ inChannels: 1, numClasses: 3 })";
    checkArity(`models.ResNet`, arguments.length, 2, usage);
    const o = modelOptions(`models.ResNet (${config.name})`, options, DEFAULTS, usage);
    this.options = o;
    const { block, layers, groups = 1, widthPerGroup = 64 } = config;
    this.conv1 = new Conv2d(o.inChannels, WIDTHS[0], 7, { stride: 2, padding: 3, bias: false });
    this.bn1 = new BatchNorm2d(WIDTHS[0]);
    this.relu = new ReLU();
    this.maxpool = new MaxPool2d(3, { stride: 2, padding: 1 });
    let inplanes: number = WIDTHS[0];
    const stage = (planes: number, blocks: number, stride: number): Sequential => {
      const out = planes * block.expansion;
      const shortcut = stride !== 1 || inplanes !== out ? downsample(inplanes, out, stride) : null;
      const list = [new block(inplanes, planes, stride, shortcut, groups, widthPerGroup)];
      inplanes = out;
      for (let i = 1; i < blocks; i++) {
        list.push(new block(inplanes, planes, 1, null, groups, widthPerGroup));
      }
      return new Sequential(...list);
    };
    this.layer1 = stage(WIDTHS[0], layers[0], 1);
    this.layer2 = stage(WIDTHS[1], layers[1], 2);
    this.layer3 = stage(WIDTHS[2], layers[2], 2);
    this.layer4 = stage(WIDTHS[3], layers[3], 2);
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc = new Linear(WIDTHS[3] * block.expansion, o.numClasses);
    this.#initialise(o.zeroInitResidual);
  }

  #initialise(zeroInitResidual: boolean): void {
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: "fan_out", nonlinearity: "relu" });
      else if (m instanceof BatchNorm2d && m.weight && m.bias) {
        constant_(m.weight, 1);
        constant_(m.bias, 0);
      }
    }
    if (!zeroInitResidual) return;
    // Each residual branch then starts at zero and each block as the
    // identity, which helps large-batch training (Goyal et al., 2017).
    for (const m of this.modules()) {
      if ((m instanceof BasicBlock || m instanceof Bottleneck) && m.lastBN.weight) {
        constant_(m.lastBN.weight, 0);
      }
    }
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export),
   * read from `conv1` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    return { model: this.config.name, ...firstLayer("conv1", this.conv1) };
  }

  /**
   * maxpool(relu(bn1(conv1(x)))): one kernel in evaluation where it applies
   * (`conv2dReluMaxPool3s2`: one input channel, no gradient recorded, the
   * CPU's stem kernel; 64 x 128^2 floats an image neither written nor read
   * back), else the modules one by one.
   */
  #stem(x: Tensor): Tensor {
    const { conv1, bn1 } = this;
    const fused = this.#stemFuses() &&
      conv2dReluMaxPool3s2(x, conv1.weight, conv1.bias, conv1.options, {
        runningMean: bn1.runningMean!,
        runningVar: bn1.runningVar!,
        weight: bn1.weight,
        bias: bn1.bias,
        eps: bn1.eps,
      });
    return fused ||
      this.maxpool.forward(this.relu.forward(bn1.forward(convBeforeBatchNorm(conv1, bn1, x))));
  }

  /**
   * Whether the stem is its modules as built (Conv2d, BatchNorm2d in
   * evaluation on running statistics, ReLU, MaxPool2d(3, stride 2, padding
   * 1)), without hooks or overrides whose calls the fused kernel would skip.
   */
  #stemFuses(): boolean {
    const { conv1, bn1, relu, maxpool } = this;
    if (
      !isPlain(conv1, Conv2d) || !isPlain(bn1, BatchNorm2d) || !isPlain(relu, ReLU) ||
      !isPlain(maxpool, MaxPool2d) || bn1.training || !bn1.runningMean || !bn1.runningVar
    ) {
      return false;
    }
    const o = maxpool.options;
    const k = pair(maxpool.kernelSize, "MaxPool2d", 1);
    const stride = pair(o.stride ?? k, "MaxPool2d", 1);
    const padding = pair(o.padding ?? 0, "MaxPool2d", 0);
    return [...k, ...stride, ...padding].every((v, i) => v === [3, 3, 2, 2, 1, 1][i]) &&
      !o.ceilMode;
  }

  /**
   * x [N, inChannels, H, W] -> logits [N, numClasses]. In evaluation under
   * bf16 autocast the four stages run as one chain of channels-last bf16
   * convolutions where the CPU's library can (`stagesInBf16`).
   */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    const stages = [this.layer1, this.layer2, this.layer3, this.layer4];
    const byModule = stages.map((s) => (t: Tensor) => s.forward(t));
    // Inside noGrad, chain frees each stage's tensors once the next has used them.
    return chain(x, [
      (t) => this.#stem(t),
      (t) => stagesInBf16(stages, t) ?? chain(t, byModule),
      (t) => this.fc.forward(flatten(this.avgpool.forward(t), 1)),
    ]);
  }
}

/** The body of `resnet18`, `resnet34` and `resnet50`: `given` is their `arguments.length`. */
function build(name: string, config: ResNetConfig, given: number, options: ResNetOptions): ResNet {
  checkArity(`models.${name}`, given, 1, `models.${name}({ inChannels: 1, numClasses: 3 })`);
  return new ResNet(config, options);
}

/**
 * ResNet-18 (BasicBlock, [2, 2, 2, 2]; 11,689,512 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.resnet18().numParameters()); // 11689512
 * ```
 */
export function resnet18(options: ResNetOptions = {}): ResNet {
  return build("resnet18", RESNET18, arguments.length, options);
}

/**
 * ResNet-34 (BasicBlock, [3, 4, 6, 3]; 21,797,672 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.resnet34({ numClasses: 3 }).fc.outFeatures); // 3
 * ```
 */
export function resnet34(options: ResNetOptions = {}): ResNet {
  return build("resnet34", RESNET34, arguments.length, options);
}

/**
 * ResNet-50 (Bottleneck, [3, 4, 6, 3]; 25,557,032 parameters with the
 * defaults, 23,507,907 for 1 input channel and 3 classes).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.resnet50({ inChannels: 1, numClasses: 3 }).numParameters()); // 23507907
 * ```
 */
export function resnet50(options: ResNetOptions = {}): ResNet {
  return build("resnet50", RESNET50, arguments.length, options);
}
