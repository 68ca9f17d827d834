/**
 * Losses against probability distributions, as `torch.nn.functional`:
 * `klDiv`, and the two forms of `F.cross_entropy` beside class indices in
 * a batch: probabilities per class (a float target of the logits' shape)
 * and one unbatched sample (logits [C], an index []). Compositions of
 * differentiable ops, as PyTorch 1.13's own (its gradients, for targets and
 * weights too, follow).
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { type CallContract, checkContract } from "../../options.ts";
import { crossEntropy, type CrossEntropyOptions, type Reduction } from "./loss.ts";
import { checkPair, checkReduction } from "./loss_args.ts";
import { add, div, exp, log, mul, neg, requireFloat, sameDevice, sub } from "./elementwise.ts";
import { eq } from "./compare.ts";
import { where } from "./where.ts";
import { sum } from "./reduce.ts";
import { reshape } from "./shape.ts";
import { logSoftmax } from "./softmax.ts";

/** How `klDiv` combines the pointwise terms: PyTorch's four. */
export type KlDivReduction = Reduction | "batchmean";

/** Options of `klDiv`. */
export interface KlDivOptions {
  /**
   * "mean" (default, as PyTorch 1.13: over all elements, not the KL
   * divergence; it warns once), "batchmean" (the sum over the batch size:
   * the KL divergence), "sum" or "none".
   */
  reduction?: KlDivReduction;
  /** Whether the target holds log-probabilities (default false: probabilities). */
  logTarget?: boolean;
}

/** How `klDiv` is called; `nn.KLDivLoss` takes the same option names. */
export const KL_DIV: CallContract<KlDivOptions> = {
  where: "klDiv",
  most: 3,
  known: ["reduction", "logTarget"],
  usage: 'F.klDiv(F.logSoftmax(logits, 1), target, { reduction: "batchmean" })',
};

/** @internal checks a klDiv reduction name. */
export function checkKlReduction(where: string, reduction: unknown): KlDivReduction {
  if (reduction === "batchmean") return reduction;
  if (reduction === "mean" || reduction === "sum" || reduction === "none") return reduction;
  throw new Error(
    `${where}: reduction must be "mean", "batchmean", "sum" or "none", got ${
      JSON.stringify(reduction)
    }`,
  );
}

let warnedMean = false;

/**
 * Kullback-Leibler divergence, as `F.kl_div`: the input holds
 * log-probabilities, the target probabilities (or log-probabilities with
 * `logTarget`); pointwise t (log t - input), 0 where t = 0 (xlogy), NaN for
 * a negative t, and e^t (t - input) with `logTarget`. "batchmean" divides
 * the sum by the batch size (the first dimension), "mean" by the number of
 * elements (PyTorch 1.13's default, with its warning, once). Target and
 * input must have one shape.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const logp = F.logSoftmax(tensor([[0, 0], [0, 0]]), 1);
 * const kl = F.klDiv(logp, tensor([[1, 0], [0.5, 0.5]]), { reduction: "batchmean" });
 * console.log(kl.item().toFixed(4)); // "0.3466"
 * ```
 */
export function klDiv(input: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  const o = checkContract(KL_DIV, arguments.length, options);
  const reduction = checkKlReduction("klDiv", o.reduction ?? "mean");
  const logTarget = o.logTarget ?? false;
  if (typeof logTarget !== "boolean") {
    throw new Error(`klDiv: logTarget must be true or false, got ${JSON.stringify(logTarget)}`);
  }
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) {
    throw new Error(`klDiv: input and target must be Tensors; write ${KL_DIV.usage}`);
  }
  checkPair("klDiv", input, target);
  if (reduction === "mean" && !warnedMean) {
    warnedMean = true;
    console.warn(
      'klDiv: reduction "mean" divides the total loss by both the batch size and the support ' +
        'size (PyTorch\'s default, and its warning); "batchmean" divides by the batch size only, ' +
        'as the KL divergence: pass { reduction: "batchmean" }',
    );
  }
  // PyTorch 1.13's composite: xlogy(t, t) - t * input, or e^t (t - input).
  const loss = logTarget
    ? mul(exp(target), sub(target, input))
    : sub(where(eq(target, 0), 0, mul(target, log(target))), mul(target, input));
  if (reduction === "none") return loss;
  const total = sum(loss);
  if (reduction === "sum") return total;
  if (reduction === "mean") return div(total, loss.numel());
  return input.ndim === 0 ? total : div(total, input.shape[0]); // batchmean, as PyTorch's
}

/** How `crossEntropyProbs` and `crossEntropyUnbatched` are called (crossEntropy's options). */
const CROSS_ENTROPY_MORE: CallContract<CrossEntropyOptions> = {
  where: "crossEntropy",
  most: 3,
  known: ["weight", "ignoreIndex", "labelSmoothing", "reduction"],
  usage: "F.crossEntropy(logits, target, { labelSmoothing: 0.1 })",
};

