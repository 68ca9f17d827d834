/**
 * `ChannelShuffle`, as `torch.nn.ChannelShuffle(groups)` (ShuffleNet), on
 * `F.channelShuffle`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { channelShuffle } from "../tensor/ops/channel_shuffle.ts";
import { Module } from "./module.ts";
import { activationArgs } from "./activation_shrink.ts";

/**
 * Shuffles the channels of [N, C, *] across `groups` (C divisible by it).
 *
 * @example
 * ```ts
 * import { arange, nn } from "@lits/vision";
 * const shuffle = new nn.ChannelShuffle(3);
 * console.log(shuffle(arange(6).reshape([1, 6, 1, 1])).toArray()); // Float32Array [0, 2, 4, 1, 3, 5]
 * ```
 */
export class ChannelShuffle extends Module {
  /** The number of groups. */
  readonly groups: number;

  constructor(groups: number | { groups: number }) {
    super();
    const usage = "new nn.ChannelShuffle(2)";
    this.groups =
      activationArgs("nn.ChannelShuffle", arguments, { groups: undefined }, false, usage)
        .groups;
    void groups;
    if (!Number.isInteger(this.groups) || this.groups < 1) {
      throw new Error(
        `nn.ChannelShuffle: groups must be an integer >= 1, got ${this.groups}; write ${usage}`,
      );
    }
  }

  /** x [N, C, *] with its channels shuffled. */
  forward(x: Tensor): Tensor {
    return channelShuffle(x, this.groups);
  }
}
