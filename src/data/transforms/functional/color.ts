/**
 * torchvision's colour ops on one grey channel: brightness, contrast,
 * invert, posterize, solarize.
 *
 * torchvision defines them on [0, 1] floats (or uint8): "black" is 0,
 * "white" is 1, results are clamped to [0, 1]. Our images are floats in any
 * range (Hounsfield units, a [0, 1] window, normalised values), so each op
 * takes `valueRange = [lo, hi]` (default [0, 1]): black is `lo`, white is
 * `hi`. On [0, 1] input with the default range every op equals
 * torchvision's; on other ranges it equals torchvision's applied to
 * `(x - lo) / (hi - lo)` and mapped back.
 *
 * @module
 */
import type { Image } from "../../types.ts";
import { checkImage, checkValueRange, fmt, scratchImage } from "../image.ts";

/** [lo, hi]: the values that play black and white (torchvision: [0, 1]). */
export type ValueRange = readonly [number, number];

/** torchvision's `_blend`: ratio * x + (1 - ratio) * other, clamped to the range. */
function blend(image: Image, ratio: number, other: number, range: ValueRange, op: string): Image {
  checkImage(image, op);
  if (!(ratio >= 0) || !Number.isFinite(ratio)) {
    throw new Error(`${op}: factor must be a finite number >= 0, got ${ratio}`);
  }
  const [lo, hi] = checkValueRange(op, range);
  const out = scratchImage(image.width, image.height);
  const src = image.data, dst = out.data, base = (1 - ratio) * other;
  for (let i = 0; i < src.length; i++) {
    const v = ratio * src[i] + base;
    dst[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}

/**
 * Brightness: blends with black (`lo`) by `factor` (0 gives black, 1 the
 * image, 2 twice as far from black), clamped to the range, as torchvision's
 * `F.adjust_brightness`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0.2, 0.6]), width: 2, height: 1 };
 * console.log([...data.transforms.F.adjustBrightness(img, 2).data]); // [0.4000000059604645, 1]
 * ```
 */
export function adjustBrightness(
  image: Image,
  factor: number,
  valueRange: ValueRange = [0, 1],
): Image {
  return blend(image, factor, valueRange[0], valueRange, "adjustBrightness");
}

/**
 * Contrast as torchvision's `F.adjust_contrast`: blends with the image's
 * mean by `factor` (0 gives a flat grey image, 1 the image), clamped to the
 * range. (`F.adjustContrast` is MONAI's gamma contrast, a different op.)
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0.25, 0.75]), width: 2, height: 1 };
 * console.log([...data.transforms.F.blendContrast(img, 0).data]); // [0.5, 0.5]
 * ```
 */
export function blendContrast(
  image: Image,
  factor: number,
  valueRange: ValueRange = [0, 1],
): Image {
  checkImage(image, "blendContrast");
  let sum = 0;
  for (const v of image.data) sum += v;
  // torchvision takes the mean in float32: round it the same way.
  const mean = Math.fround(sum / image.data.length);
  return blend(image, factor, mean, valueRange, "blendContrast");
}

/**
 * Inverts: `lo + hi - x` (torchvision's `F.invert`, `1 - x` on [0, 1]).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const hu = { data: new Float32Array([-1000, 40]), width: 2, height: 1 };
 * console.log([...data.transforms.F.invert(hu, [-1000, 1000]).data]); // [1000, -40]
 * ```
 */
export function invert(image: Image, valueRange: ValueRange = [0, 1]): Image {
  checkImage(image, "invert");
  const [lo, hi] = checkValueRange("invert", valueRange);
  const out = scratchImage(image.width, image.height);
  for (let i = 0; i < out.data.length; i++) out.data[i] = lo + hi - image.data[i];
  return out;
}

/**
 * Keeps the top `bits` bits of each pixel's 8-bit level: torchvision's
 * `F.posterize` on `convert_image_dtype(x, uint8)`, converted back. Levels
 * are `floor((x - lo) / (hi - lo) * 255.999)`, clamped to 0..255 (torchvision
 * does not clamp out-of-range floats; they wrap); the result is
 * `lo + (hi - lo) * level / 255`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0.3, 0.9]), width: 2, height: 1 };
 * console.log([...data.transforms.F.posterize(img, 1).data]); // [0, 0.501960813999176]
 * ```
 */
export function posterize(image: Image, bits: number, valueRange: ValueRange = [0, 1]): Image {
  checkImage(image, "posterize");
  if (!Number.isInteger(bits) || bits < 0 || bits > 8) {
    throw new Error(`posterize: bits must be an integer in 0..8, got ${fmt(bits)}`);
  }
  const [lo, hi] = checkValueRange("posterize", valueRange);
  const mask = (0xff << (8 - bits)) & 0xff, span = hi - lo;
  const out = scratchImage(image.width, image.height);
  for (let i = 0; i < out.data.length; i++) {
    // float32 arithmetic as torchvision's `image * 255.999` before truncation.
    const scaled = Math.fround(Math.fround((image.data[i] - lo) / span) * Math.fround(255.999));
    const level = Math.min(255, Math.max(0, Math.floor(scaled))) & mask;
    out.data[i] = lo + span * Math.fround(level / 255);
  }
  return out;
}

/**
 * Inverts the pixels at or above `threshold` (torchvision's `F.solarize`;
 * the threshold must not exceed `hi`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0.2, 0.8]), width: 2, height: 1 };
 * console.log([...data.transforms.F.solarize(img, 0.5).data].map((v) => v.toFixed(2))); // ["0.20", "0.20"]
 * ```
 */
export function solarize(image: Image, threshold: number, valueRange: ValueRange = [0, 1]): Image {
  checkImage(image, "solarize");
  const [lo, hi] = checkValueRange("solarize", valueRange);
  if (!Number.isFinite(threshold) || threshold > hi) {
    throw new Error(
      `solarize: threshold must be a finite number <= the range's top ${hi}, got ${fmt(threshold)}`,
    );
  }
  const out = scratchImage(image.width, image.height);
  for (let i = 0; i < out.data.length; i++) {
    const v = image.data[i];
    out.data[i] = v >= threshold ? lo + hi - v : v;
  }
  return out;
}
