/**
 * Intensity functional ops: the value of each output pixel depends on the
 * same pixel (or, for the blur, a small neighbourhood) of the input.
 *
 * @module
 */
import type { Rng } from "../../rng.ts";
import type { Image } from "../../types.ts";
import { checkImage, fmt, recycle, scratchImage } from "../image.ts";

function like(image: Image): Image {
  return scratchImage(image.width, image.height);
}

/**
 * Adds Gaussian noise of standard deviation `std` (and mean `mean`) drawn
 * from `rng`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(4).fill(0.5), width: 2, height: 2 };
 * const noisy = data.transforms.F.gaussianNoise(img, 0.01, new data.Rng(0));
 * console.log(Math.abs(noisy.data[0] - 0.5) < 0.1); // true
 * ```
 */
export function gaussianNoise(image: Image, std: number, rng: Rng, mean = 0): Image {
  checkImage(image, "gaussianNoise");
  if (!(std >= 0)) throw new Error(`gaussianNoise: std must be >= 0, got ${std}`);
  const out = like(image);
  rng.addNormal(image.data, std, out.data);
  if (mean !== 0) { for (let i = 0; i < out.data.length; i++) out.data[i] += mean; }
  return out;
}

/**
 * torchvision's 1-D Gaussian kernel (`_get_gaussian_kernel1d`): taps at
 * -k/2..k/2, normalised to sum 1; `gaussianBlur` applies it along rows and
 * then columns.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const k = data.transforms.F.gaussianKernel(3, 1);
 * console.log([...k].map((v) => v.toFixed(4))); // ["0.2741", "0.4519", "0.2741"]
 * ```
 */
export function gaussianKernel(kernelSize: number, sigma: number): Float32Array {
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) {
    throw new Error(`gaussianBlur: kernelSize must be a positive odd integer, got ${kernelSize}`);
  }
  if (!(sigma > 0)) throw new Error(`gaussianBlur: sigma must be > 0, got ${sigma}`);
  const k = new Float32Array(kernelSize);
  const half = (kernelSize - 1) / 2;
  let sum = 0;
  for (let i = 0; i < kernelSize; i++) {
    const x = (i - half) / sigma;
    sum += k[i] = Math.exp(-0.5 * x * x);
  }
  for (let i = 0; i < kernelSize; i++) k[i] /= sum;
  return k;
}

/** Reflect index as torch's reflect padding (edge not repeated), for any offset. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/** Horizontal pass: each row convolved with k, reflect at both ends. */
function blurRows(src: Float32Array, dst: Float32Array, w: number, h: number, k: Float32Array) {
  const half = (k.length - 1) / 2, kn = k.length;
  for (let y = 0; y < h; y++) {
    const base = y * w;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      if (x >= half && x + half < w) {
        const p = base + x - half;
        for (let t = 0; t < kn; t++) acc += k[t] * src[p + t];
      } else {
        for (let t = 0; t < kn; t++) acc += k[t] * src[base + reflect(x + t - half, w)];
      }
      dst[base + x] = acc;
    }
  }
}

/** Vertical pass, a whole row at a time so memory is read in order. */
function blurColumns(src: Float32Array, dst: Float32Array, w: number, h: number, k: Float32Array) {
  const half = (k.length - 1) / 2;
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let t = 0; t < k.length; t++) {
      const r = reflect(y + t - half, h) * w, kt = k[t];
      if (t === 0) { for (let x = 0; x < w; x++) dst[o + x] = kt * src[r + x]; }
      else for (let x = 0; x < w; x++) dst[o + x] += kt * src[r + x];
    }
  }
}

/**
 * Gaussian blur with reflect padding, as torchvision's
 * `F.gaussian_blur(img, kernel_size, sigma=None)`, in its argument order:
 * `kernelSize` odd, or [kx, ky] (x along the width); `sigma` a number,
 * [sx, sy], or left out for torchvision's 0.15 * k + 0.35 per axis.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array(25).fill(2), width: 5, height: 5 };
 * console.log(data.transforms.F.gaussianBlur(img, 3, 1).data[12].toFixed(3)); // 2.000
 * const spike = { data: new Float32Array(25).map((_, i) => (i === 12 ? 1 : 0)), width: 5, height: 5 };
 * const wide = data.transforms.F.gaussianBlur(spike, [5, 1]); // along rows only, sigma 1.1
 * console.log(wide.data[7], wide.data[11] > 0); // 0 true
 * ```
 */
