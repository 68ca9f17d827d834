/**
 * `BCELoss`, `L1Loss`, `SmoothL1Loss`, `HuberLoss` and `KLDivLoss`, as
 * `torch.nn`'s: options under camelCase names, checked when the loss is made;
 * BCE's weight kept as the buffer "weight", as PyTorch's, so it moves with
 * `to()` and the state dict.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Reduction } from "../tensor/ops/loss.ts";
import { checkReduction } from "../tensor/ops/losses_extra.ts";
import {
  BCE,
  binaryCrossEntropy,
  checkThreshold,
  HUBER_LOSS,
  huberLoss,
  type HuberLossOptions,
  L1_LOSS,
  l1Loss,
  type L1LossOptions,
  SMOOTH_L1_LOSS,
  smoothL1Loss,
  type SmoothL1LossOptions,
} from "../tensor/ops/losses_more.ts";
import {
  checkKlReduction,
  KL_DIV,
  klDiv,
  type KlDivReduction,
} from "../tensor/ops/losses_probs.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";
import { weightOption } from "./loss.ts";

// The modules take their function's options, under the same names.
export type { HuberLossOptions, L1LossOptions, SmoothL1LossOptions };

/** The contract of a loss module made from its function's: one options argument. */
function moduleContract<T extends object>(
  where: string,
  known: readonly (keyof T & string)[],
  usage: string,
): CallContract<T> {
  return { where, most: 1, known, usage };
}

/** Options of `BCELoss`. */
export interface BCELossOptions {
  /** Weight of each element, broadcast to the input; kept as the buffer "weight". */
  weight?: Tensor | null;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_BCE_LOSS = moduleContract<BCELossOptions>(
  "nn.BCELoss",
  BCE.known,
  'new nn.BCELoss({ weight, reduction: "mean" })',
);

/**
 * Binary cross-entropy of probabilities in [0, 1] (after a sigmoid) against
 * float targets of the same shape; an input outside [0, 1] throws. On
 * logits, `BCEWithLogitsLoss` is the stable form.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.BCELoss();
 * console.log(loss.forward(tensor([0.5, 0.5]), tensor([1, 0])).item().toFixed(4)); // "0.6931"
 * ```
 */
export class BCELoss extends Module {
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: BCELossOptions = {}) {
    super();
    const o = checkContract(NEW_BCE_LOSS, arguments.length, options);
    this.registerBuffer("weight", weightOption("nn.BCELoss", "weight", o.weight));
    this.reduction = checkReduction("nn.BCELoss", o.reduction ?? "mean");
  }

  /** Loss of probabilities against float targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, {
      weight: this.buffer("weight"),
      reduction: this.reduction,
    });
  }
}

const NEW_L1_LOSS = moduleContract<L1LossOptions>(
  "nn.L1Loss",
  L1_LOSS.known,
  'new nn.L1Loss({ reduction: "sum" })',
);

/**
 * Mean absolute error between an input and a float target of the same shape.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.L1Loss().forward(tensor([1, 3]), tensor([1, 1])).item()); // 1
 * ```
 */
export class L1Loss extends Module {
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: L1LossOptions = {}) {
    super();
    const o = checkContract(NEW_L1_LOSS, arguments.length, options);
    this.reduction = checkReduction("nn.L1Loss", o.reduction ?? "mean");
  }

  /** Loss of input against target. */
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

const NEW_SMOOTH_L1_LOSS = moduleContract<SmoothL1LossOptions>(
  "nn.SmoothL1Loss",
  SMOOTH_L1_LOSS.known,
  "new nn.SmoothL1Loss({ beta: 0.5 })",
);

/**
 * Smooth L1 loss: quadratic (0.5 d^2 / beta) where |d| < beta, linear
 * beyond; `beta` 0 is the L1 loss.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.SmoothL1Loss({ beta: 2 });
 * console.log(loss.forward(tensor([1, 4]), tensor([0, 0])).item()); // 1.625
 * ```
 */
export class SmoothL1Loss extends Module {
  /** Where the loss turns from quadratic to linear. */
  readonly beta: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: SmoothL1LossOptions = {}) {
    super();
    const o = checkContract(NEW_SMOOTH_L1_LOSS, arguments.length, options);
    this.beta = checkThreshold("nn.SmoothL1Loss", "beta", o.beta ?? 1, true);
    this.reduction = checkReduction("nn.SmoothL1Loss", o.reduction ?? "mean");
  }

  /** Loss of input against target. */
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { beta: this.beta, reduction: this.reduction });
  }
}

const NEW_HUBER_LOSS = moduleContract<HuberLossOptions>(
  "nn.HuberLoss",
  HUBER_LOSS.known,
  "new nn.HuberLoss({ delta: 2 })",
);

/**
 * Huber loss: 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) beyond.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.HuberLoss({ delta: 2 });
 * console.log(loss.forward(tensor([1, 4]), tensor([0, 0])).item()); // 3.25
 * ```
 */
export class HuberLoss extends Module {
  /** Where the loss turns from quadratic to linear. */
  readonly delta: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: HuberLossOptions = {}) {
    super();
    const o = checkContract(NEW_HUBER_LOSS, arguments.length, options);
    this.delta = checkThreshold("nn.HuberLoss", "delta", o.delta ?? 1, false);
    this.reduction = checkReduction("nn.HuberLoss", o.reduction ?? "mean");
  }

  /** Loss of input against target. */
  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { delta: this.delta, reduction: this.reduction });
  }
}

/** Options of `KLDivLoss`. */
export interface KLDivLossOptions {
  /** "mean" (default, over all elements, as PyTorch 1.13), "batchmean", "sum" or "none". */
  reduction?: KlDivReduction;
  /** Whether the target holds log-probabilities (default false). */
  logTarget?: boolean;
}

const NEW_KL_DIV_LOSS = moduleContract<KLDivLossOptions>(
  "nn.KLDivLoss",
  KL_DIV.known,
  'new nn.KLDivLoss({ reduction: "batchmean", logTarget: false })',
);

/**
 * Kullback-Leibler divergence of a target distribution from the input's
 * log-probabilities (use after `LogSoftmax`); "batchmean" is the divergence
 * averaged over the batch.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.KLDivLoss({ reduction: "batchmean" });
 * const logp = tensor([[Math.log(0.5), Math.log(0.5)]]);
 * console.log(loss.forward(logp, tensor([[0.5, 0.5]])).item()); // 0
 * ```
 */
export class KLDivLoss extends Module {
  /** How the per-element losses are combined. */
  readonly reduction: KlDivReduction;
  /** Whether the target holds log-probabilities. */
  readonly logTarget: boolean;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: KLDivLossOptions = {}) {
    super();
    const o = checkContract(NEW_KL_DIV_LOSS, arguments.length, options);
    this.reduction = checkKlReduction("nn.KLDivLoss", o.reduction ?? "mean");
    this.logTarget = o.logTarget ?? false;
    if (typeof this.logTarget !== "boolean") {
      throw new Error(`nn.KLDivLoss: logTarget must be true or false, got ${o.logTarget}`);
    }
  }

  /** Loss of log-probabilities against the target distribution. */
  forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }
}
