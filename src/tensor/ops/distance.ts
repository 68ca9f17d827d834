/**
 * `F.pairwiseDistance`, as torch 1.13's `pairwise_distance`: the p-norm of
 * x1 - x2 + eps over the last dimension (eps is added to the difference
 * before the norm, as torch does, so equal rows give a small distance and
 * a finite gradient). Built on `norm`, so the gradient is torch's norm
 * backward (0 for a zero difference; shared equally among ties for p =
 * Infinity).
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { add, broadcastShapes, requireFloat, sub } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { reshape } from "./shape.ts";
import { norm } from "./vector_norm.ts";
import { showValue } from "./show_value.ts";

/** @internal checks pairwise distance's p, eps and keepDim (`where` names the caller). */
export function checkDistanceArgs(
  where: string,
  p: unknown,
  eps: unknown,
  keepDim: unknown,
  usage: string,
): void {
  if (typeof p !== "number" || !(p > 0)) {
    throw new Error(
      `${where}: p must be a number > 0 or Infinity, got ${showValue(p)} ` +
        `(torch also takes p <= 0; this library does not yet); write ${usage}`,
    );
  }
  if (typeof eps !== "number" || !Number.isFinite(eps)) {
    throw new Error(
      `${where}: eps must be a finite number, got ${showValue(eps)}; ` +
        `write ${usage}`,
    );
  }
  if (typeof keepDim !== "boolean") {
    throw new Error(
      `${where}: keepDim must be true or false, got ${showValue(keepDim)}; write ${usage}`,
    );
  }
}

/**
 * The p-norm distance between x1 and x2 along their last dimension, as
 * `F.pairwise_distance(x1, x2, p, eps, keepdim)`: ||x1 - x2 + eps||_p, the
 * inputs broadcast (so one [D] vector against a batch [N, D] works).
 * p = 2 (default), 1, Infinity or any p > 0; eps 1e-6; keepDim false.
 *
 * @example
 * ```ts
 * import { functional as F, tensor } from "@lits/vision";
 * const d = F.pairwiseDistance(tensor([[0, 0], [1, 1]]), tensor([[3, 4], [1, 1]]), 2, 0);
 * console.log(d.toArray()); // Float32Array [5, 0]
 * ```
 */
export function pairwiseDistance(
  x1: Tensor,
  x2: Tensor,
  p = 2,
  eps = 1e-6,
  keepDim = false,
): Tensor {
  refuseKeywords("F.pairwiseDistance", p, "x1, x2", ["p", "eps", "keepDim"], [2, 1e-6, false]);
  const usage = "F.pairwiseDistance(x1, x2, 2, 1e-6, false)";
  if (arguments.length < 2 || arguments.length > 5) {
    throw new Error(
      `pairwiseDistance: takes (x1, x2, p, eps, keepDim), got ${arguments.length} ` +
        `argument${arguments.length === 1 ? "" : "s"}; write ${usage}`,
    );
  }
  expectTensor(x1, "pairwiseDistance: x1", usage);
  expectTensor(x2, "pairwiseDistance: x2", usage);
  requireFloat(x1, "pairwiseDistance");
  requireFloat(x2, "pairwiseDistance");
  checkDistanceArgs("pairwiseDistance", p, eps, keepDim, usage);
  broadcastShapes(x1.shape, x2.shape, "pairwiseDistance");
  const d = add(sub(x1, x2), eps);
  // Two 0-d inputs: the distance of one element, 0-d (torch's, keepDim or not).
  if (d.ndim === 0) return norm(reshape(d, [1]), p, 0, false);
  return norm(d, p, -1, keepDim);
}
