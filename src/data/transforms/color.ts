/**
 * torchvision's colour transforms on one grey channel: `ColorJitter`
 * (brightness and contrast), `RandomInvert`, `RandomPosterize`,
 * `RandomSolarize`, `RandomAdjustSharpness`, `RandomAutocontrast`,
 * `RandomEqualize`. They come from photographs; most of them hurt CT, and
 * each says why, so a course can show the effect rather than forbid it.
 * `valueRange` (default [0, 1], torchvision's) says which values are black
 * and white (see functional/color.ts).
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import {
  adjustBrightness,
  adjustSharpness,
  autocontrast,
  blendContrast,
  equalize,
  invert,
  posterize,
  solarize,
} from "./functional/color.ts";
import { checkValueRange, fmt, recycle } from "./image.ts";
import { num, Transform } from "./transform.ts";

/** A jitter factor range as torchvision's `_check_input` (center 1, lower end clipped at 0); null: off. */
function factorRange(name: string, key: string, v: unknown): [number, number] | null {
  if (v === undefined) return null;
  let r: [number, number];
  if (typeof v === "number") {
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new Error(
        `${name}: ${key} as a single number must be finite and >= 0, got ${fmt(v)}`,
      );
    }
    r = [Math.max(0, 1 - v), 1 + v];
  } else if (
    Array.isArray(v) && v.length === 2 && v.every(Number.isFinite) && v[0] >= 0 && v[0] <= v[1]
  ) {
    r = [v[0], v[1]];
  } else {
    throw new Error(
      `${name}: ${key} must be a number >= 0 or a [lo, hi] pair with 0 <= lo <= hi, got ${fmt(v)}`,
    );
  }
  return r[0] === 1 && r[1] === 1 ? null : r;
}

/** Throws unless a colour option is absent or a no-op (a grey image has no saturation or hue). */
function noColour(name: string, key: "saturation" | "hue", v: unknown): void {
  const neutral = key === "hue" ? 0 : 1;
  const off = v === undefined || v === 0 ||
    (Array.isArray(v) && v.length === 2 && v[0] === neutral && v[1] === neutral);
  if (!off) {
    throw new Error(
      `${name}: ${key} ${fmt(v)} needs colour channels; a CT slice is one grey channel ` +
        `(Hounsfield units), so there is no ${key} to change. Leave ${key} out and use ` +
        `brightness and contrast`,
    );
  }
}

/** Options of `ColorJitter` (torchvision's, camelCase). */
export interface ColorJitterOptions {
  /** Factor in [max(0, 1 - b), 1 + b], or a [lo, hi] range. */
  brightness?: number | [number, number];
  /** Factor in [max(0, 1 - c), 1 + c], or a [lo, hi] range. */
  contrast?: number | [number, number];
  /** Only 0: a grey slice has no saturation (anything else throws). */
  saturation?: number | [number, number];
  /** Only 0: a grey slice has no hue (anything else throws). */
  hue?: number | [number, number];
  /** Black and white, [lo, hi] (default [0, 1]); results are clamped to it. */
  valueRange?: [number, number];
  /** Probability of applying (default 1; torchvision has none). */
  p?: number;
}

/** What `ColorJitter.getParams` draws. */
export interface ColorJitterParams {
  /** The order the ops run in. */
  order: ("brightness" | "contrast")[];
  /** Brightness factor, or null when brightness is off. */
  brightnessFactor: number | null;
  /** Contrast factor, or null when contrast is off. */
  contrastFactor: number | null;
}

/**
 * Random brightness and contrast, in random order (torchvision's
 * `ColorJitter` on a grey image; `saturation` and `hue` throw unless 0).
 *
 * For CT: brightness and contrast changes mimic a different window/level
 * (and, mildly, scanner calibration), which is plausible for windowed
 * [0, 1] slices if kept small (0.1-0.2). Larger factors clamp at black and
 * white and erase the HU differences between liver, lesion and vessels;
 * on raw HU set `valueRange` to the HU window so "black" means air.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.ColorJitter({ brightness: 0.2, contrast: 0.2 });
 * const img = { data: new Float32Array([0.2, 0.4, 0.6, 0.8]), width: 2, height: 2 };
 * const out = t.apply(img, new data.Rng(0));
 * console.log(out.data.every((v) => v >= 0 && v <= 1)); // true
 * ```
 */
export class ColorJitter extends Transform {
  readonly #brightness: [number, number] | null;
  readonly #contrast: [number, number] | null;
  readonly #range: [number, number];
  /** See `ColorJitterOptions`. */
  constructor(params: ColorJitterOptions) {
    super(params, arguments.length, {
      keys: ["brightness", "contrast", "saturation", "hue", "valueRange"],
      p: 1,
      usage: "{ brightness: 0.2, contrast: 0.2 }",
    });
    this.#brightness = factorRange(this.name, "brightness", params.brightness);
    this.#contrast = factorRange(this.name, "contrast", params.contrast);
    noColour(this.name, "saturation", params.saturation);
    noColour(this.name, "hue", params.hue);
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
    if (!this.#brightness && !this.#contrast) {
      // torchvision's ColorJitter() is an identity; here that is more likely a mistake.
      throw new Error(
        `${this.name}: with no brightness or contrast it changes nothing; write ${this.usage}`,
      );
    }
  }

