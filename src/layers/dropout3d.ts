/**
 * `Dropout3d`, as `torch.nn.Dropout3d`: whole channels of volumes dropped.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { dropout3d } from "../tensor/ops/dropout3d.ts";
import { checkArity, checkInplace } from "../options.ts";
import { Module } from "./module.ts";
import { dropoutArgs, type DropoutOptions, dropoutSettings } from "./basic.ts";

/**
 * In training, zeroes each channel of [N, C, D, H, W] (or [C, D, H, W])
 * with probability p and scales the others by 1/(1-p); the identity in
 * evaluation.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const drop = new nn.Dropout3d(0.5);
 * console.log(drop.forward(ones([2, 4, 3, 3, 3])).shape); // [2, 4, 3, 3, 3]
 * console.log(drop.eval().forward(ones([1, 1, 1, 1, 2])).toArray()); // Float32Array [1, 1]
 * ```
 */
export class Dropout3d extends Module {
  /** The probability of a channel to be zeroed; assignable (`drop.p = 0`), read at each forward. */
  declare p: number;
  /** `inplace`: torch's flag, accepted and without effect (the result is a new tensor). */
  declare inplace: boolean;
  /** `p` (default 0.5) and `inplace` in place, or torch's keywords as `{ p, inplace }`. */
  constructor(p: number | DropoutOptions = 0.5, inplace = false) {
    super();
    checkArity("nn.Dropout3d", arguments.length, 2, "new nn.Dropout3d(0.5)");
    [p, inplace] = dropoutArgs("nn.Dropout3d", p, inplace, arguments.length);
    checkInplace("nn.Dropout3d", inplace);
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(
        `nn.Dropout3d: probability must be a number in [0, 1], got ${JSON.stringify(p)}; ` +
          "write new nn.Dropout3d(0.5)",
      );
    }
    dropoutSettings(this, "nn.Dropout3d", p, inplace);
  }

  /** Drops channels in training mode. */
  forward(x: Tensor): Tensor {
    return dropout3d(x, this.p, this.training);
  }
}
