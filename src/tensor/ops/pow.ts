/**
 * `pow(base, exponent)` as torch.pow: a tensor to a number power, a tensor
 * to a tensor power (broadcasting), or a number to a tensor power.
 *
 * The gradients are PyTorch's pow_backward_self and pow_backward_exponent,
 * special cases included: no gradient to the base where the exponent is 0
 * (so 0^0 does not give 0 * inf), and none to the exponent where the base is
 * 0 and the exponent >= 0 (the limit of b^e log b).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { record } from "../autograd.ts";
import * as ew from "./elementwise.ts";
import { binaryRaw, requireFloat, sameDevice } from "./elementwise.ts";
import { sumToShape } from "./reduce.ts";
import { expectTensor, scalarTensor } from "./compare.ts";
import { whereRaw } from "./where.ts";
import { atMostArgs } from "./arity.ts";

const USAGE = "pow(x, 2), pow(x, y) or pow(2, y)";

/**
 * `base` raised to `exponent`, elementwise with broadcasting; either may be
 * a number, not both. Gradients flow to each tensor argument.
 *
 * @example
 * ```ts
 * import { pow, tensor } from "@lits/vision";
 * console.log(pow(tensor([1, 2, 3]), 2).toArray()); // Float32Array [1, 4, 9]
 * console.log(pow(tensor([2, 3]), tensor([3, 2])).toArray()); // Float32Array [8, 9]
 * const y = tensor([0, 1, 3], undefined, { requiresGrad: true });
 * const z = pow(2, y);
 * console.log(z.toArray()); // Float32Array [1, 2, 8]
 * z.sum().backward(); // d/dy 2^y = 2^y ln 2
 * console.log(y.grad!.toArray()); // Float32Array [0.6931471824645996, 1.3862943649291992, 5.545177459716797]
 * ```
 */
export function pow(base: Tensor | number, exponent: Tensor | number): Tensor {
  atMostArgs("pow", arguments.length, 2, "pow(x, 2)", arguments[2]);
  if (typeof base === "number") {
    expectTensor(exponent, "pow: the exponent (the base is a number)", USAGE);
    requireFloat(exponent, "pow");
    const b = scalarTensor(base, exponent.device);
    return powTensor(b, exponent);
  }
  expectTensor(base, "pow: the base", USAGE);
  if (typeof exponent === "number") return ew.pow(base, exponent);
  expectTensor(exponent, "pow: the exponent", USAGE);
  requireFloat(base, "pow");
  requireFloat(exponent, "pow");
  sameDevice(base, exponent, "pow");
  return powTensor(base, exponent);
}

function powTensor(base: Tensor, exponent: Tensor): Tensor {
  const out = binaryRaw("pow", base, exponent);
  return record(out, {
    name: "pow",
    inputs: [base, exponent],
    backward: (g) => {
      const zero = scalarTensor(0, g.device);
      let gBase: Tensor | null = null, gExp: Tensor | null = null;
      if (base.requiresGrad) {
        // g * e * b^(e - 1), 0 where e == 0.
        const d = ew.mul(g, ew.mul(exponent, binaryRaw("pow", base, ew.sub(exponent, 1))));
        gBase = sumToShape(whereRaw(binaryRaw("eq", exponent, zero), zero, d), base.shape);
      }
      if (exponent.requiresGrad) {
        // g * b^e * ln b, with b^e ln b taken as 0 where b == 0 and e >= 0.
        const atZero = binaryRaw(
          "mul",
          binaryRaw("eq", base, zero),
          binaryRaw("ge", exponent, zero),
        );
        const d = whereRaw(atZero, zero, ew.mul(out, ew.log(base)));
        gExp = sumToShape(ew.mul(g, d), exponent.shape);
      }
      return [gBase, gExp];
    },
  });
}
