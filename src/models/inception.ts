/**
 * Inception v3: Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the
 * Inception Architecture for Computer Vision", CVPR 2016, table 1, as
 * torchvision 0.14 builds it (`Inception3`, `inception_v3`): a stem of five
 * BasicConv2d and two max pools, three InceptionA on the 35 x 35 grid,
 * InceptionB, four InceptionC on the 17 x 17 grid (the auxiliary classifier
 * `AuxLogits` reads the last one in training), InceptionD, two InceptionE on
 * the 8 x 8 grid, global average pool, dropout and Linear. State-dict names
 * are torchvision's: `Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch_pool.bn.running_var`,
 * `AuxLogits.fc.weight`, `fc.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Dropout } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { chain } from "../layers/chain.ts";
import { truncNormal_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { InceptionOutputs } from "./aux_outputs.ts";
import { auxKeysHint, INCEPTION_AUX_HEADS } from "./aux_heads.ts";
import {
  auxModelOptions,
  BasicConv2d,
  InceptionA,
  InceptionAux,
  InceptionB,
  InceptionC,
  InceptionD,
  InceptionE,
  release,
  transformInput,
} from "./inception_blocks.ts";

/** Options of `Inception3` and `inceptionV3` (torchvision's keywords in camelCase). */
export interface Inception3Options {
  /**
   * Input channels of `Conv2d_1a_3x3` (default 3). 1 for CT slices builds
   * the stem as a torchvision user replaces it:
   * `model.Conv2d_1a_3x3 = BasicConv2d(1, 32, kernel_size=3, stride=2)`.
   */
  inChannels?: number;
  /** Output classes of `fc` and `AuxLogits.fc` (default 1000). */
  numClasses?: number;
  /**
   * Build the auxiliary classifier `AuxLogits` (default true, torchvision's
   * `aux_logits`); in training `forward` then returns `InceptionOutputs`
   * (logits and auxLogits), which needs inputs of at least 299 x 299.
   */
  auxLogits?: boolean;
  /**
   * Re-normalise the input from ImageNet's mean and std to [-1, 1], the
   * scale of Google's TensorFlow weights (torchvision's `transform_input`,
   * default false). torchvision turns it on when it loads those weights
   * (`inception_v3(weights=...)` without `transform_input`): after
   * `models.loadPretrained` with them, pass true to match. Three channels
   * only; for one-channel CT normalise to [-1, 1] yourself.
   */
  transformInput?: boolean;
  /**
   * Initialise as torchvision (default true; its `init_weights=None` means
   * true with a FutureWarning): convolution and Linear weights
   * truncated-normal with std 0.1 in [-2, 2] (`AuxLogits.fc` std 0.001),
   * batch norms weight 1 and bias 0, Linear biases PyTorch's default. false
   * keeps PyTorch's layer defaults.
   */
  initWeights?: boolean;
  /** Dropout before `fc`, in training (default 0.5). */
  dropout?: number;
}

const DEFAULTS: Required<Inception3Options> = {
  inChannels: 3,
  numClasses: 1000,
  auxLogits: true,
  transformInput: false,
  initWeights: true,
  dropout: 0.5,
};

const USAGE = "models.inceptionV3({ inChannels: 1, numClasses: 3 })";

/** torchvision's keywords that have no option here, and what to write. */
const TORCH_ONLY: Record<string, string> = {
  weights: "weights are not downloaded; load torchvision's state dict with " +
    "models.loadPretrained(model, stateDict) and build with transformInput: true, as " +
    "torchvision's inception_v3(weights=...) does",
  pretrained: "weights are not downloaded; load torchvision's state dict with " +
    "models.loadPretrained(model, stateDict) and build with transformInput: true",
  inceptionBlocks: "the block classes are fixed here (torchvision's inception_blocks serves " +
    "its quantized copy); subclass models.Inception3 and replace its blocks instead",
  inception_blocks: "the block classes are fixed here (torchvision's inception_blocks serves " +
    "its quantized copy); subclass models.Inception3 and replace its blocks instead",
};

