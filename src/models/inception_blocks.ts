/**
 * The blocks of Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the
 * Inception Architecture for Computer Vision", CVPR 2016, as torchvision
 * 0.14 writes them (`torchvision.models.inception`): `BasicConv2d`
 * (convolution without bias, batch norm with eps 0.001, ReLU; GoogLeNet uses
 * it too), `InceptionA` (figure 5), `InceptionB` (the 35 -> 17 grid
 * reduction), `InceptionC` (figure 6, the factorised 7x7), `InceptionD` (the
 * 17 -> 8 reduction), `InceptionE` (figure 7, the expanded 3x3) and
 * `InceptionAux` (the auxiliary classifier on the 17 x 17 grid). Each block
 * runs its branches on the same input and concatenates them along the
 * channels, in torchvision's order. State-dict names are torchvision's
 * (`branch5x5_2.conv.weight`, `branch_pool.bn.running_var`, `fc.bias`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { tensor } from "../tensor/ops/creation.ts";
import { cat } from "../tensor/ops/join.ts";
import { flatten } from "../tensor/ops/shape.ts";
import { relu } from "../tensor/ops/elementwise.ts";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from "../tensor/ops/pool.ts";
import type { Pair } from "../tensor/ops/conv.ts";
import { isGradEnabled } from "../tensor/autograd.ts";
import { currentScope } from "../tensor/ownership.ts";
import { Module } from "../layers/module.ts";
import { Conv2d, type Conv2dLayerOptions } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Linear } from "../layers/linear.ts";
import { chain } from "../layers/chain.ts";
import { convBeforeBatchNorm } from "../layers/conv_bn.ts";
import { convNormAct } from "./mobile_blocks.ts";
import { modelOptions } from "./defaults.ts";

/** BasicConv2d's activation as a module, so its evaluation path can fuse it (never a child). */
const RELU = new ReLU();

/**
 * @internal Frees, without a gradient, the tensors a block made and has
 * used up (its branches' outputs once concatenated), as PyTorch frees a
 * tensor with its last reference; with a gradient they belong to the
 * backward pass and stay.
 */
export function release(...ts: Tensor[]): void {
  if (isGradEnabled()) return;
  const mine = currentScope();
  for (const t of ts) if (mine !== null && t.owner === mine) t.dispose();
}

/** @internal cat(parts, 1), the parts released (see `release`). */
export function catBranches(parts: Tensor[]): Tensor {
  const out = cat(parts, 1);
  release(...parts);
  return out;
}

/**
 * @internal torchvision's `_transform_input` of Inception v3 and GoogLeNet:
 * each channel of an ImageNet-normalised x [N, 3, H, W] taken to Google's
 * [-1, 1] scale, x * std / 0.5 + (mean - 0.5) / 0.5; `model` names the
 * model in the error for another channel count.
 */
export function transformInput(x: Tensor, model: string): Tensor {
  if (x.shape[1] !== 3) {
    throw new Error(
      `${model}: transformInput re-normalises three channels (ImageNet's RGB), got input ` +
        `[${x.shape}]; set model.transformInput = false and normalise the input yourself`,
    );
  }
  const at = (v: number[]) => tensor(v, [1, 3, 1, 1], { device: x.device });
  const scale = at([0.229 / 0.5, 0.224 / 0.5, 0.225 / 0.5]);
  const shift = at([(0.485 - 0.5) / 0.5, (0.456 - 0.5) / 0.5, (0.406 - 0.5) / 0.5]);
  const scaled = x.mul(scale);
  const out = scaled.add(shift);
  release(scaled, scale, shift);
  return out;
}

/** Options of `BasicConv2d`: the convolution's, which never has a bias. */
export type BasicConv2dOptions = Omit<Conv2dLayerOptions, "bias">;

/**
 * Convolution without bias, batch norm (eps 0.001, as the TensorFlow
 * weights torchvision ported) and ReLU: torchvision's `BasicConv2d` of
 * Inception v3 and GoogLeNet. torchvision's `BasicConv2d(32, 64,
 * kernel_size=3, padding=1)` is `new BasicConv2d(32, 64, 3, { padding: 1 })`.
 * In evaluation without gradients the three run as one kernel.
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * const c = new models.BasicConv2d(3, 8, [1, 7], { padding: [0, 3] });
 * console.log([...c.stateDict().keys()].slice(0, 3), c.bn.eps); // ["conv.weight", "bn.weight", "bn.bias"] 0.001
 * console.log(c.forward(zeros([1, 3, 9, 9])).shape); // [1, 8, 9, 9]
 * ```
 */
