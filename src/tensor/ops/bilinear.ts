/**
 * `F.bilinear`: y = x1^T W x2 + b per output feature, as torch's
 * `bilinear(input1, input2, weight, bias)`: one matrix product with W
 * seen as [out * in1, in2], then a product with x1 summed over in1, so
 * the gradient is theirs.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { add, mul } from "./elementwise.ts";
import { linear } from "./matmul.ts";
import { reshape, unsqueeze } from "./shape.ts";
import { sum } from "./reduce.ts";
import { checkActivation } from "./activation_shrink.ts";
import { inFloat32 } from "../autocast.ts";

/**
 * y[..., o] = sum over i, j of x1[..., i] W[o, i, j] x2[..., j] (+ b[o]),
 * for x1 [..., in1], x2 [..., in2] (the same leading dims), W [out, in1,
 * in2], b [out] or null; y is [..., out].
 *
 * @example
 * ```ts
 * import { functional as F, ones } from "@lits/vision";
 * const y = F.bilinear(ones([2, 3]), ones([2, 4]), ones([5, 3, 4]), null);
 * console.log(y.shape, y.toArray()[0]); // [2, 5] 12
 * ```
 */
export function bilinear(
  x1: Tensor,
  x2: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
): Tensor {
  const usage = "F.bilinear(x1, x2, weight, bias)";
  checkActivation("bilinear", x1, arguments.length, 4, usage);
  checkActivation("bilinear: x2", x2, 1, 1, usage);
  checkActivation("bilinear: weight", weight, 1, 1, usage);
  if (bias !== null && bias !== undefined) checkActivation("bilinear: bias", bias, 1, 1, usage);
  const shapes = () =>
    `x1 [${x1.shape}], x2 [${x2.shape}], weight [${weight.shape}]` +
    (bias ? `, bias [${bias.shape}]` : "");
  if (weight.ndim !== 3 || x1.ndim < 1 || x2.ndim !== x1.ndim) {
    throw new Error(
      `bilinear: expected weight [out, in1, in2] and x1, x2 [..., in]; got ${shapes()}`,
    );
  }
  const [out, in1, in2] = weight.shape;
  const lead = x1.shape.slice(0, -1);
  if (
    x1.shape[x1.ndim - 1] !== in1 || x2.shape[x2.ndim - 1] !== in2 ||
    lead.join() !== x2.shape.slice(0, -1).join() || (bias && bias.shape.join() !== `${out}`)
  ) {
    throw new Error(
      `bilinear: sizes do not match: ${shapes()} (x1 [..., ${in1}], x2 [..., ${in2}] with the ` +
        `same leading dims, bias [${out}])`,
    );
  }
  // PyTorch's autocast leaves bilinear in fp32 (it is not on its list).
  return inFloat32(() => product(x1, x2, weight, bias, lead));
}

/** bilinear's value, the shapes checked. */
function product(
  x1: Tensor,
  x2: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  lead: number[],
): Tensor {
  const [out, in1, in2] = weight.shape;
  const m = lead.reduce((a, b) => a * b, 1);
  // [M, in2] x [out * in1, in2]^T: sum over j of W[o, i, j] x2[j], as [M, out, in1].
  const wx2 = reshape(linear(reshape(x2, [m, in2]), reshape(weight, [out * in1, in2])), [
    m,
    out,
    in1,
  ]);
  const y = sum(mul(wx2, unsqueeze(reshape(x1, [m, in1]), 1)), 2);
  const biased = bias ? add(y, bias) : y;
  return reshape(biased, [...lead, out]);
}
