/**
 * `sin`, `cos` (the backend's kernels; gradients cos x and -sin x) and
 * `reciprocal` (1 / x; gradient -1 / x^2), as torch's: sinusoidal position
 * embeddings and their like.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { oneTensor, unary } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";

function one(name: string, x: Tensor, given: number): void {
  oneTensor(name, given);
  expectTensor(x, name, `${name}(x)`);
}

/**
 * sin x, elementwise (torch.sin).
 *
 * @example
 * ```ts
 * import { sin, tensor } from "@lits/vision";
 * console.log(sin(tensor([0])).toArray()); // Float32Array [0]
 * ```
 */
export function sin(x: Tensor): Tensor {
  one("sin", x, arguments.length);
  return unary("sin", x);
}

/**
 * cos x, elementwise (torch.cos).
 *
 * @example
 * ```ts
 * import { cos, tensor } from "@lits/vision";
 * console.log(cos(tensor([0])).toArray()); // Float32Array [1]
 * ```
 */
export function cos(x: Tensor): Tensor {
  one("cos", x, arguments.length);
  return unary("cos", x);
}

/**
 * 1 / x, elementwise (torch.reciprocal): inf at 0, as torch's.
 *
 * @example
 * ```ts
 * import { reciprocal, tensor } from "@lits/vision";
 * console.log(reciprocal(tensor([2, 4])).toArray()); // Float32Array [0.5, 0.25]
 * ```
 */
export function reciprocal(x: Tensor): Tensor {
  one("reciprocal", x, arguments.length);
  return unary("rdivScalar", x, 1);
}
