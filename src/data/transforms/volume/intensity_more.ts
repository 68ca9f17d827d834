/**
 * More of MONAI's intensity transforms of volumes: min-max scaling
 * (`ScaleIntensity`), percentile windows (`ScaleIntensityRangePercentiles`),
 * `ThresholdIntensity`, `ShiftIntensity`, gamma contrast (`AdjustContrast`,
 * `RandAdjustContrast`), and the random histogram shift and MR bias field.
 * Arithmetic is float32 step by step, as MONAI 1.3's on a float32 tensor
 * (each Python scalar rounded to float32 where torch rounds it).
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import { checkClipBounds, windowOrScale } from "./intensity.ts";
import { VolumeTransform } from "./transform.ts";
import { emptyVol, type Vol } from "./volume.ts";

const f32 = Math.fround;

/** The minimum and maximum of `x`, both NaN if any voxel is (torch's min/max). */
export function minMax(x: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v !== v) return [NaN, NaN];
  }
  return [lo, hi];
}

/** A number, or null (MONAI's None) where `nullable`; `fallback` when left out. */
function numOrNull(name: string, key: string, v: unknown, fallback: number | null): number | null {
  if (v === undefined) return fallback;
  if (v === null) return null;
  return num(name, key, v);
}

/**
 * An [a, b] range to draw from as numpy's `uniform(a, b)`, each checked by
 * `num`'s rules; a > b draws from (b, a], as numpy (and so MONAI, which
 * passes these ranges on unsorted).
 */
export function pairOf(
  name: string,
  key: string,
  v: unknown,
  check: { above?: number; min?: number; integer?: boolean } = {},
): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) {
    throw new Error(`${name}: ${key} must be an [a, b] pair, got ${fmt(v)}`);
  }
  const [a, b] = v.map((x) => num(name, key, x, check));
  return [a, b];
}

/** MONAI's `rescale_array` of `x` into `y` (a constant `x` becomes `x * minv`). */
function rescaleInto(x: Float32Array, y: Float32Array, minv: number | null, maxv: number | null) {
  const [lo, hi] = minMax(x), n = x.length;
  if (lo === hi) {
    if (minv === null) y.set(x);
    else for (let i = 0, m = f32(minv); i < n; i++) y[i] = x[i] * m;
    return;
  }
  const span = f32(hi - lo);
  if (minv === null || maxv === null) {
    for (let i = 0; i < n; i++) y[i] = f32(x[i] - lo) / span;
    return;
  }
  const s = f32(maxv - minv), b = f32(minv);
  for (let i = 0; i < n; i++) y[i] = f32(f32(f32(x[i] - lo) / span) * s) + b;
}

/**
 * Scales the volume's intensities to [minv, maxv] by its minimum and maximum
 * (MONAI's `ScaleIntensity`; the 3-D classification tutorial's first
 * transform): `(x - min) / (max - min) * (maxv - minv) + minv`, per channel
 * with `channelWise`. A constant volume (or channel) becomes `x * minv`, as
 * MONAI's. `minv: null` or `maxv: null` gives `(x - min) / (max - min)`;
 * both null with `factor` multiplies by `1 + factor` (giving `factor` with
 * `minv`/`maxv` set is an Error: MONAI would ignore it).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.ScaleIntensity();
 * using x = tensor(new Float32Array([-100, 0, 100, 300]), [1, 1, 2, 2]);
 * using y = t.apply(x);
 * console.log([...y.toArray()]); // [0, 0.25, 0.5, 1]
 * ```
 */
