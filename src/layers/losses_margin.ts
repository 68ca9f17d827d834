/**
 * `MarginRankingLoss`, `HingeEmbeddingLoss`, `SoftMarginLoss`,
 * `MultiLabelSoftMarginLoss`, `CosineEmbeddingLoss` and `TripletMarginLoss`,
 * as `torch.nn`'s: options under camelCase names, checked when the loss is
 * made; MultiLabelSoftMarginLoss's weight kept as the buffer "weight", as
 * PyTorch's.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Reduction } from "../tensor/ops/loss.ts";
import { checkReduction } from "../tensor/ops/loss_args.ts";
import {
  COSINE_EMBEDDING_LOSS,
  cosineEmbeddingLoss,
  type CosineEmbeddingLossOptions,
  HINGE_EMBEDDING_LOSS,
  hingeEmbeddingLoss,
  type HingeEmbeddingLossOptions,
  lossFlag,
  lossNumber,
  MARGIN_RANKING_LOSS,
  marginRankingLoss,
  type MarginRankingLossOptions,
  MULTILABEL_SOFT_MARGIN_LOSS,
  multilabelSoftMarginLoss,
  SOFT_MARGIN_LOSS,
  softMarginLoss,
  type SoftMarginLossOptions,
  TRIPLET_MARGIN_LOSS,
  tripletMarginLoss,
  type TripletMarginLossOptions,
} from "../tensor/ops/losses_margin.ts";
import { type CallContract, checkContract } from "../options.ts";
import { Module } from "./module.ts";
import { weightOption } from "./loss.ts";

// The modules take their function's options, under the same names.
export type {
  CosineEmbeddingLossOptions,
  HingeEmbeddingLossOptions,
  MarginRankingLossOptions,
  SoftMarginLossOptions,
  TripletMarginLossOptions,
};

/** The contract of a loss module made from its function's: one options argument. */
function moduleContract<T extends object>(
  where: string,
  known: readonly (keyof T & string)[],
  usage: string,
): CallContract<T> {
  return { where, most: 1, known, usage };
}

const NEW_MARGIN_RANKING_LOSS = moduleContract<MarginRankingLossOptions>(
  "nn.MarginRankingLoss",
  MARGIN_RANKING_LOSS.known,
  "new nn.MarginRankingLoss({ margin: 0.5 })",
);

/**
 * Margin ranking loss max(0, -y (x1 - x2) + margin) of two inputs and a
 * target of 1 or -1 (`F.marginRankingLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.MarginRankingLoss({ margin: 0.5 });
 * console.log(loss.forward(tensor([1, 2]), tensor([2, 0]), tensor([1, 1])).item()); // 0.75
 * ```
 */
export class MarginRankingLoss extends Module {
  /** The margin. */
  readonly margin: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: MarginRankingLossOptions = {}) {
    super();
    const at = "nn.MarginRankingLoss";
    const o = checkContract(NEW_MARGIN_RANKING_LOSS, arguments.length, options);
    this.margin = lossNumber(at, "margin", o.margin ?? 0);
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of the pair (input1, input2) ranked by target. */
  forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    return marginRankingLoss(input1, input2, target, {
      margin: this.margin,
      reduction: this.reduction,
    });
  }
}

const NEW_HINGE_EMBEDDING_LOSS = moduleContract<HingeEmbeddingLossOptions>(
  "nn.HingeEmbeddingLoss",
  HINGE_EMBEDDING_LOSS.known,
  "new nn.HingeEmbeddingLoss({ margin: 1 })",
);

/**
 * Hinge embedding loss of distances against targets of 1 (x) or -1
 * (max(0, margin - x)) (`F.hingeEmbeddingLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.HingeEmbeddingLoss({ margin: 2 });
 * console.log(loss.forward(tensor([1, 0.5]), tensor([1, -1])).item()); // 1.25
 * ```
 */
export class HingeEmbeddingLoss extends Module {
  /** The margin of the -1 targets. */
  readonly margin: number;
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: HingeEmbeddingLossOptions = {}) {
    super();
    const at = "nn.HingeEmbeddingLoss";
    const o = checkContract(NEW_HINGE_EMBEDDING_LOSS, arguments.length, options);
    this.margin = lossNumber(at, "margin", o.margin ?? 1);
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of distances against targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return hingeEmbeddingLoss(input, target, { margin: this.margin, reduction: this.reduction });
  }
}

const NEW_SOFT_MARGIN_LOSS = moduleContract<SoftMarginLossOptions>(
  "nn.SoftMarginLoss",
  SOFT_MARGIN_LOSS.known,
  'new nn.SoftMarginLoss({ reduction: "sum" })',
);

/**
 * Two-class logistic loss log(1 + e^(-y x)) for targets of 1 or -1
 * (`F.softMarginLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.SoftMarginLoss();
 * console.log(loss.forward(tensor([0]), tensor([-1])).item().toFixed(4)); // "0.6931"
 * ```
 */
