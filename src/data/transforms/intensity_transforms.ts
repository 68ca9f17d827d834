/**
 * Composable intensity transforms: noise, blur, shift and scale, gamma
 * contrast, intensity windows, normalisation and random erasing, with
 * torchvision's names and parameters (MONAI's where torchvision has none).
 *
 * @module
 */
import { checkArity } from "../../options.ts";
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import { erase } from "./crop.ts";
import { fmt } from "./image.ts";
import {
  adjustContrast,
  gaussianBlur,
  gaussianNoise,
  normalize,
  scaleIntensityRange,
  scaleShift,
} from "./intensity.ts";
import { num, range, Transform } from "./transform.ts";

/**
 * Adds Gaussian noise (MONAI's `RandGaussianNoise`): the standard deviation
 * is drawn uniformly from [0, std] per image, or is exactly `std` with
 * `sampleStd: false`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomGaussianNoise({ std: 0.02, p: 1 });
 * const img = { data: new Float32Array(16).fill(0.5), width: 4, height: 4 };
 * console.log(t.apply(img, new data.Rng(0)).data.length); // 16
 * ```
 */
export class RandomGaussianNoise extends Transform {
  readonly #std: number;
  readonly #mean: number;
  readonly #sampleStd: boolean;
  /** `std` (default 0.1), `mean` (default 0), `sampleStd` (default true), `p` (default 1). */
  constructor(params: { std?: number; mean?: number; sampleStd?: boolean; p?: number } = {}) {
    const usage = "new transforms.RandomGaussianNoise({ std: 0.02 })";
    checkArity("RandomGaussianNoise", arguments.length, 1, usage);
    super("RandomGaussianNoise", params, ["std", "mean", "sampleStd"], 1, usage);
    this.#std = num(this.name, "std", params.std ?? 0.1, { min: 0 });
    this.#mean = num(this.name, "mean", params.mean ?? 0);
    this.#sampleStd = params.sampleStd ?? true;
  }
  protected run(image: Image, rng: Rng): Image {
    const std = this.#sampleStd ? rng.uniform(0, this.#std) : this.#std;
    return gaussianNoise(image, std, rng, this.#mean);
  }
}

/**
 * Gaussian blur with sigma drawn from a range (torchvision's `GaussianBlur`;
 * kernelSize optional, by default 3 sigma each side).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.GaussianBlur({ sigma: [0.1, 1], kernelSize: 5 });
 * const img = { data: new Float32Array(64), width: 8, height: 8 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 8
 * ```
 */
export class GaussianBlur extends Transform {
  readonly #sigma: [number, number];
  readonly #kernelSize: number | undefined;
  /** `sigma` (a value or [lo, hi]; default [0.1, 2]), `kernelSize` (odd), `p` (default 1). */
  constructor(params: { sigma?: number | [number, number]; kernelSize?: number; p?: number } = {}) {
    const usage = "new transforms.GaussianBlur({ kernelSize: 5, sigma: [0.1, 2] })";
    checkArity("GaussianBlur", arguments.length, 1, usage);
    super("GaussianBlur", params, ["sigma", "kernelSize"], 1, usage);
    const s = params.sigma ?? [0.1, 2];
    this.#sigma = typeof s === "number"
      ? [num(this.name, "sigma", s, { above: 0 }), s]
      : range(this.name, "sigma", s, { above: 0 });
    const k = params.kernelSize;
    if (k !== undefined && (num(this.name, "kernelSize", k, { min: 1, integer: true }) % 2 === 0)) {
      throw new Error(`GaussianBlur: kernelSize must be odd, got ${k}`);
    }
    this.#kernelSize = k;
  }
  protected run(image: Image, rng: Rng): Image {
    return gaussianBlur(image, rng.uniform(...this.#sigma), this.#kernelSize);
  }
}

/**
 * Random intensity shift and scale in one pass: `v * (1 + f) + o`, f from
 * `factors`, o from `offsets` (MONAI's `RandScaleIntensity` and
 * `RandShiftIntensity`; a number r means [-r, r]).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomShiftScaleIntensity({ offsets: 0.05, factors: 0.1 });
 * const img = { data: new Float32Array(4).fill(0.5), width: 2, height: 2 };
 * console.log(Math.abs(t.apply(img, new data.Rng(0)).data[0] - 0.5) < 0.11); // true
 * ```
 */
export class RandomShiftScaleIntensity extends Transform {
  readonly #offsets: [number, number];
  readonly #factors: [number, number];
  /** `offsets` and `factors` (a number r means [-r, r]; default 0), `p` (default 1). */
  constructor(
    params: {
      offsets?: number | [number, number];
      factors?: number | [number, number];
      p?: number;
    } = {},
  ) {
    const usage = "new transforms.RandomShiftScaleIntensity({ offsets: 0.05, factors: 0.1 })";
    checkArity("RandomShiftScaleIntensity", arguments.length, 1, usage);
    super("RandomShiftScaleIntensity", params, ["offsets", "factors"], 1, usage);
    this.#offsets = range(this.name, "offsets", params.offsets ?? 0);
    this.#factors = range(this.name, "factors", params.factors ?? 0, { above: -1 });
  }
  protected run(image: Image, rng: Rng): Image {
    const f = rng.uniform(...this.#factors), o = rng.uniform(...this.#offsets);
    return scaleShift(image, 1 + f, o);
  }
}

/**
 * Random gamma contrast (MONAI's `RandAdjustContrast`): gamma uniform in
 * `gamma` = [lo, hi], applied to the image's own [min, max] range.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.RandomGamma({ gamma: [0.8, 1.25], p: 1 });
 * const img = { data: new Float32Array([0, 0.5, 1]), width: 3, height: 1 };
 * console.log(t.apply(img, new data.Rng(0)).data[2].toFixed(3)); // 1.000: the maximum stays
 * ```
 */
export class RandomGamma extends Transform {
  readonly #gamma: [number, number];
  /** `gamma` [lo, hi] (default [0.7, 1.5]), `p` (default 1). */
  constructor(params: { gamma?: [number, number]; p?: number } = {}) {
    const usage = "new transforms.RandomGamma({ gamma: [0.7, 1.5] })";
    checkArity("RandomGamma", arguments.length, 1, usage);
    super("RandomGamma", params, ["gamma"], 1, usage);
    const g = params.gamma ?? [0.7, 1.5];
    if (!Array.isArray(g)) {
      throw new Error(`RandomGamma: gamma must be a [lo, hi] range, got ${fmt(g)}`);
    }
    this.#gamma = range(this.name, "gamma", g, { above: 0 });
  }
  protected run(image: Image, rng: Rng): Image {
    return adjustContrast(image, rng.uniform(...this.#gamma));
  }
}

/**
 * Maps [aMin, aMax] to [bMin, bMax], clipping if asked: a CT window such as
 * [-200, 250] HU -> [0, 1] (MONAI's `ScaleIntensityRange`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.ScaleIntensityRange({ aMin: -200, aMax: 250, bMin: 0, bMax: 1, clip: true });
 * const hu = { data: new Float32Array([-1000, 25, 1000]), width: 3, height: 1 };
 * console.log([...t.apply(hu, new data.Rng(0)).data]); // [0, 0.5, 1]
 * ```
 */
export class ScaleIntensityRange extends Transform {
  readonly #args: [number, number, number, number, boolean];
  /** `aMin`, `aMax`, `bMin` (default 0), `bMax` (default 1), `clip` (default false). */
  constructor(
    params: { aMin: number; aMax: number; bMin?: number; bMax?: number; clip?: boolean },
  ) {
    const usage =
      "new transforms.ScaleIntensityRange({ aMin: -200, aMax: 250, bMin: 0, bMax: 1, clip: true })";
    checkArity("ScaleIntensityRange", arguments.length, 1, usage);
    super("ScaleIntensityRange", params, ["aMin", "aMax", "bMin", "bMax", "clip"], null, usage);
    const aMin = num(this.name, "aMin", params.aMin), aMax = num(this.name, "aMax", params.aMax);
    if (aMin === aMax) {
      throw new Error(`ScaleIntensityRange: aMin and aMax must differ, got ${aMin}`);
    }
    const bMin = num(this.name, "bMin", params.bMin ?? 0),
      bMax = num(this.name, "bMax", params.bMax ?? 1);
    this.#args = [aMin, aMax, bMin, bMax, params.clip ?? false];
  }
  protected run(image: Image): Image {
    return scaleIntensityRange(image, ...this.#args);
  }
}

/**
 * `(v - mean) / std` (torchvision's `Normalize`, one channel).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.Normalize({ mean: 0.5, std: 0.25 });
 * const img = { data: new Float32Array([0.5, 1]), width: 2, height: 1 };
 * console.log([...t.apply(img, new data.Rng(0)).data]); // [0, 2]
 * ```
 */
export class Normalize extends Transform {
  readonly #mean: number;
  readonly #std: number;
  /** `mean`, `std` (> 0). */
  constructor(params: { mean: number; std: number }) {
    const usage = "new transforms.Normalize({ mean: 0.5, std: 0.25 })";
    checkArity("Normalize", arguments.length, 1, usage);
    super("Normalize", params, ["mean", "std"], null, usage);
    this.#mean = num(this.name, "mean", params.mean);
    this.#std = num(this.name, "std", params.std, { above: 0 });
  }
  protected run(image: Image): Image {
    return normalize(image, this.#mean, this.#std);
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
      value?: number | "random";
      p?: number;
    } = {},
  ) {
    const usage = "new transforms.RandomErasing({ p: 0.5, scale: [0.02, 0.33] })";
    checkArity("RandomErasing", arguments.length, 1, usage);
    super("RandomErasing", params, ["scale", "ratio", "value"], 0.5, usage);
    this.#scale = range(this.name, "scale", params.scale ?? [0.02, 0.33], { min: 0, max: 1 });
    this.#ratio = range(this.name, "ratio", params.ratio ?? [0.3, 3.3], { above: 0 });
    const v = params.value ?? 0;
    if (v !== "random") num(this.name, "value", v);
    this.#value = v;
  }
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
