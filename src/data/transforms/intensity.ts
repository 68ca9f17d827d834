/**
 * Composable intensity transforms: noise, blur, shift and scale, gamma
 * contrast, intensity windows and normalisation, on functional/intensity.ts,
 * with torchvision's names and parameters (MONAI's where torchvision has none).
 *
 * The random ones apply with `p` 1 unless told, as torchvision's classes do;
 * MONAI's `prob` defaults to 0.1, so write `p: 0.1` when porting MONAI code
 * that leaves `prob` out.
 *
 * @module
 */
import type { Rng } from "../rng.ts";
import type { Image } from "../types.ts";
import {
  adjustContrast,
  gaussianBlur,
  gaussianNoise,
  normalize,
  scaleIntensityRange,
  scaleShift,
} from "./functional/intensity.ts";
import { fmt } from "./image.ts";
import { bool, num, range, Transform } from "./transform.ts";

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
    super(params, arguments.length, {
      keys: ["std", "mean", "sampleStd"],
      p: 1,
      usage: "{ std: 0.02 }",
    });
    this.#std = num(this.name, "std", params.std ?? 0.1, { min: 0 });
    this.#mean = num(this.name, "mean", params.mean ?? 0);
    this.#sampleStd = bool(this.name, "sampleStd", params.sampleStd, true);
  }
  /** Draws the std (or takes it), then `F.gaussianNoise`. */
  protected run(image: Image, rng: Rng): Image {
    const std = this.#sampleStd ? rng.uniform(0, this.#std) : this.#std;
    return gaussianNoise(image, std, rng, this.#mean);
  }
}

/**
 * Gaussian blur with sigma drawn from a range (torchvision's
 * `GaussianBlur(kernel_size, sigma=(0.1, 2.0))`: `kernelSize` odd or
 * [kx, ky]; here it may be left out for 3 sigma each side).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const t = new data.transforms.GaussianBlur({ kernelSize: 5, sigma: [0.1, 1] });
 * const img = { data: new Float32Array(64), width: 8, height: 8 };
 * console.log(t.apply(img, new data.Rng(0)).width); // 8
 * const rows = new data.transforms.GaussianBlur({ kernelSize: [5, 1], sigma: 1 });
 * console.log(rows.apply(img, new data.Rng(0)).height); // 8
 * ```
 */
