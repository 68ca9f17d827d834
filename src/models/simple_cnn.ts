/**
 * The course's small CNN: the VGG pattern (Simonyan & Zisserman, "Very Deep
 * Convolutional Networks for Large-Scale Image Recognition", 2014: stacks of
 * 3x3 convolutions, each stage halved by 2x2 max-pooling) at four stages,
 * then a two-layer classifier with dropout (Srivastava et al., 2014) and,
 * optionally, batch normalisation after each convolution (Ioffe & Szegedy,
 * 2015). Laid out as torchvision's VGG (`features`, `classifier`), so its
 * state dict reads `features.0.weight`, ..., `classifier.3.bias`. With
 * `globalPool`, a global max or average pooling (Lin et al., "Network in
 * Network", 2013) sits between the two as `pool`, so the classifier sees
 * what was found, not where: the same weights then fire for a lesion
 * anywhere in the liver.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { Dropout, ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { pair } from "../tensor/ops/conv.ts";
import { conv2dReluMaxPool2 } from "../tensor/ops/conv_pool.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { isPlain } from "./plain.ts";

const USAGE = "models.simpleCNN({ imageSize: 128, batchNorm: true })";

/** The architecture: four stages of 3x3 convolution, ReLU and 2x2 max-pool, then 256 hidden units. */
export const SIMPLE_CNN = {
  channels: [16, 32, 64, 128],
  kernel: 3,
  padding: 1,
  pool: 2,
  hidden: 256,
} as const;

/** Options of `simpleCNN`. */
export interface SimpleCNNOptions {
  /** Input channels (default 1: a CT slice). */
  inChannels?: number;
  /** Output classes (default 3: no liver, liver, liver + lesion). */
  numClasses?: number;
  /** Height and width of the (square) input; fixes the first Linear's size (default 256). */
  imageSize?: number;
  /** Dropout probability before the last Linear (default 0.5). */
  dropout?: number;
  /** A BatchNorm2d after each convolution (default false). */
  batchNorm?: boolean;
  /**
   * Pooling of the last feature map before the classifier: "max" or "avg"
   * to 1 x 1, so that the classifier's first Linear takes 128 inputs, or
   * "none" to flatten the whole map into 128 * (imageSize / 16)^2 of them
   * (default "none", the course's layout).
   */
  globalPool?: GlobalPool;
}

/** The `globalPool` choices of `SimpleCNN`. */
export const GLOBAL_POOLS = ["none", "max", "avg"] as const;

/** How `SimpleCNN` reduces its last feature map: see `SimpleCNNOptions.globalPool`. */
export type GlobalPool = (typeof GLOBAL_POOLS)[number];

/** The options `SimpleCNN` takes, and their defaults. */
const DEFAULTS: Required<SimpleCNNOptions> = {
  inChannels: 1,
  numClasses: 3,
  imageSize: 256,
  dropout: 0.5,
  batchNorm: false,
  globalPool: "none",
};

/**
 * The course's CNN. `features` holds the convolution stages, `pool` the
 * optional global pooling, `classifier` Linear(128 * (imageSize / 16)^2, 256)
 * (Linear(128, 256) after a global pool), ReLU, Dropout, Linear(256, classes).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = models.simpleCNN({ imageSize: 64 });
 * console.log(net.forward(zeros([2, 1, 64, 64])).shape); // [2, 3]
 * const pooled = models.simpleCNN({ imageSize: 64, globalPool: "max" });
 * console.log(pooled.forward(zeros([2, 1, 64, 64])).shape); // [2, 3]
 * ```
 */
export class SimpleCNN extends Module {
  /** Convolution stages. */
  features: Sequential;
  /** Global pooling of the last feature map (`globalPool` "max" or "avg"), else null. */
  pool: MaxPool2d | AdaptiveAvgPool2d | null;
  /** Fully connected head. */
  classifier: Sequential;
  /**
   * The options the model was built with. A layer replaced later
   * (features[0], a classifier layer) is not reflected here: read the layer
   * itself, as `inputSpec` does.
   */
  readonly options: Required<SimpleCNNOptions>;

