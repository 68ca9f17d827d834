/**
 * GoogLeNet (Inception v1): Szegedy, Liu, Jia, Sermanet, Reed, Anguelov,
 * Erhan, Vanhoucke & Rabinovich, "Going Deeper with Convolutions", CVPR
 * 2015, table 1, as torchvision 0.14 builds it (`GoogLeNet`, `googlenet`,
 * after TensorFlow's port: batch norm in every BasicConv2d): a 7x7 stride-2
 * stem, 1x1 and 3x3 convolutions, nine Inception blocks (3a, 3b, 4a-4e,
 * 5a, 5b) between ceil-mode max pools, two auxiliary classifiers `aux1`
 * (after 4a) and `aux2` (after 4d) run in training, global average pool,
 * dropout 0.2 and Linear. State-dict names are torchvision's:
 * `conv1.conv.weight`, `inception3a.branch2.1.bn.running_var`,
 * `aux1.fc1.weight`, `fc.bias`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { relu } from "../tensor/ops/elementwise.ts";
import { adaptiveAvgPool2d } from "../tensor/ops/pool.ts";
import { addNameHints } from "../tensor/torch_names.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { Dropout } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { AdaptiveAvgPool2d, MaxPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { chain } from "../layers/chain.ts";
import { truncNormal_ } from "../layers/init.ts";
import { checkArity } from "../options.ts";
import { checkInput, firstLayer, type InputSpec } from "./input.ts";
import { GoogLeNetOutputs } from "./aux_outputs.ts";
import { auxKeysHint, GOOGLENET_AUX_HEADS } from "./aux_heads.ts";
import {
  auxModelOptions,
  BasicConv2d,
  catBranches,
  release,
  transformInput,
} from "./inception_blocks.ts";

/**
 * GoogLeNet's Inception block (torchvision's `googlenet.Inception`): 1x1 to
 * `ch1x1`; 1x1 to `ch3x3red` -> 3x3 to `ch3x3`; 1x1 to `ch5x5red` -> 3x3 to
 * `ch5x5` (3x3, not the paper's 5x5: torchvision's known slip,
 * pytorch/vision#906, which its weights carry); 3x3 stride-1 max pool ->
 * 1x1 to `poolProj`; concatenated.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const block = new models.GoogLeNetInception(192, 64, 96, 128, 16, 32, 32);
 * console.log(block.forward(zeros([1, 192, 7, 7])).shape); // [1, 256, 7, 7]
 * console.log([...block.stateDict().keys()][5]); // "branch2.0.conv.weight"
 * ```
 */
export class GoogLeNetInception extends Module {
  /** 1x1 to ch1x1. */
  branch1: BasicConv2d;
  /** 1x1 to ch3x3red, 3x3 to ch3x3. */
  branch2: Sequential;
  /** 1x1 to ch5x5red, 3x3 to ch5x5. */
  branch3: Sequential;
  /** 3x3 max pool (stride 1, padding 1, ceil mode), 1x1 to poolProj. */
  branch4: Sequential;

  /** Table 1's columns: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5 (here 3x3), pool proj. */
  constructor(
    inChannels: number,
    ch1x1: number,
    ch3x3red: number,
    ch3x3: number,
    ch5x5red: number,
    ch5x5: number,
    poolProj: number,
  ) {
    super();
    this.branch1 = new BasicConv2d(inChannels, ch1x1, 1);
    this.branch2 = new Sequential(
      new BasicConv2d(inChannels, ch3x3red, 1),
      new BasicConv2d(ch3x3red, ch3x3, 3, { padding: 1 }),
    );
    this.branch3 = new Sequential(
      new BasicConv2d(inChannels, ch5x5red, 1),
      new BasicConv2d(ch5x5red, ch5x5, 3, { padding: 1 }),
    );
    this.branch4 = new Sequential(
      new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }),
      new BasicConv2d(inChannels, poolProj, 1),
    );
  }

  /** cat([branch1, branch2, branch3, branch4](x), 1). */
  forward(x: Tensor): Tensor {
    return catBranches([
      this.branch1.forward(x),
      this.branch2.forward(x),
      this.branch3.forward(x),
      this.branch4.forward(x),
    ]);
  }
}

/**
 * GoogLeNet's auxiliary classifier (torchvision's `googlenet.InceptionAux`):
 * adaptive average pool to 4 x 4, 1x1 to 128, Linear 2048 -> 1024, ReLU,
 * dropout (`dropout`, default 0.7), Linear to the classes.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.GoogLeNetAux(512, 3).forward(zeros([2, 512, 14, 14])).shape); // [2, 3]
 * ```
 */
