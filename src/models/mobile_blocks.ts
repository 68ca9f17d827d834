/**
 * The building blocks torchvision's mobile networks share (torchvision.ops
 * and torchvision.models._utils): `Conv2dNormActivation` (convolution, batch
 * norm, activation as one `Sequential`, so its children are named 0, 1, 2
 * as in torchvision's state dicts), `SqueezeExcitation` (Hu et al., 2018,
 * with 1x1 convolutions `fc1` and `fc2` as torchvision's) and
 * `makeDivisible`, the channel rounding of the TensorFlow reference.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Module } from "../layers/module.ts";
import { Conv2d } from "../layers/conv.ts";
import { BatchNorm2d } from "../layers/batchnorm.ts";
import { ReLU } from "../layers/basic.ts";
import { Sigmoid } from "../layers/activation.ts";
import { AdaptiveAvgPool2d } from "../layers/pooling.ts";
import { Sequential } from "../layers/sequential.ts";
import { Linear } from "../layers/linear.ts";
import { kaimingNormal_, ones_, zeros_ } from "../layers/init.ts";
import { checkArity, checkOptions } from "../options.ts";
import { ReLU6, SiLU } from "../layers/activation_hard.ts";
import {
  conv2dBatchNormAct,
  type EpilogueActivation,
  type SqueezeIo,
} from "../tensor/ops/conv_epilogue.ts";
import { squeezeExcitationGate } from "../tensor/ops/squeeze_excitation.ts";
import { isPlain } from "./plain.ts";

/**
 * `v` rounded to the nearest multiple of `divisor`, at least `minValue`
 * (default `divisor`), and never more than 10% below `v`: torchvision's
 * `_make_divisible`, which sizes every layer of MobileNetV2 and EfficientNet.
 *
 * @example
 * ```ts
 * import { models } from "@lits/vision";
 * console.log(models.makeDivisible(32 * 0.25, 8)); // 8
 * console.log(models.makeDivisible(40 * 0.25, 8)); // 16
 * ```
 */
export function makeDivisible(v: number, divisor: number, minValue?: number): number {
  const usage = "models.makeDivisible(32 * 0.75, 8)";
  checkArity("models.makeDivisible", arguments.length, 3, usage);
  if (typeof v !== "number" || !(Number.isFinite(v) && v > 0)) {
    throw new Error(`models.makeDivisible: v must be a number > 0, got ${v}; write ${usage}`);
  }
  if (!Number.isInteger(divisor) || divisor < 1) {
    throw new Error(
      `models.makeDivisible: divisor must be an integer >= 1, got ${divisor}; write ${usage}`,
    );
  }
  const least = minValue ?? divisor;
  let out = Math.max(least, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * v) out += divisor; // rounding down must not lose more than 10%
  return out;
}

/** Builds the normalisation layer of a block for its channel count. */
export type NormLayer = (channels: number) => Module;
/** Builds an activation module. */
export type ActivationLayer = () => Module;

/** Options of `Conv2dNormActivation` (torchvision's keyword arguments, camelCase). */
export interface Conv2dNormActivationOptions {
  /** Kernel size (default 3). */
  kernelSize?: number;
  /** Stride (default 1). */
  stride?: number;
  /** Padding (default `(kernelSize - 1) / 2 * dilation`, "same" for stride 1). */
  padding?: number;
  /** Groups (default 1; the channel count for a depthwise convolution). */
  groups?: number;
  /** Dilation (default 1). */
  dilation?: number;
  /** The normalisation layer (default `BatchNorm2d`); null for none. */
  normLayer?: NormLayer | null;
  /** The activation (default `ReLU`); null for none. */
  activationLayer?: ActivationLayer | null;
  /** Convolution bias (default: only without a normalisation layer). */
  bias?: boolean;
}

const CNA_USAGE =
  "new models.Conv2dNormActivation(16, 32, { kernelSize: 3, stride: 2, activationLayer: () => new nn.ReLU6() })";

/**
 * Convolution, normalisation, activation, as torchvision's
 * `Conv2dNormActivation`: a `Sequential` whose children are `0` (Conv2d),
 * `1` (the norm, if any) and then the activation, if any.
 *
 * @example
 * ```ts
 * import { models, nn, randn } from "@lits/vision";
 * const block = new models.Conv2dNormActivation(3, 8, {
 *   stride: 2,
 *   activationLayer: () => new nn.ReLU6(),
 * });
 * console.log([...block.stateDict().keys()].slice(0, 3)); // ["0.weight", "1.weight", "1.bias"]
 * console.log(block(randn([1, 3, 16, 16])).shape); // [1, 8, 8, 8]
 * ```
 */
export class Conv2dNormActivation extends Sequential {
  /** Output channels. */
  readonly outChannels: number;

