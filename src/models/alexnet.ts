/**
 * AlexNet: Krizhevsky, Sutskever & Hinton, "ImageNet Classification with
 * Deep Convolutional Neural Networks", NeurIPS 2012, in torchvision's
 * single-GPU variant (from Krizhevsky, "One weird trick for parallelizing
 * convolutional neural networks", 2014: 64/192/384/256/256 filters, no local
 * response normalisation) with adaptive average pooling to 6 x 6 before the
 * classifier. Same names as torchvision: `features.0.weight`, ...,
 * `classifier.6.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Dropout, ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkArity } from "../options.ts";
import { modelOptions } from "./defaults.ts";

const USAGE = "models.alexnet({ inChannels: 1, numClasses: 3, dropout: 0.5 })";

/**
 * The architecture, one row per convolution (each followed by ReLU, and by
 * MaxPool2d(3, stride 2) where `pool` is set), then the classifier.
 */
export const ALEXNET = {
  features: [
    { channels: 64, kernel: 11, stride: 4, padding: 2, pool: true },
    { channels: 192, kernel: 5, stride: 1, padding: 2, pool: true },
    { channels: 384, kernel: 3, stride: 1, padding: 1, pool: false },
    { channels: 256, kernel: 3, stride: 1, padding: 1, pool: false },
    { channels: 256, kernel: 3, stride: 1, padding: 1, pool: true },
  ],
  pool: { kernel: 3, stride: 2 },
  pooledSize: 6,
  hidden: [4096, 4096],
} as const;

/** Smallest input height and width: the last max-pool needs a 3 x 3 map (63 -> 15 -> 7 -> 3 -> 1). */
export const ALEXNET_MIN_SIZE = 63;

/** Options of `alexnet`. */
export interface AlexNetOptions {
  /** Input channels (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Dropout probability before each of the first two Linear layers (default 0.5). */
  dropout?: number;
}

/** The options `AlexNet` takes, and their defaults. */
const DEFAULTS: Required<AlexNetOptions> = { inChannels: 3, numClasses: 1000, dropout: 0.5 };

/**
 * AlexNet as torchvision builds it; PyTorch's default initialisation.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = models.alexnet({ inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 57000643
 * console.log(net.eval().forward(zeros([1, 1, 63, 63])).shape); // [1, 3]
 * ```
 */
export class AlexNet extends Module {
  /** Convolutions, ReLUs and max-pools (indices as torchvision's). */
  features: Sequential;
  /** Adaptive average pool to 6 x 6. */
  avgpool: AdaptiveAvgPool2d;
  /** Dropout, Linear(9216, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Linear(4096, classes). */
  classifier: Sequential;
  /**
   * The options the model was built with. A layer replaced later
   * (features[0], a classifier layer) is not reflected here: read the layer
   * itself, as `inputSpec` does.
   */
  readonly options: Required<AlexNetOptions>;

  constructor(options: AlexNetOptions = {}) {
    super();
    checkArity("models.AlexNet", arguments.length, 1, USAGE);
    const o = modelOptions("models.AlexNet", options, DEFAULTS, USAGE);
    this.options = o;
    const layers: Module[] = [];
    let channels = o.inChannels;
    for (const c of ALEXNET.features) {
      layers.push(
        new Conv2d(channels, c.channels, c.kernel, { stride: c.stride, padding: c.padding }),
        new ReLU(),
      );
      if (c.pool) layers.push(new MaxPool2d(ALEXNET.pool.kernel, { stride: ALEXNET.pool.stride }));
      channels = c.channels;
    }
    this.features = new Sequential(...layers);
    this.avgpool = new AdaptiveAvgPool2d(ALEXNET.pooledSize);
    const [h1, h2] = ALEXNET.hidden;
    this.classifier = new Sequential(
      new Dropout(o.dropout),
      new Linear(channels * ALEXNET.pooledSize ** 2, h1),
      new ReLU(),
      new Dropout(o.dropout),
      new Linear(h1, h2),
      new ReLU(),
      new Linear(h2, o.numClasses),
    );
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export);
   * the channels are read from features[0] as it is now, so a replaced first
   * convolution sets them.
   */
  get inputSpec(): InputSpec {
    return {
      model: "AlexNet",
      ...firstLayer("features.0", this.features[0]),
      sizeLayer: "features.12 (MaxPool2d), which needs a 3 x 3 map",
      minSize: ALEXNET_MIN_SIZE,
    };
  }

  /** x [N, inChannels, H, W] (H, W >= 63) -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    x = this.features.forward(x);
    x = this.avgpool.forward(x);
    x = flatten(x, 1);
    return this.classifier.forward(x);
  }
}

/**
 * torchvision's AlexNet (61,100,840 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.alexnet().numParameters()); // 61100840
 * ```
 */
export function alexnet(options: AlexNetOptions = {}): AlexNet {
  checkArity("models.alexnet", arguments.length, 1, USAGE);
  return new AlexNet(options);
}
