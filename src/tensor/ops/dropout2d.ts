/**
 * Channel dropout (PyTorch's F.dropout2d): whole feature maps are zeroed,
 * since neighbouring pixels of one map are correlated and element dropout
 * would barely regularise them.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { checkArity } from "../../options.ts";
import { ones } from "./creation.ts";
import { mul, requireFloat } from "./elementwise.ts";
import { dropout } from "./random.ts";
import { reshape } from "./shape.ts";

/**
 * Zeroes each channel of x [N, C, H, W] with probability p and scales the
 * kept ones by 1/(1-p) in training; the identity otherwise. One mask value
 * per (sample, channel), from the generator that `manualSeed` seeds.
 *
 * @example
 * ```ts
 * import { functional as F, manualSeed, ones } from "@lits/vision";
 * manualSeed(0);
 * const y = F.dropout2d(ones([1, 8, 2, 2]), 0.5);
 * const perChannel = y.sum([2, 3]).toArray(); // each 0 (dropped) or 8 (4 pixels x 2)
 * console.log(perChannel.every((v) => v === 0 || v === 8)); // true
 * ```
 */
export function dropout2d(x: Tensor, p = 0.5, training = true): Tensor {
  refuseKeywords("F.dropout2d", p, "x", ["p", "training"], [0.5, true]);
  const usage = "F.dropout2d(x, 0.5, model.training)";
  checkArity("dropout2d", arguments.length, 3, usage);
  requireFloat(x, "dropout2d");
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(
      `dropout2d: p must be a number in [0, 1], got ${JSON.stringify(p)}; write ${usage}`,
    );
  }
  if (typeof training !== "boolean") {
    throw new Error(
      `dropout2d: training must be a boolean, got ${JSON.stringify(training)}; write ${usage}`,
    );
  }
  if (x.ndim === 2) {
    // The "Defining a Neural Network" recipe puts nn.Dropout2d after a Linear: torch 1.13
    // warns that a 2-D input is deprecated and drops each element, as plain dropout.
    throw new Error(
      `dropout2d: got a 2-D input [${x.shape}] (features, as after a Linear), which torch ` +
        "1.13 drops element by element with a deprecation warning, as plain dropout; write " +
        `new nn.Dropout(${p}) or F.dropout(x, ${p}, this.training)`,
    );
  }
  if (x.ndim !== 4) {
    // PyTorch 1.13 reads a 3-D input as one unbatched image [C, H, W] but warns
    // that this will change to [N, C, L]: ask for the explicit form instead.
    throw new Error(
      `dropout2d: expected input [N, C, H, W], got [${x.shape}]; for one image [C, H, W] ` +
        `write F.dropout2d(x.unsqueeze(0), p).squeeze(0)`,
    );
  }
  if (!training || p === 0) return x;
  const [n, c] = x.shape;
  // The element dropout kernel on a [N, C] field of ones gives the scaled
  // channel mask; mul's broadcast and its gradient do the rest (dx = dy * mask).
  const mask = dropout(ones([n, c], { device: x.device }), p, true);
  return mul(x, reshape(mask, [n, c, 1, 1]));
}
