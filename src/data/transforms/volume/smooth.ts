/**
 * MONAI's Gaussian filters of volumes: `GaussianSmooth`, `GaussianSharpen`
 * and their random forms. The filter is MONAI's `GaussianFilter`: one 1-D
 * kernel per spatial axis (`gaussian_1d`, truncated at 4 sigma, not
 * normalised, in MONAI's three approximations "erf", "sampled" and
 * "scalespace"), applied along depth, then height, then width, with zero
 * padding (`separable_filtering`). Kernels are computed in float32 step by
 * step as MONAI's torch code; each pass sums in float64 and rounds to
 * float32.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import { fmt } from "../image.ts";
import { num } from "../transform.ts";
import { pairOf } from "./intensity_more.ts";
import { VolumeTransform } from "./transform.ts";
import { emptyVol, type Shape4, type Vol } from "./volume.ts";

const f32 = Math.fround;

/** MONAI's kernel approximations. */
export type GaussianApprox = "erf" | "sampled" | "scalespace";
const APPROX: readonly string[] = ["erf", "sampled", "scalespace"];

/** erf in float64 (series below 2.5, continued fraction of erfc above). */
function erf(x: number): number {
  const a = Math.abs(x);
  if (!(a < 2.5)) {
    if (a !== a) return NaN;
    if (a > 6) return Math.sign(x);
    // erfc(a) = exp(-a^2) / sqrt(pi) / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))))
    let f = a;
    for (let k = 120; k >= 1; k--) f = a + (k / 2) / f;
    const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    return Math.sign(x) * (1 - erfc);
  }
  const x2 = x * x;
  let term = x, sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) <= 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** MONAI's `polyval` in float32 (coefficients highest power first). */
function polyval(coef: readonly number[], x: number): number {
  let ans = f32(coef[0]);
  for (let i = 1; i < coef.length; i++) ans = f32(f32(ans * x) + f32(coef[i]));
  return ans;
}

const I0_SMALL = [0.45813e-2, 0.360768e-1, 0.2659732, 1.2067492, 3.0899424, 3.5156229, 1.0];
const I0_LARGE = [
  0.392377e-2,
  -0.1647633e-1,
  0.2635537e-1,
  -0.2057706e-1,
  0.916281e-2,
  -0.157565e-2,
  0.225319e-2,
  0.1328592e-1,
  0.39894228,
];
const I1_SMALL = [0.32411e-3, 0.301532e-2, 0.2658733e-1, 0.15084934, 0.51498869, 0.87890594, 0.5];
const I1_LARGE = [
  -0.420059e-2,
  0.1787654e-1,
  -0.2895312e-1,
  0.2282967e-1,
  -0.1031555e-1,
  0.163801e-2,
  -0.362018e-2,
  -0.3988024e-1,
  0.39894228,
];

/** `polyval(c, 3.75 / ax) * exp(ax) / sqrt(ax)`, MONAI's large-argument form. */
function besselLarge(c: readonly number[], ax: number): number {
  const y = f32(f32(1 / ax) * 3.75);
  return f32(f32(polyval(c, y) * f32(Math.exp(ax))) / f32(Math.sqrt(ax)));
}

/** MONAI's `_modified_bessel_0` (x >= 0 here: sigma squared). */
function bessel0(x: number): number {
  if (x < 3.75) return polyval(I0_SMALL, f32(f32(x * x) / 14.0625));
  return besselLarge(I0_LARGE, x);
}

/** MONAI's `_modified_bessel_1` (x >= 0). */
function bessel1(x: number): number {
  if (x < 3.75) return f32(x * polyval(I1_SMALL, f32(f32(x * x) / 14.0625)));
  return besselLarge(I1_LARGE, x);
}