  constructor(inChannels: number, outChannels: number, options: Conv2dNormActivationOptions = {}) {
    const o = checkOptions<Conv2dNormActivationOptions>(
      "models.Conv2dNormActivation",
      options,
      [
        "kernelSize",
        "stride",
        "padding",
        "groups",
        "dilation",
        "normLayer",
        "activationLayer",
        "bias",
      ],
      CNA_USAGE,
    );
    const kernelSize = o.kernelSize ?? 3, dilation = o.dilation ?? 1;
    const normLayer = o.normLayer === undefined ? (c: number) => new BatchNorm2d(c) : o.normLayer;
    const activationLayer = o.activationLayer === undefined ? () => new ReLU() : o.activationLayer;
    if (!Number.isInteger(kernelSize) || kernelSize < 1) {
      throw new Error(
        `models.Conv2dNormActivation: kernelSize must be an integer >= 1, got ${kernelSize}; ` +
          `write ${CNA_USAGE}`,
      );
    }
    const layers: Module[] = [
      new Conv2d(inChannels, outChannels, kernelSize, {
        stride: o.stride ?? 1,
        padding: o.padding ?? Math.floor((kernelSize - 1) / 2) * dilation,
        dilation,
        groups: o.groups ?? 1,
        bias: o.bias ?? normLayer === null,
      }),
    ];
    if (normLayer !== null) layers.push(normLayer(outChannels));
    if (activationLayer !== null) layers.push(activationLayer());
    super(...layers);
    checkArity("models.Conv2dNormActivation", arguments.length, 3, CNA_USAGE);
    this.outChannels = outChannels;
  }

  /**
   * The children in order; in evaluation without gradients, a convolution,
   * batch norm and ReLU, ReLU6 or SiLU as they were built run as one kernel
   * (the activation applied as the output is written, as ONNX Runtime
   * fuses them), with the same bits (SiLU: within an ulp a value, as
   * expf's vector and scalar forms differ).
   */
  override forward(x: Tensor): Tensor {
    return convNormAct([...this], x, null) ?? super.forward(x);
  }
}

/**
 * @internal The activation a fused convolution applies after module `m`
 * (undefined: none), or null if none fits.
 */
export function epilogueOf(m: Module | undefined): EpilogueActivation | null {
  if (m === undefined) return "none";
  if (isPlain(m, ReLU)) return "relu";
  if (isPlain(m, SiLU)) return "silu";
  return isPlain(m, ReLU6) ? "relu6" : null;
}

/**
 * @internal whether `layers` are a Conv2d, a BatchNorm2d in evaluation on
 * running statistics, then nothing, ReLU, ReLU6 or SiLU, each as built: what
 * `convNormAct` may run as one kernel.
 */
export function fusesConvNormAct(layers: Module[]): boolean {
  const [conv, bn, ...rest] = layers;
  if (rest.length > 1 || !isPlain(conv, Conv2d) || !isPlain(bn, BatchNorm2d)) return false;
  const norm = bn as BatchNorm2d;
  return epilogueOf(rest[0]) !== null && !norm.training && norm.runningMean !== null &&
    norm.runningVar !== null;
}

/**
 * @internal `layers` (see `fusesConvNormAct`) applied to x with the
 * residual added before the activation, as one kernel
 * (`conv2dBatchNormAct`, with a squeeze-and-excitation's pool or scale
 * where `se` asks); null where that does not apply (training, a
 * gradient recorded, a hook, another layer): the caller runs the layers.
 */
export function convNormAct(
  layers: Module[],
  x: Tensor,
  residual: Tensor | null,
  se: SqueezeIo | null = null,
): Tensor | null {
  if (!fusesConvNormAct(layers)) return null;
  const c = layers[0] as Conv2d, norm = layers[1] as BatchNorm2d;
  const stats = {
    runningMean: norm.runningMean!,
    runningVar: norm.runningVar!,
    weight: norm.weight,
    bias: norm.bias,
    eps: norm.eps,
  };
  return conv2dBatchNormAct(
    x,
    c.weight,
    c.bias,
    c.options,
    stats,
    epilogueOf(layers[2])!,
    residual,
    se,
  );
}

/** Options of `SqueezeExcitation`. */
export interface SqueezeExcitationOptions {
  /** The activation between fc1 and fc2, delta in the paper's eq. 3 (default `ReLU`). */
  activation?: ActivationLayer;
  /** The gate's activation, sigma in eq. 3 (default `Sigmoid`). */
  scaleActivation?: ActivationLayer;
}

const SE_USAGE =
  "new models.SqueezeExcitation(96, 4, { activation: () => new nn.SiLU(), scaleActivation: () => new nn.Sigmoid() })";

/**
 * Squeeze-and-excitation (Hu, Shen & Sun, "Squeeze-and-Excitation
 * Networks", CVPR 2018, Fig. 1) as torchvision's: x times the gate
 * sigma(fc2(delta(fc1(avgpool(x))))), one weight per channel and sample,
 * with 1x1 convolutions (with bias) as fc1 and fc2. Children keep
 * torchvision's names (`avgpool`, `fc1`, `fc2`, `activation`,
 * `scale_activation`).
 *
 * @example
 * ```ts
 * import { models, nn, randn } from "@lits/vision";
 * const se = new models.SqueezeExcitation(16, 4, { activation: () => new nn.SiLU() });
 * console.log([...se.stateDict().keys()]); // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
 * console.log(se(randn([2, 16, 5, 5])).shape); // [2, 16, 5, 5]
 * ```
 */
