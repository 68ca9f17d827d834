/**
 * Negative log-likelihood losses of regression targets, as
 * `torch.nn.functional`: `gaussianNllLoss` (a predicted mean and variance)
 * and `poissonNllLoss` (a predicted rate, for counts). PyTorch 1.13's
 * formulas composed of differentiable ops in the same order, so values and
 * gradients are torch's; operands broadcast as in PyTorch, except to a
 * shape that none of them has (see `losses_margin.ts`).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import { type CallContract, checkContract } from "../../options.ts";
import type { Reduction } from "./loss.ts";
import { checkReduction, reduceLoss } from "./loss_args.ts";
import { add, div, exp, log, mul, sub } from "./elementwise.ts";
import { pow } from "./pow.ts";
import { clampMin } from "./clamp.ts";
import { le, lt } from "./compare.ts";
import { where } from "./where.ts";
import { amax } from "./reduce.ts";
import { unsqueeze } from "./shape.ts";
import { lossFlag, lossNumber, lossShape, lossTensors } from "./losses_margin.ts";

/** Options of `gaussianNllLoss`. */
export interface GaussianNllLossOptions {
  /** Add the constant 0.5 log(2 pi) (default false). */
  full?: boolean;
  /** Variances below eps are raised to eps, for stability (default 1e-6). */
  eps?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `gaussianNllLoss` is called; `nn.GaussianNLLLoss` takes the same option names. */
export const GAUSSIAN_NLL_LOSS: CallContract<GaussianNllLossOptions> = {
  where: "gaussianNllLoss",
  most: 4,
  known: ["full", "eps", "reduction"],
  usage: "F.gaussianNllLoss(mean, target, variance, { full: false, eps: 1e-6 })",
};

/** `v` clamped at eps, with the gradient passed as the identity (a clamp under no_grad). */
function clampedVariance(v: Tensor, eps: number): Tensor {
  return record(noGrad(() => clampMin(v, eps)), {
    name: "gaussianNllLoss var",
    inputs: [v],
    saved: [],
    backward: (g) => [g],
  });
}

/**
 * Gaussian negative log-likelihood, as `F.gaussian_nll_loss`: 0.5 (log v +
 * (input - target)^2 / v), plus 0.5 log(2 pi) with `full`, for a predicted
 * mean `input` and variance `variance` (v). The variance has the input's
 * shape, or one dimension less (unsqueezed at the end), or its last
 * dimension 1 (one variance per row); any other shape throws, as does a
 * negative entry. Values below `eps` are raised to eps, and the gradient
 * passes that clamp unchanged, as PyTorch's clamp under no_grad.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.gaussianNllLoss(tensor([0, 1]), tensor([1, 1]), tensor([1, 1]));
 * console.log(loss.item()); // 0.25
 * ```
 */
export function gaussianNllLoss(
  input: Tensor,
  target: Tensor,
  variance: Tensor,
  options: GaussianNllLossOptions = {},
): Tensor {
  const { where: at, usage } = GAUSSIAN_NLL_LOSS;
  const o = checkContract(GAUSSIAN_NLL_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const full = lossFlag(at, "full", o.full ?? false);
  const eps = lossNumber(at, "eps", o.eps ?? 1e-6, 0);
  lossTensors(at, usage, [["input", input], ["target", target], ["variance", variance]]);
  let v = variance;
  const same = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(v.shape, input.shape)) {
    const rows = input.shape.slice(0, -1);
    if (input.ndim > 0 && same(rows, v.shape)) v = unsqueeze(v, -1);
    else if (!(v.ndim > 0 && same(rows, v.shape.slice(0, -1)) && v.shape[v.ndim - 1] === 1)) {
      throw new Error(
        `${at}: variance [${variance.shape}] is of incorrect size for input [${input.shape}]: ` +
          `give it the input's shape, [${rows}] or [${[...rows, 1]}] (one variance per row)`,
      );
    }
  }
  lossShape(at, [["input", input], ["target", target], ["variance", v]]);
  if (v.numel() > 0 && noGrad(() => amax(lt(v, 0)).item()) === 1) {
    const values = v.toArray();
    const i = values.findIndex((x) => x < 0);
    throw new Error(
      `${at}: variance has negative entries (element ${i} (flat) is ${values[i]}); ` +
        "predict it through softplus or exp to keep it >= 0",
    );
  }
  const vc = clampedVariance(v, eps);
  const d = sub(input, target);
  let loss = mul(add(log(vc), div(pow(d, 2), vc)), 0.5);
  if (full) loss = add(loss, 0.5 * Math.log(2 * Math.PI));
  return reduceLoss(loss, reduction);
}

/** Options of `poissonNllLoss`. */
export interface PoissonNllLossOptions {
  /** The input is the log of the rate (default true): loss e^x - y x. */
  logInput?: boolean;
  /** Add Stirling's approximation of log(y!) where y > 1 (default false). */
  full?: boolean;
  /** Added to the rate before its log when `logInput` is false (default 1e-8). */
  eps?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `poissonNllLoss` is called; `nn.PoissonNLLLoss` takes the same option names. */
export const POISSON_NLL_LOSS: CallContract<PoissonNllLossOptions> = {
  where: "poissonNllLoss",
  most: 3,
  known: ["logInput", "full", "eps", "reduction"],
  usage: "F.poissonNllLoss(logRate, target, { logInput: true, full: false, eps: 1e-8 })",
};

/**
 * Poisson negative log-likelihood, as `F.poisson_nll_loss`: e^x - y x for
 * a log-rate x (`logInput`, default), or x - y log(x + eps) for a rate x;
 * `full` adds y log y - y + 0.5 log(2 pi y) where y > 1. Target counts are
 * not checked (PyTorch's NaN for negative ones follows).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.poissonNllLoss(tensor([0, 0]), tensor([1, 3])).item()); // 1
 * ```
 */
export function poissonNllLoss(
  input: Tensor,
  target: Tensor,
  options: PoissonNllLossOptions = {},
): Tensor {
  const { where: at, usage } = POISSON_NLL_LOSS;
  const o = checkContract(POISSON_NLL_LOSS, arguments.length, options);
  const reduction = checkReduction(at, o.reduction ?? "mean");
  const logInput = lossFlag(at, "logInput", o.logInput ?? true);
  const full = lossFlag(at, "full", o.full ?? false);
  const eps = lossNumber(at, "eps", o.eps ?? 1e-8, 0);
  lossTensors(at, usage, [["input", input], ["target", target]]);
  lossShape(at, [["input", input], ["target", target]]);
  let loss = logInput
    ? sub(exp(input), mul(target, input))
    : sub(input, mul(target, log(add(input, eps))));
  if (full) {
    // PyTorch's order: y log y - y + 0.5 log(2 pi y), then masked where y <= 1.
    const stirling = add(
      sub(mul(target, log(target)), target),
      mul(log(mul(target, 2 * Math.PI)), 0.5),
    );
    loss = add(loss, where(le(target, 1), 0, stirling));
  }
  return reduceLoss(loss, reduction);
}
