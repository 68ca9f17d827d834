/**
 * Composable transforms on functional/crop.ts, which cut out, extend or
 * blank a rectangle: centre and random crop, crop to the body, pad, random
 * erasing (torchvision's names and parameters; MONAI's `CropForeground`).
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { centerCrop, crop, cropForeground, erase, pad, type PadMode } from "./functional/crop.ts";
import { fmt, oneGrey, toPadding, toSize } from "./image.ts";
import { bool, num, range, Transform } from "./transform.ts";

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
    super(params, arguments.length, { keys: ["size"], p: null, usage: "{ size: 224 }" });
    this.#size = toSize(params.size, this.name);
  }
  /** `F.centerCrop`. */
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
  readonly #mode: PadMode;
  /** `size`, optional `padding` (as Pad), `padIfNeeded`, `fill`, `paddingMode`. */
  constructor(
    params: {
      size: number | [number, number];
      padding?: number | number[];
      padIfNeeded?: boolean;
      fill?: number;
      paddingMode?: PadMode;
      p?: number;
    },
  ) {
    super(params, arguments.length, {
      keys: ["size", "padding", "padIfNeeded", "fill", "paddingMode"],
      p: 1,
      usage: "{ size: 224, padding: 4 }",
    });
    this.#size = toSize(params.size, this.name);
    this.#padding = params.padding === undefined || params.padding === null
      ? null
      : toPadding(params.padding, this.name);
    this.#padIfNeeded = bool(this.name, "padIfNeeded", params.padIfNeeded, false);
    this.#fill = num(this.name, "fill", oneGrey(this.name, params.fill) ?? 0);
    this.#mode = padModeParam(this.name, { paddingMode: params.paddingMode });
  }
  /** Pads if asked, then `F.crop` at a uniformly drawn offset. */
  protected run(image: Image, rng: Rng): Image {
    const mode = this.#mode;
    let img = this.#padding ? pad(image, this.#padding, this.#fill, mode) : image;
    const [ch, cw] = this.#size;
    // torchvision pads width, then height, each by the whole shortfall on both sides.
    if (this.#padIfNeeded && img.width < cw) {
      const dx = cw - img.width;
      img = pad(img, [dx, 0, dx, 0], this.#fill, mode);
    }
    if (this.#padIfNeeded && img.height < ch) {
      const dy = ch - img.height;
      img = pad(img, [0, dy, 0, dy], this.#fill, mode);
    }
    if (img.width < cw || img.height < ch) {
      throw new Error(
        `${this.name}: crop ${ch}x${cw} (h x w) is larger than the image ${img.height}x${img.width}`,
      );
    }
    const top = rng.int(0, img.height - ch + 1), left = rng.int(0, img.width - cw + 1);
    return crop(img, top, left, ch, cw);
  }
}

/**
 * Crops to the body: the bounding box of pixels above `threshold` (default
 * 0.1, above air in [0, 1]-scaled CT, where MONAI's `CropForeground` and
 * `F.cropForeground` take pixels above 0) plus `margin` pixels. Output sizes
 * vary: follow it with `Resize`.
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
    super(params, arguments.length, {
      keys: ["threshold", "margin"],
      p: null,
      usage: "{ threshold: 0.1, margin: 4 }",
    });
    this.#threshold = num(this.name, "threshold", params.threshold ?? 0.1);
    this.#margin = num(this.name, "margin", params.margin ?? 0, { min: 0, integer: true });
  }
  /** `F.cropForeground`. */
  protected run(image: Image): Image {
    return cropForeground(image, { threshold: this.#threshold, margin: this.#margin });
  }
}

/** A padding mode option: torchvision's `paddingMode`, or `mode` (this library's older name). */
function padModeParam(name: string, params: { paddingMode?: PadMode; mode?: PadMode }): PadMode {
  if (params.paddingMode !== undefined && params.mode !== undefined) {
    throw new Error(`${name}: give paddingMode (torchvision's padding_mode) or mode, not both`);
  }
  const mode = params.paddingMode ?? params.mode ?? "constant";
  if (!["constant", "edge", "reflect", "symmetric"].includes(mode)) {
    throw new Error(
      `${name}: paddingMode must be constant, edge, reflect or symmetric, got ${fmt(mode)}`,
    );
  }
  return mode;
}

/**
 * Pads the border (torchvision's `Pad(padding, fill, padding_mode)`: a
 * number, [lr, tb] or [l, t, r, b]; `paddingMode` constant, edge, reflect
 * or symmetric; `mode` is taken for it too).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.Pad({ padding: 2 });
 * const img = { data: new Float32Array(4), width: 2, height: 2 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 6
 * const mirror = new data.transforms.Pad({ padding: [1, 0], paddingMode: "symmetric" });
 * const row = { data: new Float32Array([1, 2]), width: 2, height: 1 };
 * console.log([...mirror.apply(row, new data.Rng(0)).data]); // [1, 1, 2, 2]
 * ```
 */
export class Pad extends Transform {
  readonly #padding: number[];
  readonly #fill: number;
  readonly #mode: PadMode;
  /** `padding`, `fill` (default 0), `paddingMode` (default "constant"). */
  constructor(
    params: { padding: number | number[]; fill?: number; paddingMode?: PadMode; mode?: PadMode },
  ) {
    super(params, arguments.length, {
      keys: ["padding", "fill", "paddingMode", "mode"],
      p: null,
      usage: "{ padding: 4 }",
    });
    this.#padding = toPadding(params.padding, this.name);
    this.#fill = num(this.name, "fill", oneGrey(this.name, params.fill) ?? 0);
    this.#mode = padModeParam(this.name, params);
  }
  /** `F.pad`. */
  protected run(image: Image): Image {
    return pad(image, this.#padding, this.#fill, this.#mode);
  }
}

/**
 * Erases a random rectangle (torchvision's `RandomErasing`: area fraction
 * from `scale`, aspect ratio log-uniform in `ratio`, up to 10 tries; value
 * a number or "random" for standard normal noise).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomErasing({ p: 1, scale: [0.1, 0.2] });
 * const img = { data: new Float32Array(100).fill(1), width: 10, height: 10 };
 * console.log(t.apply(img, new data.Rng(0)).data.some((v) => v === 0)); // true
 * ```
 */
export class RandomErasing extends Transform {
  readonly #scale: [number, number];
  readonly #ratio: [number, number];
  readonly #value: number | "random";
  /** `scale` (default [0.02, 0.33]), `ratio` (default [0.3, 3.3]), `value` (default 0), `p` (0.5). */
  constructor(
    params: {
      scale?: [number, number];
      ratio?: [number, number];
      value?: number | [number] | "random";
      p?: number;
    } = {},
  ) {
    super(params, arguments.length, {
      keys: ["scale", "ratio", "value"],
      p: 0.5,
      usage: "{ p: 0.5, scale: [0.02, 0.33] }",
    });
    this.#scale = range(this.name, "scale", params.scale ?? [0.02, 0.33], { min: 0, max: 1 });
    this.#ratio = range(this.name, "ratio", params.ratio ?? [0.3, 3.3], { above: 0 });
    // torchvision's value may be a per-channel list: one value for a grey image.
    const v = oneGrey(this.name, params.value) ?? 0;
    if (v !== "random") num(this.name, "value", v);
    this.#value = v as number | "random";
  }
  /** Draws a box (area from `scale`, log-aspect from `ratio`, up to 10 tries), then `F.erase`. */
  protected run(image: Image, rng: Rng): Image {
    const { width: w, height: h } = image;
    const [r0, r1] = [Math.log(this.#ratio[0]), Math.log(this.#ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = w * h * rng.uniform(...this.#scale);
      const aspect = Math.exp(rng.uniform(r0, r1));
      const eh = Math.round(Math.sqrt(area * aspect)), ew = Math.round(Math.sqrt(area / aspect));
      if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
      const top = rng.int(0, h - eh + 1), left = rng.int(0, w - ew + 1);
      const value = this.#value === "random"
        ? rng.fillNormal(new Float32Array(eh * ew))
        : this.#value;
      return erase(image, top, left, eh, ew, value);
    }
    return image;
  }
}
