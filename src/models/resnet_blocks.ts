/**
 * The residual blocks of He, Zhang, Ren & Sun, "Deep Residual Learning for
 * Image Recognition", CVPR 2016 (Figure 5), as torchvision writes them:
 * `BasicBlock` (two 3x3 convolutions) for ResNet-18/34 and `Bottleneck`
 * (1x1, 3x3, 1x1, four times wider out) for ResNet-50 and deeper, with the
 * stride on the Bottleneck's 3x3 convolution ("ResNet v1.5"), which is
 * torchvision's choice and slightly more accurate than the paper's 1x1.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Sequential } from "../layers/sequential.ts";
import { conv2dBatchNormAddRelu } from "../tensor/ops/conv_epilogue.ts";
import { convBeforeBatchNorm } from "../layers/conv_bn.ts";
import { isPlain } from "./plain.ts";

/** A residual block: `forward(x) = relu(branch(x) + shortcut(x))`. */
export interface ResidualBlock extends Module {
  /** The branch's last BatchNorm2d (zeroed by `zeroInitResidual`). */
  readonly lastBN: BatchNorm2d;
}

/** A block class as ResNet's stage builder uses it. */
export interface BlockType {
  /** Builds a block from `inplanes` channels to `planes * expansion`. */
  new (
    inplanes: number,
    planes: number,
    stride?: number,
    downsample?: Sequential | null,
    groups?: number,
    baseWidth?: number,
  ): ResidualBlock;
  /** Output channels per `planes`. */
  readonly expansion: number;
}

/** 3x3 convolution with padding 1 and no bias (batch norm follows), in `groups` groups. */
function conv3x3(inplanes: number, planes: number, stride = 1, groups = 1): Conv2d {
  return new Conv2d(inplanes, planes, 3, { stride, padding: 1, groups, bias: false });
}

/** 1x1 convolution with no bias. */
function conv1x1(inplanes: number, planes: number, stride = 1): Conv2d {
  return new Conv2d(inplanes, planes, 1, { stride, bias: false });
}

/**
 * The shortcut that matches a block's output when the stride or the
 * channels change: 1x1 convolution with the stride, then BatchNorm2d
 * (torchvision's `downsample`, option B of the paper).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const shortcut = models.downsample(64, 128, 2);
 * console.log([...shortcut.stateDict().keys()].slice(0, 2)); // ["0.weight", "1.weight"]
 * ```
 */
export function downsample(inplanes: number, outplanes: number, stride: number): Sequential {
  return new Sequential(conv1x1(inplanes, outplanes, stride), new BatchNorm2d(outplanes));
}

/**
 * Two 3x3 convolutions with batch norm; the first carries the stride.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const block = new models.BasicBlock(64, 128, 2, models.downsample(64, 128, 2));
 * console.log(block.forward(zeros([1, 64, 8, 8])).shape); // [1, 128, 4, 4]
 * ```
 */
export class BasicBlock extends Module implements ResidualBlock {
  /** Output channels per `planes`. */
  static readonly expansion = 1;
  /** 3x3, with the stride. */
  conv1: Conv2d;
  /** Batch norm after conv1. */
  bn1: BatchNorm2d;
  /** Shared by both activations, as in torchvision. */
  relu: ReLU;
  /** 3x3. */
  conv2: Conv2d;
  /** Batch norm after conv2. */
  bn2: BatchNorm2d;
  /** The shortcut's projection, or null for the identity. */
  downsample: Sequential | null;

  constructor(
    inplanes: number,
    planes: number,
    stride = 1,
    downsample: Sequential | null = null,
    groups = 1,
    baseWidth = 64,
  ) {
    super();
    if (groups !== 1 || baseWidth !== 64) {
      // torchvision: "BasicBlock only supports groups=1 and base_width=64".
      throw new Error(
        `models.BasicBlock: takes groups 1 and baseWidth 64 only, got groups ${groups}, ` +
          `baseWidth ${baseWidth}; grouped and wide ResNets (ResNeXt, Wide ResNet) use Bottleneck`,
      );
    }
    this.conv1 = conv3x3(inplanes, planes, stride);
    this.bn1 = new BatchNorm2d(planes);
    this.relu = new ReLU();
    this.conv2 = conv3x3(planes, planes);
    this.bn2 = new BatchNorm2d(planes);
    this.downsample = downsample;
  }

