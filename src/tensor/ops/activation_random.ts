/**
 * The random activations of `torch.nn.functional`: `rrelu` (randomized
 * leaky ReLU) and `alphaDropout` (the dropout of SELU networks), as torch
 * 1.13 defines them. Draws come from the library's generator
 * (`manualSeed`), so a seed repeats them here, but they are not torch's
 * draws.
 *
 * - rrelu in training: x where x > 0, else a * x with a drawn uniformly
 *   in [lower, upper) per element; the gradient is a (1 above 0). Not in
 *   training: leaky ReLU with the mean slope (lower + upper) / 2.
 * - alphaDropout in training: each element is kept with probability
 *   1 - p and then a * x + alpha a p, or else set to alpha a (p - 1), where
 *   alpha = 1.7581 (SELU's scale * alpha) and a = 1 / sqrt((alpha^2 p +
 *   1)(1 - p)): mean and variance of a SELU network's activations stay.
 *
 * @module
 */
import { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { noGrad } from "../autograd.ts";
import { add, mul } from "./elementwise.ts";
import { le } from "./compare.ts";
import { where } from "./where.ts";
import { leakyRelu } from "./activation.ts";
import { fillUniform } from "./random.ts";
import { bernoulliMask } from "./bernoulli.ts";
import { checkActivation, finite } from "./activation_shrink.ts";
import { showValue } from "./show_value.ts";

function checkTraining(fn: string, training: unknown, usage: string): boolean {
  if (typeof training !== "boolean") {
    // { training: true } (an object) would read as a flag.
    throw new Error(
      `${fn}: training must be true or false, got ${showValue(training)}; ` +
        `write ${usage}`,
    );
  }
  return training;
}

/** @internal rrelu's bounds, checked: finite, lower <= upper. */
export function rreluBounds(fn: string, lower: unknown, upper: unknown, usage: string): void {
  finite(fn, "lower", lower, usage);
  finite(fn, "upper", upper, usage);
  if ((lower as number) > (upper as number)) {
    // torch: "Lower bound should be less than or equal to the upper bound".
    throw new Error(`${fn}: lower ${lower} is greater than upper ${upper}; write ${usage}`);
  }
}

/**
 * Randomized leaky ReLU, as `F.rrelu(x, lower, upper, training)` (default
 * 1/8, 1/3, false, as torch's): in training, negative elements are scaled
 * by slopes drawn uniformly from [lower, upper); otherwise by their mean.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.rrelu(tensor([-4, 2]), 0.25, 0.75).toArray()); // Float32Array [-2, 2]
 * const y = F.rrelu(tensor([-4, 2]), 0.25, 0.75, true).toArray();
 * console.log(y[0] <= -1 && y[0] >= -3, y[1]); // true 2
 * ```
 */
export function rrelu(x: Tensor, lower = 1 / 8, upper = 1 / 3, training = false): Tensor {
  refuseKeywords("F.rrelu", lower, "x", ["lower", "upper", "training"], [1 / 8, 1 / 3, false]);
  const usage = "F.rrelu(x, 1 / 8, 1 / 3, training)";
  checkActivation("rrelu", x, arguments.length, 4, usage);
  rreluBounds("rrelu", lower, upper, usage);
  if (!checkTraining("rrelu", training, usage)) return leakyRelu(x, (lower + upper) / 2);
  const slopes = noGrad(() => {
    const u = Tensor.empty([...x.shape], "float32", x.device, true);
    fillUniform(u, lower, upper, "rrelu");
    // NaN is not <= 0: slope 1, as torch's.
    return where(le(x, 0), u, 1);
  });
  return mul(x, slopes);
}

/** SELU's scale * alpha: the value alpha dropout sets, before its affine correction. */
const ALPHA = 1.7580993408473766;

/**
 * Alpha dropout, as `F.alpha_dropout(x, p, training)` (default 0.5, false,
 * as torch's): in training, elements are set to SELU's negative saturation
 * with probability p, and the result is scaled and shifted to keep the
 * input's mean and variance; the identity otherwise.
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * console.log(F.alphaDropout(ones([3]), 0.5).toArray()); // Float32Array [1, 1, 1]
 * console.log(F.alphaDropout(ones([4]), 0.2, true).shape); // [4]
 * ```
 */
export function alphaDropout(x: Tensor, p = 0.5, training = false): Tensor {
  refuseKeywords("F.alphaDropout", p, "x", ["p", "training"], [0.5, false]);
  const usage = "F.alphaDropout(x, 0.5, training)";
  checkActivation("alphaDropout", x, arguments.length, 3, usage);
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(
      `alphaDropout: p must be a number in [0, 1], got ${showValue(p)}; ` +
        `write ${usage}`,
    );
  }
  if (!checkTraining("alphaDropout", training, usage) || p === 0 || x.numel() === 0) return x;
  if (p === 1) return mul(x, 0); // torch's: input * 0 (NaN stays NaN)
  const a = 1 / Math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p));
  const [scale, shift] = noGrad(() => {
    const keep = bernoulliMask([...x.shape], 1 - p, x.device);
    // kept: a x + alpha a p; dropped: alpha a (p - 1), as torch's (keep - 1) alpha a + alpha a p.
    return [mul(keep, a), add(mul(add(keep, -1), ALPHA * a), ALPHA * a * p)];
  });
  return add(mul(x, scale), shift);
}
