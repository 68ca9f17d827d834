/**
 * Channel dropout of volumes (PyTorch's F.dropout3d): whole feature
 * volumes are zeroed, as `dropout2d` zeroes feature maps.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { checkArity } from "../../options.ts";
import { ones } from "./creation.ts";
import { mul, requireFloat } from "./elementwise.ts";
import { expectTensor } from "./compare.ts";
import { dropout } from "./random.ts";
import { reshape, squeeze, unsqueeze } from "./shape.ts";

/**
 * Zeroes each channel of x [N, C, D, H, W] (or one volume [C, D, H, W],
 * as torch 1.13 reads a 4-D input) with probability p and scales the kept
 * ones by 1/(1-p) in training; the identity otherwise. One mask value per
 * (sample, channel), from the generator that `manualSeed` seeds.
 *
 * @example
 * ```ts
 * import { functional as F, manualSeed, ones } from "@lits/vision";
 * manualSeed(0);
 * const y = F.dropout3d(ones([1, 8, 2, 2, 2]), 0.5);
 * const perChannel = y.sum([2, 3, 4]).toArray(); // each 0 (dropped) or 16 (8 voxels x 2)
 * console.log(perChannel.every((v) => v === 0 || v === 16)); // true
 * ```
 */
export function dropout3d(x: Tensor, p = 0.5, training = true): Tensor {
  refuseKeywords("F.dropout3d", p, "x", ["p", "training"], [0.5, true]);
  const usage = "F.dropout3d(x, 0.5, model.training)";
  checkArity("dropout3d", arguments.length, 3, usage);
  expectTensor(x, "dropout3d", usage);
  requireFloat(x, "dropout3d");
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(
      `dropout3d: p must be a number in [0, 1], got ${JSON.stringify(p)}; write ${usage}`,
    );
  }
  if (typeof training !== "boolean") {
    throw new Error(
      `dropout3d: training must be a boolean, got ${JSON.stringify(training)}; write ${usage}`,
    );
  }
  if (x.ndim !== 5 && x.ndim !== 4) {
    throw new Error(
      `dropout3d: expected input [N, C, D, H, W] (or one volume [C, D, H, W]), got [${x.shape}]`,
    );
  }
  if (!training || p === 0) return x;
  if (x.ndim === 4) return squeeze(dropout3d(unsqueeze(x, 0), p, training), 0);
  const [n, c] = x.shape;
  // The element dropout kernel on a [N, C] field of ones gives the scaled
  // channel mask; mul's broadcast and its gradient do the rest (dx = dy * mask).
  const mask = dropout(ones([n, c], { device: x.device }), p, true);
  return mul(x, reshape(mask, [n, c, 1, 1, 1]));
}