/**
 * Cross-entropy of logits [N, C, ...] (or one sample [C]) against
 * probabilities per class of the same shape, as `F.cross_entropy` with a
 * float target: -sum_c w_c p_c log_softmax(x)_c, with p smoothed to
 * p (1 - s) + s / C by `labelSmoothing` s. "mean" divides by the number of
 * samples (N times the spatial size), not by the weights; `ignoreIndex`
 * (>= 0) is refused, as PyTorch refuses it. `crossEntropy` calls this for
 * a float target of the logits' shape; the weight may require a gradient.
 *
 * @internal
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.crossEntropy(tensor([[0, 0]]), tensor([[0.25, 0.75]]));
 * console.log(loss.item().toFixed(4)); // "0.6931"
 * ```
 */
export function crossEntropyProbs(
  logits: Tensor,
  target: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const o = checkContract(CROSS_ENTROPY_MORE, arguments.length, options);
  const reduction = checkReduction("crossEntropy", o.reduction ?? "mean");
  if (!(logits instanceof Tensor) || !(target instanceof Tensor)) {
    throw new Error(
      `crossEntropy: logits and target must be Tensors; write ${CROSS_ENTROPY_MORE.usage}`,
    );
  }
  const desc = `crossEntropy logits [${logits.shape}] target [${target.shape}] (${target.dtype})`;
  requireFloat(logits, "crossEntropy logits");
  if (target.dtype !== "float32") {
    throw new Error(
      `${desc}: a target of the logits' shape holds probabilities per class and must be ` +
        "float32 (target.float()); class indices are int32 without the class dimension",
    );
  }
  sameDevice(logits, target, "crossEntropy");
  if (logits.ndim === 0) throw new Error(`${desc}: logits must be [N, C, ...] or [C]`);
  if (logits.shape.join() !== target.shape.join() || logits.ndim !== target.ndim) {
    throw new Error(`${desc}: probabilities per class must have the logits' shape`);
  }
  const ignoreIndex = o.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) {
    throw new Error(`${desc}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  }
  if (ignoreIndex >= 0) {
    throw new Error(
      `${desc}: ignoreIndex (${ignoreIndex}) is not supported with probability targets, as in ` +
        "PyTorch; leave it out (a sample with a target row of zeros adds nothing to the sum)",
    );
  }
  const smoothing = o.labelSmoothing ?? 0;
  if (typeof smoothing !== "number" || !(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`${desc}: labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  const classDim = logits.ndim === 1 ? 0 : 1;
  const c = logits.shape[classDim];
  const w = o.weight ?? null;
  if (w !== null) {
    if (!(w instanceof Tensor)) throw new Error(`${desc}: weight must be a Tensor [${c}]`);
    requireFloat(w, "crossEntropy weight");
    sameDevice(logits, w, "crossEntropy weight");
    if (w.ndim !== 1 || w.shape[0] !== c) {
      throw new Error(`${desc}: weight [${w.shape}] must be [${c}], one per class`);
    }
  }
  const logp = logSoftmax(logits, classDim);
  const p = smoothing > 0 ? add(mul(target, 1 - smoothing), smoothing / c) : target;
  let terms = mul(logp, p);
  if (w) {
    const keep = logits.shape.map((d, i) => (i === classDim ? d : 1));
    terms = mul(terms, reshape(w, keep));
  }
  if (reduction === "none") return neg(sum(terms, classDim));
  const total = neg(sum(terms));
  return reduction === "sum" ? total : div(total, c === 0 ? 0 : logits.numel() / c);
}

/**
 * Cross-entropy of one sample's logits [C] against its int32 class index
 * [] (PyTorch's unbatched form): `crossEntropy` on [1, C] and [1], its
 * "none" result a 0-d tensor. `crossEntropy` calls this for such input.
 *
 * @internal
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.crossEntropy(tensor([0, 0]), tensor(new Int32Array([1]), []));
 * console.log(loss.item().toFixed(4)); // "0.6931"
 * ```
 */
export function crossEntropyUnbatched(
  logits: Tensor,
  target: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const o = checkContract(CROSS_ENTROPY_MORE, arguments.length, options);
  if (!(logits instanceof Tensor) || !(target instanceof Tensor)) {
    throw new Error(
      `crossEntropy: logits and target must be Tensors; write ${CROSS_ENTROPY_MORE.usage}`,
    );
  }
  const desc = `crossEntropy logits [${logits.shape}] target [${target.shape}] (${target.dtype})`;
  if (logits.ndim !== 1 || target.ndim !== 0) {
    throw new Error(`${desc}: one unbatched sample is logits [C] with a 0-d int32 class index`);
  }
  if (target.dtype !== "int32") {
    throw new Error(
      `${desc}: the class index must be int32 (target.int()); probabilities per class are [C]`,
    );
  }
  // Checked here, so that the error names the shapes as given, not [1, C] and [1].
  const label = target.item(), c = logits.shape[0];
  if (label !== (o.ignoreIndex ?? -100) && (label < 0 || label >= c)) {
    throw new Error(`${desc}: target ${label} is out of bounds for ${c} classes`);
  }
  const one = crossEntropy(reshape(logits, [1, logits.shape[0]]), reshape(target, [1]), o);
  return o.reduction === "none" ? reshape(one, []) : one;
}