export class GoogLeNetAux extends Module {
  /** 1x1 to 128. */
  conv: BasicConv2d;
  /** Linear 128 * 4 * 4 -> 1024. */
  fc1: Linear;
  /** Linear 1024 -> classes. */
  fc2: Linear;
  /** Dropout between fc1 and fc2. */
  dropout: Dropout;

  /** From `inChannels` (512 for aux1, 528 for aux2) to `numClasses`, `dropout` before fc2. */
  constructor(inChannels: number, numClasses: number, dropout = 0.7) {
    super();
    checkArity("models.GoogLeNetAux", arguments.length, 3, "new models.GoogLeNetAux(512, 3, 0.7)");
    this.conv = new BasicConv2d(inChannels, 128, 1);
    this.fc1 = new Linear(2048, 1024);
    this.fc2 = new Linear(1024, numClasses);
    this.dropout = new Dropout(dropout);
  }

  /** fc2(dropout(relu(fc1(flatten(conv(adaptiveAvgPool2d(x, 4))))))). */
  forward(x: Tensor): Tensor {
    return chain(x, [
      (t) => adaptiveAvgPool2d(t, [4, 4]),
      (t) => this.conv.forward(t),
      (t) => relu(this.fc1.forward(flatten(t, 1))),
      (t) => this.dropout.forward(t),
      (t) => this.fc2.forward(t),
    ]);
  }
}

/** Options of `GoogLeNet` and `googlenet` (torchvision's keywords in camelCase). */
export interface GoogLeNetOptions {
  /**
   * Input channels of `conv1` (default 3). 1 for CT slices builds the stem
   * as a torchvision user replaces it: `model.conv1 = BasicConv2d(1, 64,
   * kernel_size=7, stride=2, padding=3)`.
   */
  inChannels?: number;
  /** Output classes of `fc`, `aux1.fc2` and `aux2.fc2` (default 1000). */
  numClasses?: number;
  /**
   * Build the auxiliary classifiers `aux1` and `aux2` (default true,
   * torchvision's `aux_logits`); in training `forward` then returns
   * `GoogLeNetOutputs`.
   */
  auxLogits?: boolean;
  /**
   * Re-normalise the input from ImageNet's mean and std to [-1, 1], the
   * scale of Google's weights (torchvision's `transform_input`, default
   * false; torchvision turns it on when it loads its weights). Three
   * channels only.
   */
  transformInput?: boolean;
  /**
   * Initialise as torchvision (default true): convolution and Linear weights
   * truncated-normal with std 0.01 in [-2, 2], batch norms weight 1 and bias
   * 0, Linear biases PyTorch's default. false keeps PyTorch's layer defaults.
   */
  initWeights?: boolean;
  /** Dropout before `fc`, in training (default 0.2). */
  dropout?: number;
  /** Dropout inside `aux1` and `aux2`, in training (torchvision's `dropout_aux`, default 0.7). */
  dropoutAux?: number;
}

const DEFAULTS: Required<GoogLeNetOptions> = {
  inChannels: 3,
  numClasses: 1000,
  auxLogits: true,
  transformInput: false,
  initWeights: true,
  dropout: 0.2,
  dropoutAux: 0.7,
};

const USAGE = "models.googlenet({ inChannels: 1, numClasses: 3 })";

/** torchvision's keywords that have no option here, and what to write. */
const TORCH_ONLY: Record<string, string> = {
  weights: "weights are not downloaded; load torchvision's state dict with " +
    "models.loadPretrained(model, stateDict) and build with transformInput: true, as " +
    "torchvision's googlenet(weights=...) does (its auxiliary heads are not pretrained)",
  pretrained: "weights are not downloaded; load torchvision's state dict with " +
    "models.loadPretrained(model, stateDict) and build with transformInput: true",
  blocks: "the block classes are fixed here (torchvision's blocks serves its quantized copy); " +
    "subclass models.GoogLeNet and replace its blocks instead",
};

/** The smallest side GoogLeNet takes: 15 (maxpool3 then gets a 2 x 2 map). */
export const GOOGLENET_MIN_SIZE = 15;

/**
 * GoogLeNet (torchvision's `GoogLeNet`) with the input channels as an
 * option. In evaluation `forward` returns the logits [N, K]; in training
 * with `auxLogits` it returns `GoogLeNetOutputs` { logits, auxLogits2,
 * auxLogits1 } (`const [out, aux2, aux1] = model.forward(x)`), on which the
 * paper trains `loss(out) + 0.3 * (loss(aux1) + loss(aux2))` (`deno task
 * train` does). Inputs are [N, C, H, W] with H, W >= 15.
 *
 * As torchvision's, `auxLogits` (the flag) decides what training returns
 * and `aux1` / `aux2` (the modules) whether the heads run; with the flag on
 * and a head null, training throws where torchvision returns None in its
 * place.
 *
 * @example
 * ```ts
 * import { models, type Tensor, zeros } from "@lits/vision";
 * const net = models.googlenet({ inChannels: 1, numClasses: 3 }).eval();
 * // forward's type is Tensor | GoogLeNetOutputs: in evaluation it is the logits.
 * console.log((net.forward(zeros([1, 1, 32, 32])) as Tensor).shape); // [1, 3]
 * const out = net.train().forward(zeros([2, 1, 32, 32]));
 * if (out instanceof models.GoogLeNetOutputs) console.log(out.auxLogits1.shape); // [2, 3]
 * ```
 */
