/**
 * Intensity transforms of volumes, MONAI's: CT windowing
 * (`ScaleIntensityRange`), z-scoring (`NormalizeIntensity`), and the random
 * scale, shift and Gaussian noise. Arithmetic is float32, step by step, as
 * MONAI's on a float32 array (each scalar rounded to float32 first).
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { bool, num } from "../transform.ts";
import { VolumeTransform } from "./transform.ts";
import { emptyVol, type Vol } from "./volume.ts";

const f32 = Math.fround;

/**
 * Maps [aMin, aMax] to [bMin, bMax] linearly, then clips to [bMin, bMax] if
 * asked (MONAI's `ScaleIntensityRange`): a CT window, e.g. [-175, 250] HU ->
 * [0, 1]. `(x - aMin) / (aMax - aMin) * (bMax - bMin) + bMin` in float32.
 * MONAI's bMin/bMax default to None (no second scaling): both left out, 0
 * and 1 here give the same numbers. null, or one left out beside the
 * other, is MONAI's None: unless both are numbers, the result is
 * `(x - aMin) / (aMax - aMin)`, and `clip` clips to the bound given (both
 * null with `clip` fails in MONAI, and here). aMin = aMax is refused,
 * where MONAI warns and shifts.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.ScaleIntensityRange({ aMin: -200, aMax: 250, bMin: 0, bMax: 1, clip: true });
 * using hu = tensor(new Float32Array([-1000, 25, 1000, 250]), [1, 1, 2, 2]);
 * using y = t.apply(hu);
 * console.log([...y.toArray()]); // [0, 0.5, 1, 1]
 * ```
 */
export class ScaleIntensityRange extends VolumeTransform {
  readonly #args: [number, number, number | null, number | null, boolean];
  /** `aMin`, `aMax`, `bMin` and `bMax` (0 and 1 when both are left out), `clip` (default false). */
  constructor(
    params: {
      aMin: number;
      aMax: number;
      bMin?: number | null;
      bMax?: number | null;
      clip?: boolean;
    },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["aMin", "aMax", "bMin", "bMax", "clip"],
      p: null,
      usage: "{ aMin: -175, aMax: 250, bMin: 0, bMax: 1, clip: true }",
    });
    const aMin = num(this.name, "aMin", params.aMin), aMax = num(this.name, "aMax", params.aMax);
    if (aMin === aMax) throw new Error(`${this.name}: aMin and aMax must differ, got ${aMin}`);
    // Both left out: 0 and 1, MONAI's numbers without its second scaling. One
    // left out is MONAI's None beside a bound: no second scaling, clip at that bound.
    const neither = params.bMin === undefined && params.bMax === undefined;
    const bound = (key: "bMin" | "bMax", v: number | null | undefined, dflt: number) =>
      v === null || (v === undefined && !neither) ? null : num(this.name, key, v ?? dflt);
    const bMin = bound("bMin", params.bMin, 0), bMax = bound("bMax", params.bMax, 1);
    const clip = bool(this.name, "clip", params.clip, false);
    checkClipBounds(this.name, bMin, bMax, clip);
    this.#args = [aMin, aMax, bMin, bMax, clip];
  }
  /** The window, voxel by voxel (see `windowInto`). */
  protected run(v: Vol): Vol {
    const out = emptyVol(v.shape);
    windowOrScale(v.data, out.data, ...this.#args);
    return out;
  }
}

/**
 * @internal Refuses `clip` with both bounds null: MONAI's `clip(img, None,
 * None)` is torch.clamp with neither bound, which fails.
 */
export function checkClipBounds(
  name: string,
  bMin: number | null,
  bMax: number | null,
  clip: boolean,
): void {
  if (clip && bMin === null && bMax === null) {
    throw new Error(
      `${name}: clip needs bMin or bMax (MONAI's clip(img, None, None) fails: torch.clamp: At ` +
        `least one of 'min' or 'max' must not be None); give a bound or leave clip out`,
    );
  }
}

/**
 * @internal MONAI's `ScaleIntensityRange` with bounds that may be None:
 * both numbers, `windowInto`; otherwise `(x - aMin) / (aMax - aMin)` in
 * float32, clipped (torch.clamp, NaN kept) to the bound given when `clip`.
 */