export class ScaleIntensity extends VolumeTransform {
  readonly #minv: number | null;
  readonly #maxv: number | null;
  readonly #factor: number | null;
  readonly #channelWise: boolean;
  /** `minv` (default 0), `maxv` (default 1), `factor` (default none), `channelWise` (default false). */
  constructor(
    params: {
      minv?: number | null;
      maxv?: number | null;
      factor?: number | null;
      channelWise?: boolean;
    } = {},
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["minv", "maxv", "factor", "channelWise"],
      p: null,
      usage: "{ minv: 0, maxv: 1 }",
    });
    this.#minv = numOrNull(this.name, "minv", params.minv, 0);
    this.#maxv = numOrNull(this.name, "maxv", params.maxv, 1);
    this.#factor = numOrNull(this.name, "factor", params.factor, null);
    this.#channelWise = bool(this.name, "channelWise", params.channelWise, false);
    if (this.#factor !== null && (this.#minv !== null || this.#maxv !== null)) {
      throw new Error(
        `${this.name}: factor scales only with minv: null and maxv: null (MONAI ignores it ` +
          `otherwise); write { minv: null, maxv: null, factor: ${this.#factor} }`,
      );
    }
  }
  /** Min-max per channel or per volume, or the factor. */
  protected run(v: Vol): Vol {
    const out = emptyVol(v.shape), x = v.data, y = out.data;
    if (this.#minv === null && this.#maxv === null) {
      if (this.#factor === null) y.set(x);
      else for (let i = 0, s = f32(1 + this.#factor); i < x.length; i++) y[i] = x[i] * s;
      return out;
    }
    const parts = this.#channelWise ? v.shape[0] : 1, len = x.length / parts;
    for (let k = 0; k < parts; k++) {
      const sub = (a: Float32Array) => a.subarray(k * len, (k + 1) * len);
      rescaleInto(sub(x), sub(y), this.#minv, this.#maxv);
    }
    return out;
  }
}

/**
 * The q-th percentile (0..100) of `sorted` (ascending, NaN last) as MONAI's
 * `percentile`: torch.quantile's float32 linear interpolation up to 1e6
 * values, numpy's float64 one above (MONAI switches there, pytorch#64947).
 */
function percentile(sorted: Float32Array, q: number): number {
  const n = sorted.length, last = n - 1;
  if (sorted[last] !== sorted[last]) return NaN;
  let below: number, above: number, w: number;
  if (n > 1_000_000) {
    const r = (q / 100) * last;
    below = Math.floor(r);
    above = Math.min(below + 1, last);
    w = r - below;
    const a = sorted[below], b = sorted[above], d = f32(b - a);
    return f32(w >= 0.5 ? b - d * (1 - w) : a + d * w);
  }
  const r = f32(f32(q / 100) * last);
  below = Math.trunc(r);
  above = Math.ceil(r);
  w = f32(r - below);
  const a = sorted[below], b = sorted[above], d = f32(b - a);
  return w < 0.5 ? f32(a + f32(w * d)) : f32(b - f32(d * f32(1 - w)));
}

/**
 * Maps the volume's [lower, upper] percentiles to [bMin, bMax] linearly
 * (MONAI's `ScaleIntensityRangePercentiles`), then clips to [bMin, bMax] if
 * asked. `relative` maps to the same percentiles of [bMin, bMax] instead;
 * `channelWise` takes each channel's own percentiles. Percentiles are
 * torch.quantile's (linear interpolation). Where the two percentiles are
 * equal (a constant volume) the result is `x - a + bMin`, unclipped, as
 * MONAI's. `lower` > `upper` inverts the mapping, as MONAI's. `bMin` or
 * `bMax` null is MONAI's None: no output scaling, `(x - a) / (b - a)` of
 * the percentiles a, b, clipped to the bound given with `clip` (`x - a` for
 * a constant volume when `bMin` is null); `relative` needs both, as MONAI's.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.ScaleIntensityRangePercentiles({ lower: 0, upper: 100, bMin: 0, bMax: 1 });
 * using x = tensor(new Float32Array([1, 2, 3, 5]), [1, 1, 2, 2]);
 * using y = t.apply(x);
 * console.log([...y.toArray()]); // [0, 0.25, 0.5, 1]
 * ```
 */
export class ScaleIntensityRangePercentiles extends VolumeTransform {
  readonly #q: [number, number];
  readonly #b: [number | null, number | null];
  readonly #clip: boolean;
  readonly #relative: boolean;
  readonly #channelWise: boolean;
  /** `lower`, `upper` (0..100), `bMin`, `bMax`, `clip`, `relative`, `channelWise` (default false). */
  constructor(
    params: {
      lower: number;
      upper: number;
      bMin: number | null;
      bMax: number | null;
      clip?: boolean;
      relative?: boolean;
      channelWise?: boolean;
    },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["lower", "upper", "bMin", "bMax", "clip", "relative", "channelWise"],
      p: null,
      usage: "{ lower: 5, upper: 95, bMin: 0, bMax: 1, clip: true }",
    });
    const pct = { min: 0, max: 100 };
    this.#q = [
      num(this.name, "lower", params.lower, pct),
      num(this.name, "upper", params.upper, pct),
    ];
    this.#b = [
      numOrNull(this.name, "bMin", params.bMin, Number.NaN),
      numOrNull(this.name, "bMax", params.bMax, Number.NaN),
    ];
    if (Number.isNaN(this.#b[0]) || Number.isNaN(this.#b[1])) {
      throw new Error(
        `${this.name}: bMin and bMax are required, as MONAI's b_min and b_max (a number, or ` +
          `null for MONAI's None: no output scaling); write ${this.usage}`,
      );
    }
    this.#clip = bool(this.name, "clip", params.clip, false);
    this.#relative = bool(this.name, "relative", params.relative, false);
    if (this.#relative && (this.#b[0] === null || this.#b[1] === null)) {
      throw new Error(
        `${this.name}: relative needs bMin and bMax (MONAI: If it is relative, b_min and b_max ` +
          `should not be None), got ${fmt(params.bMin)} and ${fmt(params.bMax)}`,
      );
    }
    checkClipBounds(this.name, this.#b[0], this.#b[1], this.#clip);
    this.#channelWise = bool(this.name, "channelWise", params.channelWise, false);
  }
  /** Each channel (or the whole volume): its percentiles, then the window. */
  protected run(v: Vol): Vol {
    const out = emptyVol(v.shape), x = v.data, y = out.data;
    const [lower, upper] = this.#q;
    let [bMin, bMax] = this.#b;
    if (this.#relative && bMin !== null && bMax !== null) {
      [bMin, bMax] = [(bMax - bMin) * (lower / 100) + bMin, (bMax - bMin) * (upper / 100) + bMin];
    }
    const parts = this.#channelWise ? v.shape[0] : 1, len = x.length / parts;
    for (let k = 0; k < parts; k++) {
      const xs = x.subarray(k * len, (k + 1) * len), ys = y.subarray(k * len, (k + 1) * len);
      const sorted = Float32Array.from(xs).sort();
      const aMin = percentile(sorted, lower), aMax = percentile(sorted, upper);
      if (f32(aMax - aMin) === 0) {
        const b = bMin === null ? 0 : f32(bMin);
        for (let i = 0; i < len; i++) ys[i] = f32(xs[i] - aMin) + b;
      } else {
        windowOrScale(xs, ys, aMin, aMax, bMin, bMax, this.#clip);
      }
    }
    return out;
  }
}

/**
 * Keeps the voxels above `threshold` (or below, with `above: false`) and
 * sets the others to `cval` (MONAI's `ThresholdIntensity`). The threshold is
 * compared in float32, as torch compares a float32 tensor with a number.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.ThresholdIntensity({ threshold: 0, cval: -1 });
 * using x = tensor(new Float32Array([-2, 0, 3, 5]), [1, 1, 2, 2]);
 * using y = t.apply(x);
 * console.log([...y.toArray()]); // [-1, -1, 3, 5]
 * ```
 */
export class ThresholdIntensity extends VolumeTransform {
  readonly #threshold: number;
  readonly #above: boolean;
  readonly #cval: number;
  /** `threshold` (required), `above` (default true), `cval` (default 0). */
  constructor(params: { threshold: number; above?: boolean; cval?: number }) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["threshold", "above", "cval"],
      p: null,
      usage: "{ threshold: 0, above: true, cval: 0 }",
    });
    this.#threshold = f32(num(this.name, "threshold", params.threshold));
    this.#above = bool(this.name, "above", params.above, true);
    this.#cval = f32(num(this.name, "cval", params.cval ?? 0));
  }
  /** `where(x > t, x, cval)` (or `x < t`). */
  protected run(v: Vol): Vol {
    const out = emptyVol(v.shape), x = v.data, y = out.data, t = this.#threshold, c = this.#cval;
    if (this.#above) { for (let i = 0; i < x.length; i++) y[i] = x[i] > t ? x[i] : c; }
    else for (let i = 0; i < x.length; i++) y[i] = x[i] < t ? x[i] : c;
    return out;
  }
}

