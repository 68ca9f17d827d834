/**
 * `gumbelSoftmax` (torch.nn.functional.gumbel_softmax): a differentiable
 * sample of a categorical distribution given by logits.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { checkCall } from "../../options.ts";
import { add, div, log, log1p, neg, requireFloat, sub } from "./elementwise.ts";
import { clampMin } from "./clamp.ts";
import { expectTensor } from "./compare.ts";
import { filledLike } from "./creation.ts";
import { fillUniform } from "./random.ts";
import { argmax } from "./reduce.ts";
import { scatter } from "./scatter.ts";
import { detach, normDim } from "./shape.ts";
import { softmax } from "./softmax.ts";

/** Options of `gumbelSoftmax` (torch's keywords, in camelCase). */
export interface GumbelSoftmaxOptions {
  /** Temperature, > 0 (default 1): lower is closer to one-hot. */
  tau?: number;
  /** One-hot values forward, the soft sample's gradient backward (default false). */
  hard?: boolean;
  /** The class dimension (default -1). */
  dim?: number;
}

const USAGE = "F.gumbelSoftmax(logits, { tau: 1, hard: true, dim: -1 })";
// The smallest normal float32: an Exp(1) draw of 0 would give an infinite
// Gumbel noise and a NaN softmax.
const FLT_MIN = 1.1754943508222875e-38;

/**
 * Samples Gumbel-Softmax (`F.gumbel_softmax`): softmax((logits + g) / tau)
 * along `dim`, with g = -log(E), E ~ Exp(1) drawn per element from the
 * global generator (`manualSeed`). With `hard: true` the result is the
 * one-hot of that sample's argmax, and its gradient is the soft sample's
 * (the straight-through estimator: y_hard - y_soft.detach() + y_soft), as
 * torch's. torch's deprecated `eps` did nothing there and is refused here.
 *
 * @example
 * ```ts
 * import { functional as F, manualSeed, randn } from "@lits/vision";
 * manualSeed(0);
 * const y = F.gumbelSoftmax(randn([2, 5]), { tau: 0.5, hard: true });
 * console.log(y.sum(1).toArray()); // Float32Array(2) [1, 1]
 * ```
 */
export function gumbelSoftmax(logits: Tensor, options: GumbelSoftmaxOptions = {}): Tensor {
  if (typeof options === "number") {
    throw new Error(
      `gumbelSoftmax: tau goes in the options object, got the number ${options} second; ` +
        `write F.gumbelSoftmax(logits, { tau: ${options} })`,
    );
  }
  if (options !== null && typeof options === "object" && "eps" in options) {
    throw new Error(
      "gumbelSoftmax: torch's eps is deprecated and has no effect there; leave it out: " +
        USAGE,
    );
  }
  const o = checkCall<GumbelSoftmaxOptions>(
    "gumbelSoftmax",
    arguments.length,
    2,
    options,
    ["tau", "hard", "dim"],
    USAGE,
  );
  expectTensor(logits, "gumbelSoftmax", USAGE);
  requireFloat(logits, "gumbelSoftmax");
  const tau = o.tau ?? 1, hard = o.hard ?? false;
  if (typeof tau !== "number" || !(tau > 0) || !Number.isFinite(tau)) {
    throw new Error(`gumbelSoftmax: tau must be a finite number > 0, got ${String(tau)}`);
  }
  if (typeof hard !== "boolean") {
    throw new Error(`gumbelSoftmax: hard must be true or false, got ${JSON.stringify(hard)}`);
  }
  if (logits.ndim === 0) throw new Error("gumbelSoftmax: logits must have at least 1 dimension");
  const dim = normDim(o.dim ?? -1, logits.ndim, "gumbelSoftmax");
  // E = -log(1 - U) with U in [0, 1), so that log never sees 0; g = -log(E).
  // u and the one-hot's zeros are made as op results (the step frees them, as the other
  // intermediates): randLike / zerosLike would be the caller's, held until the collector ran.
  const u = Tensor.empty([...logits.shape], "float32", logits.device, true);
  fillUniform(u, 0, 1, "gumbelSoftmax"); // the draws of rand()
  const e = clampMin(neg(log1p(neg(u))), FLT_MIN);
  const g = neg(log(e));
  const soft = softmax(div(add(logits, g), tau), dim);
  if (!hard) return soft;
  const index = argmax(soft, dim, true);
  const oneHot = scatter(filledLike(soft, 0), dim, index, 1);
  const frozen = detach(soft);
  return add(sub(oneHot, frozen), soft);
}
