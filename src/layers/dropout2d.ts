/**
 * `Dropout2d`, as `torch.nn.Dropout2d`: whole channels dropped.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { dropout2d } from "../tensor/ops/dropout2d.ts";
import { checkArity, checkInplace } from "../options.ts";
import { Module } from "./module.ts";
import { dropoutArgs, type DropoutOptions, dropoutSettings } from "./basic.ts";

/**
 * In training, zeroes each channel of [N, C, H, W] with probability p and
 * scales the others by 1/(1-p); the identity in evaluation.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const drop = new nn.Dropout2d(0.5);
 * console.log(drop.forward(ones([2, 4, 3, 3])).shape); // [2, 4, 3, 3]
 * console.log(drop.eval().forward(ones([1, 1, 1, 2])).toArray()); // Float32Array [1, 1]
 * ```
 */
export class Dropout2d extends Module {
  /** The probability of a channel to be zeroed; assignable (`drop.p = 0`), read at each forward. */
  declare p: number;
  /** `inplace`: torch's flag, accepted and without effect (the result is a new tensor). */
  declare inplace: boolean;
  /** `p` (default 0.5) and `inplace` in place, or torch's keywords as `{ p, inplace }`. */
  constructor(p: number | DropoutOptions = 0.5, inplace = false) {
    super();
    checkArity("nn.Dropout2d", arguments.length, 2, "new nn.Dropout2d(0.5)");
    [p, inplace] = dropoutArgs("nn.Dropout2d", p, inplace, arguments.length);
    checkInplace("nn.Dropout2d", inplace);
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(
        `nn.Dropout2d: probability must be a number in [0, 1], got ${JSON.stringify(p)}; ` +
          "write new nn.Dropout2d(0.5)",
      );
    }
    dropoutSettings(this, "nn.Dropout2d", p, inplace);
  }

  /** Drops channels in training mode. */
  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, this.training);
  }
}
