/**
 * Pointwise losses of `torch.nn.functional` beside MSE: `binaryCrossEntropy`
 * (on probabilities), `l1Loss`, `smoothL1Loss` and `huberLoss`. Each value
 * is PyTorch 1.13's formula composed of existing ops; each gradient is
 * PyTorch's own backward formula, recorded as one node, so that the kinks
 * (|d| = beta, d = 0 at beta 0) and BCE's clamped denominator match it
 * exactly where the composed derivative would not.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { noGrad, record } from "../autograd.ts";
import type { CallContract } from "../../options.ts";
import type { Reduction } from "./loss.ts";
import { openPairLoss, reduceLoss } from "./loss_args.ts";
import {
  abs,
  broadcastShapes,
  div,
  log,
  mul,
  neg,
  requireFloat,
  rsub,
  sameDevice,
  sub,
} from "./elementwise.ts";
import { clampMin } from "./clamp.ts";
import { ge, gt, le, lt } from "./compare.ts";
import { where } from "./where.ts";
import { sign } from "./rounding.ts";
import { amin } from "./reduce.ts";

/**
 * Records `value` (computed without autograd) as one node of x and t whose
 * gradients are `dx(g)` and `dt(g)`, each made only where it is needed.
 */
function pointwise(
  name: string,
  x: Tensor,
  t: Tensor,
  value: () => Tensor,
  dx: (g: Tensor) => Tensor,
  dt: (g: Tensor) => Tensor,
): Tensor {
  return record(noGrad(value), {
    name,
    inputs: [x, t],
    backward: (g) => [x.requiresGrad ? dx(g) : null, t.requiresGrad ? dt(g) : null],
  });
}

