/**
 * `BatchNorm3d` and `InstanceNorm3d`, as `torch.nn`'s, for volumes
 * [N, C, D, H, W]: the batch-norm and instance-norm ops take any number of
 * spatial dimensions, so these are BatchNorm2d and InstanceNorm2d with
 * rank 5, under torch's state-dict names (`weight`, `bias`, `running_mean`,
 * `running_var`, `num_batches_tracked`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { BatchNormBase, type BatchNormLayerOptions } from "./batchnorm_base.ts";
import { InstanceNormBase, type InstanceNormLayerOptions } from "./instance_norm.ts";

/**
 * Batch normalisation over the channels of [N, C, D, H, W], as
 * `nn.BatchNorm3d` (eps 1e-5, momentum 0.1, running statistics used in
 * evaluation).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const bn = new nn.BatchNorm3d(4);
 * console.log(bn.forward(randn([2, 4, 3, 5, 5])).shape); // [2, 4, 3, 5, 5]
 * console.log([...bn.stateDict().keys()]);
 * // ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
 * ```
 */
export class BatchNorm3d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options, arguments.length, "new nn.BatchNorm3d(16, { eps: 1e-5 })");
  }

  protected checkRank(x: Tensor): void {
    const c = this.numFeatures;
    if (x.ndim !== 5 || x.shape[1] !== c) {
      throw new Error(
        `BatchNorm3d(${c}): expected input [N, ${c}, D, H, W], got [${x.shape}]` +
          (x.ndim === 4 ? "; for images use nn.BatchNorm2d" : ""),
      );
    }
  }
}

/**
 * Instance normalisation of [N, C, D, H, W] (or one volume [C, D, H, W]),
 * as `nn.InstanceNorm3d`: each sample's channel normalised by its own
 * statistics; by default without affine parameters or running statistics
 * (torch's defaults), with `trackRunningStats` evaluation uses the running
 * ones.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * const norm = new nn.InstanceNorm3d(3, { affine: true });
 * console.log(norm.forward(randn([2, 3, 4, 6, 6])).shape, norm.weight!.shape); // [2, 3, 4, 6, 6] [3]
 * ```
 */
export class InstanceNorm3d extends InstanceNormBase {
  constructor(numFeatures: number, options: InstanceNormLayerOptions = {}) {
    super(numFeatures, options, arguments.length, [4, 5]);
  }
}
