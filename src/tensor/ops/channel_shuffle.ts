/**
 * `F.channelShuffle` (torch's `channel_shuffle`, ShuffleNet's mixing of
 * grouped convolutions' channels): [N, C, *] seen as [N, g, C / g, *],
 * the two channel axes swapped, and read back as [N, C, *]. A reshape, a
 * transpose and a reshape, so the gradient is the same moves reversed.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { contiguous, reshape, transpose } from "./shape.ts";
import { checkActivation } from "./activation_shrink.ts";
import { showValue } from "./show_value.ts";

/**
 * The channels of x [N, C, *] (at least 3 dims) shuffled across `groups`:
 * output channel k is input channel (k % groups) * (C / groups) +
 * floor(k / groups), as `F.channel_shuffle(x, groups)`.
 *
 * @example
 * ```ts
 * import { arange, functional as F } from "@lits/vision";
 * const y = F.channelShuffle(arange(6).reshape([1, 6, 1]), 2);
 * console.log(y.toArray()); // Float32Array [0, 3, 1, 4, 2, 5]
 * ```
 */
export function channelShuffle(x: Tensor, groups: number): Tensor {
  const usage = "F.channelShuffle(x, 2)";
  checkActivation("channelShuffle", x, arguments.length, 2, usage);
  if (typeof groups !== "number" || !Number.isInteger(groups) || groups < 1) {
    throw new Error(
      `channelShuffle: groups must be an integer >= 1, got ${showValue(groups)}; write ${usage}`,
    );
  }
  if (x.ndim < 3) {
    throw new Error(
      `channelShuffle: expects at least 3 dims [N, C, *], got x [${x.shape}]`,
    );
  }
  const [n, c, ...rest] = x.shape;
  if (c % groups !== 0) {
    throw new Error(
      `channelShuffle: the ${c} channels of x [${x.shape}] are not divisible by groups ${groups}`,
    );
  }
  const split = reshape(x, [n, groups, c / groups, ...rest]);
  return reshape(contiguous(transpose(split, 1, 2)), [n, c, ...rest]);
}