export function gaussianBlur(
  image: Image,
  kernelSize: number | readonly [number, number],
  sigma?: number | readonly number[] | null,
): Image {
  if (arguments.length > 3) {
    throw new Error(
      `gaussianBlur: takes (image, kernelSize, sigma?) as torchvision's F.gaussian_blur, got ` +
        `${arguments.length} arguments; write F.gaussianBlur(image, 5, 1.5)`,
    );
  }
  checkImage(image, "gaussianBlur");
  const k = pairOf("kernelSize", kernelSize);
  for (const v of k) {
    if (!Number.isInteger(v) || v < 1 || v % 2 === 0) {
      throw new Error(
        `gaussianBlur: kernelSize must be odd positive integers (k or [kx, ky]), got ${
          fmt(kernelSize)
        } (torchvision's order is (image, kernelSize, sigma): write F.gaussianBlur(image, 5, 1.5))`,
      );
    }
  }
  const s = sigma === undefined || sigma === null
    ? [k[0] * 0.15 + 0.35, k[1] * 0.15 + 0.35]
    : pairOf("sigma", sigma);
  return blurSeparable(image, gaussianKernel(k[0], s[0]), gaussianKernel(k[1], s[1]));
}

/** A number or a one-value list as [v, v], a pair as itself; anything else throws. */
function pairOf(key: string, v: unknown): [number, number] {
  const p = typeof v === "number" ? [v, v] : Array.isArray(v) && v.length === 1 ? [v[0], v[0]] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === "number")) {
    throw new Error(`gaussianBlur: ${key} must be a number or [x, y], got ${fmt(v)}`);
  }
  return [p[0], p[1]];
}

/** Rows convolved with `kx`, then columns with `ky`, reflect at the borders. */
function blurSeparable(image: Image, kx: Float32Array, ky: Float32Array): Image {
  const tmp = like(image), out = like(image);
  blurRows(image.data, tmp.data, image.width, image.height, kx);
  blurColumns(tmp.data, out.data, image.width, image.height, ky);
  recycle(tmp.data);
  return out;
}

/**
 * `v * scale + shift` for every pixel (MONAI's ScaleIntensity factor f is
 * scale = 1 + f; ShiftIntensity's offset is shift).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 1]), width: 2, height: 1 };
 * console.log([...data.transforms.F.scaleShift(img, 2, 0.5).data]); // [0.5, 2.5]
 * ```
 */
export function scaleShift(image: Image, scale: number, shift: number): Image {
  checkImage(image, "scaleShift");
  const out = like(image);
  const s = image.data, o = out.data;
  for (let i = 0; i < s.length; i++) o[i] = s[i] * scale + shift;
  return out;
}

