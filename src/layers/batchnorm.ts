/**
 * `BatchNorm2d`, as `torch.nn.BatchNorm2d` (eps 1e-5, momentum 0.1,
 * biased variance to normalise, unbiased for `running_var`,
 * `num_batches_tracked`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { BatchNormBase, type BatchNormLayerOptions } from "./batchnorm_base.ts";

export type { BatchNormLayerOptions } from "./batchnorm_base.ts";

/**
 * Batch normalisation over the channels of [N, C, H, W].
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const bn = new nn.BatchNorm2d(3);
 * const y = bn.forward(randn([4, 3, 5, 5]));
 * console.log([...bn.stateDict().keys()]);
 * // ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options, arguments.length, "new nn.BatchNorm2d(16, { eps: 1e-5 })");
  }

  protected checkRank(x: Tensor): void {
    const c = this.numFeatures;
    if (x.ndim !== 4 || x.shape[1] !== c) {
      throw new Error(
        `BatchNorm2d(${c}): expected input [N, ${c}, H, W], got [${x.shape}]` +
          (x.ndim === 2 || x.ndim === 3 ? "; for features use nn.BatchNorm1d" : ""),
      );
    }
  }
}