export class GoogLeNet extends Module {
  /** 7x7 stride 2 to 64. */
  conv1: BasicConv2d;
  /** 3x3 stride-2 max pool, ceil mode. */
  maxpool1: MaxPool2d;
  /** 1x1 to 64. */
  conv2: BasicConv2d;
  /** 3x3 to 192. */
  conv3: BasicConv2d;
  /** 3x3 stride-2 max pool, ceil mode. */
  maxpool2: MaxPool2d;
  /** 192 -> 256. */
  inception3a: GoogLeNetInception;
  /** 256 -> 480. */
  inception3b: GoogLeNetInception;
  /** 3x3 stride-2 max pool, ceil mode. */
  maxpool3: MaxPool2d;
  /** 480 -> 512. */
  inception4a: GoogLeNetInception;
  /** 512 -> 512. */
  inception4b: GoogLeNetInception;
  /** 512 -> 512. */
  inception4c: GoogLeNetInception;
  /** 512 -> 528. */
  inception4d: GoogLeNetInception;
  /** 528 -> 832. */
  inception4e: GoogLeNetInception;
  /** 2x2 stride-2 max pool, ceil mode. */
  maxpool4: MaxPool2d;
  /** 832 -> 832. */
  inception5a: GoogLeNetInception;
  /** 832 -> 1024. */
  inception5b: GoogLeNetInception;
  /** Auxiliary classifier on inception4a's output, run in training; null without. */
  aux1: GoogLeNetAux | null;
  /** Auxiliary classifier on inception4d's output, run in training; null without. */
  aux2: GoogLeNetAux | null;
  /** Global average pool. */
  avgpool: AdaptiveAvgPool2d;
  /** Dropout before fc. */
  dropout: Dropout;
  /** Linear 1024 -> classes. */
  fc: Linear;
  /** Whether training returns `GoogLeNetOutputs` (torchvision's `aux_logits`). */
  auxLogits: boolean;
  /** Whether forward re-normalises the input first (torchvision's `transform_input`). */
  transformInput: boolean;
  /** The options the model was built with (a layer replaced later is not reflected). */
  readonly options: Required<GoogLeNetOptions>;

  /** torchvision's `GoogLeNet(num_classes, aux_logits, transform_input, init_weights, dropout, dropout_aux)`, and `inChannels`. */
  constructor(options: GoogLeNetOptions = {}) {
    super();
    const where = "models.GoogLeNet";
    checkArity(where, arguments.length, 1, USAGE);
    const o = auxModelOptions(where, options, DEFAULTS, USAGE, TORCH_ONLY);
    if (o.transformInput && o.inChannels !== 3) {
      throw new Error(
        `${where}: transformInput re-normalises ImageNet's three channels (torchvision's ` +
          `transform_input), and inChannels is ${o.inChannels}; leave it out (false) and ` +
          "normalise the input yourself",
      );
    }
    this.options = o;
    const pool = (k: number) => new MaxPool2d(k, { stride: 2, ceilMode: true });
    this.conv1 = new BasicConv2d(o.inChannels, 64, 7, { stride: 2, padding: 3 });
    this.maxpool1 = pool(3);
    this.conv2 = new BasicConv2d(64, 64, 1);
    this.conv3 = new BasicConv2d(64, 192, 3, { padding: 1 });
    this.maxpool2 = pool(3);
    // Table 1's columns: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
    this.inception3a = new GoogLeNetInception(192, 64, 96, 128, 16, 32, 32);
    this.inception3b = new GoogLeNetInception(256, 128, 128, 192, 32, 96, 64);
    this.maxpool3 = pool(3);
    this.inception4a = new GoogLeNetInception(480, 192, 96, 208, 16, 48, 64);
    this.inception4b = new GoogLeNetInception(512, 160, 112, 224, 24, 64, 64);
    this.inception4c = new GoogLeNetInception(512, 128, 128, 256, 24, 64, 64);
    this.inception4d = new GoogLeNetInception(512, 112, 144, 288, 32, 64, 64);
    this.inception4e = new GoogLeNetInception(528, 256, 160, 320, 32, 128, 128);
    this.maxpool4 = pool(2);
    this.inception5a = new GoogLeNetInception(832, 256, 160, 320, 32, 128, 128);
    this.inception5b = new GoogLeNetInception(832, 384, 192, 384, 48, 128, 128);
    this.aux1 = o.auxLogits ? new GoogLeNetAux(512, o.numClasses, o.dropoutAux) : null;
    this.aux2 = o.auxLogits ? new GoogLeNetAux(528, o.numClasses, o.dropoutAux) : null;
    this.avgpool = new AdaptiveAvgPool2d([1, 1]);
    this.dropout = new Dropout(o.dropout);
    this.fc = new Linear(1024, o.numClasses);
    this.auxLogits = o.auxLogits;
    this.transformInput = o.transformInput;
    if (o.initWeights) {
      for (const m of this.modules()) {
        if (m instanceof Conv2d || m instanceof Linear) {
          truncNormal_(m.weight, { mean: 0, std: 0.01, a: -2, b: 2 });
        }
      }
    }
  }