  /** The branch's last batch norm. */
  get lastBN(): BatchNorm2d {
    return this.bn2;
  }

  /** relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). */
  forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(convBeforeBatchNorm(this.conv1, this.bn1, x)));
    out = this.bn2.forward(convBeforeBatchNorm(this.conv2, this.bn2, out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(identity));
  }
}

/**
 * 1x1 reduce, 3x3 (with the stride), 1x1 expand to `planes * 4`, each with
 * batch norm. As torchvision's, `groups` and `baseWidth` (its
 * `width_per_group`) set the inner width, `floor(planes * baseWidth / 64) *
 * groups`, and the 3x3's groups: ResNeXt-50 32x4d is groups 32, baseWidth 4;
 * Wide ResNet-50-2 is baseWidth 128.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const block = new models.Bottleneck(64, 64, 1, models.downsample(64, 256, 1));
 * console.log(block.forward(zeros([1, 64, 8, 8])).shape); // [1, 256, 8, 8]
 * ```
 */
export class Bottleneck extends Module implements ResidualBlock {
  /** Output channels per `planes`. */
  static readonly expansion = 4;
  /** 1x1 reduce. */
  conv1: Conv2d;
  /** Batch norm after conv1. */
  bn1: BatchNorm2d;
  /** 3x3, with the stride (v1.5). */
  conv2: Conv2d;
  /** Batch norm after conv2. */
  bn2: BatchNorm2d;
  /** 1x1 expand to planes * 4. */
  conv3: Conv2d;
  /** Batch norm after conv3. */
  bn3: BatchNorm2d;
  /** Shared by the three activations, as in torchvision. */
  relu: ReLU;
  /** The shortcut's projection, or null for the identity. */
  downsample: Sequential | null;

  constructor(
    inplanes: number,
    planes: number,
    stride = 1,
    downsample: Sequential | null = null,
    groups = 1,
    baseWidth = 64,
  ) {
    super();
    const out = planes * Bottleneck.expansion;
    // torchvision's width: ResNeXt's groups x width per group, Wide ResNet's doubled base width.
    const width = Math.floor(planes * (baseWidth / 64)) * groups;
    this.conv1 = conv1x1(inplanes, width);
    this.bn1 = new BatchNorm2d(width);
    this.conv2 = conv3x3(width, width, stride, groups);
    this.bn2 = new BatchNorm2d(width);
    this.conv3 = conv1x1(width, out);
    this.bn3 = new BatchNorm2d(out);
    this.relu = new ReLU();
    this.downsample = downsample;
  }

  /** The branch's last batch norm. */
  get lastBN(): BatchNorm2d {
    return this.bn3;
  }

  /** relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)). */
  forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(convBeforeBatchNorm(this.conv1, this.bn1, x)));
    out = this.relu.forward(this.bn2.forward(convBeforeBatchNorm(this.conv2, this.bn2, out)));
    if (this.#outputFuses()) {
      const identity = this.downsample ? this.downsample.forward(x) : x;
      const { conv3, bn3 } = this;
      const stats = {
        runningMean: bn3.runningMean!,
        runningVar: bn3.runningVar!,
        weight: bn3.weight,
        bias: bn3.bias,
        eps: bn3.eps,
      };
      const y = conv2dBatchNormAddRelu(
        out,
        conv3.weight,
        conv3.bias,
        conv3.options,
        stats,
        identity,
      );
      return y ?? this.relu.forward(bn3.forward(conv3.forward(out)).add(identity));
    }
    out = this.bn3.forward(convBeforeBatchNorm(this.conv3, this.bn3, out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(identity));
  }

  /**
   * Whether conv3, bn3, the add and the ReLU may run as one kernel
   * (`conv2dBatchNormAddRelu`, where it applies): bn3 in evaluation on
   * running statistics, and the three modules as they are, without hooks
   * or overrides whose calls the fused kernel would skip.
   */
  #outputFuses(): boolean {
    const bn = this.bn3;
    return !bn.training && bn.runningMean !== null && bn.runningVar !== null &&
      isPlain(this.conv3, Conv2d) && isPlain(bn, BatchNorm2d) && isPlain(this.relu, ReLU);
  }
}
