/**
 * The pieces of MONAI 1.3's DenseNet for volumes
 * (`monai.networks.nets.densenet` with `spatial_dims=3`, act relu, norm
 * batch), with MONAI's names: `DenseLayer3d` (MONAI's `_DenseLayer`: a
 * Sequential `layers` of BN-ReLU-1x1x1 conv to `bnSize * growthRate`
 * channels, BN-ReLU-3x3x3 conv to `growthRate` and, with `dropoutProb` > 0,
 * `nn.Dropout3d`; its forward returns `cat([x, layers(x)], 1)`),
 * `DenseBlock3d` (`_DenseBlock`, an `nn.Sequential` of `denselayer1`, ...)
 * and `Transition3d` (`_Transition`: BN, ReLU, 1x1x1 conv, 2x2x2 average
 * pool). State-dict names are MONAI's (`denselayer1.layers.norm1.weight`,
 * `norm.running_mean`, `conv.weight`), unlike torchvision's 2-D DenseNet
 * (`denselayer1.norm1.weight`, `models.DenseLayer`).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { cat } from "../tensor/ops/join.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { currentScope } from "../tensor/ownership.ts";
import { showValue } from "../tensor/ops/show_value.ts";
import { Module } from "../layers/module.ts";
import { Conv3d } from "../layers/conv3d.ts";
import { BatchNorm3d } from "../layers/norm3d.ts";
import { ReLU } from "../layers/basic.ts";
import { Dropout3d } from "../layers/dropout3d.ts";
import { AvgPool3d } from "../layers/pool3d.ts";
import { Sequential } from "../layers/sequential.ts";

/** Throws unless `v` is a positive integer. */
function positive(where: string, name: string, v: unknown): number {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${where}: ${name} must be a positive integer, got ${showValue(v)}`);
  }
  return v as number;
}

/** Throws unless `p` is a probability. */
function probability(where: string, p: unknown): number {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`${where}: dropoutProb must be a number in [0, 1], got ${showValue(p)}`);
  }
  return p;
}

/** Throws when more than `max` arguments were given, naming the call to write. */
function arity(where: string, given: number, max: number, usage: string): void {
  if (given > max) {
    throw new Error(
      `${where}: takes at most ${max} arguments, got ${given} (spatialDims is always 3 ` +
        `here); write ${usage}`,
    );
  }
}

/** The children of a dense layer's `layers`, MONAI's names. */
export type DenseLayer3dLayers =
  & Sequential
  & {
    /** Batch norm of the layer's input. */
    norm1: BatchNorm3d;
    /** ReLU after norm1. */
    relu1: ReLU;
    /** 1x1x1 bottleneck to `bnSize * growthRate` channels. */
    conv1: Conv3d;
    /** Batch norm after conv1. */
    norm2: BatchNorm3d;
    /** ReLU after norm2. */
    relu2: ReLU;
    /** 3x3x3 (padding 1) to `growthRate` channels. */
    conv2: Conv3d;
    /** Channel dropout (nn.Dropout3d), present only with `dropoutProb` > 0. */
    dropout?: Dropout3d;
  };

/**
 * MONAI's `_DenseLayer` for volumes: `layers` = BN, ReLU, 1x1x1 conv to
 * `bnSize * growthRate`, BN, ReLU, 3x3x3 conv to `growthRate` (and
 * `nn.Dropout3d(dropoutProb)` when `dropoutProb` > 0, as MONAI adds it);
 * `forward(x) = cat([x, layers(x)], 1)`: `inChannels + growthRate`
 * channels out.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const layer = new models.DenseLayer3d(16, 8, 4, 0);
 * console.log(layer.forward(zeros([1, 16, 4, 4, 4])).shape); // [1, 24, 4, 4, 4]
 * console.log([...layer.stateDict().keys()][0]); // layers.norm1.weight
 * ```
 */
export class DenseLayer3d extends Module {
  /** norm1, relu1, conv1, norm2, relu2, conv2 and, with dropout, dropout. */
  layers: DenseLayer3dLayers;

  /**
   * MONAI's `_DenseLayer(spatial_dims=3, in_channels, growth_rate, bn_size,
   * dropout_prob)`.
   */
  constructor(
    inChannels: number,
    growthRate: number,
    bnSize: number,
    readonly dropoutProb: number,
  ) {
    super();
    const where = "models.DenseLayer3d";
    arity(where, arguments.length, 4, "new models.DenseLayer3d(inChannels, growthRate, bnSize, 0)");
    positive(where, "inChannels", inChannels);
    positive(where, "growthRate", growthRate);
    positive(where, "bnSize", bnSize);
    probability(where, dropoutProb);
    const width = bnSize * growthRate;
    const layers = new Sequential({
      norm1: new BatchNorm3d(inChannels),
      relu1: new ReLU(true),
      conv1: new Conv3d(inChannels, width, 1, { bias: false }),
      norm2: new BatchNorm3d(width),
      relu2: new ReLU(true),
      conv2: new Conv3d(width, growthRate, 3, { padding: 1, bias: false }),
    });
    if (dropoutProb > 0) layers.addModule("dropout", new Dropout3d(dropoutProb));
    this.layers = layers as DenseLayer3dLayers;
  }

  /** cat([x, layers(x)], 1). */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor) || x.ndim !== 5) {
      throw new Error(
        "models.DenseLayer3d: forward takes a volume batch [N, C, D, H, W], got " +
          (x instanceof Tensor ? `[${x.shape}]` : showValue(x)),
      );
    }
    const out = this.layers.forward(x);
    const joined = cat([x, out], 1);
    // Without a gradient the new features are used up (the block frees x).
    if (!isGradEnabled() && out.owner !== null && out.owner === currentScope()) out.dispose();
    return joined;
  }
}

