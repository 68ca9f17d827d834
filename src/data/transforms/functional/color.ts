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

/**
 * Sharpness as torchvision's `F.adjust_sharpness`: blends the image with a
 * smoothed copy (3x3 kernel [1 1 1; 1 5 1; 1 1 1] / 13 inside, the border
 * pixels kept) by `factor` (0 gives the smoothed image, 1 the image, 2 a
 * sharpened one), clamped to the range. Images 2 pixels wide or high come
 * back unchanged (a copy), as torchvision's.
 *
 * Assumes black and white at `valueRange` (default [0, 1], torchvision's);
 * on raw HU pass the HU window, or scale to [0, 1] first
 * (`ScaleIntensityRange`), or the clamp erases everything outside [0, 1].
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(9).fill(0.2), width: 3, height: 3 };
 * img.data[4] = 0.6;
 * console.log(data.transforms.F.adjustSharpness(img, 0).data[4].toFixed(4)); // "0.3538"
 * ```
 */
export function adjustSharpness(
  image: Image,
  factor: number,
  valueRange: ValueRange = [0, 1],
): Image {
  checkImage(image, "adjustSharpness");
  if (typeof factor !== "number" || !(factor >= 0) || !Number.isFinite(factor)) {
    throw new Error(`adjustSharpness: factor must be a finite number >= 0, got ${fmt(factor)}`);
  }
  const [lo, hi] = checkValueRange("adjustSharpness", valueRange);
  const { data: src, width: w, height: h } = image;
  const out = scratchImage(w, h), dst = out.data;
  if (w <= 2 || h <= 2) return (dst.set(src), out);
  // torchvision's float32 kernel weights; the border keeps the image (blend of x with x).
  const k = Math.fround(1 / 13), k5 = Math.fround(5 / 13), keep = 1 - factor;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let blurred = src[i];
      if (y > 0 && y < h - 1 && x > 0 && x < w - 1) {
        const a = i - w, b = i + w;
        blurred = k * (src[a - 1] + src[a] + src[a + 1] + src[i - 1] + src[i + 1] + src[b - 1] +
              src[b] + src[b + 1]) + k5 * src[i];
      }
      const v = factor * src[i] + keep * blurred;
      dst[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }
  return out;
}

/**
 * Stretches the image's own minimum and maximum to black and white, as
 * torchvision's `F.autocontrast` (a constant image is only clamped to the
 * range).
 *
 * Black and white are `valueRange` (default [0, 1], torchvision's). On CT
 * it is a per-slice window: the same tissue gets a different value on
 * every slice, depending on what else the slice holds (bone, air, contrast).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0.25, 0.5, 0.75]), width: 3, height: 1 };
 * console.log([...data.transforms.F.autocontrast(img).data]); // [0, 0.5, 1]
 * ```
 */
export function autocontrast(image: Image, valueRange: ValueRange = [0, 1]): Image {
  checkImage(image, "autocontrast");
  const [lo, hi] = checkValueRange("autocontrast", valueRange);
  const src = image.data, span = hi - lo;
  let min = Infinity, max = -Infinity, nan = false;
  for (const v of src) {
    if (v < min) min = v;
    if (v > max) max = v;
    if (v !== v) nan = true;
  }
  // torchvision in [0, 1] units: scale = 1 / (max - min) in float32; inf -> min 0, scale 1.
  // A NaN pixel makes torch's amin/amax NaN, so its scale is not finite either.
  let mn = Math.fround((min - lo) / span);
  let scale = Math.fround(1 / Math.fround(Math.fround((max - lo) / span) - mn));
  if (nan || !Number.isFinite(scale)) [mn, scale] = [0, 1];
  const out = scratchImage(image.width, image.height), dst = out.data;
  for (let i = 0; i < src.length; i++) {
    const t = Math.fround(Math.fround(Math.fround((src[i] - lo) / span) - mn) * scale);
    dst[i] = lo + span * (t < 0 ? 0 : t > 1 ? 1 : t);
  }
  return out;
}

/** The 8-bit level of a value as `convert_image_dtype(x, uint8)`, clamped (see `posterize`). */
function level(v: number, lo: number, span: number): number {
  const scaled = Math.fround(Math.fround((v - lo) / span) * Math.fround(255.999));
  return Math.min(255, Math.max(0, Math.floor(scaled)));
}

/**
 * Histogram equalisation on the image's 8-bit levels: torchvision's
 * `F.equalize` (its `_scale_channel`, a lookup table from the cumulative
 * histogram) on `convert_image_dtype(x, uint8)`, converted back. Levels are
 * taken as in `posterize` (`floor((x - lo) / (hi - lo) * 255.999)`, clamped
 * to 0..255), so the result is always on the 1/255 grid of the range. As
 * torchvision's, an image with fewer than 255 pixels below its highest
 * level (the histogram too small for a step) keeps its levels.
 *
 * Assumes `valueRange` (default [0, 1]) holds the image: on raw HU every
 * value below 0 becomes level 0 and above 1 level 255, so scale to [0, 1]
 * first (`ScaleIntensityRange`) or pass the HU window. On CT it flattens
 * the intensity distribution of each slice on its own, so a tissue's value
 * depends on the slice's content.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(512).map((_, i) => (i < 384 ? 0.1 : 0.2)), width: 32, height: 16 };
 * const out = data.transforms.F.equalize(img);
 * console.log(out.data[0], out.data[511]); // 0 1
 * ```
 */
export function equalize(image: Image, valueRange: ValueRange = [0, 1]): Image {
  checkImage(image, "equalize");
  const [lo, hi] = checkValueRange("equalize", valueRange);
  const src = image.data, span = hi - lo;
  const levels = new Uint8Array(src.length), hist = new Float64Array(256);
  for (let i = 0; i < src.length; i++) hist[levels[i] = level(src[i], lo, span)]++;
  // step: the counts of all nonzero bins but the last, over 255, floored.
  let last = 255;
  while (last > 0 && hist[last] === 0) last--;
  let total = 0;
  for (let b = 0; b < last; b++) total += hist[b];
  const step = Math.floor(total / 255);
  const lut = new Uint8Array(256);
  if (step === 0) {
    for (let b = 0; b < 256; b++) lut[b] = b;
  } else {
    // lut[b] = (cumsum[b - 1] + step // 2) // step, clamped: the table shifted by one.
    let cum = 0;
    for (let b = 1; b < 256; b++) {
      cum += hist[b - 1];
      lut[b] = Math.min(255, Math.floor((cum + Math.floor(step / 2)) / step));
    }
  }
  const out = scratchImage(image.width, image.height), dst = out.data;
  for (let i = 0; i < src.length; i++) dst[i] = lo + span * Math.fround(lut[levels[i]] / 255);
  return out;
}