export class BasicConv2d extends Module {
  /** The convolution (no bias). */
  conv: Conv2d;
  /** Its batch norm, eps 0.001. */
  bn: BatchNorm2d;

  /** torchvision's `BasicConv2d(in_channels, out_channels, **kwargs)`: the kwargs as `options`. */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: BasicConv2dOptions = {},
  ) {
    super();
    if ((options as Conv2dLayerOptions).bias !== undefined) {
      throw new Error(
        "models.BasicConv2d: has no bias option (its convolution never has one: batch norm " +
          "follows, as torchvision's); leave it out",
      );
    }
    this.conv = new Conv2d(inChannels, outChannels, kernelSize, { ...options, bias: false });
    this.bn = new BatchNorm2d(outChannels, { eps: 0.001 });
  }

  /** relu(bn(conv(x))). */
  forward(x: Tensor): Tensor {
    return convNormAct([this.conv, this.bn, RELU], x, null) ??
      relu(this.bn.forward(convBeforeBatchNorm(this.conv, this.bn, x)));
  }
}

/** `blocks` applied in order to x (chain: intermediates freed without a gradient). */
function path(x: Tensor, ...blocks: Module[]): Tensor {
  return chain(x, blocks.map((b) => (t: Tensor) => b.forward(t)));
}

/** avg_pool2d(x, 3, stride 1, padding 1), the pool branch of InceptionA, C and E. */
const pool3 = (x: Tensor) => avgPool2d(x, 3, { stride: 1, padding: 1 });

/**
 * Figure 5 of the paper (the 35 x 35 grid): 1x1; 1x1 -> 5x5; 1x1 -> 3x3 ->
 * 3x3; 3x3 average pool -> 1x1 to `poolFeatures`. Output 224 +
 * `poolFeatures` channels, same size (torchvision's `Mixed_5b` ... `Mixed_5d`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.InceptionA(192, 32).forward(zeros([1, 192, 5, 5])).shape); // [1, 256, 5, 5]
 * ```
 */
export class InceptionA extends Module {
  /** 1x1 to 64. */
  branch1x1: BasicConv2d;
  /** 1x1 to 48. */
  branch5x5_1: BasicConv2d;
  /** 5x5 to 64. */
  branch5x5_2: BasicConv2d;
  /** 1x1 to 64. */
  branch3x3dbl_1: BasicConv2d;
  /** 3x3 to 96. */
  branch3x3dbl_2: BasicConv2d;
  /** 3x3 to 96. */
  branch3x3dbl_3: BasicConv2d;
  /** 1x1 to `poolFeatures`, after the pool. */
  branch_pool: BasicConv2d;

  /** `inChannels` in; `poolFeatures` (torchvision's `pool_features`) from the pool branch. */
  constructor(inChannels: number, poolFeatures: number) {
    super();
    this.branch1x1 = new BasicConv2d(inChannels, 64, 1);
    this.branch5x5_1 = new BasicConv2d(inChannels, 48, 1);
    this.branch5x5_2 = new BasicConv2d(48, 64, 5, { padding: 2 });
    this.branch3x3dbl_1 = new BasicConv2d(inChannels, 64, 1);
    this.branch3x3dbl_2 = new BasicConv2d(64, 96, 3, { padding: 1 });
    this.branch3x3dbl_3 = new BasicConv2d(96, 96, 3, { padding: 1 });
    this.branch_pool = new BasicConv2d(inChannels, poolFeatures, 1);
  }

  /** cat([1x1, 5x5, double 3x3, pool], 1). */
  forward(x: Tensor): Tensor {
    return catBranches([
      this.branch1x1.forward(x),
      path(x, this.branch5x5_1, this.branch5x5_2),
      path(x, this.branch3x3dbl_1, this.branch3x3dbl_2, this.branch3x3dbl_3),
      chain(x, [pool3, (t) => this.branch_pool.forward(t)]),
    ]);
  }
}