/** MONAI's `_modified_bessel_i` (n >= 2, x >= 0): Miller's backward recurrence. */
function besselI(n: number, x: number): number {
  if (x === 0) return 0;
  const tox = f32(f32(1 / x) * 2), tiny = f32(1e-10);
  let ans = 0, bip = 0, bi = 1;
  const m = Math.trunc(2 * (n + Math.floor(Math.sqrt(40 * n))));
  for (let j = m; j > 0; j--) {
    const bim = f32(bip + f32(f32(tox * j) * bi));
    bip = bi;
    bi = bim;
    if (Math.abs(bi) > 1e10) {
      ans = f32(ans * tiny);
      bi = f32(bi * tiny);
      bip = f32(bip * tiny);
    }
    if (j === n) ans = bip;
  }
  return f32(f32(ans * bessel0(x)) / bi);
}

/** MONAI's `gaussian_1d(sigma, truncated=4.0, approx)` (not normalised), in float32. */
export function gaussian1d(sigma: number, approx: GaussianApprox): Float32Array {
  const s = f32(sigma);
  const tail = Math.trunc(Math.max(s * 4, 0.5) + 0.5);
  const out = new Float32Array(2 * tail + 1);
  if (approx === "erf") {
    const t = f32(f32(1 / Math.abs(s)) * f32(0.70710678));
    for (let i = 0; i < out.length; i++) {
      const x = i - tail;
      const a = f32(erf(f32(t * (x + 0.5)))), b = f32(erf(f32(t * (x - 0.5))));
      out[i] = Math.max(f32(0.5 * f32(a - b)), 0);
    }
  } else if (approx === "sampled") {
    const c = f32(f32(1 / f32(s * s)) * -0.5), norm = f32(s * f32(2.5066282));
    for (let i = 0; i < out.length; i++) {
      const x = i - tail;
      out[i] = f32(f32(Math.exp(f32(c * x * x))) / norm);
    }
  } else {
    const s2 = f32(s * s), e = f32(Math.exp(-s2));
    for (let k = 0; k <= tail; k++) {
      const v = f32((k === 0 ? bessel0(s2) : k === 1 ? bessel1(s2) : besselI(k, s2)) * e);
      out[tail + k] = out[tail - k] = v;
    }
  }
  return out;
}

/** One zero-padded 1-D correlation of every line along spatial `axis` (0..2) of `src`. */
function pass(src: Float32Array, dst: Float32Array, shape: Shape4, axis: number, w: Float32Array) {
  const [, d, h, wd] = shape;
  const len = [d, h, wd][axis], stride = axis === 0 ? h * wd : axis === 1 ? wd : 1;
  const pad = (w.length - 1) / 2, block = stride * len;
  for (let base = 0; base < src.length; base += block) {
    for (let off = 0; off < stride; off++) {
      const start = base + off;
      for (let i = 0; i < len; i++) {
        const k0 = Math.max(0, pad - i), k1 = Math.min(w.length, len + pad - i);
        let acc = 0;
        for (let k = k0, j = start + (i + k0 - pad) * stride; k < k1; k++, j += stride) {
          acc += w[k] * src[j];
        }
        dst[start + i * stride] = acc;
      }
    }
  }
}

/** MONAI's `GaussianFilter` with one sigma per spatial axis, on a host volume. */
function gaussianFilter(v: Vol, sigma: readonly number[], approx: GaussianApprox): Vol {
  let cur = v.data;
  for (let axis = 0; axis < 3; axis++) {
    const next = new Float32Array(cur.length);
    pass(cur, next, v.shape, axis, gaussian1d(sigma[axis], approx));
    cur = next;
  }
  return { data: cur, shape: v.shape };
}

/** A sigma: a number >= 0 for all three axes, or [depth, height, width] numbers >= 0. */
function sigma3(name: string, key: string, v: unknown): [number, number, number] {
  if (Array.isArray(v) && v.length !== 3) {
    throw new Error(
      `${name}: ${key} must be a number or [depth, height, width] numbers >= 0 (one per ` +
        `spatial axis), got ${fmt(v)}`,
    );
  }
  const three = Array.isArray(v) ? v : [v, v, v];
  return three.map((s) => num(name, key, s, { min: 0 })) as [number, number, number];
}

