/**
 * The piecewise activations of `torch.nn.functional`: `hardtanh`,
 * `hardshrink`, `softshrink`, `threshold`, and the smooth `softsign` and
 * `tanhshrink`, as torch 1.13 computes them, values and gradients.
 *
 * Each is composed from differentiable ops, chosen so that the gradient at
 * the kinks is torch's: hardtanh, hardshrink, softshrink and threshold
 * send 0 at their bounds (hardtanh's bounds, |x| == lambd, x == threshold),
 * and NaN passes the gradient through, as torch's backward formulas do.
 * `clamp` alone would pass the gradient at hardtanh's bounds, so hardtanh
 * picks the clamped value, detached, where x is at or past a bound.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { abs, add, div, requireFloat, sub, tanh } from "./elementwise.ts";
import { expectTensor, ge, le } from "./compare.ts";
import { clamp } from "./clamp.ts";
import { where } from "./where.ts";
import { showValue } from "./show_value.ts";

/** @internal throws unless `x` is a float32 tensor and the call has at most `most` arguments. */
export function checkActivation(
  fn: string,
  x: unknown,
  given: number,
  most: number,
  usage: string,
): asserts x is Tensor {
  if (given > most) {
    throw new Error(
      `${fn}: takes at most ${most} arguments, got ${given} (there is no inplace: results are ` +
        `new tensors); write ${usage}`,
    );
  }
  expectTensor(x, fn, usage);
  requireFloat(x, fn);
}

/** @internal `v` if it is a finite number, else an Error naming `fn`, `name` and the usage. */
export function finite(fn: string, name: string, v: unknown, usage: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new Error(`${fn}: ${name} must be a finite number, got ${showValue(v)}; write ${usage}`);
  }
  return v;
}

/**
 * Hard tanh, as `F.hardtanh(x, minVal, maxVal)` (torch's min_val, max_val;
 * default -1, 1): x clamped to [minVal, maxVal]. The gradient is 1 strictly
 * inside and 0 at and past the bounds, as torch's (clamp passes it at the
 * bounds).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.hardtanh(tensor([-2, 0.5, 3])).toArray()); // Float32Array [-1, 0.5, 1]
 * console.log(F.hardtanh(tensor([-2, 0.5, 3]), 0, 2).toArray()); // Float32Array [0, 0.5, 2]
 * ```
 */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  refuseKeywords("F.hardtanh", minVal, "x", ["minVal", "maxVal"], [-1, 1]);
  const usage = "F.hardtanh(x, -1, 1)";
  checkActivation("hardtanh", x, arguments.length, 3, usage);
  finite("hardtanh", "minVal", minVal, usage);
  finite("hardtanh", "maxVal", maxVal, usage);
  if (minVal > maxVal) {
    throw new Error(`hardtanh: minVal ${minVal} is greater than maxVal ${maxVal}; write ${usage}`);
  }
  // At or past a bound: the bound, without gradient; NaN is neither, so it passes.
  const blocked = add(le(x, minVal), ge(x, maxVal));
  return where(blocked, clamp(x.detach(), minVal, maxVal), x);
}

/**
 * Hard shrink, as `F.hardshrink(x, lambd)` (default 0.5): 0 where
 * -lambd <= x <= lambd, else x; gradient 0 there (bounds included), else 1.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.hardshrink(tensor([-1, 0.5, 0.2, 2])).toArray()); // Float32Array [-1, 0, 0, 2]
 * ```
 */
export function hardshrink(x: Tensor, lambd = 0.5): Tensor {
  refuseKeywords("F.hardshrink", lambd, "x", ["lambd"], [0.5]);
  const usage = "F.hardshrink(x, 0.5)";
  checkActivation("hardshrink", x, arguments.length, 2, usage);
  finite("hardshrink", "lambd", lambd, usage);
  const inside = ge(x, -lambd).mul(le(x, lambd));
  return where(inside, 0, x);
}

/**
 * Soft shrink, as `F.softshrink(x, lambd)` (default 0.5, >= 0): x - lambd
 * above lambd, x + lambd below -lambd, else 0; gradient 0 at and between
 * the bounds, else 1.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.softshrink(tensor([-1, 0.25, 2])).toArray()); // Float32Array [-0.5, 0, 1.5]
 * ```
 */
export function softshrink(x: Tensor, lambd = 0.5): Tensor {
  refuseKeywords("F.softshrink", lambd, "x", ["lambd"], [0.5]);
  const usage = "F.softshrink(x, 0.5)";
  checkActivation("softshrink", x, arguments.length, 2, usage);
  finite("softshrink", "lambd", lambd, usage);
  if (lambd < 0) {
    // torch: "lambda must be greater or equal to 0".
    throw new Error(`softshrink: lambd must be >= 0, got ${lambd}; write ${usage}`);
  }
  // Outside: x -/+ lambd exactly; inside: x - x = 0; clamp's gradient (1 at
  // its bounds) makes the gradient 0 at |x| == lambd, as torch's.
  return sub(x, clamp(x, -lambd, lambd));
}

/**
 * Threshold, as `F.threshold(x, threshold, value)`: x where x > threshold,
 * else `value`; gradient 0 at and below the threshold.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.threshold(tensor([0.5, 1, 2]), 1, -3).toArray()); // Float32Array [-3, -3, 2]
 * ```
 */
export function threshold(x: Tensor, threshold: number, value: number): Tensor {
  refuseKeywords("F.threshold", threshold, "x", ["threshold", "value"], []);
  const usage = "F.threshold(x, 0.1, 20)";
  checkActivation("threshold", x, arguments.length, 3, usage);
  finite("threshold", "threshold", threshold, usage);
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new Error(`threshold: value must be a number, got ${showValue(value)}; write ${usage}`);
  }
  return where(le(x, threshold), value, x);
}

/**
 * Softsign, as `F.softsign`: x / (1 + |x|).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.softsign(tensor([-3, 0, 1])).toArray()); // Float32Array [-0.75, 0, 0.5]
 * ```
 */
export function softsign(x: Tensor): Tensor {
  checkActivation("softsign", x, arguments.length, 1, "F.softsign(x)");
  return div(x, add(abs(x), 1));
}

/**
 * Tanh shrink, as `F.tanhshrink`: x - tanh(x).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.tanhshrink(tensor([0])).toArray()); // Float32Array [0]
 * ```
 */
export function tanhshrink(x: Tensor): Tensor {
  checkActivation("tanhshrink", x, arguments.length, 1, "F.tanhshrink(x)");
  return sub(x, tanh(x));
}
