/**
 * The ELU relatives and the sigmoid gates of `torch.nn.functional`:
 * `selu`, `celu`, `logsigmoid` and `glu`, as torch 1.13 computes them.
 *
 * SELU and CELU are torch's ELU with a scale (SELU: x > 0 ? scale x :
 * scale alpha (e^x - 1)) or an input scale (CELU: alpha (e^(x / alpha) - 1)
 * at and below 0), composed as `F.elu` is (the negative branch reads x
 * clamped to <= 0, so a large x never overflows into a NaN gradient), with
 * torch's gradient at 0 (the negative branch's). logsigmoid is
 * -softplus(-x), whose gradient is sigmoid(-x) everywhere (min(x, 0) -
 * log1p(e^-|x|) would give 1 at 0 through clamp). glu halves `dim` into a
 * and b and gives a * sigmoid(b).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { expm1, mul, neg, sigmoid } from "./elementwise.ts";
import { le } from "./compare.ts";
import { clamp } from "./clamp.ts";
import { where } from "./where.ts";
import { softplus } from "./activation_smooth.ts";
import { chunk } from "./split.ts";
import { normDim } from "./shape.ts";
import { checkActivation, finite } from "./activation_shrink.ts";

/** SELU's alpha, as torch's. */
export const SELU_ALPHA = 1.6732632423543772848170429916717;
/** SELU's scale, as torch's. */
export const SELU_SCALE = 1.0507009873554804934193349852946;

/**
 * Scaled ELU, as `F.selu`: scale * x above 0, scale * alpha * (e^x - 1) at
 * and below it (alpha 1.6733, scale 1.0507: self-normalising networks).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.selu(tensor([0, 1])).toArray()); // Float32Array [0, 1.0507010221481323]
 * ```
 */
export function selu(x: Tensor): Tensor {
  checkActivation("selu", x, arguments.length, 1, "F.selu(x)");
  const negative = mul(expm1(clamp(x, null, 0)), SELU_ALPHA * SELU_SCALE);
  return where(le(x, 0), negative, mul(x, SELU_SCALE));
}

/**
 * Continuously differentiable ELU, as `F.celu(x, alpha)` (default 1): x
 * above 0, alpha * (e^(x / alpha) - 1) at and below it.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.celu(tensor([-1, 2]), 2).toArray()); // Float32Array [-0.7869386672973633, 2]
 * ```
 */
export function celu(x: Tensor, alpha = 1): Tensor {
  refuseKeywords("F.celu", alpha, "x", ["alpha"], [1]);
  const usage = "F.celu(x, 1)";
  checkActivation("celu", x, arguments.length, 2, usage);
  finite("celu", "alpha", alpha, usage);
  if (alpha === 0) throw new Error(`celu: alpha must not be 0 (it divides x); write ${usage}`);
  // torch multiplies by 1 / alpha (its input scale), which rounds as this does.
  const negative = mul(expm1(mul(clamp(x, null, 0), 1 / alpha)), alpha);
  return where(le(x, 0), negative, x);
}

/**
 * Log sigmoid, as `F.logsigmoid`: log(1 / (1 + e^-x)), computed as
 * -softplus(-x) (no overflow for large |x|).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.logsigmoid(tensor([0])).toArray()); // Float32Array [-0.6931471824645996]
 * ```
 */
export function logsigmoid(x: Tensor): Tensor {
  checkActivation("logsigmoid", x, arguments.length, 1, "F.logsigmoid(x)");
  return neg(softplus(neg(x)));
}

/**
 * Gated linear unit, as `F.glu(x, dim)` (default -1): x's `dim` split into
 * halves a and b (its size must be even), a * sigmoid(b).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.glu(tensor([[1, 2, 0, 0]])).toList()); // [[0.5, 1]]
 * ```
 */
export function glu(x: Tensor, dim = -1): Tensor {
  const usage = "F.glu(x, -1)";
  checkActivation("glu", x, arguments.length, 2, usage);
  if (x.ndim === 0) throw new Error("glu: does not take a 0-d tensor; give it at least 1 dim");
  const d = normDim(dim, x.ndim, "glu");
  if (x.shape[d] % 2 !== 0) {
    // torch: "Halving dimension must be even, but dimension 1 is size 3".
    throw new Error(
      `glu: dimension ${d} of x [${x.shape}] has size ${x.shape[d]}, and it must be even ` +
        "(it is halved)",
    );
  }
  const [a, b] = chunk(x, 2, d);
  return mul(a, sigmoid(b));
}