/**
 * A sigma of 0 leaves its axis as it is ("erf" and "scalespace" give the
 * kernel [0, 1, 0], as MONAI's, which smooths in-plane only with
 * `sigma: [1, 1, 0]`); the "sampled" kernel divides by sigma, so it needs > 0.
 */
function zeroNeedsExact(name: string, approx: GaussianApprox, sigmas: unknown[]): void {
  if (approx === "sampled" && sigmas.flat(2).some((s) => s === 0)) {
    throw new Error(
      `${name}: a sigma of 0 needs approx "erf" or "scalespace" (the "sampled" kernel ` +
        "divides by sigma); give sigmas > 0 or another approx",
    );
  }
}

/** MONAI's `approx`: "erf" (default), "sampled" or "scalespace". */
function approxOf(name: string, v: unknown): GaussianApprox {
  if (v === undefined) return "erf";
  if (typeof v !== "string" || !APPROX.includes(v)) {
    const lower = typeof v === "string" && APPROX.includes(v.toLowerCase())
      ? `; write "${v.toLowerCase()}"`
      : "";
    throw new Error(
      `${name}: approx must be "erf", "sampled" or "scalespace", got ${fmt(v)}${lower}`,
    );
  }
  return v as GaussianApprox;
}

/** `blurred + alpha * (blurred - filter(blurred))`, MONAI's `GaussianSharpen`. */
function sharpen(
  v: Vol,
  sigma1: readonly number[],
  sigma2: readonly number[],
  alpha: number,
  approx: GaussianApprox,
): Vol {
  const blurred = gaussianFilter(v, sigma1, approx);
  const twice = gaussianFilter(blurred, sigma2, approx);
  const out = emptyVol(v.shape), b = blurred.data, b2 = twice.data, a = f32(alpha);
  for (let i = 0; i < b.length; i++) out.data[i] = b[i] + f32(a * f32(b[i] - b2[i]));
  return out;
}

/**
 * Smooths each channel with a Gaussian (MONAI's `GaussianSmooth`):
 * `sigma` for all spatial axes, or one per axis [depth, height, width];
 * `approx` is MONAI's kernel ("erf", the default; "sampled"; "scalespace").
 * Borders are zero-padded, as MONAI's, so they darken.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const t = new data.transforms.volume.GaussianSmooth({ sigma: 1 });
 * const spike = new Float32Array(27);
 * spike[13] = 1;
 * using x = tensor(spike, [1, 3, 3, 3]);
 * using y = t.apply(x);
 * console.log(y.toArray()[13].toFixed(4)); // 0.0561
 * ```
 */
export class GaussianSmooth extends VolumeTransform {
  readonly #sigma: [number, number, number];
  readonly #approx: GaussianApprox;
  /** `sigma` (default 1.0), `approx` (default "erf"). */
  constructor(params: { sigma?: number | number[]; approx?: GaussianApprox } = {}) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["sigma", "approx"],
      p: null,
      usage: "{ sigma: 1.0 }",
    });
    this.#sigma = sigma3(this.name, "sigma", params.sigma ?? 1);
    this.#approx = approxOf(this.name, params.approx);
    zeroNeedsExact(this.name, this.#approx, this.#sigma);
  }
  /** The separable filter. */
  protected run(v: Vol): Vol {
    return gaussianFilter(v, this.#sigma, this.#approx);
  }
}

const SIGMA_USAGE = "must be a [lo, hi] pair of numbers >= 0";

/**
 * `GaussianSmooth` with one sigma per spatial axis drawn uniformly from
 * `sigmaX` (depth, MONAI's first spatial axis), `sigmaY` (height) and
 * `sigmaZ` (width), each a [lo, hi] pair, default [0.25, 1.5] (MONAI's
 * `RandGaussianSmooth`). Applies with probability `p` (default 0.1).
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.RandGaussianSmooth({ p: 1, sigmaX: [0.5, 1] });
 * using x = randn([1, 8, 8, 8]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 8, 8, 8]
 * ```
 */
