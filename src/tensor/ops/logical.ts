/**
 * Logical ops, as torch's `logical_and / or / xor / not`: any nonzero
 * value (NaN included) is true, and the result is the library's bool
 * stand-in, a float32 0/1 mask as the comparisons return (`eq`, `gt`).
 * Float32 and int32 inputs broadcast together; masks take no gradient.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { noGrad } from "../autograd.ts";
import { eq, expectTensor, ne } from "./compare.ts";
import { binaryRaw } from "./elementwise.ts";

function checkLogical(where: string, x: unknown, name: string, usage: string): asserts x is Tensor {
  expectTensor(x, `${where}: ${name}`, usage);
  if (x.dtype !== "float32" && x.dtype !== "int32") {
    throw new Error(`${where}: expected a float32 or int32 tensor, got ${x.dtype}`);
  }
}

function logical(where: string, op: "mul" | "maximum" | "ne", a: Tensor, b: Tensor, given: number) {
  const usage = `${where}(a, b) (a.${where}(b))`;
  if (given !== 2) {
    throw new Error(`${where}: takes (a, b), got ${given} arguments; write ${usage}`);
  }
  checkLogical(where, a, "a", usage);
  checkLogical(where, b, "b", `${usage}, b a Tensor (a mask: x.gt(0))`);
  return noGrad(() => binaryRaw(op, ne(a, 0), ne(b, 0)));
}

/**
 * 1 where both `a` and `b` are nonzero, else 0, as `torch.logical_and` (a
 * float32 mask; broadcasting): `pred.eq(1).logicalAnd(target.eq(1))` are the
 * true positives.
 *
 * @example
 * ```ts
 * import { logicalAnd, tensor } from "@lits/vision";
 * console.log(logicalAnd(tensor([1, 0, 2, NaN]), tensor([1, 1, 0, 3])).toList()); // [1, 0, 0, 1]
 * ```
 */
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return logical("logicalAnd", "mul", a, b, arguments.length);
}

/**
 * 1 where `a` or `b` is nonzero, else 0, as `torch.logical_or` (a float32
 * mask; broadcasting).
 *
 * @example
 * ```ts
 * import { logicalOr, tensor } from "@lits/vision";
 * console.log(logicalOr(tensor([1, 0, 0]), tensor([0, 0, 5])).toList()); // [1, 0, 1]
 * ```
 */
export function logicalOr(a: Tensor, b: Tensor): Tensor {
  return logical("logicalOr", "maximum", a, b, arguments.length);
}

/**
 * 1 where exactly one of `a` and `b` is nonzero, else 0, as
 * `torch.logical_xor` (a float32 mask; broadcasting).
 *
 * @example
 * ```ts
 * import { logicalXor, tensor } from "@lits/vision";
 * console.log(logicalXor(tensor([1, 0, 2]), tensor([0, 0, 3])).toList()); // [1, 0, 0]
 * ```
 */
export function logicalXor(a: Tensor, b: Tensor): Tensor {
  return logical("logicalXor", "ne", a, b, arguments.length);
}

/**
 * 1 where `x` is zero, else 0 (NaN is true, so its negation is 0), as
 * `torch.logical_not` (a float32 mask): the inverse of a comparison's
 * mask, torch's `~mask`.
 *
 * @example
 * ```ts
 * import { logicalNot, tensor } from "@lits/vision";
 * console.log(logicalNot(tensor([1, 0, NaN])).toList()); // [0, 1, 0]
 * ```
 */
export function logicalNot(x: Tensor): Tensor {
  if (arguments.length !== 1) {
    throw new Error(`logicalNot: takes one tensor, got ${arguments.length} arguments`);
  }
  checkLogical("logicalNot", x, "x", "logicalNot(x) (x.logicalNot())");
  return noGrad(() => eq(x, 0));
}