/** A side of the map after the stem and each grid reduction (0: too small for that stage). */
function grid(side: number): { mixed5: number; mixed6: number; mixed7: number } {
  const conv = (s: number, k: number, stride: number) => Math.floor((s - k) / stride) + 1;
  let s = conv(side, 3, 2); // Conv2d_1a_3x3
  s = conv(s, 3, 1); // Conv2d_2a_3x3 (2b keeps the size)
  s = conv(s, 3, 2); // maxpool1 (3b keeps it)
  s = conv(s, 3, 1); // Conv2d_4a_3x3
  const mixed5 = conv(s, 3, 2); // maxpool2
  const mixed6 = conv(mixed5, 3, 2); // Mixed_6a
  const mixed7 = conv(mixed6, 3, 2); // Mixed_7a
  return { mixed5: Math.max(mixed5, 0), mixed6: Math.max(mixed6, 0), mixed7: Math.max(mixed7, 0) };
}

/** The smallest side with which each stage has a map: 75 (8 x 8 -> 1 x 1 at Mixed_7a). */
export const INCEPTION_V3_MIN_SIZE = 75;
/**
 * The smallest side with which `AuxLogits` runs (training with
 * `auxLogits`): its 5x5 stride-3 pool and 5x5 convolution need Mixed_6e's
 * 17 x 17 map, which only 299 x 299 and larger give.
 */
export const INCEPTION_V3_AUX_MIN_SIZE = 299;

/**
 * Inception v3 (torchvision's `Inception3`) with the input channels as an
 * option. In evaluation `forward` returns the logits [N, K]; in training
 * with `auxLogits` it returns `InceptionOutputs` { logits, auxLogits }
 * (`const [out, aux] = model.forward(x)`; torchvision's namedtuple), on
 * which the common recipe trains `loss(out) + 0.4 * loss(aux)`
 * (`deno task train` does). Inputs are [N, C, H, W] with H, W >= 75, and
 * >= 299 in training with `auxLogits` (torchvision's 299 x 299).
 *
 * As torchvision's, `auxLogits` (the flag) decides what training returns
 * and `AuxLogits` (the module) whether the head runs: setting
 * `model.auxLogits = false` returns the logits alone but still runs and
 * updates the head's batch norms (set `model.AuxLogits = null` too to skip
 * it). With the flag on and the module null, training throws where
 * torchvision returns `InceptionOutputs(logits, None)`.
 *
 * @example
 * ```ts
 * import { models, type Tensor, zeros } from "@lits/vision";
 * const net = models.inceptionV3({ inChannels: 1, numClasses: 3 }).eval();
 * // forward's type is Tensor | InceptionOutputs: in evaluation it is the logits.
 * console.log((net.forward(zeros([1, 1, 75, 75])) as Tensor).shape); // [1, 3]
 * net.train();
 * const out = net.forward(zeros([2, 1, 299, 299]));
 * if (out instanceof models.InceptionOutputs) {
 *   const [logits, aux] = out;
 *   console.log(logits.shape, aux.shape); // [2, 3] [2, 3]
 * }
 * ```
 */
export class Inception3 extends Module {
  /** 3x3 stride 2 to 32. */
  Conv2d_1a_3x3: BasicConv2d;
  /** 3x3 to 32. */
  Conv2d_2a_3x3: BasicConv2d;
  /** 3x3 (padding 1) to 64. */
  Conv2d_2b_3x3: BasicConv2d;
  /** 3x3 stride-2 max pool. */
  maxpool1: MaxPool2d;
  /** 1x1 to 80. */
  Conv2d_3b_1x1: BasicConv2d;
  /** 3x3 to 192. */
  Conv2d_4a_3x3: BasicConv2d;
  /** 3x3 stride-2 max pool. */
  maxpool2: MaxPool2d;
  /** InceptionA, 192 -> 256. */
  Mixed_5b: InceptionA;
  /** InceptionA, 256 -> 288. */
  Mixed_5c: InceptionA;
  /** InceptionA, 288 -> 288. */
  Mixed_5d: InceptionA;
  /** InceptionB, 288 -> 768 (35 -> 17). */
  Mixed_6a: InceptionB;
  /** InceptionC (c7 128). */
  Mixed_6b: InceptionC;
  /** InceptionC (c7 160). */
  Mixed_6c: InceptionC;
  /** InceptionC (c7 160). */
  Mixed_6d: InceptionC;
  /** InceptionC (c7 192). */
  Mixed_6e: InceptionC;
  /** The auxiliary classifier on Mixed_6e's output, run in training; null without one. */
  AuxLogits: InceptionAux | null;
  /** InceptionD, 768 -> 1280 (17 -> 8). */
  Mixed_7a: InceptionD;
  /** InceptionE, 1280 -> 2048. */
  Mixed_7b: InceptionE;
  /** InceptionE, 2048 -> 2048. */
  Mixed_7c: InceptionE;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Dropout before fc. */
  dropout: Dropout;
  /** Linear 2048 -> classes. */
  fc: Linear;
  /** Whether training returns `InceptionOutputs` (torchvision's `aux_logits`). */
  auxLogits: boolean;
  /** Whether forward re-normalises the input first (torchvision's `transform_input`). */
  transformInput: boolean;
  /** The options the model was built with (a layer replaced later is not reflected). */
  readonly options: Required<Inception3Options>;

