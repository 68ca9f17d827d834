/**
 * SqueezeNet: Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x
 * fewer parameters and <0.5MB model size", 2016, as torchvision 0.14
 * builds it: version 1.0 (the paper's Table 1) and version 1.1 (from the
 * authors' repository: a 3 x 3 stem of 64 filters and earlier pooling, 2.4x
 * less computation). Fire modules, then a classifier of Dropout, a 1 x 1
 * convolution to the classes, ReLU and global average pooling. Same names as
 * torchvision: `features.0.weight`, `features.3.squeeze.weight`, ...,
 * `classifier.1.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { cat } from "../tensor/ops/join.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Dropout, ReLU } from "../layers/basic.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { constant_, kaimingUniform_, normal_ } from "../layers/init.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { checkArity, checkOptions } from "../options.ts";
import { modelOptions } from "./defaults.ts";
import { checkCount, checkProbability } from "./mobile_blocks.ts";

const USAGE = "models.squeezenet1_1({ inChannels: 1, numClasses: 3, dropout: 0.5 })";
const CLASS_USAGE = 'new models.SqueezeNet({ version: "1_1", inChannels: 1, numClasses: 3 })';
const FIRE_USAGE = "new models.Fire(96, 16, 64, 64)";

/** torchvision's SqueezeNet versions. */
export type SqueezeNetVersion = "1_0" | "1_1";

/**
 * The architectures: the stem convolution (no padding, then ReLU), then one
 * entry per layer, "M" a 3 x 3 max-pool of stride 2 in ceil mode, a triple
 * a Fire module's squeeze, expand-1x1 and expand-3x3 channels.
 */
export const SQUEEZENET: Readonly<
  Record<SqueezeNetVersion, {
    stem: { channels: number; kernel: number; stride: number };
    layers: readonly ("M" | readonly [number, number, number])[];
  }>
> = {
  "1_0": {
    stem: { channels: 96, kernel: 7, stride: 2 },
    layers: [
      "M",
      [16, 64, 64],
      [16, 64, 64],
      [32, 128, 128],
      "M",
      [32, 128, 128],
      [48, 192, 192],
      [48, 192, 192],
      [64, 256, 256],
      "M",
      [64, 256, 256],
    ],
  },
  "1_1": {
    stem: { channels: 64, kernel: 3, stride: 2 },
    layers: [
      "M",
      [16, 64, 64],
      [16, 64, 64],
      "M",
      [32, 128, 128],
      [32, 128, 128],
      "M",
      [48, 192, 192],
      [48, 192, 192],
      [64, 256, 256],
      [64, 256, 256],
    ],
  },
};

/**
 * Smallest input height and width of each version (torchvision's
 * `min_size`): the last max-pool needs a 2 x 2 map (ceil mode), which
 * 1.0 reaches from 21 (21 -> 8 -> 4 -> 2 -> 1) and 1.1 from 17
 * (17 -> 8 -> 4 -> 2 -> 1).
 */
export const SQUEEZENET_MIN_SIZE: Readonly<Record<SqueezeNetVersion, number>> = {
  "1_0": 21,
  "1_1": 17,
};

/**
 * The Fire module (Fig. 2): a 1 x 1 "squeeze" convolution and ReLU, then
 * 1 x 1 and 3 x 3 (padding 1) "expand" convolutions, each with its ReLU,
 * concatenated along the channels. torchvision's names.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const fire = new models.Fire(96, 16, 64, 64);
 * console.log(fire(zeros([1, 96, 8, 8])).shape); // [1, 128, 8, 8]
 * ```
 */
export class Fire extends Module {
  /** Input channels (torchvision's `inplanes`). */
  readonly inplanes: number;
  /** 1 x 1 convolution to the squeeze channels. */
  squeeze: Conv2d;
  /** ReLU after `squeeze`. */
  squeeze_activation: ReLU;
  /** 1 x 1 expand convolution. */
  expand1x1: Conv2d;
  /** ReLU after `expand1x1`. */
  expand1x1_activation: ReLU;
  /** 3 x 3 expand convolution (padding 1). */
  expand3x3: Conv2d;
  /** ReLU after `expand3x3`. */
  expand3x3_activation: ReLU;