export class SqueezeExcitation extends Module {
  /** Global average pool (the squeeze). */
  avgpool: AdaptiveAvgPool2d;
  /** 1x1 convolution to the squeezed channels. */
  fc1: Conv2d;
  /** 1x1 convolution back to the input channels. */
  fc2: Conv2d;
  /** Activation after fc1. */
  activation: Module;
  /** Gate activation after fc2 (torchvision's name). */
  scale_activation: Module;

  constructor(
    inputChannels: number,
    squeezeChannels: number,
    options: SqueezeExcitationOptions = {},
  ) {
    super();
    checkArity("models.SqueezeExcitation", arguments.length, 3, SE_USAGE);
    const o = checkOptions<SqueezeExcitationOptions>(
      "models.SqueezeExcitation",
      options,
      ["activation", "scaleActivation"],
      SE_USAGE,
    );
    this.avgpool = new AdaptiveAvgPool2d(1);
    this.fc1 = new Conv2d(inputChannels, squeezeChannels, 1);
    this.fc2 = new Conv2d(squeezeChannels, inputChannels, 1);
    this.activation = (o.activation ?? (() => new ReLU()))();
    this.scale_activation = (o.scaleActivation ?? (() => new Sigmoid()))();
  }

  /**
   * The per-channel gate [N, C, 1, 1] of x. In evaluation without
   * gradients, fc1, its activation, fc2 and the sigmoid run as one kernel
   * (`squeezeGate`), within a few ulps of the modules (other sums' order).
   */
  scale(x: Tensor): Tensor {
    const pooled = this.avgpool(x);
    const gate = squeezeGate(this, pooled);
    if (gate !== null) return gate.reshape([gate.shape[0], gate.shape[1], 1, 1]);
    const s = this.fc1(pooled);
    return this.scale_activation(this.fc2(this.activation(s)));
  }

  /** x [N, C, H, W] -> scale(x) * x. */
  forward(x: Tensor): Tensor {
    return this.scale(x).mul(x);
  }
}

/** Whether `c` is a plain 1x1 convolution of stride 1, no padding, no dilation, one group. */
function isPointwise(c: Module): c is Conv2d {
  if (!isPlain(c, Conv2d)) return false;
  const o = (c as Conv2d).options, [kh, kw] = (c as Conv2d).kernelSize;
  const ones = (p: unknown) => Array.isArray(p) ? p.every((v) => v === 1) : p === 1;
  const zeros = (p: unknown) => Array.isArray(p) ? p.every((v) => v === 0) : p === 0;
  return kh === 1 && kw === 1 && ones(o.stride) && ones(o.dilation) && zeros(o.padding) &&
    o.groups === 1;
}

/**
 * @internal The gate [n, C] of `se` from its pooled input ([n, C, 1, 1] or
 * [n, C]): fc1, the activation (ReLU, ReLU6 or SiLU), fc2 and a sigmoid as
 * one kernel (`squeezeExcitationGate`), or null where that does not apply
 * (training, a child replaced, hooked or of another kind, a gradient to
 * record, a backend without the kernel): the caller runs the modules.
 */
export function squeezeGate(se: SqueezeExcitation, pooled: Tensor): Tensor | null {
  const act = epilogueOf(se.activation);
  if (
    se.training || !isPlain(se, SqueezeExcitation) || !isPointwise(se.fc1) ||
    !isPointwise(se.fc2) ||
    act === null || act === "none" || !isPlain(se.scale_activation, Sigmoid)
  ) {
    return null;
  }
  return squeezeExcitationGate(pooled, se.fc1, act, se.fc2);
}

/**
 * @internal torchvision's initialisation of its mobile networks: convolutions
 * kaiming-normal (fan_out, gain sqrt(2)) with zero bias, batch norm weight 1
 * and bias 0; each Linear by `linear`.
 */
export function initMobile(model: Module, linear: (weight: Tensor) => void): void {
  for (const m of model.modules()) {
    if (m instanceof Conv2d) {
      kaimingNormal_(m.weight, { mode: "fan_out" });
      if (m.bias) zeros_(m.bias);
    } else if (m instanceof BatchNorm2d && m.weight && m.bias) {
      ones_(m.weight);
      zeros_(m.bias);
    } else if (m instanceof Linear) {
      linear(m.weight);
      if (m.bias) zeros_(m.bias);
    }
  }
}

/**
 * @internal throws unless `v` is an integer >= 1 (a model's channel or class count),
 * naming the model, the option and the call to write.
 */
export function checkCount(where: string, name: string, v: unknown, usage: string): void {
  if (!Number.isInteger(v) || (v as number) < 1) {
    throw new Error(`${where}: ${name} must be an integer >= 1, got ${v}; write ${usage}`);
  }
}

/** @internal throws unless `v` is a probability in [0, 1]. */
export function checkProbability(where: string, name: string, v: unknown, usage: string): void {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
    throw new Error(`${where}: ${name} must be a number in [0, 1], got ${v}; write ${usage}`);
  }
}
