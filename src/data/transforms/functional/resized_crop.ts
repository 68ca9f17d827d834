/**
 * Crop-then-resize, as torchvision's `F.resized_crop`: the op behind
 * `RandomResizedCrop`, the ImageNet training crop.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, resizeParams, toSize } from "../image.ts";
import { crop } from "./crop.ts";
import { resize, type ResizeInterpolation } from "./geometry.ts";

/**
 * Crops [top, top + height) x [left, left + width) and resizes the crop to
 * `size` ([h, w], or the crop's smaller edge), as torchvision's `F.resized_crop` on a
 * float tensor: `interpolation` "bilinear" (default), "bicubic" or
 * "nearest", and `antialias` (default false, torchvision 0.14's tensor
 * default; see `resize`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(16).map((_, i) => i), width: 4, height: 4 };
 * const out = data.transforms.F.resizedCrop(img, 1, 1, 2, 2, 4, "nearest");
 * console.log(out.width, out.data[0], out.data[15]); // 4 5 10
 * const small = data.transforms.F.resizedCrop(img, 0, 0, 4, 4, 2, "bicubic", true);
 * console.log(small.width, small.height); // 2 2
 * ```
 */
export function resizedCrop(
  image: Image,
  top: number,
  left: number,
  height: number,
  width: number,
  size: number | [number, number],
  interpolation: ResizeInterpolation = "bilinear",
  antialias = false,
): Image {
  if (arguments.length > 8) {
    throw new Error(
      `resizedCrop: takes (image, top, left, height, width, size, interpolation, antialias), ` +
        `got ${arguments.length} arguments`,
    );
  }
  checkImage(image, "resizedCrop");
  // A number is the crop's smaller edge, as torchvision's (F.resize's rule).
  const out = typeof size === "number"
    ? toSize(size, "resizedCrop")[0]
    : toSize(size, "resizedCrop");
  const [mode, aa] = resizeParams("resizedCrop", interpolation, antialias);
  return resize(crop(image, top, left, height, width), out, mode, aa);
}