  /** Strict loadStateDict's key error names `auxLogits` when the aux heads are what differs. */
  protected override stateKeysHint(missing: string[], unexpected: string[]): string {
    return auxKeysHint(this, GOOGLENET_AUX_HEADS, missing, unexpected);
  }

  /** What `forward` accepts, read from `conv1` as it is now. */
  get inputSpec(): InputSpec {
    const stem = this.conv1;
    const first = stem instanceof BasicConv2d
      ? firstLayer("conv1.conv", stem.conv)
      : firstLayer("conv1", stem);
    return {
      model: "GoogLeNet",
      ...first,
      sizeLayer: "maxpool3 (MaxPool2d 3x3, stride 2), which needs a 2 x 2 map",
      minSize: GOOGLENET_MIN_SIZE,
    };
  }

  /**
   * x [N, C, H, W] -> logits [N, K] in evaluation, or in training with
   * `auxLogits` `GoogLeNetOutputs` { logits, auxLogits2, auxLogits1 }.
   */
  forward(x: Tensor): Tensor | GoogLeNetOutputs {
    checkInput(x, this.inputSpec);
    const [h1, h2] = this.training ? [this.aux1, this.aux2] : [null, null];
    if (this.training && this.auxLogits && (this.aux1 === null || this.aux2 === null)) {
      throw new Error(
        "GoogLeNet: auxLogits is true but aux1 or aux2 is null, so training has no " +
          "auxiliary logits to return (torchvision's would return None in their place); set " +
          "model.auxLogits = false too, for the logits alone",
      );
    }
    const input = this.transformInput ? transformInput(x, "GoogLeNet") : x;
    const at4a = chain(input, [
      (t) => this.conv1.forward(t),
      (t) => this.maxpool1.forward(t),
      (t) => this.conv2.forward(t),
      (t) => this.conv3.forward(t),
      (t) => this.maxpool2.forward(t),
      (t) => this.inception3a.forward(t),
      (t) => this.inception3b.forward(t),
      (t) => this.maxpool3.forward(t),
      (t) => this.inception4a.forward(t),
    ]);
    const aux1 = h1 === null ? null : h1.forward(at4a);
    const at4d = chain(at4a, [
      (t) => this.inception4b.forward(t),
      (t) => this.inception4c.forward(t),
      (t) => this.inception4d.forward(t),
    ]);
    const aux2 = h2 === null ? null : h2.forward(at4d);
    const logits = chain(at4d, [
      (t) => this.inception4e.forward(t),
      (t) => this.maxpool4.forward(t),
      (t) => this.inception5a.forward(t),
      (t) => this.inception5b.forward(t),
      (t) => flatten(this.avgpool.forward(t), 1),
      (t) => this.dropout.forward(t),
      (t) => this.fc.forward(t),
    ]);
    release(at4a, at4d, ...(input === x ? [] : [input]));
    if (this.training && this.auxLogits) return new GoogLeNetOutputs(logits, aux2!, aux1!);
    for (const a of [aux1, aux2]) if (a !== null) release(a);
    return logits;
  }
}

addNameHints(GoogLeNet.prototype, "GoogLeNet", {
  aux_logits: "write model.auxLogits",
  transform_input: "write model.transformInput",
});

/**
 * GoogLeNet (torchvision's `googlenet`; 13,004,888 parameters with the
 * defaults, 6,624,904 without the auxiliary heads).
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.googlenet().numParameters()); // 13004888
 * console.log(models.googlenet({ auxLogits: false }).numParameters()); // 6624904
 * ```
 */
export function googlenet(options: GoogLeNetOptions = {}): GoogLeNet {
  checkArity("models.googlenet", arguments.length, 1, USAGE);
  return new GoogLeNet(options);
}
