/**
 * The losses besides cross-entropy, as `torch.nn.functional`: `nllLoss`,
 * `binaryCrossEntropyWithLogits` and `mseLoss`. They are compositions of
 * differentiable ops (autograd gives every gradient, also for targets and
 * weights); each input is checked before any work.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import type { CallContract } from "../../options.ts";
import { checkPair, checkReduction, openLoss, reduceLoss } from "./loss_args.ts";
import type { Reduction } from "./loss.ts";
import { arange } from "./creation.ts";
import {
  add,
  broadcastShapes,
  div,
  exp,
  log,
  mul,
  neg,
  relu,
  requireFloat,
  rsub,
  sameDevice,
  sub,
} from "./elementwise.ts";
import { eq } from "./compare.ts";
import { where } from "./where.ts";
import { sum } from "./reduce.ts";
import { reshape } from "./shape.ts";

export { checkReduction };

/** Options of `nllLoss`. */
export interface NllLossOptions {
  /** A weight per class ([C]). */
  weight?: Tensor | null;
  /** Target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /** "mean" (default: weighted mean over non-ignored targets), "sum" or "none". */
  reduction?: Reduction;
}

/** How `nllLoss` is called; `nn.NLLLoss` takes the same option names. */
export const NLL_LOSS: CallContract<NllLossOptions> = {
  where: "nllLoss",
  most: 3,
  known: ["weight", "ignoreIndex", "reduction"],
  usage: 'F.nllLoss(logp, target, { weight, ignoreIndex: -100, reduction: "mean" })',
};