  /**
   * Draws the order and factors, as torchvision's `ColorJitter.get_params`
   * (a random order, then brightness, then contrast factor).
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const p = data.transforms.ColorJitter.getParams([0.8, 1.2], null, new data.Rng(0));
   * console.log(p.order.length, p.contrastFactor); // 2 null
   * ```
   */
  static getParams(
    brightness: readonly [number, number] | null,
    contrast: readonly [number, number] | null,
    rng: Rng,
  ): ColorJitterParams {
    const order: ColorJitterParams["order"] = rng.bernoulli(0.5)
      ? ["brightness", "contrast"]
      : ["contrast", "brightness"];
    return {
      order,
      brightnessFactor: brightness ? rng.uniform(brightness[0], brightness[1]) : null,
      contrastFactor: contrast ? rng.uniform(contrast[0], contrast[1]) : null,
    };
  }

  /** Draws the order and factors (`getParams`), then `F.adjustBrightness` / `F.blendContrast`. */
  protected run(image: Image, rng: Rng): Image {
    const p = ColorJitter.getParams(this.#brightness, this.#contrast, rng);
    let out = image;
    for (const op of p.order) {
      const f = op === "brightness" ? p.brightnessFactor : p.contrastFactor;
      if (f === null) continue;
      const next = op === "brightness"
        ? adjustBrightness(out, f, this.#range)
        : blendContrast(out, f, this.#range);
      if (out !== image) recycle(out.data);
      out = next;
    }
    return out;
  }
}

/**
 * Inverts the image (`lo + hi - x`) with probability p (default 0.5), as
 * torchvision's `RandomInvert`.
 *
 * For CT it is harmful: Hounsfield units have a fixed meaning (air -1000,
 * water 0, bone +1000), and inversion makes air look like bone and fat like
 * contrast-enhanced vessels; no scanner produces it.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomInvert({ p: 1 });
 * const img = { data: new Float32Array([0, 0.25]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [1, 0.75]
 * ```
 */
export class RandomInvert extends Transform {
  readonly #range: [number, number];
  /** `p` (default 0.5), `valueRange` (default [0, 1]). */
  constructor(params: { p?: number; valueRange?: [number, number] } = {}) {
    super(params, arguments.length, { keys: ["valueRange"], p: 0.5, usage: "{ p: 0.5 }" });
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
  }
  /** `F.invert` over the value range. */
  protected run(image: Image): Image {
    return invert(image, this.#range);
  }
}

/**
 * Reduces each pixel to its top `bits` bits of 8 with probability p
 * (default 0.5), as torchvision's `RandomPosterize` on uint8 images.
 *
 * For CT it is harmful: 8 bits already cover a 450 HU window in ~1.8 HU
 * steps; 4 bits make 28 HU steps and 2 bits 112 HU steps, merging liver
 * (~60 HU), lesions (~30-45 HU) and spleen into one level, which is exactly
 * the contrast that separates the classes.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomPosterize({ bits: 2, p: 1 });
 * const img = { data: new Float32Array([0.1, 0.6]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data].map((v) => v.toFixed(3))); // ["0.000", "0.502"]
 * ```
 */
export class RandomPosterize extends Transform {
  readonly #bits: number;
  readonly #range: [number, number];
  /** `bits` (0..8, required as in torchvision), `p` (default 0.5), `valueRange` (default [0, 1]). */
  constructor(params: { bits: number; p?: number; valueRange?: [number, number] }) {
    super(params, arguments.length, {
      keys: ["bits", "valueRange"],
      p: 0.5,
      usage: "{ bits: 4, p: 0.5 }",
    });
    this.#bits = num(this.name, "bits", params.bits, { min: 0, max: 8, integer: true });
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
  }
  /** `F.posterize` to `bits` bits. */
  protected run(image: Image): Image {
    return posterize(image, this.#bits, this.#range);
  }
}

/**
 * Inverts the pixels at or above `threshold` with probability p (default
 * 0.5), as torchvision's `RandomSolarize`.
 *
 * For CT it is harmful: above the threshold the HU scale runs backwards,
 * so dense tissue (contrast-filled vessels, bone) turns dark and can look
 * like hypodense lesions; the image no longer has one monotone intensity
 * scale, and no scanner produces it.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomSolarize({ threshold: 0.5, p: 1 });
 * const img = { data: new Float32Array([0.25, 0.75]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [0.25, 0.25]
 * ```
 */
export class RandomSolarize extends Transform {
  readonly #threshold: number;
  readonly #range: [number, number];
  /** `threshold` (required, as torchvision), `p` (default 0.5), `valueRange` (default [0, 1]). */
  constructor(params: { threshold: number; p?: number; valueRange?: [number, number] }) {
    super(params, arguments.length, {
      keys: ["threshold", "valueRange"],
      p: 0.5,
      usage: "{ threshold: 0.75, p: 0.5 }",
    });
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
    this.#threshold = num(this.name, "threshold", params.threshold, { max: this.#range[1] });
  }
  /** `F.solarize` above the threshold. */
  protected run(image: Image): Image {
    return solarize(image, this.#threshold, this.#range);
  }
}

/**
 * Sharpens (factor > 1) or smooths (factor < 1) with probability p
 * (default 0.5), as torchvision's `RandomAdjustSharpness` (`F.adjustSharpness`:
 * a blend with a 3x3-smoothed copy, clamped to `valueRange`, default [0, 1]).
 *
 * For CT: mild smoothing resembles a softer reconstruction kernel, which is
 * plausible; strong sharpening amplifies the noise and the clamp at black
 * and white. On raw HU set `valueRange` to the HU window, or the clamp to
 * [0, 1] erases the image.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomAdjustSharpness({ sharpnessFactor: 2, p: 1 });
 * const img = { data: new Float32Array(9).fill(0.2), width: 3, height: 3 };
 * img.data[4] = 0.6;
 * console.log(t.apply(img, new data.Rng(0)).data[4].toFixed(4)); // "0.8462"
 * ```
 */
export class RandomAdjustSharpness extends Transform {
  readonly #factor: number;
  readonly #range: [number, number];
  /** `sharpnessFactor` (>= 0, required as in torchvision), `p` (default 0.5), `valueRange`. */
  constructor(params: { sharpnessFactor: number; p?: number; valueRange?: [number, number] }) {
    super(params, arguments.length, {
      keys: ["sharpnessFactor", "valueRange"],
      p: 0.5,
      usage: "{ sharpnessFactor: 2, p: 0.5 }",
    });
    this.#factor = num(this.name, "sharpnessFactor", params.sharpnessFactor, { min: 0 });
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
  }
  /** `F.adjustSharpness` by the factor. */
  protected run(image: Image): Image {
    return adjustSharpness(image, this.#factor, this.#range);
  }
}

/**
 * Stretches the slice's minimum and maximum to black and white with
 * probability p (default 0.5), as torchvision's `RandomAutocontrast`
 * (`F.autocontrast` over `valueRange`, default [0, 1]).
 *
 * For CT it is harmful: it is a window chosen by each slice's extremes
 * (bone, air, contrast agent), so the same liver tissue gets a different
 * value on every slice. On raw HU set `valueRange` to the HU window, or
 * scale to [0, 1] first (`ScaleIntensityRange`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomAutocontrast({ p: 1 });
 * const img = { data: new Float32Array([0.25, 0.5, 0.75]), width: 3, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [0, 0.5, 1]
 * ```
 */
export class RandomAutocontrast extends Transform {
  readonly #range: [number, number];
  /** `p` (default 0.5), `valueRange` (default [0, 1]). */
  constructor(params: { p?: number; valueRange?: [number, number] } = {}) {
    super(params, arguments.length, { keys: ["valueRange"], p: 0.5, usage: "{ p: 0.5 }" });
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
  }
  /** `F.autocontrast`. */
  protected run(image: Image): Image {
    return autocontrast(image, this.#range);
  }
}

/**
 * Equalises the histogram of the slice's 8-bit levels with probability p
 * (default 0.5), as torchvision's `RandomEqualize` (`F.equalize`: uint8
 * levels of `valueRange`, default [0, 1], as `F.posterize` takes them; the
 * result is on the 1/255 grid).
 *
 * For CT it is harmful: each slice's values are spread by its own
 * histogram, so a Hounsfield value no longer names a tissue, and the
 * 8-bit quantisation merges liver and lesion levels on wide windows. On
 * raw HU every value outside [0, 1] is clamped to level 0 or 255: scale to
 * [0, 1] first (`ScaleIntensityRange`) or set `valueRange`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomEqualize({ p: 1 });
 * const img = { data: new Float32Array(512).map((_, i) => (i < 384 ? 0.1 : 0.2)), width: 32, height: 16 };
 * const out = t.apply(img, new data.Rng(0));
 * console.log(out.data[0], out.data[511]); // 0 1
 * ```
 */
export class RandomEqualize extends Transform {
  readonly #range: [number, number];
  /** `p` (default 0.5), `valueRange` (default [0, 1]). */
  constructor(params: { p?: number; valueRange?: [number, number] } = {}) {
    super(params, arguments.length, { keys: ["valueRange"], p: 0.5, usage: "{ p: 0.5 }" });
    this.#range = checkValueRange(this.name, params.valueRange ?? [0, 1]);
  }
  /** `F.equalize`. */
  protected run(image: Image): Image {
    return equalize(image, this.#range);
  }
}
