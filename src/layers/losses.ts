/**
 * `NLLLoss`, `BCEWithLogitsLoss` and `MSELoss`, as `torch.nn`'s: options
 * under camelCase names, weights kept as buffers with PyTorch's names
 * (`weight`, `pos_weight`), so they move with `to()` and the state dict.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Reduction } from "../tensor/ops/loss.ts";
import {
  BCE_WITH_LOGITS,
  binaryCrossEntropyWithLogits,
  checkReduction,
  MSE_LOSS,
  mseLoss,
  NLL_LOSS,
  nllLoss,
} from "../tensor/ops/losses_extra.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";
import { weightOption } from "./loss.ts";

/** Options of `NLLLoss`. */
export interface NLLLossOptions {
  /** A weight per class ([C]); kept as the buffer "weight". */
  weight?: Tensor | null;
  /** Target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_NLL_LOSS: CallContract<NLLLossOptions> = {
  where: "nn.NLLLoss",
  most: 1,
  known: NLL_LOSS.known,
  usage: 'new nn.NLLLoss({ weight, ignoreIndex: -100, reduction: "mean" })',
};

/**
 * Negative log-likelihood of log-probabilities [N, C, ...] against int32
 * class indices [N, ...] (use after `LogSoftmax`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.NLLLoss({ ignoreIndex: 2 });
 * const logp = tensor([[-0.5, -1], [-2, -0.1]]);
 * console.log(loss.forward(logp, tensor(new Int32Array([0, 2]), [2])).item()); // 0.5
 * ```
 */
export class NLLLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;

  constructor(options: NLLLossOptions = {}) {
    super();
    const o = checkContract(NEW_NLL_LOSS, arguments.length, options);
    this.registerBuffer("weight", weightOption("nn.NLLLoss", "weight", o.weight));
    this.ignoreIndex = o.ignoreIndex ?? -100;
    if (!Number.isInteger(this.ignoreIndex)) {
      throw new Error(`nn.NLLLoss: ignoreIndex must be an integer, got ${o.ignoreIndex}`);
    }
    this.reduction = checkReduction("nn.NLLLoss", o.reduction ?? "mean");
  }

  /** Loss of log-probabilities against targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, {
      weight: this.buffer("weight"),
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}

/** Options of `BCEWithLogitsLoss`. */
export interface BCEWithLogitsLossOptions {
  /** Weight of each element, broadcast to the input; kept as the buffer "weight". */
  weight?: Tensor | null;
  /** Weight of positives per class (last dimension); kept as the buffer "pos_weight". */
  posWeight?: Tensor | null;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_BCE_WITH_LOGITS_LOSS: CallContract<BCEWithLogitsLossOptions> = {
  where: "nn.BCEWithLogitsLoss",
  most: 1,
  known: BCE_WITH_LOGITS.known,
  usage: 'new nn.BCEWithLogitsLoss({ posWeight: tensor([3]), reduction: "mean" })',
};

/**
 * Sigmoid and binary cross-entropy in one stable step, on logits and float
 * targets in [0, 1] of the same shape (multi-label, or one logit per
 * sample for two classes).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.BCEWithLogitsLoss({ posWeight: tensor([3]) });
 * const l = loss.forward(tensor([[0], [0]]), tensor([[1], [0]]));
 * console.log(l.item().toFixed(4)); // "1.3863"
 * ```
 */
export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;

  constructor(options: BCEWithLogitsLossOptions = {}) {
    super();
    const o = checkContract(NEW_BCE_WITH_LOGITS_LOSS, arguments.length, options);
    this.registerBuffer("weight", weightOption("nn.BCEWithLogitsLoss", "weight", o.weight));
    this.registerBuffer(
      "pos_weight",
      weightOption("nn.BCEWithLogitsLoss", "posWeight", o.posWeight),
    );
    this.reduction = checkReduction("nn.BCEWithLogitsLoss", o.reduction ?? "mean");
  }

  /** Loss of logits against float targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, {
      weight: this.buffer("weight"),
      posWeight: this.buffer("pos_weight"),
      reduction: this.reduction,
    });
  }
}

/** Options of `MSELoss`. */
export interface MSELossOptions {
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_MSE_LOSS: CallContract<MSELossOptions> = {
  where: "nn.MSELoss",
  most: 1,
  known: MSE_LOSS.known,
  usage: 'new nn.MSELoss({ reduction: "sum" })',
};

/**
 * Mean squared error between an input and a float target of the same shape.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * console.log(new nn.MSELoss().forward(tensor([1, 3]), tensor([1, 1])).item()); // 2
 * ```
 */
export class MSELoss extends Module {
  readonly reduction: Reduction;

  constructor(options: MSELossOptions = {}) {
    super();
    const o = checkContract(NEW_MSE_LOSS, arguments.length, options);
    this.reduction = checkReduction("nn.MSELoss", o.reduction ?? "mean");
  }

  /** Loss of input against target. */
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}