/**
 * The 35 -> 17 grid reduction: 3x3 stride 2 to 384; 1x1 -> 3x3 -> 3x3
 * stride 2 to 96; 3x3 stride-2 max pool. Output 480 + `inChannels`
 * channels, half the size (torchvision's `Mixed_6a`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.InceptionB(288).forward(zeros([1, 288, 7, 7])).shape); // [1, 768, 3, 3]
 * ```
 */
export class InceptionB extends Module {
  /** 3x3 stride 2 to 384. */
  branch3x3: BasicConv2d;
  /** 1x1 to 64. */
  branch3x3dbl_1: BasicConv2d;
  /** 3x3 to 96. */
  branch3x3dbl_2: BasicConv2d;
  /** 3x3 stride 2 to 96. */
  branch3x3dbl_3: BasicConv2d;

  /** `inChannels` in. */
  constructor(inChannels: number) {
    super();
    this.branch3x3 = new BasicConv2d(inChannels, 384, 3, { stride: 2 });
    this.branch3x3dbl_1 = new BasicConv2d(inChannels, 64, 1);
    this.branch3x3dbl_2 = new BasicConv2d(64, 96, 3, { padding: 1 });
    this.branch3x3dbl_3 = new BasicConv2d(96, 96, 3, { stride: 2 });
  }

  /** cat([3x3, double 3x3, max pool], 1). */
  forward(x: Tensor): Tensor {
    return catBranches([
      this.branch3x3.forward(x),
      path(x, this.branch3x3dbl_1, this.branch3x3dbl_2, this.branch3x3dbl_3),
      maxPool2d(x, 3, { stride: 2 }),
    ]);
  }
}

/**
 * Figure 6 of the paper (the 17 x 17 grid), the 7x7 factorised into 1x7 and
 * 7x1: 1x1 to 192; 1x1 -> 1x7 -> 7x1 to 192; 1x1 -> 7x1 -> 1x7 -> 7x1 ->
 * 1x7 to 192; average pool -> 1x1 to 192, `channels7x7` wide inside
 * (torchvision's `channels_7x7`). Output 768 channels (`Mixed_6b` ... `Mixed_6e`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.InceptionC(768, 128).forward(zeros([1, 768, 3, 3])).shape); // [1, 768, 3, 3]
 * ```
 */
export class InceptionC extends Module {
  /** 1x1 to 192. */
  branch1x1: BasicConv2d;
  /** 1x1 to c7. */
  branch7x7_1: BasicConv2d;
  /** 1x7 to c7. */
  branch7x7_2: BasicConv2d;
  /** 7x1 to 192. */
  branch7x7_3: BasicConv2d;
  /** 1x1 to c7. */
  branch7x7dbl_1: BasicConv2d;
  /** 7x1 to c7. */
  branch7x7dbl_2: BasicConv2d;
  /** 1x7 to c7. */
  branch7x7dbl_3: BasicConv2d;
  /** 7x1 to c7. */
  branch7x7dbl_4: BasicConv2d;
  /** 1x7 to 192. */
  branch7x7dbl_5: BasicConv2d;
  /** 1x1 to 192, after the pool. */
  branch_pool: BasicConv2d;

  /** `inChannels` in; `channels7x7` inside the factorised branches (torchvision's `channels_7x7`). */
  constructor(inChannels: number, channels7x7: number) {
    super();
    const c7 = channels7x7;
    const row = { padding: [0, 3] as [number, number] },
      col = { padding: [3, 0] as [number, number] };
    this.branch1x1 = new BasicConv2d(inChannels, 192, 1);
    this.branch7x7_1 = new BasicConv2d(inChannels, c7, 1);
    this.branch7x7_2 = new BasicConv2d(c7, c7, [1, 7], row);
    this.branch7x7_3 = new BasicConv2d(c7, 192, [7, 1], col);
    this.branch7x7dbl_1 = new BasicConv2d(inChannels, c7, 1);
    this.branch7x7dbl_2 = new BasicConv2d(c7, c7, [7, 1], col);
    this.branch7x7dbl_3 = new BasicConv2d(c7, c7, [1, 7], row);
    this.branch7x7dbl_4 = new BasicConv2d(c7, c7, [7, 1], col);
    this.branch7x7dbl_5 = new BasicConv2d(c7, 192, [1, 7], row);
    this.branch_pool = new BasicConv2d(inChannels, 192, 1);
  }