export function windowOrScale(
  x: Float32Array,
  y: Float32Array,
  aMin: number,
  aMax: number,
  bMin: number | null,
  bMax: number | null,
  clip: boolean,
): void {
  if (bMin !== null && bMax !== null) return windowInto(x, y, aMin, aMax, bMin, bMax, clip);
  const a = f32(aMin), span = f32(aMax - aMin), n = x.length;
  const lo = clip && bMin !== null ? f32(bMin) : -Infinity;
  const hi = clip && bMax !== null ? f32(bMax) : Infinity;
  for (let i = 0; i < n; i++) {
    const s = f32(f32(x[i] - a) / span);
    y[i] = s < lo ? lo : s > hi ? hi : s;
  }
}

/** Float32 bits of two numbers, for the branch-free clip. */
const BITS = new Int32Array(2);
const BITS_F = new Float32Array(BITS.buffer);

/**
 * `y = clip((x - aMin) / (aMax - aMin) * (bMax - bMin) + bMin, bMin, bMax)`
 * with every step rounded to float32 (a double operation on float32
 * operands rounded once is the float32 operation), and numpy's clip:
 * `max` first (`s > lo ? s : lo`, NaN kept), then `min`. The clip picks
 * the result's bits with masks instead of branches: a comparison per voxel
 * that the CPU mispredicts half the time on noisy CT cost 20 ms per 1M
 * voxels, the masks 2 ms. Exported for the tests.
 * @internal
 */
export function windowInto(
  x: Float32Array,
  y: Float32Array,
  aMin: number,
  aMax: number,
  bMin: number,
  bMax: number,
  clip: boolean,
): void {
  const a = f32(aMin), span = f32(aMax - aMin), scale = f32(bMax - bMin), b = f32(bMin);
  const lo = f32(bMin), hi = f32(bMax), n = x.length;
  if (!clip) {
    for (let i = 0; i < n; i++) y[i] = f32(f32(f32(x[i] - a) / span) * scale) + b;
    return;
  }
  if (!(lo < hi)) {
    // bMin >= bMax: np.clip(s, lo, hi) = min(max(s, lo), hi), NaN kept.
    for (let i = 0; i < n; i++) {
      const s = f32(f32(f32(f32(x[i] - a) / span) * scale) + b);
      const t = s <= lo ? lo : s;
      y[i] = t >= hi ? hi : t;
    }
    return;
  }
  BITS_F[0] = lo;
  BITS_F[1] = hi;
  const loBits = BITS[0], hiBits = BITS[1];
  const yi = new Int32Array(y.buffer, y.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const s = f32(f32(f32(f32(x[i] - a) / span) * scale) + b);
    y[i] = s;
    // lo < hi: at most one holds; NaN fails both and stays.
    const below = -(+(s <= lo)) | 0, above = -(+(s >= hi)) | 0;
    yi[i] = (yi[i] & ~(below | above)) | (loBits & below) | (hiBits & above);
  }
}

/** A number, or one per channel (`channelWise`). */
type PerChannel = number | number[];

function perChannel(
  name: string,
  key: string,
  v: unknown,
  channelWise: boolean,
): PerChannel | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number") return num(name, key, v);
  if (Array.isArray(v)) {
    if (!channelWise) {
      throw new Error(
        `${name}: ${key} as a list gives one value per channel and needs channelWise: true, ` +
          `got ${fmt(v)}`,
      );
    }
    return v.map((x) => num(name, key, x));
  }
  throw new Error(`${name}: ${key} must be a number or one number per channel, got ${fmt(v)}`);
}

/**
 * Subtracts a mean and divides by a standard deviation (MONAI's
 * `NormalizeIntensity`): by default the volume's own mean and population
 * standard deviation (a deviation of 0 divides by 1); `nonzero` computes
 * them over the non-zero voxels and changes only those; `channelWise` does
 * each channel on its own. `subtrahend` and `divisor` replace the computed
 * values (one per channel with `channelWise`); a divisor of 0 means 1, as
 * MONAI's. The statistics are summed in float64 and rounded to float32.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.NormalizeIntensity({ nonzero: true });
 * using x = tensor(new Float32Array([0, 1, 3, 0]), [1, 1, 2, 2]);
 * using y = t.apply(x);
 * console.log([...y.toArray()]); // [0, -1, 1, 0]
 * ```
 */