export class RandGaussianSmooth extends VolumeTransform {
  readonly #ranges: [number, number][];
  readonly #approx: GaussianApprox;
  /** `sigmaX`, `sigmaY`, `sigmaZ` (default [0.25, 1.5]), `approx` (default "erf"), `p` (default 0.1). */
  constructor(
    params: {
      sigmaX?: [number, number];
      sigmaY?: [number, number];
      sigmaZ?: [number, number];
      approx?: GaussianApprox;
      p?: number;
    } = {},
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["sigmaX", "sigmaY", "sigmaZ", "approx"],
      p: 0.1,
      usage: "{ p: 0.5, sigmaX: [0.25, 1.5], sigmaY: [0.25, 1.5], sigmaZ: [0.25, 1.5] }",
    });
    this.#ranges = (["sigmaX", "sigmaY", "sigmaZ"] as const).map((k) =>
      sigmaRange(this.name, k, params[k] ?? [0.25, 1.5])
    );
    this.#approx = approxOf(this.name, params.approx);
    zeroNeedsExact(this.name, this.#approx, this.#ranges);
  }
  /** Draws the three sigmas (x, y, z), then smooths. */
  protected run(v: Vol, rng: Rng): Vol {
    const sigma = this.#ranges.map(([lo, hi]) => rng.uniform(lo, hi));
    return gaussianFilter(v, sigma, this.#approx);
  }
}

/** A [lo, hi] range of sigmas >= 0. */
function sigmaRange(name: string, key: string, v: unknown): [number, number] {
  if (!Array.isArray(v)) {
    throw new Error(
      `${name}: ${key} ${SIGMA_USAGE} (MONAI's range), got ${fmt(v)}; for a fixed sigma ` +
        `write [s, s]`,
    );
  }
  return pairOf(name, key, v, { min: 0 });
}

/**
 * Sharpens each channel (MONAI's `GaussianSharpen`): `b + alpha * (b -
 * G2(b))` where `b = G1(x)`, with Gaussian filters of `sigma1` (default
 * 3.0) and `sigma2` (default 1.0), `alpha` default 30.0; each sigma a
 * number or one per spatial axis. `approx` as in `GaussianSmooth`.
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.GaussianSharpen({ sigma1: 1.5, sigma2: 0.5, alpha: 10 });
 * using x = randn([1, 6, 8, 8]);
 * using y = t.apply(x);
 * console.log(y.shape); // [1, 6, 8, 8]
 * ```
 */
export class GaussianSharpen extends VolumeTransform {
  readonly #sigma1: [number, number, number];
  readonly #sigma2: [number, number, number];
  readonly #alpha: number;
  readonly #approx: GaussianApprox;
  /** `sigma1` (default 3.0), `sigma2` (default 1.0), `alpha` (default 30.0), `approx` (default "erf"). */
  constructor(
    params: {
      sigma1?: number | number[];
      sigma2?: number | number[];
      alpha?: number;
      approx?: GaussianApprox;
    } = {},
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: ["sigma1", "sigma2", "alpha", "approx"],
      p: null,
      usage: "{ sigma1: 3.0, sigma2: 1.0, alpha: 30.0 }",
    });
    this.#sigma1 = sigma3(this.name, "sigma1", params.sigma1 ?? 3);
    this.#sigma2 = sigma3(this.name, "sigma2", params.sigma2 ?? 1);
    this.#alpha = num(this.name, "alpha", params.alpha ?? 30);
    this.#approx = approxOf(this.name, params.approx);
    zeroNeedsExact(this.name, this.#approx, [this.#sigma1, this.#sigma2]);
  }
  /** Blur, blur again, and push away from the second blur. */
  protected run(v: Vol): Vol {
    return sharpen(v, this.#sigma1, this.#sigma2, this.#alpha, this.#approx);
  }
}

