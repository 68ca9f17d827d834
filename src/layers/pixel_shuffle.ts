/**
 * `PixelShuffle` and `PixelUnshuffle`, as torch's, on `F.pixelShuffle`
 * and `F.pixelUnshuffle`.
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { pixelShuffle, pixelUnshuffle } from "../tensor/ops/pixel_shuffle.ts";
import { Module } from "./module.ts";
import { checkArity } from "../options.ts";
import { showValue } from "../tensor/ops/show_value.ts";

function factor(where: string, name: string, v: unknown, usage: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(
      `${where}: ${name} must be an integer >= 1, got ${showValue(v)}; write ${usage}`,
    );
  }
  return v;
}

/**
 * [*, C r^2, H, W] -> [*, C, H r, W r], as `nn.PixelShuffle` (the
 * upsampling of sub-pixel convolution, ESPCN).
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.PixelShuffle(3)(randn([1, 9, 4, 4])).shape); // [1, 1, 12, 12]
 * ```
 */
export class PixelShuffle extends Module {
  /** r. */
  readonly upscaleFactor: number;
  constructor(upscaleFactor: number) {
    super();
    const usage = "new nn.PixelShuffle(2)";
    checkArity("nn.PixelShuffle", arguments.length, 1, usage);
    this.upscaleFactor = factor("nn.PixelShuffle", "upscaleFactor", upscaleFactor, usage);
  }
  /** x [*, C r^2, H, W] -> [*, C, H r, W r]. */
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
}

/**
 * [*, C, H r, W r] -> [*, C r^2, H, W], as `nn.PixelUnshuffle`: the
 * inverse of `PixelShuffle`.
 *
 * @example
 * ```ts
 * import { nn, randn } from "@lits/vision";
 * console.log(new nn.PixelUnshuffle(2)(randn([1, 1, 4, 6])).shape); // [1, 4, 2, 3]
 * ```
 */
export class PixelUnshuffle extends Module {
  /** r. */
  readonly downscaleFactor: number;
  constructor(downscaleFactor: number) {
    super();
    const usage = "new nn.PixelUnshuffle(2)";
    checkArity("nn.PixelUnshuffle", arguments.length, 1, usage);
    this.downscaleFactor = factor("nn.PixelUnshuffle", "downscaleFactor", downscaleFactor, usage);
  }
  /** x [*, C, H r, W r] -> [*, C r^2, H, W]. */
  forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }
}
