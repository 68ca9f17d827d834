/**
 * Rounding and sign, as torch's: `floor`, `ceil`, `round` (half to even:
 * 2.5 -> 2, -0.5 -> -0), `trunc` and `sign` (0 for 0 and NaN). Their
 * gradient is 0 everywhere, as torch's (a step function has no slope to
 * pass on), so a rounded value in a graph stops the gradient without an
 * error.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { div, mul, oneTensor, requireFloat, unary } from "./elementwise.ts";
import { checkOptions } from "../../options.ts";
import { expectTensor } from "./compare.ts";

function step(name: "floor" | "ceil" | "round" | "trunc" | "sign", x: Tensor, given: number) {
  oneTensor(name, given);
  expectTensor(x, name, `${name}(x)`);
  return unary(name, x);
}

/**
 * The largest integer <= x (torch.floor); gradient 0.
 *
 * @example
 * ```ts
 * import { floor, tensor } from "@lits/vision";
 * console.log(floor(tensor([-1.5, 2.7])).toArray()); // Float32Array [-2, 2]
 * ```
 */
export function floor(x: Tensor): Tensor {
  return step("floor", x, arguments.length);
}

/**
 * The smallest integer >= x (torch.ceil); gradient 0.
 *
 * @example
 * ```ts
 * import { ceil, tensor } from "@lits/vision";
 * console.log(ceil(tensor([-1.5, 2.2])).toArray()); // Float32Array [-1, 3]
 * ```
 */
export function ceil(x: Tensor): Tensor {
  return step("ceil", x, arguments.length);
}

/** Options of `round`: torch's `decimals=`. */
export interface RoundOptions {
  /** Decimal places to keep (negative: to the left of the point); default 0. */
  decimals?: number;
}

/**
 * The nearest integer, halves to the even one (torch.round: 0.5 -> 0,
 * 1.5 -> 2, 2.5 -> 2); gradient 0. `{ decimals }` rounds to that many
 * decimal places as torch's `decimals=` does, in float32: `round(x * 10^d)
 * / 10^d` (`round(x / 10^-d) * 10^-d` for a negative d).
 *
 * @example
 * ```ts
 * import { round, tensor } from "@lits/vision";
 * console.log(round(tensor([0.5, 1.5, 2.5, -2.7])).toArray()); // Float32Array [0, 2, 2, -3]
 * console.log(round(tensor([1234.5678]), { decimals: -2 }).toList()); // [1200]
 * ```
 */
export function round(x: Tensor, options?: RoundOptions): Tensor {
  if (arguments.length < 2) return step("round", x, arguments.length);
  const usage = "round(x, { decimals: 2 }) (torch's decimals=2)";
  if (arguments.length > 2) {
    throw new Error(`round: takes (x, options), got ${arguments.length} arguments; ${usage}`);
  }
  expectTensor(x, "round", usage);
  const o = checkOptions<RoundOptions>("round", options, ["decimals"], usage);
  const d = o.decimals ?? 0;
  if (typeof d !== "number" || !Number.isInteger(d)) {
    throw new Error(`round: decimals must be an integer, got ${JSON.stringify(d)}; ${usage}`);
  }
  if (d === 0) return unary("round", x);
  requireFloat(x, "round");
  // torch computes 10^|d| in the tensor's type (float32) and rounds in it.
  const scale = Math.fround(10 ** Math.abs(d));
  return d > 0
    ? div(unary("round", mul(x, scale)), scale)
    : mul(unary("round", div(x, scale)), scale);
}

/**
 * x without its fractional part, toward 0 (torch.trunc); gradient 0.
 *
 * @example
 * ```ts
 * import { tensor, trunc } from "@lits/vision";
 * console.log(trunc(tensor([-1.5, 2.7])).toArray()); // Float32Array [-1, 2]
 * ```
 */
export function trunc(x: Tensor): Tensor {
  return step("trunc", x, arguments.length);
}

/**
 * -1, 0 or 1 by the sign of x, 0 for 0 and NaN (torch.sign); gradient 0.
 *
 * @example
 * ```ts
 * import { sign, tensor } from "@lits/vision";
 * console.log(sign(tensor([-3, 0, 2])).toArray()); // Float32Array [-1, 0, 1]
 * ```
 */
export function sign(x: Tensor): Tensor {
  return step("sign", x, arguments.length);
}
