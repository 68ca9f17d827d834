/**
 * `Unflatten`, the inverse of `Flatten`: one dimension split into several,
 * as `torch.nn.Unflatten(dim, unflattened_size)`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { normDim, reshape } from "../tensor/ops/shape.ts";
import { checkArity } from "../options.ts";
import { Module } from "./module.ts";
import { showValue } from "../tensor/ops/show_value.ts";

/**
 * Splits dimension `dim` into `unflattenedSize` (a list of sizes whose
 * product is that dimension's size; one of them may be -1, inferred), as
 * `torch.nn.Unflatten`: [N, 64] -> [N, 4, 4, 4] for a decoder's first
 * feature map. The result shares the input's memory where it can (a
 * reshape).
 *
 * @example
 * ```ts
 * import { nn, zeros } from "@lits/vision";
 * console.log(new nn.Unflatten(1, [4, 4, 4]).forward(zeros([2, 64])).shape); // [2, 4, 4, 4]
 * console.log(new nn.Unflatten(-1, [2, -1]).forward(zeros([3, 6])).shape); // [3, 2, 3]
 * ```
 */
export class Unflatten extends Module {
  /** The dimension split (negative counts from the end). */
  readonly dim: number;
  /** The sizes it is split into. */
  readonly unflattenedSize: number[];

  constructor(dim: number, unflattenedSize: number[]) {
    super();
    const usage = "new nn.Unflatten(1, [4, 4, 4])";
    checkArity("nn.Unflatten", arguments.length, 2, usage);
    if (!Number.isInteger(dim)) {
      throw new Error(
        `nn.Unflatten: dim must be an integer, got ${showValue(dim)}; write ${usage}`,
      );
    }
    const sizes: unknown = unflattenedSize;
    if (
      !Array.isArray(sizes) || sizes.length === 0 ||
      sizes.some((s) => !Number.isInteger(s) || s < -1)
    ) {
      throw new Error(
        `nn.Unflatten: unflattenedSize must be a non-empty list of sizes (integers >= 0, one ` +
          `of them may be -1), got ${showValue(sizes)}; write ${usage}`,
      );
    }
    if (sizes.indexOf(-1) !== sizes.lastIndexOf(-1)) {
      throw new Error(
        `nn.Unflatten: only one size may be -1, got ${JSON.stringify(sizes)}; write ${usage}`,
      );
    }
    this.dim = dim;
    this.unflattenedSize = [...sizes];
  }

  /** x with dimension `dim` split into `unflattenedSize`. */
  forward(x: Tensor): Tensor {
    const where = "nn.Unflatten";
    const shape = (x as { shape?: unknown })?.shape;
    if (!Array.isArray(shape)) {
      throw new Error(`${where}: expected a Tensor, got ${x === null ? "null" : typeof x}`);
    }
    if (x.ndim === 0) throw new Error(`${where}: cannot unflatten a 0-d tensor`);
    const d = normDim(this.dim, x.ndim, where);
    const n = x.shape[d], sizes = this.unflattenedSize;
    const known = sizes.reduce((a, s) => (s === -1 ? a : a * s), 1);
    const inferred = sizes.includes(-1);
    if (inferred ? known === 0 || n % known !== 0 : known !== n) {
      throw new Error(
        `${where}: sizes [${sizes}] don't multiply up to the size ${n} of dimension ${this.dim} ` +
          `of the input [${x.shape}]`,
      );
    }
    return reshape(x, [...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
  }
}
