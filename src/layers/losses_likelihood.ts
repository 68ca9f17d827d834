/**
 * `GaussianNLLLoss` and `PoissonNLLLoss`, as `torch.nn`'s: options under
 * camelCase names, checked when the loss is made.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Reduction } from "../tensor/ops/loss.ts";
import { checkReduction } from "../tensor/ops/loss_args.ts";
import {
  GAUSSIAN_NLL_LOSS,
  gaussianNllLoss,
  type GaussianNllLossOptions,
  POISSON_NLL_LOSS,
  poissonNllLoss,
  type PoissonNllLossOptions,
} from "../tensor/ops/losses_likelihood.ts";
import { lossFlag, lossNumber } from "../tensor/ops/losses_margin.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";

/** Options of `GaussianNLLLoss` (`gaussianNllLoss`'s). */
export type GaussianNLLLossOptions = GaussianNllLossOptions;
/** Options of `PoissonNLLLoss` (`poissonNllLoss`'s). */
export type PoissonNLLLossOptions = PoissonNllLossOptions;

const NEW_GAUSSIAN_NLL_LOSS: CallContract<GaussianNLLLossOptions> = {
  where: "nn.GaussianNLLLoss",
  most: 1,
  known: GAUSSIAN_NLL_LOSS.known,
  usage: "new nn.GaussianNLLLoss({ full: false, eps: 1e-6 })",
};

/**
 * Gaussian negative log-likelihood of a predicted mean and variance
 * (`F.gaussianNllLoss`); `forward(input, target, variance)`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.GaussianNLLLoss();
 * console.log(loss.forward(tensor([0, 1]), tensor([1, 1]), tensor([1, 1])).item()); // 0.25
 * ```
 */
export class GaussianNLLLoss extends Module {
  /** Whether the constant 0.5 log(2 pi) is added. */
  readonly full: boolean;
  /** Variances below it are raised to it. */
  readonly eps: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: GaussianNLLLossOptions = {}) {
    super();
    const at = "nn.GaussianNLLLoss";
    const o = checkContract(NEW_GAUSSIAN_NLL_LOSS, arguments.length, options);
    this.full = lossFlag(at, "full", o.full ?? false);
    this.eps = lossNumber(at, "eps", o.eps ?? 1e-6, 0);
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of the predicted mean and variance against the target. */
  forward(input: Tensor, target: Tensor, variance: Tensor): Tensor {
    return gaussianNllLoss(input, target, variance, {
      full: this.full,
      eps: this.eps,
      reduction: this.reduction,
    });
  }
}

const NEW_POISSON_NLL_LOSS: CallContract<PoissonNLLLossOptions> = {
  where: "nn.PoissonNLLLoss",
  most: 1,
  known: POISSON_NLL_LOSS.known,
  usage: "new nn.PoissonNLLLoss({ logInput: true, full: false })",
};

/**
 * Poisson negative log-likelihood of a predicted (log-)rate against counts
 * (`F.poissonNllLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.PoissonNLLLoss({ logInput: false, eps: 0 });
 * console.log(loss.forward(tensor([1, 1]), tensor([2, 0])).item()); // 1
 * ```
 */
export class PoissonNLLLoss extends Module {
  /** Whether the input is the log of the rate. */
  readonly logInput: boolean;
  /** Whether Stirling's term is added. */
  readonly full: boolean;
  /** Added to the rate before its log (logInput false). */
  readonly eps: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: PoissonNLLLossOptions = {}) {
    super();
    const at = "nn.PoissonNLLLoss";
    const o = checkContract(NEW_POISSON_NLL_LOSS, arguments.length, options);
    this.logInput = lossFlag(at, "logInput", o.logInput ?? true);
    this.full = lossFlag(at, "full", o.full ?? false);
    this.eps = lossNumber(at, "eps", o.eps ?? 1e-8, 0);
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of the predicted rate against counts. */
  forward(input: Tensor, target: Tensor): Tensor {
    return poissonNllLoss(input, target, {
      logInput: this.logInput,
      full: this.full,
      eps: this.eps,
      reduction: this.reduction,
    });
  }
}
