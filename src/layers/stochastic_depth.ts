/**
 * `StochasticDepth` (torchvision.ops.StochasticDepth): the DropPath of a
 * residual branch, active in training mode only.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { stochasticDepth } from "../tensor/ops/bernoulli.ts";
import { checkArity, checkOptions } from "../options.ts";
import { Module } from "./module.ts";
import { probability, setting } from "./settable.ts";

/**
 * Zeroes a residual branch per sample ("row") or per batch ("batch") with
 * probability p in training, scaling what survives by 1 / (1 - p).
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * const drop = new nn.StochasticDepth(0.2, "row"); // or ({ p: 0.2, mode: "row" })
 * console.log(drop.eval().forward(ones([2, 3])).toList()); // [[1, 1, 1], [1, 1, 1]]
 * ```
 */
export class StochasticDepth extends Module {
  /** The probability of dropping the branch; assignable (`sd.p = 0`), read at each forward. */
  declare p: number;
  /** "row" (per sample) or "batch"; assignable. */
  declare mode: "row" | "batch";

  constructor(
    p: number | { p: number; mode?: "row" | "batch" },
    mode: "row" | "batch" = "row",
  ) {
    super();
    const usage =
      'new nn.StochasticDepth(0.2, "row") or new nn.StochasticDepth({ p: 0.2, mode: "row" })';
    checkArity("nn.StochasticDepth", arguments.length, 2, usage);
    if (typeof p === "object" && p !== null) {
      // torchvision's keywords, StochasticDepth(p=0.2, mode="row").
      if (arguments.length > 1) {
        throw new Error(`nn.StochasticDepth: give the options object alone; write ${usage}`);
      }
      const o = checkOptions<{ p: number; mode?: "row" | "batch" }>(
        "nn.StochasticDepth",
        p,
        ["p", "mode"],
        usage,
      );
      [p, mode] = [o.p, o.mode ?? "row"];
    }
    const checkMode = (m: unknown) => {
      if (m !== "row" && m !== "batch") {
        throw new Error(
          `nn.StochasticDepth: mode must be "row" or "batch", got ${JSON.stringify(m)}`,
        );
      }
      return m;
    };
    setting(this, "p", p, probability("nn.StochasticDepth"));
    setting(this, "mode", mode, checkMode);
  }

  /** The branch, dropped per sample or per batch in training mode. */
  forward(x: Tensor): Tensor {
    return stochasticDepth(x, this.p, this.mode, this.training);
  }
}
