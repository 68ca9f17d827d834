/**
 * From a painted HU raster to an 8-bit slice, the way a scanner and the
 * course's preprocessing get there: a slight blur (the scanner's point spread),
 * Gaussian noise, the display window, downsampling by averaging, and per-image
 * min-max to 0..255. Labels come from the masks after the same downsampling.
 *
 * @module
 */
import { Rng } from "./rng.ts";

/** Blurs a square image in place with the separable kernel [1, 2, 1] / 4 (sigma ~0.7 px). */
export function blur121(img: Float32Array, size: number): void {
  const row = new Float32Array(size);
  for (let y = 0; y < size; y++) {
    const o = y * size;
    for (let x = 0; x < size; x++) row[x] = img[o + x];
    for (let x = 0; x < size; x++) {
      const l = row[x > 0 ? x - 1 : x];
      const r = row[x < size - 1 ? x + 1 : x];
      img[o + x] = 0.25 * l + 0.5 * row[x] + 0.25 * r;
    }
  }
  const col = new Float32Array(size);
  for (let x = 0; x < size; x++) {
    for (let y = 0; y < size; y++) col[y] = img[y * size + x];
    for (let y = 0; y < size; y++) {
      const u = col[y > 0 ? y - 1 : y];
      const d = col[y < size - 1 ? y + 1 : y];
      img[y * size + x] = 0.25 * u + 0.5 * col[y] + 0.25 * d;
    }
  }
}

/** 65,536 standard normal values, made once from a fixed seed. */
let normalTable: Float32Array | undefined;

/**
 * Adds zero-mean Gaussian noise of `std` HU in place. Each random 32-bit word
 * picks two entries of a fixed table of normals: a tenth of the cost of
 * Box-Muller per pixel, and indistinguishable from it in an image.
 */
export function addNoise(img: Float32Array, std: number, rng: Rng): void {
  normalTable ??= new Rng(0x5eed).fillNormal(new Float32Array(65536), 1);
  const table = normalTable;
  for (let i = 0; i < img.length; i += 2) {
    const r = rng.nextU32();
    img[i] += std * table[r & 0xffff];
    if (i + 1 < img.length) img[i + 1] += std * table[r >>> 16];
  }
}

/**
 * Clips to the window [lo, hi] HU, maps it to [0, 1] and averages
 * `factor` x `factor` blocks: a `size`-px image becomes `size / factor` px.
 */
export function windowDownsample(
  img: Float32Array,
  size: number,
  factor: number,
  window: readonly [number, number],
): Float32Array {
  const out = size / factor;
  const [lo, hi] = window;
  const scale = 1 / ((hi - lo) * factor * factor);
  const res = new Float32Array(out * out);
  for (let y = 0; y < size; y++) {
    const orow = Math.floor(y / factor) * out;
    for (let x = 0; x < size; x++) {
      const v = img[y * size + x];
      res[orow + Math.floor(x / factor)] += (v < lo ? lo : v > hi ? hi : v) - lo;
    }
  }
  for (let i = 0; i < res.length; i++) res[i] *= scale;
  return res;
}

/** Per-image min-max to 0..255, rounded (a constant image becomes zeros). */
export function toUint8MinMax(img: Float32Array): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of img) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const out = new Uint8Array(img.length);
  if (!(hi > lo)) return out;
  const k = 255 / (hi - lo);
  for (let i = 0; i < img.length; i++) out[i] = Math.round((img[i] - lo) * k);
  return out;
}

/**
 * Output pixels of a mask after downsampling by `factor`: a pixel counts
 * when at least half of its block is set.
 */
export function downsampledCount(mask: Uint8Array, size: number, factor: number): number {
  const out = size / factor;
  const blocks = new Uint16Array(out * out);
  for (let y = 0; y < size; y++) {
    const orow = Math.floor(y / factor) * out;
    for (let x = 0; x < size; x++) {
      if (mask[y * size + x]) blocks[orow + Math.floor(x / factor)]++;
    }
  }
  const half = (factor * factor) / 2;
  let count = 0;
  for (const b of blocks) if (b >= half) count++;
  return count;
}