/** Min and max of the data. */
function extent(data: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const GAMMA_STEPS = 1024;

/**
 * Gamma contrast as MONAI's `AdjustContrast`: values are scaled to [0, 1]
 * by the image's own min and max, raised to `gamma`, and scaled back.
 * The power is read from a 1,025-entry table with linear interpolation,
 * several times faster than Math.pow per pixel, and within 1e-4 of the range
 * for every gamma: the first steps, where x^gamma bends most for gamma < 1,
 * use Math.pow itself (see `exactSteps`).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 0.5, 1]), width: 3, height: 1 };
 * const out = data.transforms.F.adjustContrast(img, 2);
 * console.log(out.data[1].toFixed(2)); // 0.25
 * ```
 */
export function adjustContrast(image: Image, gamma: number): Image {
  checkImage(image, "adjustContrast");
  if (!(gamma > 0)) throw new Error(`adjustContrast: gamma must be > 0, got ${gamma}`);
  const [lo, hi] = extent(image.data);
  const range = hi - lo;
  const out = like(image);
  const s = image.data, o = out.data;
  // Per table step j, the chord a[j] + b[j] * t through its two end points.
  const a = new Float64Array(GAMMA_STEPS + 1), b = new Float64Array(GAMMA_STEPS + 1);
  let prev = lo;
  for (let j = 0; j < GAMMA_STEPS; j++) {
    const next = Math.pow((j + 1) / GAMMA_STEPS, gamma) * range + lo;
    b[j] = next - prev;
    a[j] = prev - b[j] * j;
    prev = next;
  }
  a[GAMMA_STEPS] = prev;
  const k = range > 0 ? GAMMA_STEPS / (range + 1e-7) : 0;
  const exact = exactSteps(gamma);
  for (let i = 0; i < s.length; i++) {
    const t = (s[i] - lo) * k;
    const j = t | 0;
    o[i] = j >= exact || t === 0 ? a[j] + b[j] * t : Math.pow(t / GAMMA_STEPS, gamma) * range + lo;
  }
  return out;
}

/**
 * How many table steps from 0 compute x^gamma exactly. A chord over a step
 * of width h at x is off by at most h^2 / 8 * gamma |gamma - 1| x^(gamma - 2),
 * which for gamma < 2 falls with x: exact below the first step where that is
 * under 1e-4 (9 steps at gamma 0.1, 5 at 0.5, 1 from about 0.85 up). For gamma >= 2 the
 * bound is largest at x = 1, gamma (gamma - 1) / (8 * 1024^2): under 1e-4 up to
 * gamma 20; beyond that every pixel is exact.
 */
function exactSteps(gamma: number): number {
  if (gamma > 20) return GAMMA_STEPS + 1;
  const c = gamma * Math.abs(1 - gamma) / 8 * Math.pow(GAMMA_STEPS, -gamma);
  if (gamma >= 2 || c === 0) return 1;
  const steps = Math.ceil(Math.pow(c / 1e-4, 1 / (2 - gamma)));
  return Math.min(Math.max(steps, 1), GAMMA_STEPS + 1);
}

/**
 * Maps [aMin, aMax] linearly to [bMin, bMax] and optionally clips to it:
 * MONAI's `ScaleIntensityRange`, e.g. a CT window of [-200, 250] HU to [0, 1].
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const hu = { data: new Float32Array([-1000, 25, 400]), width: 3, height: 1 };
 * const w = data.transforms.F.scaleIntensityRange(hu, -200, 250, 0, 1, true);
 * console.log([...w.data]); // [0, 0.5, 1]
 * ```
 */
export function scaleIntensityRange(
  image: Image,
  aMin: number,
  aMax: number,
  bMin: number,
  bMax: number,
  clip = false,
): Image {
  checkImage(image, "scaleIntensityRange");
  if (!(aMax !== aMin) || ![aMin, aMax, bMin, bMax].every(Number.isFinite)) {
    throw new Error(
      `scaleIntensityRange: needs finite aMin != aMax, got aMin ${aMin}, aMax ${aMax}`,
    );
  }
  const scale = (bMax - bMin) / (aMax - aMin);
  const lo = Math.min(bMin, bMax), hi = Math.max(bMin, bMax);
  const out = like(image);
  const s = image.data, o = out.data;
  for (let i = 0; i < s.length; i++) {
    const v = (s[i] - aMin) * scale + bMin;
    o[i] = clip ? (v < lo ? lo : v > hi ? hi : v) : v;
  }
  return out;
}

/**
 * `(v - mean) / std`, as torchvision's `F.normalize` for one channel.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const img = { data: new Float32Array([0, 1]), width: 2, height: 1 };
 * console.log([...data.transforms.F.normalize(img, 0.5, 0.5).data]); // [-1, 1]
 * ```
 */
export function normalize(
  image: Image,
  mean: number | readonly number[],
  std: number | readonly number[],
): Image {
  checkImage(image, "normalize");
  // torchvision's per-channel lists of a one-channel image: [0.5].
  const one = (key: string, v: unknown): unknown => {
    if (!Array.isArray(v)) return v;
    if (v.length === 1) return v[0];
    throw new Error(
      `normalize: ${key} has ${v.length} values (one per channel), but these images have one ` +
        `channel: write one number, e.g. F.normalize(image, 0.5, 0.25)`,
    );
  };
  const m = one("mean", mean), s = one("std", std);
  if (typeof s !== "number" || !(s > 0) || typeof m !== "number" || !Number.isFinite(m)) {
    throw new Error(
      `normalize: needs std > 0 and a finite mean, got mean ${fmt(mean)}, std ${fmt(std)}`,
    );
  }
  return scaleShift(image, 1 / s, -m / s);
}