export class SoftMarginLoss extends Module {
  /** How the per-element losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: SoftMarginLossOptions = {}) {
    super();
    const o = checkContract(NEW_SOFT_MARGIN_LOSS, arguments.length, options);
    this.reduction = checkReduction("nn.SoftMarginLoss", o.reduction ?? "mean");
  }

  /** Loss of input against targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return softMarginLoss(input, target, { reduction: this.reduction });
  }
}

/** Options of `MultiLabelSoftMarginLoss`. */
export interface MultiLabelSoftMarginLossOptions {
  /** A weight per class ([C]); kept as the buffer "weight". */
  weight?: Tensor | null;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

const NEW_MULTILABEL_SOFT_MARGIN_LOSS = moduleContract<MultiLabelSoftMarginLossOptions>(
  "nn.MultiLabelSoftMarginLoss",
  MULTILABEL_SOFT_MARGIN_LOSS.known,
  "new nn.MultiLabelSoftMarginLoss({ weight: tensor([1, 2, 1]) })",
);

/**
 * Multi-label one-versus-all logistic loss of logits [N, C] against 0/1
 * targets [N, C], averaged over the classes (`F.multilabelSoftMarginLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.MultiLabelSoftMarginLoss();
 * console.log(loss.forward(tensor([[0, 0]]), tensor([[1, 0]])).item().toFixed(4)); // "0.6931"
 * ```
 */
export class MultiLabelSoftMarginLoss extends Module {
  /** How the per-sample losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: MultiLabelSoftMarginLossOptions = {}) {
    super();
    const at = "nn.MultiLabelSoftMarginLoss";
    const o = checkContract(NEW_MULTILABEL_SOFT_MARGIN_LOSS, arguments.length, options);
    this.registerBuffer("weight", weightOption(at, "weight", o.weight));
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of logits against 0/1 targets. */
  forward(input: Tensor, target: Tensor): Tensor {
    return multilabelSoftMarginLoss(input, target, {
      weight: this.buffer("weight"),
      reduction: this.reduction,
    });
  }
}

const NEW_COSINE_EMBEDDING_LOSS = moduleContract<CosineEmbeddingLossOptions>(
  "nn.CosineEmbeddingLoss",
  COSINE_EMBEDDING_LOSS.known,
  "new nn.CosineEmbeddingLoss({ margin: 0.5 })",
);

/**
 * Cosine embedding loss of pairs [N, D] against targets [N] of 1 (1 - cos)
 * or -1 (max(0, cos - margin)) (`F.cosineEmbeddingLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.CosineEmbeddingLoss();
 * console.log(loss.forward(tensor([[1, 0]]), tensor([[0, 1]]), tensor([1])).item()); // 1
 * ```
 */
export class CosineEmbeddingLoss extends Module {
  /** The margin of the -1 targets. */
  readonly margin: number;
  /** How the per-pair losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: CosineEmbeddingLossOptions = {}) {
    super();
    const at = "nn.CosineEmbeddingLoss";
    const o = checkContract(NEW_COSINE_EMBEDDING_LOSS, arguments.length, options);
    this.margin = lossNumber(at, "margin", o.margin ?? 0);
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of the pairs (input1, input2) against targets. */
  forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    return cosineEmbeddingLoss(input1, input2, target, {
      margin: this.margin,
      reduction: this.reduction,
    });
  }
}

const NEW_TRIPLET_MARGIN_LOSS = moduleContract<TripletMarginLossOptions>(
  "nn.TripletMarginLoss",
  TRIPLET_MARGIN_LOSS.known,
  "new nn.TripletMarginLoss({ margin: 1, p: 2, swap: true })",
);

/**
 * Triplet margin loss max(0, margin + d(a, p) - d(a, n)) of anchors,
 * positives and negatives [N, D] (`F.tripletMarginLoss`).
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const loss = new nn.TripletMarginLoss({ margin: 1, eps: 0 });
 * const a = tensor([[0, 0]]), p = tensor([[0, 1]]), n = tensor([[3, 4]]);
 * console.log(loss.forward(a, p, n).item()); // 0
 * ```
 */
export class TripletMarginLoss extends Module {
  /** The margin between the distances. */
  readonly margin: number;
  /** The order of the distance's norm. */
  readonly p: number;
  /** Added to each difference before its norm. */
  readonly eps: number;
  /** Whether the negative distance is min(d(a, n), d(p, n)). */
  readonly swap: boolean;
  /** How the per-triplet losses are combined. */
  readonly reduction: Reduction;

  /** Makes the loss; its options are checked here, before any forward. */
  constructor(options: TripletMarginLossOptions = {}) {
    super();
    const at = "nn.TripletMarginLoss";
    const o = checkContract(NEW_TRIPLET_MARGIN_LOSS, arguments.length, options);
    this.margin = lossNumber(at, "margin", o.margin ?? 1);
    this.p = o.p ?? 2;
    if (typeof this.p !== "number" || !(this.p > 0)) {
      throw new Error(`${at}: p must be a number > 0 or Infinity, got ${JSON.stringify(o.p)}`);
    }
    this.eps = lossNumber(at, "eps", o.eps ?? 1e-6);
    this.swap = lossFlag(at, "swap", o.swap ?? false);
    this.reduction = checkReduction(at, o.reduction ?? "mean");
  }

  /** Loss of the triplets. */
  forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    return tripletMarginLoss(anchor, positive, negative, {
      margin: this.margin,
      p: this.p,
      eps: this.eps,
      swap: this.swap,
      reduction: this.reduction,
    });
  }
}