export class GaussianBlur extends Transform {
  readonly #sigma: [number, number];
  readonly #kernelSize: [number, number] | undefined;
  /** `sigma` (a value or [lo, hi]; default [0.1, 2]), `kernelSize` (odd, or [kx, ky]), `p` (default 1). */
  constructor(
    params: {
      sigma?: number | [number, number];
      kernelSize?: number | [number, number];
      p?: number;
    } = {},
  ) {
    super(params, arguments.length, {
      keys: ["sigma", "kernelSize"],
      p: 1,
      usage: "{ kernelSize: 5, sigma: [0.1, 2] }",
    });
    const s = params.sigma ?? [0.1, 2];
    this.#sigma = typeof s === "number"
      ? [num(this.name, "sigma", s, { above: 0 }), s]
      : range(this.name, "sigma", s, { above: 0 });
    const k = params.kernelSize;
    if (k === undefined) {
      this.#kernelSize = undefined;
    } else {
      const given: unknown = k;
      const pair = typeof given === "number"
        ? [given, given]
        : Array.isArray(given) && given.length === 1
        ? [given[0], given[0]]
        : given;
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new Error(
          `${this.name}: kernelSize must be an odd integer or [kx, ky], got ${fmt(k)}`,
        );
      }
      for (const v of pair) {
        if (num(this.name, "kernelSize", v, { min: 1, integer: true }) % 2 === 0) {
          throw new Error(`${this.name}: kernelSize must be odd, got ${fmt(k)}`);
        }
      }
      this.#kernelSize = [pair[0], pair[1]];
    }
  }
  /** Draws sigma (torchvision's uniform draw), then `F.gaussianBlur`. */
  protected run(image: Image, rng: Rng): Image {
    const sigma = rng.uniform(...this.#sigma);
    return gaussianBlur(image, this.#kernelSize ?? 2 * Math.ceil(3 * sigma) + 1, sigma);
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
    super(params, arguments.length, {
      keys: ["offsets", "factors"],
      p: 1,
      usage: "{ offsets: 0.05, factors: 0.1 }",
    });
    this.#offsets = range(this.name, "offsets", params.offsets ?? 0);
    this.#factors = range(this.name, "factors", params.factors ?? 0, { min: -1 });
  }
  /** Draws factor and offset, then one `F.scaleShift`. */
  protected run(image: Image, rng: Rng): Image {
    const f = rng.uniform(...this.#factors), o = rng.uniform(...this.#offsets);
    return scaleShift(image, 1 + f, o);
  }
}

/**
 * Random gamma contrast (MONAI's `RandAdjustContrast`): gamma uniform in
 * `gamma` = [lo, hi], applied to the image's own [min, max] range. The
 * default range is [0.7, 1.5], milder than MONAI's (0.5, 4.5).
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
    super(params, arguments.length, { keys: ["gamma"], p: 1, usage: "{ gamma: [0.7, 1.5] }" });
    const g = params.gamma ?? [0.7, 1.5];
    if (!Array.isArray(g)) {
      throw new Error(`${this.name}: gamma must be a [lo, hi] range, got ${fmt(g)}`);
    }
    this.#gamma = range(this.name, "gamma", g, { above: 0 });
  }
  /** Draws gamma, then `F.adjustContrast`. */
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
    super(params, arguments.length, {
      keys: ["aMin", "aMax", "bMin", "bMax", "clip"],
      p: null,
      usage: "{ aMin: -200, aMax: 250, bMin: 0, bMax: 1, clip: true }",
    });
    const aMin = num(this.name, "aMin", params.aMin), aMax = num(this.name, "aMax", params.aMax);
    if (aMin === aMax) {
      throw new Error(`${this.name}: aMin and aMax must differ, got ${aMin}`);
    }
    const bMin = num(this.name, "bMin", params.bMin ?? 0),
      bMax = num(this.name, "bMax", params.bMax ?? 1);
    this.#args = [aMin, aMax, bMin, bMax, bool(this.name, "clip", params.clip, false)];
  }
  /** `F.scaleIntensityRange`. */
  protected run(image: Image): Image {
    return scaleIntensityRange(image, ...this.#args);
  }
}

/**
 * `(v - mean) / std` (torchvision's `Normalize`, one channel): `mean` and
 * `std` are numbers, or torchvision's per-channel lists of one (`[0.5]`).
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
  /**
   * `mean`, `std` (> 0): numbers, or lists of one (torchvision's `[0.5]`,
   * typed as any list so `const MEAN = [0.5]` passes; a longer one throws).
   */
  constructor(params: { mean: number | readonly number[]; std: number | readonly number[] }) {
    super(params, arguments.length, {
      keys: ["mean", "std"],
      p: null,
      usage: "{ mean: 0.5, std: 0.25 }",
    });
    this.#mean = num(this.name, "mean", oneChannel(this.name, "mean", params.mean));
    this.#std = num(this.name, "std", oneChannel(this.name, "std", params.std), { above: 0 });
  }
  /** `F.normalize`. */
  protected run(image: Image): Image {
    return normalize(image, this.#mean, this.#std);
  }
}

/**
 * torchvision's per-channel list of a one-channel image (`mean: [0.5]`) as
 * its number; a longer list names the channels these images lack.
 */
function oneChannel(where: string, key: string, v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  if (v.length === 1) return v[0];
  throw new Error(
    `${where}: ${key} has ${v.length} values (one per channel, as torchvision's RGB ` +
      `[0.485, 0.456, 0.406]), but these images have one channel: write ${key}: ` +
      `${v.length > 0 && typeof v[0] === "number" ? v[0] : 0.5} (or [${
        typeof v[0] === "number" ? v[0] : 0.5
      }])`,
  );
}
