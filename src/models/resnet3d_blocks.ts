/**
 * The residual blocks of MONAI 1.3's 3-D ResNet (`monai.networks.nets.resnet`
 * with `spatial_dims=3`): `ResNet3dBlock` (MONAI's `ResNetBlock`, two 3x3x3
 * convolutions) for depths 10 to 34 and `ResNet3dBottleneck` (MONAI's
 * `ResNetBottleneck`: 1x1x1, 3x3x3 with the stride, 1x1x1 four times wider)
 * for 50 and deeper, with MONAI's attribute names, and the parameter-free
 * shortcut of `shortcut_type="A"` (`ZeroPadShortcut`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { BatchNorm3d } from "../layers/norm3d.ts";
import { ReLU } from "../layers/basic.ts";
import type { Sequential } from "../layers/sequential.ts";
import { noGrad } from "../tensor/autograd.ts";
import { avgPool3d } from "../tensor/ops/pool3d.ts";
import { pad } from "../tensor/ops/pad.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/** What a block's `downsample` holds: option B's Sequential, option A's shortcut, or none. */
export type ResNet3dShortcut = Sequential | ZeroPadShortcut | null;

/** A block class as `ResNet3d`'s stage builder uses it (MONAI's `block`). */
export interface ResNet3dBlockType {
  /** Builds a block from `inPlanes` channels to `planes * expansion`. */
  new (
    inPlanes: number,
    planes: number,
    stride?: number,
    downsample?: ResNet3dShortcut,
  ): ResNet3dBlock | ResNet3dBottleneck;
  /** Output channels per `planes`. */
  readonly expansion: number;
}

