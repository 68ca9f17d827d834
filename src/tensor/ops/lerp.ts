/**
 * `lerp` (torch.lerp): start + weight (end - start), by torch's two-sided
 * formula: for |weight| below 0.5 from start, else as
 * end - (end - start)(1 - weight), so weight 1 gives end exactly. The EMA
 * of weights in newer PyTorch code is `ema.lerp_(p, 1 - decay)`.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { abs, add, mul, requireFloat, rsub, sameDevice, sub } from "./elementwise.ts";
import { expectTensor, lt } from "./compare.ts";
import { where } from "./where.ts";

/**
 * start + weight (end - start), as `torch.lerp(start, end, weight)`;
 * `weight` a number or a tensor (all three broadcast). Gradients flow to
 * each tensor.
 *
 * @example
 * ```ts
 * import { lerp, tensor } from "@lits/vision";
 * console.log(lerp(tensor([0, 10]), tensor([10, 20]), 0.25).toArray()); // Float32Array [2.5, 12.5]
 * ```
 */
export function lerp(start: Tensor, end: Tensor, weight: Tensor | number): Tensor {
  const usage = "lerp(start, end, 0.1)";
  if (arguments.length !== 3) {
    throw new Error(`lerp: takes (start, end, weight), got ${arguments.length} arguments`);
  }
  expectTensor(start, "lerp: start", usage);
  expectTensor(end, "lerp: end", usage);
  requireFloat(start, "lerp");
  requireFloat(end, "lerp");
  sameDevice(start, end, "lerp");
  const diff = sub(end, start);
  if (typeof weight === "number") {
    if (!Number.isFinite(weight)) {
      throw new Error(`lerp: weight must be a finite number or a tensor, got ${weight}`);
    }
    return Math.abs(weight) < 0.5 ? add(start, mul(diff, weight)) : sub(end, mul(diff, 1 - weight));
  }
  expectTensor(weight, "lerp: weight", usage);
  requireFloat(weight, "lerp");
  const low = add(start, mul(diff, weight)), high = sub(end, mul(diff, rsub(1, weight)));
  return where(lt(abs(weight), 0.5), low, high);
}
