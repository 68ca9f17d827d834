/**
 * `F.pixelShuffle` and `F.pixelUnshuffle` (torch's pixel_shuffle and
 * pixel_unshuffle): channels moved into space and back, as a reshape, a
 * permute and a reshape, so the gradient is the same moves reversed.
 *
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { refuseKeywords } from "./keyword_args.ts";
import { expectTensor } from "./compare.ts";
import { permute, reshape } from "./shape.ts";
import { checkArity } from "../../options.ts";
import { showValue } from "./show_value.ts";

/** Checks x (at least 3-D [*, C, H, W]) and the factor; returns the leading dims and C, H, W. */
function parts(where: string, x: unknown, factor: unknown, name: string, usage: string) {
  expectTensor(x, where, usage);
  if (typeof factor !== "number" || !Number.isInteger(factor) || factor < 1) {
    throw new Error(
      `${where}: ${name} must be an integer >= 1, got ${showValue(factor)}; write ${usage}`,
    );
  }
  if (x.ndim < 3) {
    throw new Error(
      `${where}: expected an input of at least 3 dimensions [*, C, H, W], got [${x.shape}]`,
    );
  }
  const lead = x.shape.slice(0, -3);
  const [c, h, w] = x.shape.slice(-3);
  return { x, r: factor, lead, c, h, w };
}

/**
 * x [*, C r^2, H, W] rearranged to [*, C, H r, W r], as `F.pixel_shuffle`
 * (sub-pixel convolution's upsampling): output pixel (h r + i, w r + j) of
 * channel c is input channel c r^2 + i r + j at (h, w).
 *
 * @example
 * ```ts
 * import { arange, functional as F } from "@lits/vision";
 * const y = F.pixelShuffle(arange(8).reshape([1, 4, 1, 2]), 2);
 * console.log(y.shape, y.toArray()); // [1, 1, 2, 4] Float32Array(8) [0, 2, 1, 3, 4, 6, 5, 7]
 * ```
 */
export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  refuseKeywords("F.pixelShuffle", upscaleFactor, "x", ["upscaleFactor"], []);
  const where = "pixelShuffle", usage = "F.pixelShuffle(x, 2)";
  checkArity(where, arguments.length, 2, usage);
  const { r, lead, c, h, w } = parts(where, x, upscaleFactor, "upscaleFactor", usage);
  if (c % (r * r) !== 0) {
    throw new Error(
      `${where}: the channels ${c} of [${x.shape}] (dimension -3) are not divisible by the ` +
        `square of upscaleFactor ${r} (${r * r})`,
    );
  }
  const oc = c / (r * r), b = lead.length;
  const split = reshape(x, [...lead, oc, r, r, h, w]);
  const moved = permute(split, [...lead.keys(), b, b + 3, b + 1, b + 4, b + 2]);
  return reshape(moved, [...lead, oc, h * r, w * r]);
}

/**
 * x [*, C, H r, W r] rearranged to [*, C r^2, H, W], as
 * `F.pixel_unshuffle`: the inverse of `pixelShuffle`.
 *
 * @example
 * ```ts
 * import { arange, functional as F } from "@lits/vision";
 * const y = F.pixelUnshuffle(arange(8).reshape([1, 1, 2, 4]), 2);
 * console.log(y.shape, y.toArray()); // [1, 4, 1, 2] Float32Array(8) [0, 2, 1, 3, 4, 6, 5, 7]
 * ```
 */
export function pixelUnshuffle(x: Tensor, downscaleFactor: number): Tensor {
  refuseKeywords("F.pixelUnshuffle", downscaleFactor, "x", ["downscaleFactor"], []);
  const where = "pixelUnshuffle", usage = "F.pixelUnshuffle(x, 2)";
  checkArity(where, arguments.length, 2, usage);
  const { r, lead, c, h, w } = parts(where, x, downscaleFactor, "downscaleFactor", usage);
  for (const [name, size] of [["height", h], ["width", w]] as const) {
    if (size % r !== 0) {
      throw new Error(
        `${where}: the ${name} ${size} of [${x.shape}] is not divisible by downscaleFactor ${r}`,
      );
    }
  }
  const b = lead.length;
  const split = reshape(x, [...lead, c, h / r, r, w / r, r]);
  const moved = permute(split, [...lead.keys(), b, b + 2, b + 4, b + 1, b + 3]);
  return reshape(moved, [...lead, c * r * r, h / r, w / r]);
}
