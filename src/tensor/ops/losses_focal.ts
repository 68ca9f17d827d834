/**
 * Focal losses, which down-weight the examples a model already gets right
 * (Lin et al., "Focal Loss for Dense Object Detection", 2017):
 * `sigmoidFocalLoss` for binary / multi-label logits, as
 * `torchvision.ops.sigmoid_focal_loss` (0.14), and `focalLoss` for softmax
 * logits against class indices, -alpha_t (1 - p_t)^gamma log p_t.
 * Compositions of differentiable ops: autograd gives every gradient.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { type CallContract, checkContract } from "../../options.ts";
import type { Reduction } from "./loss.ts";
import { checkPair, checkReduction, reduceLoss } from "./loss_args.ts";
import { binaryCrossEntropyWithLogits, nllLoss } from "./losses_extra.ts";
import {
  add,
  expm1,
  mul,
  neg,
  pow,
  requireFloat,
  rsub,
  sameDevice,
  sigmoid,
} from "./elementwise.ts";
import { clampMin } from "./clamp.ts";
import { reshape } from "./shape.ts";
import { arange } from "./creation.ts";
import { eq } from "./compare.ts";
import { where } from "./where.ts";
import { logSoftmax } from "./softmax.ts";
import { lossNumber } from "./losses_margin.ts";

/** Options of `sigmoidFocalLoss`. */
export interface SigmoidFocalLossOptions {
  /** Weight of the positive targets, in [0, 1]; negatives get 1 - alpha; < 0: none (default 0.25). */
  alpha?: number;
  /** Focusing exponent, >= 0 (default 2; 0 is binary cross-entropy times alpha_t). */
  gamma?: number;
  /** "none" (default, as torchvision's), "mean" or "sum". */
  reduction?: Reduction;
}

/** How `sigmoidFocalLoss` is called; `nn.SigmoidFocalLoss` takes the same option names. */
export const SIGMOID_FOCAL_LOSS: CallContract<SigmoidFocalLossOptions> = {
  where: "sigmoidFocalLoss",
  most: 3,
  known: ["alpha", "gamma", "reduction"],
  usage: 'F.sigmoidFocalLoss(logits, target, { alpha: 0.25, gamma: 2, reduction: "mean" })',
};

/** @internal the focal exponent: a finite number >= 0. */
export function checkGamma(where: string, gamma: unknown): number {
  return lossNumber(where, "gamma", gamma, 0);
}

/** @internal sigmoidFocalLoss's alpha: a finite number <= 1 (below 0: no weighting). */
export function checkAlpha(where: string, alpha: unknown): number {
  const a = lossNumber(where, "alpha", alpha);
  if (a > 1) {
    throw new Error(
      `${where}: alpha must be in [0, 1] (a negative alpha turns the weighting off), got ${a}`,
    );
  }
  return a;
}

/**
 * Sigmoid focal loss, as `torchvision.ops.sigmoid_focal_loss` (0.14): with
 * p = sigmoid(x) and p_t = p y + (1 - p)(1 - y), the binary cross-entropy
 * of the logits times (1 - p_t)^gamma, times alpha_t = alpha y + (1 -
 * alpha)(1 - y) when alpha >= 0. The target is float32 of the input's
 * shape (0/1, or soft labels). The default reduction is "none", as
 * torchvision's: pass "mean" or "sum" for a scalar to train on.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.sigmoidFocalLoss(tensor([0, 0]), tensor([1, 0]), { reduction: "sum" });
 * console.log(loss.item().toFixed(4)); // "0.1733"
 * ```
 */
export function sigmoidFocalLoss(
  input: Tensor,
  target: Tensor,
  options: SigmoidFocalLossOptions = {},
): Tensor {
  const { where: at, usage } = SIGMOID_FOCAL_LOSS;
  const o = checkContract(SIGMOID_FOCAL_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "none");
  const alpha = checkAlpha(at, o.alpha ?? 0.25);
  const gamma = checkGamma(at, o.gamma ?? 2);
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) {
    throw new Error(`${at}: input and target must be Tensors; write ${usage}`);
  }
  checkPair(at, input, target);
  // torchvision's order of operations, so the rounding is its own.
  const p = sigmoid(input);
  const ce = binaryCrossEntropyWithLogits(input, target, { reduction: "none" });
  const pT = add(mul(p, target), mul(rsub(1, p), rsub(1, target)));
  let loss = mul(ce, pow(rsub(1, pT), gamma));
  if (alpha >= 0) {
    loss = mul(add(mul(target, alpha), mul(rsub(1, target), 1 - alpha)), loss);
  }
  return reduceLoss(loss, reduction);
}