/**
 * Adds `offset` to every voxel (MONAI's `ShiftIntensity`), in float32.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.ShiftIntensity({ offset: 1024 });
 * using hu = tensor(new Float32Array([-1024, 0]), [1, 1, 1, 2]);
 * using y = t.apply(hu);
 * console.log([...y.toArray()]); // [0, 1024]
 * ```
 */
export class ShiftIntensity extends VolumeTransform {
  readonly #offset: number;
  /** `offset` (required). */
  constructor(params: { offset: number }) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["offset"],
      p: null,
      usage: "{ offset: 0.1 }",
    });
    this.#offset = f32(num(this.name, "offset", params.offset));
  }
  /** `x + offset`. */
  protected run(v: Vol): Vol {
    const out = emptyVol(v.shape), x = v.data, y = out.data, o = this.#offset;
    for (let i = 0; i < x.length; i++) y[i] = x[i] + o;
    return out;
  }
}

/** `b ** gamma` in float32 as torch's pow with a number exponent (its fast cases first). */
function powf(b: number, gamma: number): number {
  if (gamma === 2) return f32(b * b);
  if (gamma === 3) return f32(f32(b * b) * b);
  if (gamma === 0.5) return f32(Math.sqrt(b));
  return f32(Math.pow(b, gamma));
}

