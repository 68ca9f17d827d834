/**
 * The random activation modules `RReLU` and `AlphaDropout`, as
 * `torch.nn`'s: random in training mode (the library's generator), fixed in
 * evaluation (RReLU: the mean slope; AlphaDropout: the identity). torch's
 * `inplace` is accepted and changes nothing (the result is a new tensor).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { alphaDropout, rrelu, rreluBounds } from "../tensor/ops/activation_random.ts";
import { Module } from "./module.ts";
import { activationArgs } from "./activation_shrink.ts";
import { numeric, probability, setting } from "./settable.ts";
import { checkInplace } from "../options.ts";

/** Options of `RReLU`: torch's keywords. */
export interface RReLUOptions {
  /** The smallest slope (default 1/8). */
  lower?: number;
  /** The largest slope (default 1/3). */
  upper?: number;
  /** torch's flag, accepted and without effect. */
  inplace?: boolean;
}

/**
 * Randomized leaky ReLU, as `torch.nn.RReLU(lower, upper)`: in training,
 * each negative element is scaled by a slope drawn from [lower, upper); in
 * evaluation by (lower + upper) / 2.
 *
 * @example
 * ```ts
 * import { nn, tensor } from "@lits/vision";
 * const act = new nn.RReLU(0.1, 0.3);
 * console.log(act.eval().forward(tensor([-10, 1])).toArray()); // Float32Array [-2, 1]
 * ```
 */
export class RReLU extends Module {
  /** The smallest slope; assignable, read at each forward (which checks lower <= upper). */
  declare lower: number;
  /** The largest slope; assignable. */
  declare upper: number;
  /** torch's flag, accepted and without effect. */
  declare inplace: boolean;

  constructor(lower: number | RReLUOptions = 1 / 8, upper = 1 / 3, inplace = false) {
    super();
    const usage = "new nn.RReLU(1 / 8, 1 / 3) or new nn.RReLU({ lower: 0.1, upper: 0.3 })";
    const o = activationArgs("nn.RReLU", arguments, { lower: 1 / 8, upper: 1 / 3 }, true, usage);
    void lower, upper, inplace;
    rreluBounds("nn.RReLU", o.lower, o.upper, usage);
    setting(this, "lower", o.lower, numeric("nn.RReLU", "lower"));
    setting(this, "upper", o.upper, numeric("nn.RReLU", "upper"));
    setting(this, "inplace", o.inplace, (v) => checkInplace("nn.RReLU", v));
  }

  /** Random slopes in training, the mean slope in evaluation. */
  forward(x: Tensor): Tensor {
    return rrelu(x, this.lower, this.upper, this.training);
  }
}

/**
 * Alpha dropout, as `torch.nn.AlphaDropout(p)` (default 0.5): in training,
 * elements go to SELU's negative saturation with probability p and the
 * result keeps the input's mean and variance; the identity in evaluation.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const drop = new nn.AlphaDropout(0.2);
 * console.log(drop.eval().forward(ones([3])).toArray()); // Float32Array [1, 1, 1]
 * ```
 */
export class AlphaDropout extends Module {
  /** The probability of dropping an element; assignable (`drop.p = 0`), read at each forward. */
  declare p: number;
  /** torch's flag, accepted and without effect. */
  declare inplace: boolean;

  constructor(p: number | { p?: number; inplace?: boolean } = 0.5, inplace = false) {
    super();
    const usage = "new nn.AlphaDropout(0.5) or new nn.AlphaDropout({ p: 0.5 })";
    const o = activationArgs("nn.AlphaDropout", arguments, { p: 0.5 }, true, usage);
    void p, inplace;
    if (!(o.p >= 0 && o.p <= 1)) {
      throw new Error(`nn.AlphaDropout: p must be in [0, 1], got ${o.p}; write ${usage}`);
    }
    setting(this, "p", o.p, probability("nn.AlphaDropout"));
    setting(this, "inplace", o.inplace, (v) => checkInplace("nn.AlphaDropout", v));
  }

  /** Alpha dropout in training, the identity in evaluation. */
  forward(x: Tensor): Tensor {
    return alphaDropout(x, this.p, this.training);
  }
}