  /** cat([1x1, 7x7, double 7x7, pool], 1). */
  forward(x: Tensor): Tensor {
    return catBranches([
      this.branch1x1.forward(x),
      path(x, this.branch7x7_1, this.branch7x7_2, this.branch7x7_3),
      path(
        x,
        this.branch7x7dbl_1,
        this.branch7x7dbl_2,
        this.branch7x7dbl_3,
        this.branch7x7dbl_4,
        this.branch7x7dbl_5,
      ),
      chain(x, [pool3, (t) => this.branch_pool.forward(t)]),
    ]);
  }
}

/**
 * The 17 -> 8 grid reduction: 1x1 -> 3x3 stride 2 to 320; 1x1 -> 1x7 -> 7x1
 * -> 3x3 stride 2 to 192; 3x3 stride-2 max pool. Output 512 + `inChannels`
 * channels (torchvision's `Mixed_7a`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.InceptionD(768).forward(zeros([1, 768, 5, 5])).shape); // [1, 1280, 2, 2]
 * ```
 */
export class InceptionD extends Module {
  /** 1x1 to 192. */
  branch3x3_1: BasicConv2d;
  /** 3x3 stride 2 to 320. */
  branch3x3_2: BasicConv2d;
  /** 1x1 to 192. */
  branch7x7x3_1: BasicConv2d;
  /** 1x7 to 192. */
  branch7x7x3_2: BasicConv2d;
  /** 7x1 to 192. */
  branch7x7x3_3: BasicConv2d;
  /** 3x3 stride 2 to 192. */
  branch7x7x3_4: BasicConv2d;

  /** `inChannels` in. */
  constructor(inChannels: number) {
    super();
    this.branch3x3_1 = new BasicConv2d(inChannels, 192, 1);
    this.branch3x3_2 = new BasicConv2d(192, 320, 3, { stride: 2 });
    this.branch7x7x3_1 = new BasicConv2d(inChannels, 192, 1);
    this.branch7x7x3_2 = new BasicConv2d(192, 192, [1, 7], { padding: [0, 3] });
    this.branch7x7x3_3 = new BasicConv2d(192, 192, [7, 1], { padding: [3, 0] });
    this.branch7x7x3_4 = new BasicConv2d(192, 192, 3, { stride: 2 });
  }

  /** cat([3x3, 7x7x3, max pool], 1). */
  forward(x: Tensor): Tensor {
    return catBranches([
      path(x, this.branch3x3_1, this.branch3x3_2),
      path(x, this.branch7x7x3_1, this.branch7x7x3_2, this.branch7x7x3_3, this.branch7x7x3_4),
      maxPool2d(x, 3, { stride: 2 }),
    ]);
  }
}

/**
 * Figure 7 of the paper (the 8 x 8 grid), the 3x3s expanded into parallel
 * 1x3 and 3x1: 1x1 to 320; 1x1 to 384 -> [1x3, 3x1] to 768; 1x1 to 448 ->
 * 3x3 to 384 -> [1x3, 3x1] to 768; average pool -> 1x1 to 192. Output 2048
 * channels (torchvision's `Mixed_7b`, `Mixed_7c`).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.InceptionE(1280).forward(zeros([1, 1280, 2, 2])).shape); // [1, 2048, 2, 2]
 * ```
 */
export class InceptionE extends Module {
  /** 1x1 to 320. */
  branch1x1: BasicConv2d;
  /** 1x1 to 384. */
  branch3x3_1: BasicConv2d;
  /** 1x3 to 384. */
  branch3x3_2a: BasicConv2d;
  /** 3x1 to 384. */
  branch3x3_2b: BasicConv2d;
  /** 1x1 to 448. */
  branch3x3dbl_1: BasicConv2d;
  /** 3x3 to 384. */
  branch3x3dbl_2: BasicConv2d;
  /** 1x3 to 384. */
  branch3x3dbl_3a: BasicConv2d;
  /** 3x1 to 384. */
  branch3x3dbl_3b: BasicConv2d;
  /** 1x1 to 192, after the pool. */
  branch_pool: BasicConv2d;

