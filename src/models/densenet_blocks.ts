/**
 * The pieces of Huang, Liu, van der Maaten & Weinberger, "Densely Connected
 * Convolutional Networks", CVPR 2017 (DenseNet-BC), as torchvision writes
 * them: `DenseLayer` (torchvision's `_DenseLayer`: BN-ReLU-1x1 conv to
 * `bnSize * growthRate` channels, BN-ReLU-3x3 conv to `growthRate`),
 * `DenseBlock` (`_DenseBlock`, an `nn.ModuleDict` of `denselayer1`, ...
 * each fed the concatenation of the block's input and all earlier layers'
 * outputs) and `Transition` (`_Transition`, an `nn.Sequential` of BN, ReLU,
 * 1x1 conv and 2x2 average pool). State-dict names are torchvision's
 * (`denselayer1.norm1.weight`, `norm.running_mean`, `conv.weight`).
 *
 * @module
 */
import { Tensor } from "../tensor/tensor.ts";
import { cat } from "../tensor/ops/join.ts";
import { dropout } from "../tensor/ops/random.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { currentScope } from "../tensor/ownership.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { AvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { ModuleDict } from "../layers/containers.ts";
import { chain } from "../layers/chain.ts";
import { convBeforeBatchNorm } from "../layers/conv_bn.ts";

/**
 * BN-ReLU-Conv(1x1, `bnSize * growthRate`)-BN-ReLU-Conv(3x3, `growthRate`)
 * on the concatenation of its inputs along the channels; dropout with
 * `dropRate` after, in training. `forward` takes one tensor or the list of
 * the block's feature maps so far, as torchvision's.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const layer = new models.DenseLayer(24, 32, 4, 0);
 * console.log(layer.forward([zeros([1, 16, 8, 8]), zeros([1, 8, 8, 8])]).shape); // [1, 32, 8, 8]
 * ```
 */
export class DenseLayer extends Module {
  /** Batch norm of the concatenated input. */
  norm1: BatchNorm2d;
  /** ReLU after norm1. */
  relu1: ReLU;
  /** 1x1 bottleneck to `bnSize * growthRate` channels. */
  conv1: Conv2d;
  /** Batch norm after conv1. */
  norm2: BatchNorm2d;
  /** ReLU after norm2. */
  relu2: ReLU;
  /** 3x3 (padding 1) to `growthRate` channels. */
  conv2: Conv2d;

  /**
   * `numInputFeatures` in, `growthRate` out, the bottleneck `bnSize *
   * growthRate` wide; `dropRate` (torch's `drop_rate`) drops the output's
   * elements in training.
   */
  constructor(
    numInputFeatures: number,
    growthRate: number,
    bnSize: number,
    readonly dropRate: number,
  ) {
    super();
    const width = bnSize * growthRate;
    this.norm1 = new BatchNorm2d(numInputFeatures);
    this.relu1 = new ReLU();
    this.conv1 = new Conv2d(numInputFeatures, width, 1, { bias: false });
    this.norm2 = new BatchNorm2d(width);
    this.relu2 = new ReLU();
    this.conv2 = new Conv2d(width, growthRate, 3, { padding: 1, bias: false });
  }

  /**
   * conv2(relu2(norm2(conv1(relu1(norm1(cat(inputs, 1))))))), then dropout
   * in training when `dropRate` > 0.
   */
  forward(input: Tensor | Tensor[]): Tensor {
    const prev = input instanceof Tensor ? [input] : input;
    if (!Array.isArray(prev) || prev.length === 0 || !prev.every((t) => t instanceof Tensor)) {
      throw new Error(
        "DenseLayer: forward takes a tensor [N, C, H, W] or a non-empty list of them " +
          "(the block's feature maps so far), as torchvision's _DenseLayer",
      );
    }
    const x = prev.length === 1 ? prev[0] : cat(prev, 1);
    const out = chain(x, [
      (t) => this.norm1.forward(t),
      (t) => this.relu1.forward(t),
      (t) => convBeforeBatchNorm(this.conv1, this.norm2, t),
      (t) => this.norm2.forward(t),
      (t) => this.relu2.forward(t),
      (t) => this.conv2.forward(t),
    ]);
    // Without a gradient the concatenation is used up (chain frees the rest).
    if (x !== prev[0] && !isGradEnabled() && x.owner !== null && x.owner === currentScope()) {
      x.dispose();
    }
    return this.dropRate > 0 ? dropout(out, this.dropRate, this.training) : out;
  }
}

/**
 * `numLayers` dense layers, named `denselayer1` ... as torchvision's
 * `_DenseBlock` (an `nn.ModuleDict`, so `get("denselayer1")`, `keys()` and
 * iteration work, and so does `block.denselayer1` as in PyTorch). Layer i
 * takes `numInputFeatures + (i - 1) * growthRate` channels; the output is
 * the concatenation of the input and every layer's output:
 * `numInputFeatures + numLayers * growthRate` channels.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const block = new models.DenseBlock(2, 16, 4, 8, 0);
 * console.log([...block.keys()]); // ["denselayer1", "denselayer2"]
 * console.log(block.forward(zeros([1, 16, 8, 8])).shape); // [1, 32, 8, 8]
 * ```
 */
export class DenseBlock extends ModuleDict {
  constructor(
    numLayers: number,
    numInputFeatures: number,
    bnSize: number,
    growthRate: number,
    dropRate: number,
  ) {
    super();
    for (let i = 0; i < numLayers; i++) {
      const name = `denselayer${i + 1}`;
      this.set(
        name,
        new DenseLayer(numInputFeatures + i * growthRate, growthRate, bnSize, dropRate),
      );
      // PyTorch's attribute access (block.denselayer1), kept equal to the dict.
      Object.defineProperty(this, name, {
        configurable: true,
        enumerable: false,
        get: () => this.has(name) ? this.get(name) : undefined,
        set: (m: Module) => this.set(name, m),
      });
    }
  }

  /** cat([x, layer1([x]), layer2([x, y1]), ...], 1). */
  override forward(initFeatures: Tensor): Tensor {
    const features = [initFeatures];
    for (const [, layer] of this) features.push(layer.forward(features));
    return cat(features, 1);
  }
}

/**
 * Between two dense blocks: BN, ReLU, 1x1 convolution to
 * `numOutputFeatures` (half, in DenseNet-BC) and 2x2 average pool, stride 2
 * (torchvision's `_Transition`, an `nn.Sequential` named `norm`, `relu`,
 * `conv`, `pool`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const t = new models.Transition(32, 16);
 * console.log([...t.stateDict().keys()][0], t.forward(zeros([1, 32, 8, 8])).shape); // norm.weight [1, 16, 4, 4]
 * ```
 */
export class Transition extends Sequential {
  /** Batch norm of the block's output. */
  declare norm: BatchNorm2d;
  /** ReLU after norm. */
  declare relu: ReLU;
  /** 1x1 convolution to `numOutputFeatures`. */
  declare conv: Conv2d;
  /** 2x2 average pool, stride 2. */
  declare pool: AvgPool2d;

  constructor(numInputFeatures: number, numOutputFeatures: number) {
    super({
      norm: new BatchNorm2d(numInputFeatures),
      relu: new ReLU(),
      conv: new Conv2d(numInputFeatures, numOutputFeatures, 1, { bias: false }),
      pool: new AvgPool2d(2, { stride: 2 }),
    });
  }
}