/** Throws unless `v` is a positive integer. */
function positive(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${showValue(v)}`);
  }
  return v as number;
}

/** Checks a block's arguments, as MONAI's `block(in_planes, planes, stride=..., downsample=...)`. */
function checkBlock(
  where: string,
  given: number,
  inPlanes: unknown,
  planes: unknown,
  stride: unknown,
  downsample: unknown,
): void {
  if (given > 4) {
    throw new Error(
      `${where}: takes (inPlanes, planes, stride, downsample), got ${given} arguments ` +
        "(spatialDims is always 3 here); write " +
        `new ${where}(inPlanes, planes, stride, downsample)`,
    );
  }
  positive(where, "inPlanes", inPlanes);
  positive(where, "planes", planes);
  positive(where, "stride", stride);
  if (downsample !== null && !(downsample instanceof Module)) {
    throw new Error(
      `${where}: downsample must be a module (nn.Sequential(conv, batch norm) or ` +
        `models.ZeroPadShortcut) or null, got ${showValue(downsample)}`,
    );
  }
}

/**
 * MONAI's shortcut A (`ResNet._downsample_basic_block`): the input
 * subsampled by an average pool of kernel 1 and stride `stride`, zero-padded
 * along the channels to `planes`. As MONAI's (it concatenates `out.data`),
 * the result is detached: no gradient flows back through this shortcut. No
 * parameters, so no state-dict keys (MONAI's is a `functools.partial`, not a
 * module).
 *
 * @example
 * ```ts
 * import { models, ones } from "@lits/vision";
 * const shortcut = new models.ZeroPadShortcut(4, 2);
 * const y = shortcut.forward(ones([1, 2, 4, 4, 4]));
 * console.log(y.shape, y.toArray()[0], y.toArray()[2 * 8]); // [1, 4, 2, 2, 2] 1 0
 * ```
 */
export class ZeroPadShortcut extends Module {
  constructor(readonly planes: number, readonly stride: number = 1) {
    super();
    const where = "models.ZeroPadShortcut";
    if (arguments.length > 2) {
      throw new Error(`${where}: takes (planes, stride), got ${arguments.length} arguments`);
    }
    positive(where, "planes", planes);
    positive(where, "stride", stride);
  }

  /** x [N, C, D, H, W] with C <= planes -> [N, planes, D', H', W'], outside the graph. */
  forward(x: Tensor): Tensor {
    const c = x.shape[1];
    if (x.ndim !== 5 || c > this.planes) {
      throw new Error(
        `models.ZeroPadShortcut(${this.planes}): expected input [N, C, D, H, W] with C <= ` +
          `${this.planes}, got [${x.shape}]`,
      );
    }
    return noGrad(() => {
      const s = this.stride;
      const pooled = s === 1 ? x : avgPool3d(x, 1, { stride: s });
      const out = pad(pooled, [0, 0, 0, 0, 0, 0, 0, this.planes - c]);
      if (pooled !== x && pooled !== out) pooled.dispose();
      return out;
    });
  }
}

/**
 * MONAI's `ResNetBlock` for volumes: two 3x3x3 convolutions with batch
 * norm; the first carries the stride. `forward(x) = relu(bn2(conv2(relu(
 * bn1(conv1(x))))) + downsample(x))`.
 *
 * @example
 * ```ts
 * import { models, nn, zeros } from "@lits/vision";
 * const shortcut = new nn.Sequential(new nn.Conv3d(8, 16, 1, { stride: 2 }), new nn.BatchNorm3d(16));
 * const block = new models.ResNet3dBlock(8, 16, 2, shortcut);
 * console.log(block.forward(zeros([1, 8, 4, 8, 8])).shape); // [1, 16, 2, 4, 4]
 * ```
 */
export class ResNet3dBlock extends Module {
  /** Output channels per `planes`. */
  static readonly expansion = 1;
  /** 3x3x3, with the stride. */
  conv1: Conv3d;
  /** Batch norm after conv1. */
  bn1: BatchNorm3d;
  /** Shared by both activations, as in MONAI. */
  relu: ReLU;
  /** 3x3x3. */
  conv2: Conv3d;
  /** Batch norm after conv2. */
  bn2: BatchNorm3d;
  /** The shortcut where the stride or width changes, else null (the identity). */
  downsample: ResNet3dShortcut;
  /** The first convolution's stride. */
  readonly stride: number;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: ResNet3dShortcut = null) {
    super();
    checkBlock("models.ResNet3dBlock", arguments.length, inPlanes, planes, stride, downsample);
    this.conv1 = new Conv3d(inPlanes, planes, 3, { stride, padding: 1, bias: false });
    this.bn1 = new BatchNorm3d(planes);
    this.relu = new ReLU();
    this.conv2 = new Conv3d(planes, planes, 3, { padding: 1, bias: false });
    this.bn2 = new BatchNorm3d(planes);
    this.downsample = downsample;
    this.stride = stride;
  }

  /** relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). */
  forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.bn2.forward(this.conv2.forward(out));
    const residual = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(residual));
  }
}

/**
 * MONAI's `ResNetBottleneck` for volumes: 1x1x1 reduce, 3x3x3 with the
 * stride, 1x1x1 expand to `planes * 4`, each with batch norm.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const block = new models.ResNet3dBottleneck(16, 4, 2, new models.ZeroPadShortcut(16, 2));
 * console.log(block.forward(zeros([1, 16, 4, 8, 8])).shape); // [1, 16, 2, 4, 4]
 * ```
 */
export class ResNet3dBottleneck extends Module {
  /** Output channels per `planes`. */
  static readonly expansion = 4;
  /** 1x1x1 reduce. */
  conv1: Conv3d;
  /** Batch norm after conv1. */
  bn1: BatchNorm3d;
  /** 3x3x3, with the stride. */
  conv2: Conv3d;
  /** Batch norm after conv2. */
  bn2: BatchNorm3d;
  /** 1x1x1 expand to planes * 4. */
  conv3: Conv3d;
  /** Batch norm after conv3. */
  bn3: BatchNorm3d;
  /** Shared by the three activations, as in MONAI. */
  relu: ReLU;
  /** The shortcut where the stride or width changes, else null (the identity). */
  downsample: ResNet3dShortcut;
  /** The 3x3x3 convolution's stride. */
  readonly stride: number;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: ResNet3dShortcut = null) {
    super();
    checkBlock("models.ResNet3dBottleneck", arguments.length, inPlanes, planes, stride, downsample);
    const out = planes * ResNet3dBottleneck.expansion;
    this.conv1 = new Conv3d(inPlanes, planes, 1, { bias: false });
    this.bn1 = new BatchNorm3d(planes);
    this.conv2 = new Conv3d(planes, planes, 3, { stride, padding: 1, bias: false });
    this.bn2 = new BatchNorm3d(planes);
    this.conv3 = new Conv3d(planes, out, 1, { bias: false });
    this.bn3 = new BatchNorm3d(out);
    this.relu = new ReLU();
    this.downsample = downsample;
    this.stride = stride;
  }

  /** relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)). */
  forward(x: Tensor): Tensor {
    let out = this.relu.forward(this.bn1.forward(this.conv1.forward(x)));
    out = this.relu.forward(this.bn2.forward(this.conv2.forward(out)));
    out = this.bn3.forward(this.conv3.forward(out));
    const residual = this.downsample ? this.downsample.forward(x) : x;
    return this.relu.forward(out.add(residual));
  }
}