  constructor(
    inplanes: number,
    squeezePlanes: number,
    expand1x1Planes: number,
    expand3x3Planes: number,
  ) {
    super();
    const where = "models.Fire";
    if (arguments.length !== 4) {
      throw new Error(
        `${where}: takes inplanes, squeezePlanes, expand1x1Planes and expand3x3Planes ` +
          `(4 arguments), got ${arguments.length}; write ${FIRE_USAGE}`,
      );
    }
    checkCount(where, "inplanes", inplanes, FIRE_USAGE);
    checkCount(where, "squeezePlanes", squeezePlanes, FIRE_USAGE);
    checkCount(where, "expand1x1Planes", expand1x1Planes, FIRE_USAGE);
    checkCount(where, "expand3x3Planes", expand3x3Planes, FIRE_USAGE);
    this.inplanes = inplanes;
    this.squeeze = new Conv2d(inplanes, squeezePlanes, 1);
    this.squeeze_activation = new ReLU();
    this.expand1x1 = new Conv2d(squeezePlanes, expand1x1Planes, 1);
    this.expand1x1_activation = new ReLU();
    this.expand3x3 = new Conv2d(squeezePlanes, expand3x3Planes, 3, { padding: 1 });
    this.expand3x3_activation = new ReLU();
  }

  /** x [N, inplanes, H, W] -> [N, expand1x1Planes + expand3x3Planes, H, W]. */
  forward(x: Tensor): Tensor {
    const s = this.squeeze_activation(this.squeeze(x));
    return cat([
      this.expand1x1_activation(this.expand1x1(s)),
      this.expand3x3_activation(this.expand3x3(s)),
    ], 1);
  }
}

/** Options of `SqueezeNet` (torchvision's keywords, and the input channels). */
export interface SqueezeNetOptions {
  /** "1_0" (default) or "1_1", as torchvision's `version`. */
  version?: SqueezeNetVersion;
  /** Input channels (default 3). */
  inChannels?: number;
  /** Output classes (default 1000). */
  numClasses?: number;
  /** Dropout probability before the final convolution (default 0.5). */
  dropout?: number;
}

const DEFAULTS: Required<SqueezeNetOptions> = {
  version: "1_0",
  inChannels: 3,
  numClasses: 1000,
  dropout: 0.5,
};

/**
 * SqueezeNet as torchvision builds it, initialised as torchvision's: the
 * final convolution N(0, 0.01), the others kaiming-uniform (torch's
 * defaults: a = 0, fan_in), all biases 0. The logits are non-negative (the
 * final convolution is followed by ReLU, as in the paper).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const net = new models.SqueezeNet({ version: "1_1", inChannels: 1, numClasses: 3 });
 * console.log(net.numParameters()); // 722883
 * console.log(net.eval()(zeros([1, 1, 17, 17])).shape); // [1, 3]
 * ```
 */
export class SqueezeNet extends Module {
  /** Stem convolution, ReLU, max-pools and Fire modules (indices as torchvision's). */
  features: Sequential;
  /** Dropout, Conv2d(512, numClasses, 1), ReLU, AdaptiveAvgPool2d(1). */
  classifier: Sequential;
  /**
   * The options the model was built with. A layer replaced later
   * (features[0], the final convolution) is not reflected here: read the
   * layer itself, as `inputSpec` does.
   */
  readonly options: Required<SqueezeNetOptions>;

