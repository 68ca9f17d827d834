/**
 * Crop-then-resize, as torchvision's `F.resized_crop`: the op behind
 * `RandomResizedCrop`, the ImageNet training crop.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, fmt, resizeNearest, toSize } from "../image.ts";
import { crop } from "./crop.ts";
import { type Interpolation, resize } from "./geometry.ts";

/**
 * Crops [top, top + height) x [left, left + width) and resizes the crop to
 * `size` ([h, w] or a square side), as torchvision's `F.resized_crop`
 * (tensor path, no antialias).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(16).map((_, i) => i), width: 4, height: 4 };
 * const out = data.transforms.F.resizedCrop(img, 1, 1, 2, 2, 4, "nearest");
 * console.log(out.width, out.data[0], out.data[15]); // 4 5 10
 * ```
 */
export function resizedCrop(
  image: Image,
  top: number,
  left: number,
  height: number,
  width: number,
  size: number | [number, number],
  interpolation: Interpolation = "bilinear",
): Image {
  checkImage(image, "resizedCrop");
  const [oh, ow] = toSize(size, "resizedCrop");
  const box = crop(image, top, left, height, width);
  if (interpolation === "nearest") return resizeNearest(box, oh, ow);
  if (interpolation !== "bilinear") {
    throw new Error(
      `resizedCrop: interpolation must be "bilinear" or "nearest", got ${fmt(interpolation)}`,
    );
  }
  return resize(box, [oh, ow]);
}