  /** torchvision's `Inception3(num_classes, aux_logits, transform_input, init_weights, dropout)`, and `inChannels`. */
  constructor(options: Inception3Options = {}) {
    super();
    const where = "models.Inception3";
    checkArity(where, arguments.length, 1, USAGE);
    const o = auxModelOptions(where, options, DEFAULTS, USAGE, TORCH_ONLY);
    if (o.transformInput && o.inChannels !== 3) {
      throw new Error(
        `${where}: transformInput re-normalises ImageNet's three channels (torchvision's ` +
          `transform_input), and inChannels is ${o.inChannels}; leave it out (false) and ` +
          "normalise the input to [-1, 1] yourself (x * 2 - 1 for values in [0, 1]), as " +
          "Google's weights expect",
      );
    }
    this.options = o;
    this.Conv2d_1a_3x3 = new BasicConv2d(o.inChannels, 32, 3, { stride: 2 });
    this.Conv2d_2a_3x3 = new BasicConv2d(32, 32, 3);
    this.Conv2d_2b_3x3 = new BasicConv2d(32, 64, 3, { padding: 1 });
    this.maxpool1 = new MaxPool2d(3, { stride: 2 });
    this.Conv2d_3b_1x1 = new BasicConv2d(64, 80, 1);
    this.Conv2d_4a_3x3 = new BasicConv2d(80, 192, 3);
    this.maxpool2 = new MaxPool2d(3, { stride: 2 });
    this.Mixed_5b = new InceptionA(192, 32);
    this.Mixed_5c = new InceptionA(256, 64);
    this.Mixed_5d = new InceptionA(288, 64);
    this.Mixed_6a = new InceptionB(288);
    this.Mixed_6b = new InceptionC(768, 128);
    this.Mixed_6c = new InceptionC(768, 160);
    this.Mixed_6d = new InceptionC(768, 160);
    this.Mixed_6e = new InceptionC(768, 192);
    this.AuxLogits = o.auxLogits ? new InceptionAux(768, o.numClasses) : null;
    this.Mixed_7a = new InceptionD(768);
    this.Mixed_7b = new InceptionE(1280);
    this.Mixed_7c = new InceptionE(2048);
    this.avgpool = new AdaptiveAvgPool2d([1, 1]);
    this.dropout = new Dropout(o.dropout);
    this.fc = new Linear(2048, o.numClasses);
    this.auxLogits = o.auxLogits;
    this.transformInput = o.transformInput;
    if (o.initWeights) this.#initialise();
  }