export class NormalizeIntensity extends VolumeTransform {
  readonly #sub: PerChannel | null;
  readonly #div: PerChannel | null;
  readonly #nonzero: boolean;
  readonly #channelWise: boolean;
  /** `subtrahend`, `divisor` (default: computed), `nonzero`, `channelWise` (default false). */
  constructor(
    params: {
      subtrahend?: number | number[] | null;
      divisor?: number | number[] | null;
      nonzero?: boolean;
      channelWise?: boolean;
    } = {},
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["subtrahend", "divisor", "nonzero", "channelWise"],
      p: null,
      usage: "{ nonzero: true, channelWise: true }",
    });
    this.#nonzero = bool(this.name, "nonzero", params.nonzero, false);
    this.#channelWise = bool(this.name, "channelWise", params.channelWise, false);
    this.#sub = perChannel(this.name, "subtrahend", params.subtrahend, this.#channelWise);
    this.#div = perChannel(this.name, "divisor", params.divisor, this.#channelWise);
  }
  /** Each channel (or the whole volume) in turn. */
  protected run(v: Vol): Vol {
    const c = v.shape[0], per = v.data.length / c;
    for (const [key, given] of [["subtrahend", this.#sub], ["divisor", this.#div]] as const) {
      if (Array.isArray(given) && given.length !== c) {
        throw new Error(
          `${this.name}: ${key} has ${given.length} values for a volume of ${c} channels ` +
            `[${v.shape}]`,
        );
      }
    }
    const out = emptyVol(v.shape);
    out.data.set(v.data);
    const parts = this.#channelWise ? c : 1, len = this.#channelWise ? per : v.data.length;
    for (let k = 0; k < parts; k++) {
      const pick = (g: PerChannel | null) => Array.isArray(g) ? g[k] : g;
      this.#normalize(out.data.subarray(k * len, (k + 1) * len), pick(this.#sub), pick(this.#div));
    }
    return out;
  }
  /** MONAI's `_normalize`, in place on `x` (a copy). */
  #normalize(x: Float32Array, sub: number | null, div: number | null): void {
    const nz = this.#nonzero;
    let n = 0, sum = 0;
    for (let i = 0; i < x.length; i++) {
      if (nz && x[i] === 0) continue;
      n++;
      sum += x[i];
    }
    if (n === 0) return; // nonzero with no non-zero voxel: unchanged, as MONAI
    const mean = sum / n;
    let m = sub;
    if (m === null) m = mean;
    let d = div;
    if (d === null) {
      let ss = 0;
      for (let i = 0; i < x.length; i++) {
        if (nz && x[i] === 0) continue;
        ss += (x[i] - mean) ** 2;
      }
      d = Math.sqrt(ss / n);
    }
    const s = f32(m), q = f32(d) === 0 ? 1 : f32(d);
    for (let i = 0; i < x.length; i++) {
      if (nz && x[i] === 0) continue;
      x[i] = f32(f32(x[i] - s) / q);
    }
  }
}

/** MONAI's range argument: r means [-|r|, |r|]; a pair is sorted. */
function monaiRange(name: string, key: string, v: unknown): [number, number] {
  if (typeof v === "number") {
    const r = Math.abs(num(name, key, v));
    return [-r, r];
  }
  if (Array.isArray(v) && v.length === 2) {
    const [a, b] = v.map((x) => num(name, key, x));
    return [Math.min(a, b), Math.max(a, b)];
  }
  throw new Error(`${name}: ${key} must be a number r ([-r, r]) or a [lo, hi] pair, got ${fmt(v)}`);
}

/** One draw from `range`, or one per channel. */
function draws(rng: Rng, range: [number, number], count: number): number[] {
  return Array.from({ length: count }, () => rng.uniform(range[0], range[1]));
}

/**
 * Multiplies the volume by `1 + f`, f uniform in `factors` (MONAI's
 * `RandScaleIntensity`: a number r means [-r, r]); with `channelWise`, one
 * factor per channel. Applies with probability `p` (default 0.1, MONAI's).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.RandScaleIntensity({ factors: 0.1, p: 1 });
 * using x = tensor(new Float32Array(8).fill(1), [1, 2, 2, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(Math.abs(y.toArray()[0] - 1) <= 0.1); // true
 * ```
 */
