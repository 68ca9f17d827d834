/**
 * `LayerNorm` and `GroupNorm`, as `torch.nn`'s: statistics of each sample
 * (no running buffers, the same in training and evaluation), and a learned
 * `weight` (ones) and `bias` (zeros) under torch's state-dict names.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { groupNorm, layerNorm } from "../tensor/ops/layer_norm.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module, type Parameter } from "./module.ts";
import { affineParameters } from "./norm_base.ts";
import { setting } from "./settable.ts";

function checkEps(where: string, eps: number, usage: string): number {
  if (typeof eps !== "number" || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`${where}: eps must be a finite number >= 0, got ${String(eps)}; ${usage}`);
  }
  return eps;
}

/** Options of `LayerNorm`. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn an elementwise `weight` and `bias` of `normalizedShape` (default true). */
  elementwiseAffine?: boolean;
}

const NEW_LAYER_NORM: CallContract<LayerNormOptions> = {
  where: "nn.LayerNorm",
  most: 2,
  known: ["eps", "elementwiseAffine"],
  usage: "new nn.LayerNorm([C], { eps: 1e-5, elementwiseAffine: true })",
};

/**
 * Layer normalisation over the last dimensions, `normalizedShape` (a size
 * or an array of sizes), as `torch.nn.LayerNorm`: each sample's mean and
 * biased variance over those elements, then `weight` and `bias` of that
 * shape (ones and zeros at first; left out with `elementwiseAffine: false`).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const ln = new nn.LayerNorm(8);
 * console.log(ln.forward(randn([2, 5, 8])).shape, [...ln.stateDict().keys()]); // [2, 5, 8] ["weight", "bias"]
 * ```
 */
export class LayerNorm extends Module {
  /** The normalised trailing shape. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance; assignable (`ln.eps = 1e-6`), read at each forward. */
  declare eps: number;
  /** Scale of `normalizedShape`, or null without elementwise affine. */
  weight: Parameter | null = null;
  /** Shift of `normalizedShape`, or null without elementwise affine. */
  bias: Parameter | null = null;

  constructor(normalizedShape: number | number[], options: LayerNormOptions = {}) {
    super();
    const o = checkContract(NEW_LAYER_NORM, arguments.length, options);
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
    if (
      !Array.isArray(shape) || shape.length === 0 || shape.some((s) => !(s >= 1 && s % 1 === 0))
    ) {
      throw new Error(
        `nn.LayerNorm: normalizedShape must be a positive size or an array of them, got ` +
          `${JSON.stringify(normalizedShape)}; write ${NEW_LAYER_NORM.usage}`,
      );
    }
    this.normalizedShape = Object.freeze([...shape]);
    const eps = (v: unknown) => checkEps("nn.LayerNorm", v as number, "assign a number >= 0");
    setting(this, "eps", checkEps("nn.LayerNorm", o.eps ?? 1e-5, NEW_LAYER_NORM.usage), eps);
    if (o.elementwiseAffine ?? true) {
      [this.weight, this.bias] = affineParameters([...shape]);
    }
  }

  /** Normalises the trailing `normalizedShape` of x; same shape out. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, [...this.normalizedShape], this.weight, this.bias, this.eps);
  }
}

/** Options of `GroupNorm`. */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Learn a per-channel `weight` and `bias` (default true). */
  affine?: boolean;
}

const NEW_GROUP_NORM: CallContract<GroupNormOptions> = {
  where: "nn.GroupNorm",
  most: 3,
  known: ["eps", "affine"],
  usage: "new nn.GroupNorm(4, 32, { eps: 1e-5, affine: true })",
};

/**
 * Group normalisation, as `torch.nn.GroupNorm`: the `numChannels` channels
 * of [N, C, ...] in `numGroups` groups, each sample's group normalised by
 * its own mean and biased variance, then a per-channel `weight` [C] and
 * `bias` [C] (ones and zeros at first; left out with `affine: false`).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const gn = new nn.GroupNorm(2, 4);
 * console.log(gn.forward(randn([3, 4, 5, 5])).shape, gn.weight!.shape); // [3, 4, 5, 5] [4]
 * ```
 */
export class GroupNorm extends Module {
  /** Added to the variance; assignable (`gn.eps = 1e-6`), read at each forward. */
  declare eps: number;
  /** Per-channel scale [C], or null without affine. */
  weight: Parameter | null = null;
  /** Per-channel shift [C], or null without affine. */
  bias: Parameter | null = null;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    const o = checkContract(NEW_GROUP_NORM, arguments.length, options);
    for (const [name, v] of [["numGroups", numGroups], ["numChannels", numChannels]] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new Error(
          `nn.GroupNorm: ${name} must be a positive integer, got ${JSON.stringify(v)}; ` +
            `write ${NEW_GROUP_NORM.usage}`,
        );
      }
    }
    if (numChannels % numGroups !== 0) {
      throw new Error(
        `nn.GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`,
      );
    }
    const eps = (v: unknown) => checkEps("nn.GroupNorm", v as number, "assign a number >= 0");
    setting(this, "eps", checkEps("nn.GroupNorm", o.eps ?? 1e-5, NEW_GROUP_NORM.usage), eps);
    if (o.affine ?? true) {
      [this.weight, this.bias] = affineParameters([numChannels]);
    }
  }

  /** Normalises x [N, numChannels, ...] in groups; same shape out. */
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(
        `GroupNorm(${this.numGroups}, ${this.numChannels}): expected input ` +
          `[N, ${this.numChannels}, ...], got [${x.shape}]`,
      );
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}
