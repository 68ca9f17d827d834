/**
 * Crop-then-resize, as torchvision's `F.resized_crop`: the op behind
 * `RandomResizedCrop`, the ImageNet training crop.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, fmt, scratchImage, toSize } from "../image.ts";
import { crop } from "./crop.ts";
import { type Interpolation, resize } from "./geometry.ts";

/** Nearest-neighbour resize as `F.interpolate(mode="nearest")`: source index floor(i * in / out). */
function resizeNearest(image: Image, oh: number, ow: number): Image {
  const { data, width: w, height: h } = image;
  const out = scratchImage(ow, oh);
  const cols = Int32Array.from({ length: ow }, (_, x) => Math.min(w - 1, Math.floor(x * (w / ow))));
  for (let y = 0; y < oh; y++) {
    const row = Math.min(h - 1, Math.floor(y * (h / oh))) * w, o = y * ow;
    for (let x = 0; x < ow; x++) out.data[o + x] = data[row + cols[x]];
  }
  return out;
}

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