  /** `inChannels` in. */
  constructor(inChannels: number) {
    super();
    const row = { padding: [0, 1] as [number, number] },
      col = { padding: [1, 0] as [number, number] };
    this.branch1x1 = new BasicConv2d(inChannels, 320, 1);
    this.branch3x3_1 = new BasicConv2d(inChannels, 384, 1);
    this.branch3x3_2a = new BasicConv2d(384, 384, [1, 3], row);
    this.branch3x3_2b = new BasicConv2d(384, 384, [3, 1], col);
    this.branch3x3dbl_1 = new BasicConv2d(inChannels, 448, 1);
    this.branch3x3dbl_2 = new BasicConv2d(448, 384, 3, { padding: 1 });
    this.branch3x3dbl_3a = new BasicConv2d(384, 384, [1, 3], row);
    this.branch3x3dbl_3b = new BasicConv2d(384, 384, [3, 1], col);
    this.branch_pool = new BasicConv2d(inChannels, 192, 1);
  }

  /** cat([1x1, cat([1x3, 3x1]), cat([1x3, 3x1]) after 3x3, pool], 1). */
  forward(x: Tensor): Tensor {
    const b1 = this.branch1x1.forward(x);
    const s = this.branch3x3_1.forward(x);
    const b2 = catBranches([this.branch3x3_2a.forward(s), this.branch3x3_2b.forward(s)]);
    release(s);
    const d = path(x, this.branch3x3dbl_1, this.branch3x3dbl_2);
    const b3 = catBranches([this.branch3x3dbl_3a.forward(d), this.branch3x3dbl_3b.forward(d)]);
    release(d);
    const b4 = chain(x, [pool3, (t) => this.branch_pool.forward(t)]);
    return catBranches([b1, b2, b3, b4]);
  }
}

/**
 * Inception v3's auxiliary classifier on the 17 x 17 grid (torchvision's
 * `InceptionAux`, `AuxLogits`): 5x5 stride-3 average pool, 1x1 to 128, 5x5
 * to 768, global average pool, Linear to the classes. The 5x5 pool and 5x5
 * convolution need a 17 x 17 input (a 299 x 299 image).
 *
 * @example
 * ```ts
 * import { models, zeros } from "@lits/vision";
 * console.log(new models.InceptionAux(768, 3).forward(zeros([2, 768, 17, 17])).shape); // [2, 3]
 * ```
 */
export class InceptionAux extends Module {
  /** 1x1 to 128. */
  conv0: BasicConv2d;
  /** 5x5 to 768 (torchvision's `stddev` 0.01 on it is never read: see `Inception3`). */
  conv1: BasicConv2d;
  /** Linear 768 -> classes. */
  fc: Linear;

  /** `inChannels` (768) in, `numClasses` out. */
  constructor(inChannels: number, numClasses: number) {
    super();
    this.conv0 = new BasicConv2d(inChannels, 128, 1);
    this.conv1 = new BasicConv2d(128, 768, 5);
    this.fc = new Linear(768, numClasses);
  }

  /** fc(flatten(adaptiveAvgPool2d(conv1(conv0(avgPool2d(x, 5, 3))), 1))). */
  forward(x: Tensor): Tensor {
    return chain(x, [
      (t) => avgPool2d(t, 5, { stride: 3 }),
      (t) => this.conv0.forward(t),
      (t) => this.conv1.forward(t),
      (t) => flatten(adaptiveAvgPool2d(t, [1, 1]), 1),
      (t) => this.fc.forward(t),
    ]);
  }
}

/**
 * @internal Inception3's and GoogLeNet's options: torchvision's keywords
 * that have no counterpart (`torchOnly`: key -> what to write) refused,
 * then `modelOptions`, and positive channel and class counts.
 */
export function auxModelOptions<T extends { inChannels?: number; numClasses?: number }>(
  where: string,
  options: unknown,
  defaults: Required<T>,
  usage: string,
  torchOnly: Record<string, string>,
): Required<T> {
  if (options !== null && typeof options === "object") {
    for (const k of Object.keys(options)) {
      if (Object.hasOwn(torchOnly, k)) throw new Error(`${where}: ${torchOnly[k]}`);
    }
  }
  const o = modelOptions(where, options, defaults, usage);
  for (const k of ["inChannels", "numClasses"] as const) {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`${where}: ${k} must be a positive integer, got ${v}; ${usage}`);
    }
  }
  return o;
}
