/**
 * The composable random resized crop, on functional/resized_crop.ts.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import type { Box } from "./functional/crop.ts";
import type { ResizeInterpolation } from "./functional/geometry.ts";
import { resizedCrop } from "./functional/resized_crop.ts";
import { fmt, resizeParams, roundHalfEven, toSize } from "./image.ts";
import { range, Transform } from "./transform.ts";

/** Options of `RandomResizedCrop` (torchvision's, camelCase). */
export interface RandomResizedCropOptions {
  /** Output [height, width], or a square side. */
  size: number | [number, number];
  /** Range of the crop's area as a fraction of the image's (default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio width / height, drawn log-uniformly (default [3/4, 4/3]). */
  ratio?: [number, number];
  /** "bilinear" (default), "bicubic" or "nearest". */
  interpolation?: ResizeInterpolation;
  /**
   * true low-pass filters while downsampling (bilinear and bicubic; see
   * `F.resize`). Default false, torchvision 0.14's default for tensors; in
   * a `Compose` before `ToTensor` true, as PIL's (see `Compose`).
   */
  antialias?: boolean;
  /** Probability of applying (default 1; torchvision has none). */
  p?: number;
}

/**
 * Crops a random region (area fraction from `scale`, aspect ratio from
 * `ratio`) and resizes it to `size`: torchvision's `RandomResizedCrop`,
 * with its 10 tries and its centre-crop fallback.
 *
 * For CT it is a poor fit: with the default scale down to 8 % the crop can
 * cut the liver (or the lesion) out of the slice, turning a class 1 or 2
 * slice into one whose label is wrong, and the resize changes the apparent
 * size of organs, which in CT is a physical size (pixel spacing is known).
 * Use a mild scale (e.g. [0.8, 1]) and ratio ([0.9, 1.1]) if at all.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomResizedCrop({ size: 32, scale: [0.5, 1] });
 * const img = { data: new Float32Array(64 * 48), width: 64, height: 48 };
 * const out = t.apply(img, new data.Rng(0));
 * console.log(out.width, out.height); // 32 32
 * ```
 */
export class RandomResizedCrop extends Transform {
  readonly #size: [number, number];
  readonly #scale: [number, number];
  readonly #ratio: [number, number];
  readonly #interpolation: ResizeInterpolation;
  readonly #antialias: boolean;
  /** See `RandomResizedCropOptions`. */
  constructor(params: RandomResizedCropOptions) {
    super(params, arguments.length, {
      keys: ["size", "scale", "ratio", "interpolation", "antialias"],
      p: 1,
      usage: "{ size: 224, scale: [0.08, 1] }",
    });
    this.#size = toSize(params.size, this.name);
    this.#scale = range(this.name, "scale", params.scale ?? [0.08, 1], { above: 0 });
    this.#ratio = range(this.name, "ratio", params.ratio ?? [3 / 4, 4 / 3], { above: 0 });
    for (const [key, v] of [["scale", params.scale], ["ratio", params.ratio]] as const) {
      if (v !== undefined && !Array.isArray(v)) {
        throw new Error(`${this.name}: ${key} must be a [lo, hi] pair, got ${fmt(v)}`);
      }
    }
    [this.#interpolation, this.#antialias] = resizeParams(
      this.name,
      params.interpolation,
      params.antialias,
    );
  }

  /**
   * The crop box as torchvision's `RandomResizedCrop.get_params(img, scale,
   * ratio)`: up to 10 draws of area and log-aspect, then the largest central
   * crop whose aspect is within `ratio`.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const box = data.transforms.RandomResizedCrop.getParams(20, 10, [2, 2], [0.75, 4 / 3], new data.Rng(0));
   * console.log(box); // { top: 0, left: 3, height: 10, width: 13 }
   * ```
   */
  static getParams(
    width: number,
    height: number,
    scale: readonly [number, number],
    ratio: readonly [number, number],
    rng: Rng,
  ): Box {
    const area = width * height;
    const [r0, r1] = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = area * rng.uniform(scale[0], scale[1]);
      const aspect = Math.exp(rng.uniform(r0, r1));
      const w = roundHalfEven(Math.sqrt(target * aspect));
      const h = roundHalfEven(Math.sqrt(target / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        const top = rng.int(0, height - h + 1), left = rng.int(0, width - w + 1);
        return { top, left, height: h, width: w };
      }
    }
    const inRatio = width / height;
    let w = width, h = height;
    if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
    else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
    return {
      top: Math.floor((height - h) / 2),
      left: Math.floor((width - w) / 2),
      height: h,
      width: w,
    };
  }

  /** Draws the box (`getParams`), then `F.resizedCrop`. */
  protected run(image: Image, rng: Rng): Image {
    const b = RandomResizedCrop.getParams(image.width, image.height, this.#scale, this.#ratio, rng);
    const { top, left, height, width } = b;
    return resizedCrop(
      image,
      top,
      left,
      height,
      width,
      this.#size,
      this.#interpolation,
      this.#antialias,
    );
  }
}
