/**
 * `BatchNorm1d`, as `torch.nn.BatchNorm1d`: batch normalisation of features
 * [N, C] or sequences [N, C, L], with BatchNorm2d's state-dict names.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { BatchNormBase, type BatchNormLayerOptions } from "./batchnorm_base.ts";

/** Options of `BatchNorm1d` (those of every batch norm). */
export type BatchNorm1dOptions = BatchNormLayerOptions;

/**
 * Batch normalisation over the channels of [N, C] or [N, C, L].
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const bn = new nn.BatchNorm1d(3);
 * console.log(bn.forward(randn([8, 3])).shape); // [8, 3]
 * console.log([...bn.stateDict().keys()]);
 * // ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNorm1dOptions = {}) {
    super(numFeatures, options, arguments.length, "new nn.BatchNorm1d(64, { eps: 1e-5 })");
  }

  protected checkRank(x: Tensor): void {
    const c = this.numFeatures;
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== c) {
      throw new Error(
        `BatchNorm1d(${c}): expected input [N, ${c}] or [N, ${c}, L], got [${x.shape}]` +
          (x.ndim === 4 ? "; for images use nn.BatchNorm2d" : ""),
      );
    }
  }
}
