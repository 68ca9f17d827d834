/**
 * `SigmoidFocalLoss` (the module form of torchvision's
 * `sigmoid_focal_loss`, which has none) and `FocalLoss` (multi-class, over
 * softmax logits): options under camelCase names, checked when the loss is
 * made; FocalLoss's per-class tensors kept as the buffers "weight" and
 * "alpha", so they move with `to()` and the state dict.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Reduction } from "../tensor/ops/loss.ts";
import { checkReduction } from "../tensor/ops/loss_args.ts";
import {
  checkAlpha,
  checkGamma,
  FOCAL_LOSS,
  focalLoss,
  SIGMOID_FOCAL_LOSS,
  sigmoidFocalLoss,
  type SigmoidFocalLossOptions,
} from "../tensor/ops/losses_focal.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";
import { weightOption } from "./loss.ts";

export type { SigmoidFocalLossOptions };

const NEW_SIGMOID_FOCAL_LOSS: CallContract<SigmoidFocalLossOptions> = {
  where: "nn.SigmoidFocalLoss",
  most: 1,
  known: SIGMOID_FOCAL_LOSS.known,
  usage: 'new nn.SigmoidFocalLoss({ alpha: 0.25, gamma: 2, reduction: "mean" })',
};

/**
 * Sigmoid focal loss of logits against float 0/1 targets of the same shape
 * (`F.sigmoidFocalLoss`). Its default reduction is "none", as
 * torchvision's function: give "mean" or "sum" to train on a scalar.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.SigmoidFocalLoss({ reduction: "sum" });
 * console.log(loss.forward(tensor([0, 0]), tensor([1, 0])).item().toFixed(4)); // "0.1733"
 * ```
 */
export class SigmoidFocalLoss extends Module {
  /** Weight of the positive targets (negatives get 1 - alpha; < 0: none). */
  readonly alpha: number;
  /** The focusing exponent. */
  readonly gamma: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: SigmoidFocalLossOptions = {}) {
    super();
    const at = "nn.SigmoidFocalLoss";
    const o = checkContract(NEW_SIGMOID_FOCAL_LOSS, arguments.length, options);
    this.alpha = checkAlpha(at, o.alpha ?? 0.25);
    this.gamma = checkGamma(at, o.gamma ?? 2);
    this.reduction = checkReduction(at, o.reduction ?? "none");
  }

  /** Loss of logits against float targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return sigmoidFocalLoss(input, target, {
      alpha: this.alpha,
      gamma: this.gamma,
      reduction: this.reduction,
    });
  }
}

/** Options of `FocalLoss`. */
export interface FocalLossLayerOptions {
  /** Focusing exponent, >= 0 (default 2; 0 is cross-entropy). */
  gamma?: number;
  /** A weight per class ([C]), as CrossEntropyLoss's; kept as the buffer "weight". */
  weight?: Tensor | null;
  /** The focal alpha_t per class ([C]), not in the mean's divisor; kept as the buffer "alpha". */
  alpha?: Tensor | null;
  /** Target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_FOCAL_LOSS: CallContract<FocalLossLayerOptions> = {
  where: "nn.FocalLoss",
  most: 1,
  known: FOCAL_LOSS.known,
  usage: "new nn.FocalLoss({ gamma: 2, weight: tensor([1, 2, 4]) })",
};

/**
 * Multi-class focal loss of logits [N, C, ...] against int32 class indices
 * [N, ...] (`F.focalLoss`: -weight[t] alpha[t] (1 - p_t)^gamma log p_t);
 * gamma 0 is `CrossEntropyLoss`.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.FocalLoss({ gamma: 2 });
 * const l = loss.forward(tensor([[2, 0, 0], [0, 0, 0]]), tensor(new Int32Array([0, 2]), [2]));
 * console.log(l.item().toFixed(4)); // "0.2496"
 * ```
 */
export class FocalLoss extends Module {
  /** The focusing exponent. */
  readonly gamma: number;
  /** Target value that contributes nothing. */
  readonly ignoreIndex: number;
  /** How the per-sample losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: FocalLossLayerOptions = {}) {
    super();
    const at = "nn.FocalLoss";
    const o = checkContract(NEW_FOCAL_LOSS, arguments.length, options);
    this.gamma = checkGamma(at, o.gamma ?? 2);
    this.registerBuffer("weight", weightOption(at, "weight", o.weight));
    this.registerBuffer("alpha", weightOption(at, "alpha", o.alpha));
    this.ignoreIndex = o.ignoreIndex ?? -100;
    if (!Number.isInteger(this.ignoreIndex)) {
      throw new Error(`${at}: ignoreIndex must be an integer, got ${o.ignoreIndex}`);
    }
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of logits against class indices. */
  forward(input: Tensor, target: Tensor): Tensor {
    return focalLoss(input, target, {
      gamma: this.gamma,
      weight: this.buffer("weight"),
      alpha: this.buffer("alpha"),
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}