  /**
   * torchvision's loop: every Conv2d and Linear weight truncated-normal in
   * [-2, 2] with std 0.1, or the module's `stddev` where it has one. Only
   * `AuxLogits.fc` (0.001) has one as torchvision reads it: its 0.01 on
   * `AuxLogits.conv1` sits on the BasicConv2d, not on the nn.Conv2d the
   * loop looks at, so that convolution gets 0.1 as well. Batch norms are
   * already weight 1 and bias 0.
   */
  #initialise(): void {
    const auxFc = this.AuxLogits?.fc;
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        truncNormal_(m.weight, { mean: 0, std: m === auxFc ? 0.001 : 0.1, a: -2, b: 2 });
      }
    }
  }

  /** Strict loadStateDict's key error names `auxLogits` when the aux heads are what differs. */
  protected override stateKeysHint(missing: string[], unexpected: string[]): string {
    return auxKeysHint(this, INCEPTION_AUX_HEADS, missing, unexpected);
  }

  /**
   * What `forward` accepts (its error messages and ONNX export), read from
   * `Conv2d_1a_3x3` as it is now, so a replaced stem sets the channels.
   */
  get inputSpec(): InputSpec {
    const stem = this.Conv2d_1a_3x3;
    const first = stem instanceof BasicConv2d
      ? firstLayer("Conv2d_1a_3x3.conv", stem.conv)
      : firstLayer("Conv2d_1a_3x3", stem);
    return {
      model: "Inception v3",
      ...first,
      sizeLayer: "Mixed_7a (InceptionD), whose 3x3 stride-2 convolutions need a 3 x 3 map",
      minSize: INCEPTION_V3_MIN_SIZE,
    };
  }

  /**
   * x [N, C, H, W] -> logits [N, K] in evaluation, or in training with
   * `auxLogits` `InceptionOutputs` { logits, auxLogits } (torchvision's
   * `InceptionOutputs`).
   */
  forward(x: Tensor): Tensor | InceptionOutputs {
    checkInput(x, this.inputSpec);
    const head = this.training ? this.AuxLogits : null;
    if (this.training && this.auxLogits && head === null) {
      throw new Error(
        "Inception v3: auxLogits is true but AuxLogits is null, so training has no auxiliary " +
          "logits to return (torchvision's would return InceptionOutputs(logits, None)); set " +
          "model.auxLogits = false too, for the logits alone",
      );
    }
    if (head !== null) this.#checkAuxSize(x);
    const input = this.transformInput ? transformInput(x, "Inception v3") : x;
    const grid17 = chain(input, [
      (t) => this.Conv2d_1a_3x3.forward(t),
      (t) => this.Conv2d_2a_3x3.forward(t),
      (t) => this.Conv2d_2b_3x3.forward(t),
      (t) => this.maxpool1.forward(t),
      (t) => this.Conv2d_3b_1x1.forward(t),
      (t) => this.Conv2d_4a_3x3.forward(t),
      (t) => this.maxpool2.forward(t),
      (t) => this.Mixed_5b.forward(t),
      (t) => this.Mixed_5c.forward(t),
      (t) => this.Mixed_5d.forward(t),
      (t) => this.Mixed_6a.forward(t),
      (t) => this.Mixed_6b.forward(t),
      (t) => this.Mixed_6c.forward(t),
      (t) => this.Mixed_6d.forward(t),
      (t) => this.Mixed_6e.forward(t),
    ]);
    const aux = head === null ? null : head.forward(grid17);
    const logits = chain(grid17, [
      (t) => this.Mixed_7a.forward(t),
      (t) => this.Mixed_7b.forward(t),
      (t) => this.Mixed_7c.forward(t),
      (t) => this.avgpool.forward(t),
      (t) => this.dropout.forward(t),
      (t) => flatten(t, 1),
      (t) => this.fc.forward(t),
    ]);
    release(grid17, ...(input === x ? [] : [input]));
    if (this.training && this.auxLogits) return new InceptionOutputs(logits, aux!);
    if (aux !== null) release(aux);
    return logits;
  }

  /** Throws unless AuxLogits gets the 17 x 17 map it needs. */
  #checkAuxSize(x: Tensor): void {
    const [, , h, w] = x.shape;
    if (grid(h).mixed6 >= 17 && grid(w).mixed6 >= 17) return;
    throw new Error(
      `Inception v3: input [${x.shape}] is too small for AuxLogits (InceptionAux), which runs ` +
        `in training: its 5x5 stride-3 pool and 5x5 convolution need Mixed_6e's 17 x 17 map, ` +
        `from H, W >= ${INCEPTION_V3_AUX_MIN_SIZE} (this input gives ${grid(h).mixed6} x ` +
        `${grid(w).mixed6}); resize to 299 x 299 as torchvision's weights expect ` +
        `(--image-size 299), or build without it: models.inceptionV3({ auxLogits: false })`,
    );
  }
}

addNameHints(Inception3.prototype, "Inception3", {
  aux_logits: "write model.auxLogits",
  transform_input: "write model.transformInput",
});

/**
 * Inception v3 (torchvision's `inception_v3`; 27,161,264 parameters with the
 * defaults, 23,834,568 without `AuxLogits`).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.inceptionV3().numParameters()); // 27161264
 * console.log(models.inceptionV3({ auxLogits: false }).numParameters()); // 23834568
 * ```
 */
export function inceptionV3(options: Inception3Options = {}): Inception3 {
  checkArity("models.inceptionV3", arguments.length, 1, USAGE);
  return new Inception3(options);
}