/**
 * Negative log-likelihood of log-probabilities [N, C] (or [N, C, d...], or
 * one sample [C]) against int32 class indices [N] (or [N, d...], or []), as
 * `F.nll_loss`: -weight[t] * input[n, t], summed or averaged by the weights
 * of the targets that are not `ignoreIndex`.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const logp = F.logSoftmax(tensor([[2, 0, 0], [0, 3, 0]]), 1);
 * const loss = F.nllLoss(logp, tensor(new Int32Array([0, 1]), [2]));
 * console.log(loss.item().toFixed(4)); // "0.1672"
 * ```
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const { o, reduction } = openLoss(NLL_LOSS, arguments.length, input, target, options);
  const ignoreIndex = o.ignoreIndex ?? -100;
  const weight = o.weight ?? null;
  const desc = `nllLoss input [${input.shape}] target [${target.shape}] (${target.dtype})`;
  requireFloat(input, "nllLoss input");
  if (target.dtype !== "int32") {
    throw new Error(
      `${desc}: target must be int32 class indices; convert with target.int() ` +
        `(for probabilities per class use crossEntropy or binaryCrossEntropyWithLogits)`,
    );
  }
  sameDevice(input, target, "nllLoss");
  if (!Number.isInteger(ignoreIndex)) {
    throw new Error(`${desc}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  }
  if (input.ndim === 1 && target.ndim === 0) { // one sample, as PyTorch allows
    const one = nllLoss(reshape(input, [1, input.shape[0]]), reshape(target, [1]), o);
    return reduction === "none" ? reshape(one, []) : one;
  }
  if (input.ndim < 2) throw new Error(`${desc}: input must be [N, C, ...] (or [C] with target [])`);
  const [n, c] = input.shape;
  const rest = input.shape.slice(2);
  if (target.shape.join() !== [n, ...rest].join()) {
    throw new Error(`${desc}: target must be [${[n, ...rest]}]`);
  }
  if (weight) {
    requireFloat(weight, "nllLoss weight");
    sameDevice(input, weight, "nllLoss weight");
    if (weight.ndim !== 1 || weight.shape[0] !== c) {
      throw new Error(`${desc}: weight [${weight.shape}] must be [${c}], one per class`);
    }
  }
  // An index outside [0, C) would match no class and add 0 silently.
  const labels = target.toArray();
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i];
    if (t !== ignoreIndex && (t < 0 || t >= c)) {
      throw new Error(`${desc}: target ${t} (element ${i}) is out of bounds for ${c} classes`);
    }
  }
  const keep = [1, c, ...rest.map(() => 1)];
  const classes = reshape(arange(0, c, 1, { device: input.device }), keep);
  const labelsF = reshape(target, [n, 1, ...rest]);
  // hit[n, k, ...] = 1 where target = k (not ignored), else 0; pick: times weight[k].
  let hit = eq(classes, labelsF);
  if (ignoreIndex >= 0 && ignoreIndex < c) {
    hit = mul(hit, rsub(1, eq(labelsF, ignoreIndex)));
  }
  const pick = weight ? mul(hit, reshape(weight, keep)) : hit;
  // Selected, not multiplied by the 0/1 mask: a -inf or NaN in another class
  // (masked logits) would make 0 * -inf = NaN of the loss.
  const chosen = where(hit, input, 0);
  const loss = neg(sum(weight ? mul(chosen, reshape(weight, keep)) : chosen, 1));
  if (reduction === "none") return loss;
  if (reduction === "sum") return sum(loss);
  // Every target ignored: the mean is 0 / 0 = NaN, as PyTorch's, but its
  // gradient is 0 there (nothing was picked), not the NaN that 0 * (1 / 0)
  // would write into every weight at the next step.
  if (labels.every((t) => t === ignoreIndex)) return add(mul(sum(loss), 0), NaN);
  return div(sum(loss), sum(pick));
}

/** Options of `binaryCrossEntropyWithLogits`. */
export interface BceWithLogitsOptions {
  /** Weight of each element's loss, broadcast to the input's shape. */
  weight?: Tensor | null;
  /** Weight of the positive term, broadcast along the last dimension (one per class). */
  posWeight?: Tensor | null;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/**
 * How `binaryCrossEntropyWithLogits` is called; `nn.BCEWithLogitsLoss` takes
 * the same option names.
 */
export const BCE_WITH_LOGITS: CallContract<BceWithLogitsOptions> = {
  where: "binaryCrossEntropyWithLogits",
  most: 3,
  known: ["weight", "posWeight", "reduction"],
  usage: "F.binaryCrossEntropyWithLogits(logits, target, { weight, posWeight, reduction })",
};

function checkBroadcastWeight(name: string, w: Tensor, input: Tensor, desc: string): void {
  requireFloat(w, `binaryCrossEntropyWithLogits ${name}`);
  sameDevice(input, w, `binaryCrossEntropyWithLogits ${name}`);
  const shape = broadcastShapes(input.shape, w.shape, `${desc}: ${name} [${w.shape}]`);
  if (shape.join() !== input.shape.join()) {
    throw new Error(`${desc}: ${name} [${w.shape}] must broadcast to the input's shape`);
  }
}

/**
 * Binary cross-entropy of logits x against float targets y in [0, 1], as
 * `F.binary_cross_entropy_with_logits`: with m = max(-x, 0) and
 * l = 1 + (posWeight - 1) y, loss = (1 - y) x + l (m + log(e^-m + e^(-x-m))),
 * times `weight`; stable for logits of any size (no exp overflows).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.binaryCrossEntropyWithLogits(tensor([0, 100]), tensor([1, 0]));
 * console.log(loss.item().toFixed(4)); // "50.3466"
 * ```
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  options: BceWithLogitsOptions = {},
): Tensor {
  const { o, reduction } = openLoss(BCE_WITH_LOGITS, arguments.length, input, target, options);
  checkPair("binaryCrossEntropyWithLogits", input, target);
  const desc = `binaryCrossEntropyWithLogits input [${input.shape}]`;
  if (o.weight) checkBroadcastWeight("weight", o.weight, input, desc);
  if (o.posWeight) checkBroadcastWeight("posWeight", o.posWeight, input, desc);
  const m = relu(neg(input));
  // m + log(e^-m + e^(-x-m)) = log(1 + e^-x), each exp at most 1.
  const softplusNeg = add(m, log(add(exp(neg(m)), exp(sub(neg(input), m)))));
  const logWeight = o.posWeight ? add(mul(sub(o.posWeight, 1), target), 1) : null;
  let loss = add(
    mul(rsub(1, target), input),
    logWeight ? mul(logWeight, softplusNeg) : softplusNeg,
  );
  if (o.weight) loss = mul(loss, o.weight);
  return reduceLoss(loss, reduction);
}

/** Options of `mseLoss`. */
export interface MseLossOptions {
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `mseLoss` is called; `nn.MSELoss` takes the same option names. */
export const MSE_LOSS: CallContract<MseLossOptions> = {
  where: "mseLoss",
  most: 3,
  known: ["reduction"],
  usage: 'F.mseLoss(input, target, { reduction: "sum" })',
};

/**
 * Mean squared error, as `F.mse_loss`: (input - target)^2, averaged (or
 * summed, or per element). Target and input must have the same shape.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.mseLoss(tensor([1, 2]), tensor([0, 0])).item()); // 2.5
 * ```
 */
export function mseLoss(input: Tensor, target: Tensor, options: MseLossOptions = {}): Tensor {
  const { reduction } = openLoss(MSE_LOSS, arguments.length, input, target, options);
  checkPair("mseLoss", input, target);
  const d = sub(input, target);
  return reduceLoss(mul(d, d), reduction);
}
