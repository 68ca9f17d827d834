/**
 * `LocalResponseNorm`, AlexNet's cross-channel normalisation, as
 * `torch.nn.LocalResponseNorm` (F.localResponseNorm holds the maths).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { checkLrnArgs, localResponseNorm } from "../tensor/ops/lrn.ts";
import { checkArity, checkOptions } from "../options.ts";
import { Module } from "./module.ts";

/** Options of `LocalResponseNorm` (the size is the first argument). */
export interface LocalResponseNormOptions {
  /** The scale of the mean of squares (default 1e-4). */
  alpha?: number;
  /** The exponent (default 0.75). */
  beta?: number;
  /** The additive constant (default 1). */
  k?: number;
}

/**
 * Divides each element by (k + alpha * the mean of the squares over `size`
 * neighbouring channels)^beta, as `torch.nn.LocalResponseNorm(size, alpha,
 * beta, k)` (defaults 1e-4, 0.75, 1). Inputs are [N, C, ...] with at least
 * three dimensions. No parameters. The original AlexNet is
 * `new nn.LocalResponseNorm(5, 1e-4, 0.75, 2)` after its first two
 * convolutions.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const lrn = new nn.LocalResponseNorm(2, { alpha: 1, beta: 1, k: 1 });
 * console.log(lrn.forward(ones([1, 3, 1, 1])).toArray()); // Float32Array [0.6666666865348816, 0.5, 0.5]
 * ```
 */
export class LocalResponseNorm extends Module {
  /** How many channels a window spans. */
  readonly size: number;
  /** The scale of the mean of squares. */
  readonly alpha: number;
  /** The exponent. */
  readonly beta: number;
  /** The additive constant. */
  readonly k: number;

  constructor(
    size: number,
    alpha: number | LocalResponseNormOptions = 1e-4,
    beta = 0.75,
    k = 1,
  ) {
    super();
    const usage = "new nn.LocalResponseNorm(5, 1e-4, 0.75, 2) or " +
      "new nn.LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 })";
    checkArity("nn.LocalResponseNorm", arguments.length, 4, usage);
    let o: LocalResponseNormOptions = { alpha: alpha as number, beta, k };
    if (typeof alpha === "object" && alpha !== null) {
      if (arguments.length > 2) {
        throw new Error(
          `nn.LocalResponseNorm: give the options object after the size alone; write ${usage}`,
        );
      }
      o = checkOptions<LocalResponseNormOptions>("nn.LocalResponseNorm", alpha, [
        "alpha",
        "beta",
        "k",
      ], usage);
    }
    this.size = size;
    this.alpha = o.alpha ?? 1e-4;
    this.beta = o.beta ?? 0.75;
    this.k = o.k ?? 1;
    checkLrnArgs("nn.LocalResponseNorm", size, this.alpha, this.beta, this.k, usage);
  }

  /** x normalised across its channels (dimension 1). */
  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, this.alpha, this.beta, this.k);
  }
}