/** The mean and unbiased standard deviation of `x` (float64 sums), rounded to float32. */
function meanStd(x: Float32Array): [number, number] {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const mean = s / x.length;
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += (x[i] - mean) ** 2;
  return [f32(mean), f32(Math.sqrt(ss / (x.length - 1)))];
}

/** MONAI's AdjustContrast.__call__ on a whole volume, into a new array. */
function contrast(x: Float32Array, gamma: number, invert: boolean, retain: boolean): Float32Array {
  const img = invert ? x.map((v) => -v) : x, n = img.length;
  const [mn, sd] = retain ? meanStd(img) : [0, 0];
  const [lo, hi] = minMax(img);
  const range = f32(hi - lo), denom = f32(range + f32(1e-7));
  const ret = new Float32Array(n);
  for (let i = 0; i < n; i++) ret[i] = f32(powf(f32(img[i] - lo) / denom, gamma) * range) + lo;
  if (retain) {
    const m = meanStd(ret)[0];
    for (let i = 0; i < n; i++) ret[i] = ret[i] - m;
    const d = f32(meanStd(ret)[1] + f32(1e-8));
    for (let i = 0; i < n; i++) ret[i] = f32(sd * f32(ret[i] / d)) + mn;
  }
  if (invert) { for (let i = 0; i < n; i++) ret[i] = -ret[i]; }
  return ret;
}

const CONTRAST_KEYS = ["invertImage", "retainStats"] as const;

