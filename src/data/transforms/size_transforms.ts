/**
 * Composable transforms that change the image size or framing: resize,
 * centre and random crop, crop to the body, pad (torchvision's names and
 * parameters; MONAI's `CropForeground`).
 *
 * @module
 */
import { checkArity } from "../../options.ts";
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { centerCrop, crop, cropForeground, pad, type PadMode, toPadding } from "./crop.ts";
import { resize } from "./geometric.ts";
import { fmt, toSize } from "./image.ts";
import { num, Transform } from "./transform.ts";

function sizeParam(name: string, size: unknown): [number, number] {
  try {
    return toSize(size as number | number[], name);
  } catch {
    throw new Error(
      `${name}: size must be a positive integer or [height, width], got ${fmt(size)}`,
    );
  }
}

/**
 * Resizes bilinearly: `size: [h, w]` exactly, or a number for the smaller
 * edge keeping the aspect ratio (torchvision's `Resize`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.Resize({ size: [32, 32] });
 * const img = { data: new Float32Array(64 * 48), width: 64, height: 48 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 32
 * ```
 */
export class Resize extends Transform {
  readonly #size: number | [number, number];
  /** `size`: [height, width] or the smaller edge. */
  constructor(params: { size: number | [number, number] }) {
    const usage = "new transforms.Resize({ size: 224 })";
    checkArity("Resize", arguments.length, 1, usage);
    super("Resize", params, ["size"], null, usage);
    const size = params.size;
    this.#size = typeof size === "number"
      ? sizeParam(this.name, size)[0]
      : sizeParam(this.name, size);
  }
  protected run(image: Image): Image {
    const s = this.#size;
    if (typeof s !== "number") return resize(image, s);
    const { width: w, height: h } = image;
    // torchvision: the smaller edge becomes s, the other keeps the aspect (floored).
    const size: [number, number] = w <= h
      ? [Math.max(1, Math.floor(s * h / w)), s]
      : [s, Math.max(1, Math.floor(s * w / h))];
    return resize(image, size);
  }
}

/**
 * Crops the centre (torchvision's `CenterCrop`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.CenterCrop({ size: 200 });
 * const img = { data: new Float32Array(256 * 256), width: 256, height: 256 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 200
 * ```
 */
export class CenterCrop extends Transform {
  readonly #size: [number, number];
  /** `size`: [height, width] or a square side. */
  constructor(params: { size: number | [number, number] }) {
    const usage = "new transforms.CenterCrop({ size: 224 })";
    checkArity("CenterCrop", arguments.length, 1, usage);
    super("CenterCrop", params, ["size"], null, usage);
    this.#size = sizeParam(this.name, params.size);
  }
  protected run(image: Image): Image {
    return centerCrop(image, this.#size);
  }
}

/**
 * Crops a random region of `size` (torchvision's `RandomCrop`, with
 * optional `padding` first and `padIfNeeded` for small images).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomCrop({ size: 224 });
 * const img = { data: new Float32Array(256 * 256), width: 256, height: 256 };
 * console.log(t.apply(img, new data.Rng(0)).height); // 224
 * ```
 */
export class RandomCrop extends Transform {
  readonly #size: [number, number];
  readonly #padding: number[] | null;
  readonly #padIfNeeded: boolean;
  readonly #fill: number;
  /** `size`, optional `padding` (as Pad), `padIfNeeded`, `fill`. */
  constructor(
    params: {
      size: number | [number, number];
      padding?: number | number[];
      padIfNeeded?: boolean;
      fill?: number;
      p?: number;
    },
  ) {
    const usage = "new transforms.RandomCrop({ size: 224, padding: 4 })";
    checkArity("RandomCrop", arguments.length, 1, usage);
    super("RandomCrop", params, ["size", "padding", "padIfNeeded", "fill"], 1, usage);
    this.#size = sizeParam(this.name, params.size);
    this.#padding = params.padding === undefined ? null : toPadding(params.padding, this.name);
    this.#padIfNeeded = params.padIfNeeded ?? false;
    this.#fill = num(this.name, "fill", params.fill ?? 0);
  }
  protected run(image: Image, rng: Rng): Image {
    let img = this.#padding ? pad(image, this.#padding, this.#fill) : image;
    const [ch, cw] = this.#size;
    if (this.#padIfNeeded && (img.width < cw || img.height < ch)) {
      const dx = Math.max(0, cw - img.width), dy = Math.max(0, ch - img.height);
      img = pad(img, [dx, dy, dx, dy], this.#fill);
    }
    if (img.width < cw || img.height < ch) {
      throw new Error(
        `RandomCrop: crop ${ch}x${cw} (h x w) is larger than the image ${img.height}x${img.width}`,
      );
    }
    const top = rng.int(0, img.height - ch + 1), left = rng.int(0, img.width - cw + 1);
    return crop(img, top, left, ch, cw);
  }
}

/**
 * Crops to the body: the bounding box of pixels above `threshold` (default
 * 0.1, above air in [0, 1]-scaled CT) plus `margin` pixels (MONAI's
 * `CropForeground`). Output sizes vary: follow it with `Resize`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.CropForeground({ threshold: 0.5, margin: 0 });
 * const img = { data: new Float32Array([0, 0, 0, 1, 1, 0]), width: 3, height: 2 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 2
 * ```
 */
export class CropForeground extends Transform {
  readonly #threshold: number;
  readonly #margin: number;
  /** `threshold` (default 0.1), `margin` in pixels (default 0). */
  constructor(params: { threshold?: number; margin?: number } = {}) {
    const usage = "new transforms.CropForeground({ threshold: 0.1, margin: 4 })";
    checkArity("CropForeground", arguments.length, 1, usage);
    super("CropForeground", params, ["threshold", "margin"], null, usage);
    this.#threshold = num(this.name, "threshold", params.threshold ?? 0.1);
    this.#margin = num(this.name, "margin", params.margin ?? 0, { min: 0, integer: true });
  }
  protected run(image: Image): Image {
    return cropForeground(image, { threshold: this.#threshold, margin: this.#margin });
  }
}

/**
 * Pads the border (torchvision's `Pad`: a number, [lr, tb] or [l, t, r, b];
 * mode constant, edge or reflect).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.Pad({ padding: 2 });
 * const img = { data: new Float32Array(4), width: 2, height: 2 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 6
 * ```
 */
export class Pad extends Transform {
  readonly #padding: number[];
  readonly #fill: number;
  readonly #mode: PadMode;
  /** `padding`, `fill` (default 0), `mode` (default "constant"). */
  constructor(params: { padding: number | number[]; fill?: number; mode?: PadMode }) {
    const usage = "new transforms.Pad({ padding: 4 })";
    checkArity("Pad", arguments.length, 1, usage);
    super("Pad", params, ["padding", "fill", "mode"], null, usage);
    this.#padding = toPadding(params.padding, this.name);
    this.#fill = num(this.name, "fill", params.fill ?? 0);
    this.#mode = params.mode ?? "constant";
    if (!["constant", "edge", "reflect"].includes(this.#mode)) {
      throw new Error(`Pad: mode must be constant, edge or reflect, got ${fmt(params.mode)}`);
    }
  }
  protected run(image: Image): Image {
    return pad(image, this.#padding, this.#fill, this.#mode);
  }
}
