/**
 * The smooth activations `F.softplus` and `F.elu`, as torch 1.13 computes
 * them: softplus is log1p(e^(beta x)) / beta, and x itself where beta x
 * passes `threshold`; ELU is x above 0, alpha (e^x - 1) at and below it.
 *
 * Both are composed from differentiable ops, so their gradients are torch's
 * formulas (sigmoid(beta x), and 1 past the threshold; alpha e^x at and
 * below 0, else 1). The branch a `where` does not take is evaluated on a
 * bounded input, so its backward never meets an overflowed e^x (inf times
 * the zero gradient `where` sends it would be NaN); NaN inputs get torch's
 * NaN gradient (softplus) or g (ELU).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { div, exp, expm1, log1p, mul, requireFloat } from "./elementwise.ts";
import { expectTensor, gt, le } from "./compare.ts";
import { clamp } from "./clamp.ts";
import { where } from "./where.ts";

function checkNumber(fn: string, name: string, v: unknown, usage: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${fn}: ${name} must be a finite number, got ${String(v)}; write ${usage}`);
  }
  return v;
}

/**
 * Softplus, as `F.softplus(x, beta, threshold)`: log(1 + e^(beta x)) / beta,
 * and x where beta x > threshold (default 20), where the two agree to
 * float precision. A smooth ReLU that stays positive.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.softplus(tensor([0, 30])).toArray()); // Float32Array [0.6931471824645996, 30]
 * ```
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  refuseKeywords("F.softplus", beta, "x", ["beta", "threshold"], [1, 20]);
  const usage = "F.softplus(x, beta, threshold) (F.softplus(x, 1, 20))";
  if (arguments.length > 3) {
    throw new Error(`softplus: takes (x, beta, threshold), got ${arguments.length} arguments`);
  }
  expectTensor(x, "softplus", usage);
  requireFloat(x, "softplus");
  checkNumber("softplus", "beta", beta, usage);
  if (beta === 0) throw new Error(`softplus: beta must not be 0; write ${usage}`);
  checkNumber("softplus", "threshold", threshold, usage);
  const z = beta === 1 ? x : mul(x, beta);
  const over = gt(z, threshold);
  // Past the threshold the smooth branch reads the threshold (no overflow);
  // NaN stays in it, so its gradient is NaN, as torch's.
  const smooth = log1p(exp(where(over, threshold, z)));
  return where(over, x, beta === 1 ? smooth : div(smooth, beta));
}

/**
 * Exponential linear unit, as `F.elu(x, alpha)`: x where x > 0, else
 * alpha (e^x - 1) (with expm1, exact near 0). Gradient 1 above 0,
 * alpha e^x at and below it, as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.elu(tensor([-1, 2])).toArray()); // Float32Array [-0.6321205496788025, 2]
 * ```
 */
export function elu(x: Tensor, alpha = 1): Tensor {
  refuseKeywords("F.elu", alpha, "x", ["alpha"], [1]);
  const usage = "F.elu(x, alpha) (F.elu(x, 1))";
  if (arguments.length > 2) {
    throw new Error(
      `elu: takes (x, alpha), got ${arguments.length} arguments (there is no inplace); ` +
        `write ${usage}`,
    );
  }
  expectTensor(x, "elu", usage);
  requireFloat(x, "elu");
  checkNumber("elu", "alpha", alpha, usage);
  const negative = mul(expm1(clamp(x, null, 0)), alpha);
  // NaN takes the x branch (value NaN, gradient g), as torch's x <= 0 test.
  return where(le(x, 0), negative, x);
}
