/**
 * `conv -> BatchNorm2d` in training: the convolution gathers its output's
 * per-channel moments as it writes it, and the batch norm takes its batch
 * statistics from them instead of a pass over the output
 * (`../tensor/ops/batch_moments.ts`). Used where a module knows that a
 * batch norm reads a convolution's output next: `Sequential`, ResNet's
 * blocks and stem.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { withMoments } from "../tensor/ops/batch_moments.ts";
import { Conv2d } from "./conv.ts";
import { BatchNorm2d } from "./batchnorm.ts";
import type { Module } from "./module.ts";

/** `conv.forward(x)`, `next` being the module that reads its output. */
export function convBeforeBatchNorm(conv: Module, next: Module | undefined, x: Tensor): Tensor {
  const feeds = conv instanceof Conv2d && next instanceof BatchNorm2d && next.training;
  return feeds ? withMoments(() => conv.forward(x)) : conv.forward(x);
}