/**
 * Gamma contrast on the min-max normalised volume (MONAI's
 * `AdjustContrast`): `((x - min) / (range + 1e-7)) ** gamma * range + min`
 * over the whole volume. `invertImage` applies it to `-x` and negates the
 * result; `retainStats` restores the volume's mean and (unbiased) standard
 * deviation afterwards (both MONAI 1.3's). `gamma` must be > 0.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.AdjustContrast({ gamma: 2 });
 * using x = tensor(new Float32Array([0, 1, 2]), [1, 1, 1, 3]);
 * using y = t.apply(x);
 * console.log([...y.toArray()].map((v) => v.toFixed(3))); // ["0.000", "0.500", "2.000"]
 * ```
 */
export class AdjustContrast extends VolumeTransform {
  readonly #gamma: number;
  readonly #invert: boolean;
  readonly #retain: boolean;
  /** `gamma` (required, > 0), `invertImage`, `retainStats` (default false). */
  constructor(params: { gamma: number; invertImage?: boolean; retainStats?: boolean }) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["gamma", ...CONTRAST_KEYS],
      p: null,
      usage: "{ gamma: 1.5 }",
    });
    this.#gamma = num(this.name, "gamma", params.gamma, { above: 0 });
    this.#invert = bool(this.name, "invertImage", params.invertImage, false);
    this.#retain = bool(this.name, "retainStats", params.retainStats, false);
  }
  /** The gamma curve over the volume's range. */
  protected run(v: Vol): Vol {
    return { data: contrast(v.data, this.#gamma, this.#invert, this.#retain), shape: v.shape };
  }
}

/**
 * `AdjustContrast` with gamma drawn uniformly from `gamma` (MONAI's
 * `RandAdjustContrast`): a pair [lo, hi] (sorted, as MONAI's), or a number g
 * > 0.5 meaning [0.5, g]; default [0.5, 4.5]. Applies with probability `p`
 * (default 0.1, MONAI's).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.RandAdjustContrast({ p: 1, gamma: [0.8, 1.2] });
 * using x = tensor(new Float32Array([0, 1, 2, 4]), [1, 1, 2, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.toArray()[0], y.toArray()[3]); // 0 4
 * ```
 */
export class RandAdjustContrast extends VolumeTransform {
  readonly #gamma: [number, number];
  readonly #invert: boolean;
  readonly #retain: boolean;
  /** `gamma` (default [0.5, 4.5]), `invertImage`, `retainStats` (default false), `p` (default 0.1). */
  constructor(
    params: {
      gamma?: number | [number, number];
      invertImage?: boolean;
      retainStats?: boolean;
      p?: number;
    } = {},
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["gamma", ...CONTRAST_KEYS],
      p: 0.1,
      usage: "{ p: 0.5, gamma: [0.5, 4.5] }",
    });
    const g = params.gamma ?? [0.5, 4.5];
    if (typeof g === "number") {
      this.#gamma = [0.5, num(this.name, "gamma", g, { above: 0.5 })];
    } else if (Array.isArray(g) && g.length === 2) {
      const [a, b] = g.map((x) => num(this.name, "gamma", x, { above: 0 }));
      this.#gamma = [Math.min(a, b), Math.max(a, b)];
    } else {
      throw new Error(
        `${this.name}: gamma must be a [lo, hi] pair of numbers > 0 or a number g > 0.5 ` +
          `(meaning [0.5, g]), got ${fmt(g)}`,
      );
    }
    this.#invert = bool(this.name, "invertImage", params.invertImage, false);
    this.#retain = bool(this.name, "retainStats", params.retainStats, false);
  }
  /** Draws gamma, then `AdjustContrast`. */
  protected run(v: Vol, rng: Rng): Vol {
    const gamma = rng.uniform(this.#gamma[0], this.#gamma[1]);
    return { data: contrast(v.data, gamma, this.#invert, this.#retain), shape: v.shape };
  }
}