/**
 * MONAI's `_DenseBlock` for volumes: an `nn.Sequential` of `numLayers`
 * dense layers `denselayer1`, ...; layer i takes `inChannels + (i - 1) *
 * growthRate` channels and returns its input with `growthRate` more, so
 * the block gives `inChannels + numLayers * growthRate`.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const block = new models.DenseBlock3d(2, 16, 4, 8, 0);
 * console.log([...block.namedChildren()].map(([k]) => k)); // ["denselayer1", "denselayer2"]
 * console.log(block.forward(zeros([1, 16, 4, 4, 4])).shape); // [1, 32, 4, 4, 4]
 * ```
 */
export class DenseBlock3d extends Sequential {
  /**
   * MONAI's `_DenseBlock(spatial_dims=3, layers, in_channels, bn_size,
   * growth_rate, dropout_prob)` (in that order).
   */
  constructor(
    numLayers: number,
    inChannels: number,
    bnSize: number,
    growthRate: number,
    dropoutProb: number,
  ) {
    super();
    const where = "models.DenseBlock3d";
    arity(
      where,
      arguments.length,
      5,
      "new models.DenseBlock3d(numLayers, inChannels, bnSize, growthRate, 0)",
    );
    positive(where, "numLayers", numLayers);
    positive(where, "inChannels", inChannels);
    positive(where, "growthRate", growthRate);
    positive(where, "bnSize", bnSize);
    probability(where, dropoutProb);
    for (let i = 0; i < numLayers; i++) {
      const layer = new DenseLayer3d(inChannels + i * growthRate, growthRate, bnSize, dropoutProb);
      this.addModule(`denselayer${i + 1}`, layer);
    }
  }
}

/**
 * MONAI's `_Transition` for volumes, between two dense blocks: BN, ReLU,
 * 1x1x1 convolution to `outChannels` (half, in the DenseNet) and a 2x2x2
 * average pool with stride 2 (an `nn.Sequential` named `norm`, `relu`,
 * `conv`, `pool`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const t = new models.Transition3d(32, 16);
 * console.log([...t.stateDict().keys()][0], t.forward(zeros([1, 32, 4, 6, 8])).shape); // norm.weight [1, 16, 2, 3, 4]
 * ```
 */
export class Transition3d extends Sequential {
  /** Batch norm of the block's output. */
  declare norm: BatchNorm3d;
  /** ReLU after norm. */
  declare relu: ReLU;
  /** 1x1x1 convolution to `outChannels`. */
  declare conv: Conv3d;
  /** 2x2x2 average pool, stride 2. */
  declare pool: AvgPool3d;

  /** MONAI's `_Transition(spatial_dims=3, in_channels, out_channels)`. */
  constructor(inChannels: number, outChannels: number) {
    const where = "models.Transition3d";
    arity(where, arguments.length, 2, "new models.Transition3d(inChannels, outChannels)");
    positive(where, "inChannels", inChannels);
    positive(where, "outChannels", outChannels);
    super({
      norm: new BatchNorm3d(inChannels),
      relu: new ReLU(true),
      conv: new Conv3d(inChannels, outChannels, 1, { bias: false }),
      pool: new AvgPool3d(2, { stride: 2 }),
    });
  }
}
