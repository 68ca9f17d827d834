/**
 * Channel dropout of sequences (PyTorch's F.dropout1d): whole channels of
 * [N, C, L] are zeroed, as `dropout2d` zeroes feature maps.
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
 * Zeroes each channel of x [N, C, L] (or of one sequence [C, L], as torch
 * 1.13 reads a 2-D input) with probability p and scales the kept ones by
 * 1/(1-p) in training; the identity otherwise. One mask value per (sample,
 * channel), from the generator that `manualSeed` seeds.
 *
 * @example
 * ```ts
 * import { functional as F, manualSeed, ones } from "@lits/vision";
 * manualSeed(0);
 * const y = F.dropout1d(ones([1, 8, 4]), 0.5);
 * const perChannel = y.sum(2).toArray(); // each 0 (dropped) or 8 (4 positions x 2)
 * console.log(perChannel.every((v) => v === 0 || v === 8)); // true
 * ```
 */
export function dropout1d(x: Tensor, p = 0.5, training = true): Tensor {
  refuseKeywords("F.dropout1d", p, "x", ["p", "training"], [0.5, true]);
  const usage = "F.dropout1d(x, 0.5, model.training)";
  checkArity("dropout1d", arguments.length, 3, usage);
  expectTensor(x, "dropout1d", usage);
  requireFloat(x, "dropout1d");
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(
      `dropout1d: p must be a number in [0, 1], got ${JSON.stringify(p)}; write ${usage}`,
    );
  }
  if (typeof training !== "boolean") {
    throw new Error(
      `dropout1d: training must be a boolean, got ${JSON.stringify(training)}; write ${usage}`,
    );
  }
  if (x.ndim !== 3 && x.ndim !== 2) {
    // torch 1.13: "dropout1d: Expected 2D or 3D input, but received a 4D input".
    throw new Error(
      `dropout1d: expected input [N, C, L] (or one sequence [C, L]), got [${x.shape}]; ` +
        "for images [N, C, H, W] use F.dropout2d",
    );
  }
  if (!training || p === 0) return x;
  if (x.ndim === 2) return squeeze(dropout1d(unsqueeze(x, 0), p, training), 0);
  const [n, c] = x.shape;
  // The element dropout kernel on a [N, C] field of ones gives the scaled
  // channel mask; mul's broadcast and its gradient do the rest (dx = dy * mask).
  const mask = dropout(ones([n, c], { device: x.device }), p, true);
  return mul(x, reshape(mask, [n, c, 1]));
}