export class RandScaleIntensity extends VolumeTransform {
  readonly #factors: [number, number];
  readonly #channelWise: boolean;
  /** `factors` (required), `channelWise` (default false), `p` (default 0.1). */
  constructor(
    params: { factors: number | [number, number]; channelWise?: boolean; p?: number },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["factors", "channelWise"],
      p: 0.1,
      usage: "{ factors: 0.1, p: 0.5 }",
    });
    this.#factors = monaiRange(this.name, "factors", params.factors);
    this.#channelWise = bool(this.name, "channelWise", params.channelWise, false);
  }
  /** Draws the factor(s), then `x * (1 + f)` in float32. */
  protected run(v: Vol, rng: Rng): Vol {
    const c = v.shape[0], per = v.data.length / c;
    const f = draws(rng, this.#factors, this.#channelWise ? c : 1);
    const out = emptyVol(v.shape), x = v.data, y = out.data;
    for (let k = 0; k < c; k++) {
      const s = f32(1 + f[this.#channelWise ? k : 0]);
      for (let i = k * per; i < (k + 1) * per; i++) y[i] = f32(x[i] * s);
    }
    return out;
  }
}

/**
 * Adds an offset uniform in `offsets` (MONAI's `RandShiftIntensity`: a
 * number r means [-r, r]); with `channelWise`, one per channel. Applies with
 * probability `p` (default 0.1, MONAI's).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.RandShiftIntensity({ offsets: 0.1, p: 1 });
 * using x = tensor(new Float32Array(8), [1, 2, 2, 2]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(Math.abs(y.toArray()[0]) <= 0.1); // true
 * ```
 */
export class RandShiftIntensity extends VolumeTransform {
  readonly #offsets: [number, number];
  readonly #channelWise: boolean;
  /** `offsets` (required), `channelWise` (default false), `p` (default 0.1). */
  constructor(
    params: { offsets: number | [number, number]; channelWise?: boolean; p?: number },
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["offsets", "channelWise"],
      p: 0.1,
      usage: "{ offsets: 0.1, p: 0.5 }",
    });
    this.#offsets = monaiRange(this.name, "offsets", params.offsets);
    this.#channelWise = bool(this.name, "channelWise", params.channelWise, false);
  }
  /** Draws the offset(s), then `x + o` in float32. */
  protected run(v: Vol, rng: Rng): Vol {
    const c = v.shape[0], per = v.data.length / c;
    const o = draws(rng, this.#offsets, this.#channelWise ? c : 1);
    const out = emptyVol(v.shape), x = v.data, y = out.data;
    for (let k = 0; k < c; k++) {
      const s = f32(o[this.#channelWise ? k : 0]);
      for (let i = k * per; i < (k + 1) * per; i++) y[i] = f32(x[i] + s);
    }
    return out;
  }
}

/**
 * Adds Gaussian noise of mean `mean` (MONAI's `RandGaussianNoise`): its
 * standard deviation is drawn uniformly from [0, std] per volume, or is
 * exactly `std` with `sampleStd: false`. Applies with probability `p`
 * (default 0.1, MONAI's). The normals come from `Rng.fillNormal` (a 65,536-
 * quantile table, bounded by about 4.2 standard deviations).
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.RandGaussianNoise({ p: 1, std: 0.1 });
 * using x = tensor(new Float32Array(64), [1, 4, 4, 4]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 4, 4, 4]
 * ```
 */
export class RandGaussianNoise extends VolumeTransform {
  readonly #mean: number;
  readonly #std: number;
  readonly #sampleStd: boolean;
  /** `mean` (default 0), `std` (default 0.1), `sampleStd` (default true), `p` (default 0.1). */
  constructor(params: { mean?: number; std?: number; sampleStd?: boolean; p?: number } = {}) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["mean", "std", "sampleStd"],
      p: 0.1,
      usage: "{ p: 0.5, std: 0.05 }",
    });
    this.#mean = num(this.name, "mean", params.mean ?? 0);
    this.#std = num(this.name, "std", params.std ?? 0.1, { min: 0 });
    this.#sampleStd = bool(this.name, "sampleStd", params.sampleStd, true);
  }
  /** Draws the standard deviation (or takes it), then the noise, then adds it in float32. */
  protected run(v: Vol, rng: Rng): Vol {
    const std = this.#sampleStd ? rng.uniform(0, this.#std) : this.#std;
    const out = emptyVol(v.shape), y = out.data, x = v.data;
    rng.fillNormal(y, this.#mean, std);
    for (let i = 0; i < y.length; i++) y[i] = f32(x[i] + y[i]);
    return out;
  }
}
