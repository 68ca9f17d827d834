/**
 * `F.prelu`, `F.mish` and `F.softmin`, as torch 1.13 computes them, composed
 * from differentiable ops (their gradients follow from the parts):
 *
 * - prelu: x where x > 0, else weight * x, the weight ([C] or one number)
 *   broadcast along dimension 1 (the channels; a 0-d or 1-d input has no
 *   channel dimension and takes one weight). The weight's gradient is the
 *   sum of x * g where x <= 0, as torch's.
 * - mish: x tanh(softplus(x)); softplus past its threshold (20) is x, where
 *   tanh is already 1 in float32, so large inputs never overflow e^x.
 * - softmin: softmax(-x) along `dim`.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { mul, neg, requireFloat, tanh } from "./elementwise.ts";
import { expectTensor, gt } from "./compare.ts";
import { reshape } from "./shape.ts";
import { softmax } from "./softmax.ts";
import { softplus } from "./activation_smooth.ts";
import { where } from "./where.ts";
import { showValue } from "./show_value.ts";

/** Throws unless x is a float32 tensor (`fn` names the function, `usage` a right call). */
function checkInput(x: unknown, fn: string, usage: string): asserts x is Tensor {
  expectTensor(x, fn, usage);
  requireFloat(x, fn);
}

/**
 * Parametric ReLU, as `F.prelu(x, weight)`: x where x > 0, else
 * weight * x. `weight` holds one number (a [1] or 0-d tensor, shared by
 * every channel) or one per channel ([C], with C = x.shape[1]); a 0-d or 1-d
 * x has no channel dimension and takes one number, as torch's.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const x = tensor([[-1, 2], [-4, -2]]);
 * console.log(F.prelu(x, tensor([0.5, 0.25])).toArray()); // Float32Array [-0.5, 2, -2, -0.5]
 * ```
 */
export function prelu(x: Tensor, weight: Tensor): Tensor {
  const usage = "F.prelu(x, weight) with weight of shape [1] or [C] (C = x.shape[1])";
  if (arguments.length !== 2) {
    throw new Error(`prelu: takes (x, weight), got ${arguments.length} arguments; write ${usage}`);
  }
  checkInput(x, "prelu: x", usage);
  checkInput(weight, "prelu: weight", usage);
  if (weight.ndim > 1) {
    throw new Error(
      `prelu: weight must be 0-d or 1-d, got [${weight.shape}]; write ${usage}`,
    );
  }
  const n = weight.numel();
  const channels = x.ndim >= 2 ? x.shape[1] : 1;
  if (n !== 1 && n !== channels) {
    throw new Error(
      `prelu: weight has ${n} numbers but x [${x.shape}] has ${channels} channel` +
        `${channels === 1 ? "" : "s"} (dimension 1; a 0-d or 1-d x has one); ` +
        `give one weight or ${channels}: ${usage}`,
    );
  }
  // [1, C, 1, ...]: one weight per channel, broadcast over batch and space.
  const shape = x.shape.map((_, i) => (i === 1 ? n : 1));
  const w = weight.shape.join() === shape.join() ? weight : reshape(weight, shape);
  // NaN fails x > 0 and takes w * x (NaN), as torch's.
  return where(gt(x, 0), x, mul(x, w));
}

/**
 * Mish, as `F.mish(x)`: x tanh(softplus(x)) (Misra 2019), a smooth
 * self-gated activation (YOLOv4's backbone).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.mish(tensor([0, 1])).toArray()); // Float32Array [0, 0.8650983572006226]
 * ```
 */
export function mish(x: Tensor): Tensor {
  if (arguments.length > 1) {
    throw new Error("mish: takes one tensor (no inplace); write F.mish(x)");
  }
  checkInput(x, "mish", "F.mish(x)");
  return mul(x, tanh(softplus(x)));
}

/**
 * Softmin along `dim`, as `F.softmin(x, dim)`: softmax(-x, dim), so the
 * smallest entries get the largest weights. `dim` is required (torch's
 * implicit choice is deprecated).
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * console.log(F.softmin(tensor([[0, 0]]), 1).toArray()); // Float32Array [0.5, 0.5]
 * ```
 */
export function softmin(x: Tensor, dim: number): Tensor {
  const usage = "F.softmin(x, 1)";
  if (arguments.length !== 2) {
    throw new Error(
      `softmin: takes (x, dim), got ${arguments.length} argument${
        arguments.length === 1 ? "" : "s"
      } (dim is required); write ${usage}`,
    );
  }
  checkInput(x, "softmin", usage);
  if (!Number.isInteger(dim)) {
    throw new Error(
      `softmin: dim must be an integer, got ${showValue(dim)}; write ${usage}`,
    );
  }
  return softmax(neg(x), dim);
}