  constructor(options: SimpleCNNOptions = {}) {
    super();
    checkArity("models.SimpleCNN", arguments.length, 1, USAGE);
    const o = modelOptions("models.SimpleCNN", options, DEFAULTS, USAGE);
    const stages = SIMPLE_CNN.channels.length;
    if (!Number.isInteger(o.imageSize) || o.imageSize < SIMPLE_CNN.pool ** stages) {
      throw new Error(
        `SimpleCNN: imageSize must be an integer >= ${
          SIMPLE_CNN.pool ** stages
        }, got ${o.imageSize}`,
      );
    }
    if (!(GLOBAL_POOLS as readonly unknown[]).includes(o.globalPool)) {
      throw new Error(
        `SimpleCNN: globalPool must be one of ${GLOBAL_POOLS.join(", ")}, got ${
          JSON.stringify(o.globalPool)
        }`,
      );
    }
    this.options = o;
    const layers: Module[] = [];
    let channels = o.inChannels;
    let size = o.imageSize;
    for (const out of SIMPLE_CNN.channels) {
      layers.push(new Conv2d(channels, out, SIMPLE_CNN.kernel, { padding: SIMPLE_CNN.padding }));
      if (o.batchNorm) layers.push(new BatchNorm2d(out));
      layers.push(new ReLU(), new MaxPool2d(SIMPLE_CNN.pool));
      channels = out;
      size = Math.floor(size / SIMPLE_CNN.pool);
    }
    this.features = new Sequential(...layers);
    // The input side is fixed (checkInput), so a max-pool over the whole last map is global.
    this.pool = o.globalPool === "max"
      ? new MaxPool2d(size)
      : o.globalPool === "avg"
      ? new AdaptiveAvgPool2d([1, 1])
      : null;
    if (this.pool) size = 1;
    this.classifier = new Sequential(
      new Linear(channels * size * size, SIMPLE_CNN.hidden),
      new ReLU(),
      new Dropout(o.dropout),
      new Linear(SIMPLE_CNN.hidden, o.numClasses),
    );
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export);
   * the channels are read from features[0] as it is now, so a replaced first
   * convolution sets them.
   */
  get inputSpec(): InputSpec {
    return {
      model: "SimpleCNN",
      ...firstLayer("features.0", this.features[0]),
      sizeLayer: `${
        this.pool ? "pool (global pooling)" : "classifier.0 (Linear)"
      }, built for ${this.options.imageSize} x ${this.options.imageSize} images`,
      size: this.options.imageSize,
    };
  }

  /** x [N, inChannels, imageSize, imageSize] -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    const stages = fusedStages(this.features);
    x = stages ? chain(x, stages) : this.features.forward(x);
    if (this.pool) x = this.pool.forward(x);
    x = flatten(x, 1);
    return this.classifier.forward(x);
  }
}

/**
 * `features` as one step per stage, each stage one kernel where it applies
 * (`conv2dReluMaxPool2`: no gradient recorded, the CPU's direct 3x3
 * kernel) and its modules one by one elsewhere; or null where `features`
 * is not this model's stages as built (Conv2d, BatchNorm2d in evaluation,
 * ReLU, MaxPool2d(2), each as it is, without hooks or overrides whose calls
 * the fused kernel would skip).
 */
function fusedStages(features: Sequential): ((t: Tensor) => Tensor)[] | null {
  if (!isPlain(features, Sequential)) return null;
  const steps: ((t: Tensor) => Tensor)[] = [];
  for (let i = 0; i < features.length;) {
    const conv = features[i], modules = [conv];
    if (!isPlain(conv, Conv2d)) return null;
    let bn: BatchNorm2d | null = null;
    if (features[i + 1] instanceof BatchNorm2d) bn = features[i + 1] as BatchNorm2d;
    if (bn && (!isPlain(bn, BatchNorm2d) || bn.training || !bn.runningMean || !bn.runningVar)) {
      return null;
    }
    if (bn) modules.push(bn);
    const relu = features[i + modules.length], pool = features[i + modules.length + 1];
    if (!relu || !isPlain(relu, ReLU) || !pool || !isPlain(pool, MaxPool2d)) return null;
    const o = (pool as MaxPool2d).options;
    const k = pair((pool as MaxPool2d).kernelSize, "MaxPool2d", 1);
    const stride = pair(o.stride ?? k, "MaxPool2d", 1),
      padding = pair(o.padding ?? 0, "MaxPool2d", 0);
    if ([...k, ...stride].some((v) => v !== 2) || padding.some((v) => v !== 0) || o.ceilMode) {
      return null;
    }
    modules.push(relu, pool);
    const { weight, bias, options } = conv as Conv2d;
    const stats = bn && {
      runningMean: bn.runningMean!,
      runningVar: bn.runningVar!,
      weight: bn.weight,
      bias: bn.bias,
      eps: bn.eps,
    };
    steps.push((t) =>
      conv2dReluMaxPool2(t, weight, bias, options, stats) ??
        modules.reduce((u, m) => m.forward(u), t)
    );
    i += modules.length;
  }
  return steps;
}

/**
 * The course's CNN with its defaults: 1 channel, 3 classes, 256 x 256
 * inputs, dropout 0.5, no batch norm (8,486,787 parameters).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * const net = models.simpleCNN({ batchNorm: true });
 * console.log(net.numParameters()); // 8487267
 * ```
 */
export function simpleCNN(options: SimpleCNNOptions = {}): SimpleCNN {
  checkArity("models.simpleCNN", arguments.length, 1, USAGE);
  return new SimpleCNN(options);
}