/** Options of `focalLoss`. */
export interface FocalLossOptions {
  /** Focusing exponent, >= 0 (default 2; 0 is cross-entropy). */
  gamma?: number;
  /**
   * A weight per class ([C]), as cross-entropy's: each sample's term times
   * weight[t], and "mean" divides by the sum of weight[t] over the samples.
   */
  weight?: Tensor | null;
  /**
   * The focal alpha_t per class ([C]): each sample's term times alpha[t];
   * unlike `weight`, "mean" still divides by the number of samples.
   */
  alpha?: Tensor | null;
  /** Target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `focalLoss` is called; `nn.FocalLoss` takes the same option names. */
export const FOCAL_LOSS: CallContract<FocalLossOptions> = {
  where: "focalLoss",
  most: 3,
  known: ["gamma", "weight", "alpha", "ignoreIndex", "reduction"],
  usage: 'F.focalLoss(logits, target, { gamma: 2, weight, alpha, reduction: "mean" })',
};

/** The float32 tensor [c] of a per-class option, or an Error that names it. */
function perClass(desc: string, name: string, t: unknown, logits: Tensor, c: number): Tensor {
  if (!(t instanceof Tensor)) {
    throw new Error(
      `${desc}: ${name} must be a Tensor [${c}], one per class, got ${typeof t}` +
        (name === "alpha" && typeof t === "number"
          ? "; a single alpha scales every class alike here (multiply the loss instead); " +
            "the binary alpha of the paper is sigmoidFocalLoss's"
          : ""),
    );
  }
  requireFloat(t, `focalLoss ${name}`);
  sameDevice(logits, t, `focalLoss ${name}`);
  if (t.ndim !== 1 || t.shape[0] !== c) {
    throw new Error(`${desc}: ${name} [${t.shape}] must be [${c}], one per class`);
  }
  return t;
}

/** Below this, 1 - p_t is raised to it: no 0 * inf = NaN in the gradient where p_t is 1. */
const TINY = 1.1754943508222875e-38; // the smallest normal float32

/**
 * Multi-class focal loss of logits [N, C] (or [N, C, d...], or one sample
 * [C]) against int32 class indices [N] (or [N, d...], or []). With
 * log p_t = log_softmax(x)[t], each sample's loss is
 *
 *   -weight[t] alpha[t] (1 - p_t)^gamma log p_t
 *
 * with 1 - p_t computed as -expm1(log p_t) and raised to at least the
 * smallest normal float32 (so where p_t rounds to 1 the gradient is 0, not
 * NaN); samples whose target is `ignoreIndex` add 0. "mean" divides the sum
 * by the sum of weight[t] over the samples not ignored (their count without
 * `weight`), as `F.cross_entropy` does: gamma 0 without alpha is
 * `crossEntropy` exactly, with the same options. `alpha` multiplies as
 * `weight` does but is not in that divisor: the per-class alpha of the
 * common PyTorch focal-loss ports (an NLL weight, then a plain mean).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const logits = tensor([[2, 0, 0], [0, 0, 0]]);
 * const target = tensor(new Int32Array([0, 2]), [2]);
 * console.log(F.focalLoss(logits, target).item().toFixed(4)); // "0.2496"
 * ```
 */
export function focalLoss(input: Tensor, target: Tensor, options: FocalLossOptions = {}): Tensor {
  const { where: at, usage } = FOCAL_LOSS;
  const o = checkContract(FOCAL_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const gamma = checkGamma(at, o.gamma ?? 2);
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) {
    throw new Error(`${at}: input and target must be Tensors; write ${usage}`);
  }
  const desc = `${at} input [${input.shape}] target [${target.shape}] (${target.dtype})`;
  requireFloat(input, `${at} input`);
  if (target.dtype !== "int32") {
    throw new Error(
      `${desc}: target must be int32 class indices (target.int()); for 0/1 targets per class ` +
        "(multi-label) use sigmoidFocalLoss",
    );
  }
  sameDevice(input, target, at);
  const unbatched = input.ndim === 1 && target.ndim === 0;
  if (!unbatched && input.ndim < 2) {
    throw new Error(`${desc}: input must be [N, C, ...] (or [C] with a 0-d target)`);
  }
  const classDim = unbatched ? 0 : 1;
  const c = input.shape[classDim];
  const rows = unbatched ? [] : [input.shape[0], ...input.shape.slice(2)];
  if (target.shape.join() !== rows.join() || target.ndim !== rows.length) {
    throw new Error(`${desc}: target must be [${rows}]`);
  }
  const ignoreIndex = o.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) {
    throw new Error(`${desc}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  }
  const weight = o.weight == null ? null : perClass(desc, "weight", o.weight, input, c);
  const alpha = o.alpha == null ? null : perClass(desc, "alpha", o.alpha, input, c);
  const labels = target.toArray();
  const bad = labels.findIndex((t) => t !== ignoreIndex && (t < 0 || t >= c));
  if (bad >= 0) {
    throw new Error(
      `${desc}: target ${labels[bad]} (element ${bad}) is out of bounds for ${c} classes`,
    );
  }
  // log p_t where the class is the target, 0 elsewhere (a -inf logit of
  // another class never meets the focal factor, whose gradient would be
  // NaN there); then nllLoss picks it and reduces as cross-entropy does
  // (weights, ignored targets, all ignored).
  const keep = input.shape.map((d, i) => (i === classDim ? d : 1));
  const classes = reshape(arange(0, c, 1, { device: input.device }), keep);
  const hit = eq(classes, unbatched ? target : reshape(target, [rows[0], 1, ...rows.slice(1)]));
  const logpt = where(hit, logSoftmax(input, classDim), 0);
  let q = gamma === 0 ? logpt : mul(pow(clampMin(neg(expm1(logpt)), TINY), gamma), logpt);
  if (alpha) q = mul(q, reshape(alpha, keep));
  return nllLoss(q, target, { weight, ignoreIndex, reduction });
}