const SHARPEN_KEYS = [
  "sigma1X",
  "sigma1Y",
  "sigma1Z",
  "sigma2X",
  "sigma2Y",
  "sigma2Z",
  "alpha",
  "approx",
] as const;

/**
 * `GaussianSharpen` with its parameters drawn (MONAI's
 * `RandGaussianSharpen`): `sigma1X`, `sigma1Y`, `sigma1Z` uniform in their
 * [lo, hi] ranges (default [0.5, 1.0]); `sigma2X`, `sigma2Y`, `sigma2Z` in
 * their ranges, or, given as a number s (default 0.5), in [s, the drawn
 * sigma1 of that axis]; `alpha` in its range (default [10, 30]). X, Y, Z are
 * MONAI's first, second and third spatial axes (depth, height, width).
 * Applies with probability `p` (default 0.1).
 *
 * @example
 * ```ts
 * import { data, randn } from "@lits/vision";
 * const t = new data.transforms.volume.RandGaussianSharpen({ p: 1, alpha: [5, 10] });
 * using x = randn([1, 6, 8, 8]);
 * using y = t.apply(x, new data.Rng(0));
 * console.log(y.shape); // [1, 6, 8, 8]
 * ```
 */
export class RandGaussianSharpen extends VolumeTransform {
  readonly #sigma1: [number, number][];
  readonly #sigma2: ([number, number] | number)[];
  readonly #alpha: [number, number];
  readonly #approx: GaussianApprox;
  /** The ranges (see above), `approx` (default "erf"), `p` (default 0.1). */
  constructor(
    params: {
      sigma1X?: [number, number];
      sigma1Y?: [number, number];
      sigma1Z?: [number, number];
      sigma2X?: [number, number] | number;
      sigma2Y?: [number, number] | number;
      sigma2Z?: [number, number] | number;
      alpha?: [number, number];
      approx?: GaussianApprox;
      p?: number;
    } = {},
  ) {
    super(params, arguments.length, {
      keepsVoxelSize: true,
      keys: SHARPEN_KEYS,
      p: 0.1,
      usage: "{ p: 0.5, sigma1X: [0.5, 1], sigma2X: 0.5, alpha: [10, 30] }",
    });
    this.#sigma1 = (["sigma1X", "sigma1Y", "sigma1Z"] as const).map((k) =>
      sigmaRange(this.name, k, params[k] ?? [0.5, 1])
    );
    this.#sigma2 = (["sigma2X", "sigma2Y", "sigma2Z"] as const).map((k) => {
      const s = params[k] ?? 0.5;
      return typeof s === "number" ? num(this.name, k, s, { min: 0 }) : sigmaRange(this.name, k, s);
    });
    const alpha = params.alpha ?? [10, 30];
    if (!Array.isArray(alpha)) {
      throw new Error(
        `${this.name}: alpha must be a [lo, hi] pair (MONAI's range), got ${fmt(alpha)}; ` +
          `for a fixed alpha write [a, a]`,
      );
    }
    this.#alpha = pairOf(this.name, "alpha", alpha);
    this.#approx = approxOf(this.name, params.approx);
    zeroNeedsExact(this.name, this.#approx, [this.#sigma1, this.#sigma2]);
  }
  /** Draws sigma1 (x, y, z), sigma2 (x, y, z) and alpha in MONAI's order, then sharpens. */
  protected run(v: Vol, rng: Rng): Vol {
    const s1 = this.#sigma1.map(([lo, hi]) => rng.uniform(lo, hi));
    const s2 = this.#sigma2.map((r, i) =>
      typeof r === "number" ? rng.uniform(r, s1[i]) : rng.uniform(r[0], r[1])
    );
    const alpha = rng.uniform(this.#alpha[0], this.#alpha[1]);
    return sharpen(v, s1, s2, alpha, this.#approx);
  }
}