/** Options of `binaryCrossEntropy`. */
export interface BceOptions {
  /** Weight of each element's loss, broadcast to the input's shape. */
  weight?: Tensor | null;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `binaryCrossEntropy` is called; `nn.BCELoss` takes the same option names. */
export const BCE: CallContract<BceOptions> = {
  where: "binaryCrossEntropy",
  most: 3,
  known: ["weight", "reduction"],
  usage: 'F.binaryCrossEntropy(probs, target, { weight, reduction: "mean" })',
};

/** Throws where an input element is outside [0, 1] or NaN, as PyTorch's kernel does. */
function checkProbabilities(input: Tensor, desc: string): void {
  if (input.numel() === 0) return;
  const inside = noGrad(() => amin(mul(ge(input, 0), le(input, 1))).item());
  if (inside === 1) return;
  const v = input.toArray();
  const i = v.findIndex((p) => !(p >= 0 && p <= 1));
  throw new Error(
    `${desc}: all elements of input should be between 0 and 1, element ${i} (flat) is ${v[i]}; ` +
      "apply sigmoid first, or pass the logits to binaryCrossEntropyWithLogits (stable)",
  );
}

/**
 * Binary cross-entropy of probabilities p in [0, 1] against targets y, as
 * `F.binary_cross_entropy`: -(y max(log p, -100) + (1 - y) max(log(1 - p),
 * -100)) times `weight`. Its gradients are PyTorch's: (p - y) /
 * max(p (1 - p), 1e-12) for p (finite at p = 0 and 1) and -logit(p) for y.
 * An input outside [0, 1] (or NaN) throws. On logits prefer
 * `binaryCrossEntropyWithLogits`, which is stable.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.binaryCrossEntropy(tensor([0.5, 0.9, 0]), tensor([1, 1, 1]));
 * console.log(loss.item().toFixed(4)); // "33.5995"
 * ```
 */
export function binaryCrossEntropy(
  input: Tensor,
  target: Tensor,
  options: BceOptions = {},
): Tensor {
  const { o, reduction } = openPairLoss(BCE, arguments.length, input, target, options);
  const desc = `binaryCrossEntropy input [${input.shape}]`;
  const w = o.weight ?? null;
  if (w !== null) {
    if (!(w instanceof Tensor)) {
      throw new Error(`binaryCrossEntropy: weight must be a Tensor; write ${BCE.usage}`);
    }
    requireFloat(w, "binaryCrossEntropy weight");
    sameDevice(input, w, "binaryCrossEntropy weight");
    const shape = broadcastShapes(input.shape, w.shape, `${desc}: weight [${w.shape}]`);
    if (shape.join() !== input.shape.join() || shape.length !== input.ndim) {
      throw new Error(`${desc}: weight [${w.shape}] must broadcast to the input's shape`);
    }
  }
  checkProbabilities(input, desc);
  const loss = pointwise(
    "binaryCrossEntropy",
    input,
    target,
    () => {
      // PyTorch 1.13's kernel: log(1 - p), not log1p(-p) (at p = 1e-8 the term is 0).
      const logP = clampMin(log(input), -100);
      const log1mP = clampMin(log(rsub(1, input)), -100);
      return sub(mul(sub(target, 1), log1mP), mul(target, logP));
    },
    (g) => div(mul(g, sub(input, target)), clampMin(mul(rsub(1, input), input), 1e-12)),
    (g) => mul(neg(log(div(input, rsub(1, input)))), g),
  );
  return reduceLoss(w ? mul(loss, w) : loss, reduction);
}

/** Options of `l1Loss`. */
export interface L1LossOptions {
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `l1Loss` is called; `nn.L1Loss` takes the same option names. */
export const L1_LOSS: CallContract<L1LossOptions> = {
  where: "l1Loss",
  most: 3,
  known: ["reduction"],
  usage: 'F.l1Loss(input, target, { reduction: "sum" })',
};

/**
 * Mean absolute error, as `F.l1_loss`: |input - target|, averaged (or
 * summed, or per element). The gradient is sign(input - target): 0 where
 * they are equal, as PyTorch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.l1Loss(tensor([1, -2]), tensor([0, 0])).item()); // 1.5
 * ```
 */
export function l1Loss(input: Tensor, target: Tensor, options: L1LossOptions = {}): Tensor {
  const { reduction } = openPairLoss(L1_LOSS, arguments.length, input, target, options);
  const loss = pointwise(
    "l1Loss",
    input,
    target,
    () => abs(sub(input, target)),
    (g) => mul(g, sign(sub(input, target))),
    (g) => mul(g, sign(sub(target, input))),
  );
  return reduceLoss(loss, reduction);
}

/** Options of `smoothL1Loss`. */
export interface SmoothL1LossOptions {
  /** Where the loss turns from quadratic to linear, >= 0 (default 1; 0 is the L1 loss). */
  beta?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `smoothL1Loss` is called; `nn.SmoothL1Loss` takes the same option names. */
export const SMOOTH_L1_LOSS: CallContract<SmoothL1LossOptions> = {
  where: "smoothL1Loss",
  most: 3,
  known: ["beta", "reduction"],
  usage: 'F.smoothL1Loss(input, target, { beta: 1, reduction: "mean" })',
};

/** @internal the beta of smoothL1Loss / delta of huberLoss, or an Error that names it. */
export function checkThreshold(where: string, name: string, value: unknown, zero: boolean): number {
  if (typeof value !== "number" || !(zero ? value >= 0 : value > 0)) {
    throw new Error(
      `${where}: ${name} must be a number ${zero ? ">= 0" : "> 0"}, got ${
        typeof value === "number" ? value : JSON.stringify(value) ?? typeof value
      }`,
    );
  }
  return value;
}

/**
 * Smooth L1 loss, as `F.smooth_l1_loss`: with z = |input - target|,
 * 0.5 z^2 / beta where z < beta, else z - 0.5 beta. Gradients as PyTorch's
 * kernel: d / beta inside, sign(d) from |d| = beta on; at beta = 0 (the L1
 * loss) the gradient at d = 0 is -1 for input and target alike, as
 * PyTorch 1.13's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.smoothL1Loss(tensor([0.5, 3]), tensor([0, 0]), { reduction: "none" });
 * console.log(loss.toArray()); // Float32Array [0.125, 2.5]
 * ```
 */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  options: SmoothL1LossOptions = {},
): Tensor {
  const { o, reduction } = openPairLoss(SMOOTH_L1_LOSS, arguments.length, input, target, options);
  const beta = checkThreshold("smoothL1Loss", "beta", o.beta ?? 1, true);
  // sign(d) (-1 at 0) from |d| >= beta on, d / beta inside: PyTorch's backward kernel.
  const slope = (d: Tensor) => where(ge(abs(d), beta), where(gt(d, 0), 1, -1), div(d, beta));
  const loss = pointwise(
    "smoothL1Loss",
    input,
    target,
    () => {
      const z = abs(sub(input, target));
      if (beta === 0) return z;
      return where(lt(z, beta), div(mul(mul(z, 0.5), z), beta), sub(z, 0.5 * beta));
    },
    (g) => mul(slope(sub(input, target)), g),
    (g) => mul(slope(sub(target, input)), g),
  );
  return reduceLoss(loss, reduction);
}

/** Options of `huberLoss`. */
export interface HuberLossOptions {
  /** Where the loss turns from quadratic to linear, > 0 (default 1). */
  delta?: number;
  /** "mean" (default), "sum" or "none". */
  reduction?: Reduction;
}

/** How `huberLoss` is called; `nn.HuberLoss` takes the same option names. */
export const HUBER_LOSS: CallContract<HuberLossOptions> = {
  where: "huberLoss",
  most: 3,
  known: ["delta", "reduction"],
  usage: 'F.huberLoss(input, target, { delta: 1, reduction: "mean" })',
};

/**
 * Huber loss, as `F.huber_loss`: with z = |input - target|, 0.5 z^2 where
 * z < delta, else delta (z - 0.5 delta) (smoothL1Loss times beta, for
 * beta = delta). Gradient d inside, delta sign(d) outside, as PyTorch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const loss = F.huberLoss(tensor([0.5, 3]), tensor([0, 0]), { delta: 2, reduction: "none" });
 * console.log(loss.toArray()); // Float32Array [0.125, 4]
 * ```
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  const { o, reduction } = openPairLoss(HUBER_LOSS, arguments.length, input, target, options);
  const delta = checkThreshold("huberLoss", "delta", o.delta ?? 1, false);
  const slope = (d: Tensor) => where(le(d, -delta), -delta, where(ge(d, delta), delta, d));
  const loss = pointwise(
    "huberLoss",
    input,
    target,
    () => {
      const z = abs(sub(input, target));
      return where(lt(z, delta), mul(mul(z, 0.5), z), mul(sub(z, 0.5 * delta), delta));
    },
    (g) => mul(slope(sub(input, target)), g),
    (g) => mul(slope(sub(target, input)), g),
  );
  return reduceLoss(loss, reduction);
}
