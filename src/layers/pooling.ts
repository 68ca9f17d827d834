/**
 * Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import type { Pair } from "../tensor/ops/conv.ts";
import { adaptiveAvgPool2d, avgPool2d, maxPool2d, type Pool2dOptions } from "../tensor/ops/pool.ts";
import { Module } from "./module.ts";

/**
 * Max pooling; the stride defaults to the kernel size.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.MaxPool2d(2).forward(randn([1, 1, 4, 4])).shape); // [1, 1, 2, 2]
 * ```
 */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: Pool2dOptions = {}) {
    super();
  }
  /** x [N, C, H, W] -> [N, C, H', W']. */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling; the stride defaults to the kernel size.
 *
 * @example
 * ```ts
 * import { nn, ones } from "@lits/vision";
 * console.log(new nn.AvgPool2d(2).forward(ones([1, 1, 2, 2])).item()); // 1
 * ```
 */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: Pool2dOptions = {}) {
    super();
  }
  /** x [N, C, H, W] -> [N, C, H', W']. */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/**
 * Average pooling to a fixed output size, with PyTorch's bins.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.AdaptiveAvgPool2d([6, 6]).forward(randn([1, 2, 13, 13])).shape); // [1, 2, 6, 6]
 * ```
 */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) {
    super();
  }
  /** x [N, C, H, W] -> [N, C, oh, ow]. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