  constructor(options: SqueezeNetOptions = {}) {
    super();
    const where = "models.SqueezeNet";
    checkArity(where, arguments.length, 1, CLASS_USAGE);
    if (typeof options === "string") {
      throw new Error(
        `${where}: the version is an option: write new models.SqueezeNet({ version: ` +
          `${JSON.stringify(options)} }) or models.squeezenet${options}()`,
      );
    }
    const o = modelOptions(where, options, DEFAULTS, CLASS_USAGE);
    if (!Object.hasOwn(SQUEEZENET, o.version)) {
      throw new Error(
        `${where}: unsupported version ${JSON.stringify(o.version)}: "1_0" or "1_1" expected; ` +
          `write ${CLASS_USAGE}`,
      );
    }
    checkCount(where, "inChannels", o.inChannels, CLASS_USAGE);
    checkCount(where, "numClasses", o.numClasses, CLASS_USAGE);
    checkProbability(where, "dropout", o.dropout, CLASS_USAGE);
    this.options = o;
    const arch = SQUEEZENET[o.version];
    const { channels, kernel, stride } = arch.stem;
    const layers: Module[] = [new Conv2d(o.inChannels, channels, kernel, { stride }), new ReLU()];
    let c = channels;
    for (const l of arch.layers) {
      if (l === "M") {
        layers.push(new MaxPool2d(3, { stride: 2, ceilMode: true }));
        continue;
      }
      layers.push(new Fire(c, l[0], l[1], l[2]));
      c = l[1] + l[2];
    }
    this.features = new Sequential(...layers);
    const finalConv = new Conv2d(c, o.numClasses, 1);
    this.classifier = new Sequential(
      new Dropout(o.dropout),
      finalConv,
      new ReLU(),
      new AdaptiveAvgPool2d([1, 1]),
    );
    for (const m of this.modules()) {
      if (!(m instanceof Conv2d)) continue;
      if (m === finalConv) normal_(m.weight, 0, 0.01);
      else kaimingUniform_(m.weight);
      if (m.bias) constant_(m.bias, 0);
    }
  }

  /**
   * What `forward` accepts (used for its error messages and by ONNX export);
   * the channels are read from features[0] as it is now, so a replaced stem
   * sets them.
   */
  get inputSpec(): InputSpec {
    const v = this.options.version;
    const last = this.features.namedChildren();
    let lastPool = "";
    for (const [name, m] of last) if (m instanceof MaxPool2d) lastPool = name;
    return {
      model: `SqueezeNet ${v.replace("_", ".")}`,
      ...firstLayer("features.0", this.features[0]),
      sizeLayer: `features.${lastPool} (MaxPool2d), which needs a 2 x 2 map`,
      minSize: SQUEEZENET_MIN_SIZE[v],
    };
  }

  /** x [N, inChannels, H, W] (H, W >= 21 for 1.0, 17 for 1.1) -> logits [N, numClasses]. */
  forward(x: Tensor): Tensor {
    checkInput(x, this.inputSpec);
    x = this.features.forward(x);
    x = this.classifier.forward(x);
    return flatten(x, 1);
  }
}

/** The options of `squeezenet1_0` and `squeezenet1_1`: `SqueezeNetOptions` but the version. */
export type SqueezeNetModelOptions = Omit<SqueezeNetOptions, "version">;

function build(where: string, version: SqueezeNetVersion, options: unknown): SqueezeNet {
  const usage = `models.${where}({ inChannels: 1, numClasses: 3, dropout: 0.5 })`;
  const o = checkOptions<SqueezeNetModelOptions>(
    `models.${where}`,
    options,
    ["inChannels", "numClasses", "dropout"],
    usage,
  );
  return new SqueezeNet({ ...o, version });
}

/**
 * torchvision's `squeezenet1_0` (1,248,424 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.squeezenet1_0().numParameters()); // 1248424
 * ```
 */
export function squeezenet1_0(options: SqueezeNetModelOptions = {}): SqueezeNet {
  checkArity("models.squeezenet1_0", arguments.length, 1, USAGE);
  return build("squeezenet1_0", "1_0", options);
}

/**
 * torchvision's `squeezenet1_1` (1,235,496 parameters with the defaults).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.squeezenet1_1({ inChannels: 1, numClasses: 3 }).numParameters()); // 722883
 * ```
 */
export function squeezenet1_1(options: SqueezeNetModelOptions = {}): SqueezeNet {
  checkArity("models.squeezenet1_1", arguments.length, 1, USAGE);
  return build("squeezenet1_1", "1_1", options);
}
