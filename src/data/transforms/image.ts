/**
 * Small helpers the functional ops and the transform classes share:
 * checking an image, making an empty one, and parsing torchvision-style
 * arguments (size, padding, value range). Not public.
 *
 * @module
 */
import type { Image } from "../types.ts";
import type { Interpolation } from "./functional/warp.ts";
import type { ResizeInterpolation } from "./functional/geometry.ts";

/** Throws unless `image` is a well-formed single-channel image. */
export function checkImage(image: Image, op: string): void {
  const { data, width, height } = image;
  if (!(data instanceof Float32Array)) {
    throw new Error(`${op}: image.data must be a Float32Array`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`${op}: image size must be positive integers, got ${width}x${height}`);
  }
  if (data.length !== width * height) {
    throw new Error(
      `${op}: image has ${data.length} values, expected width*height = ${width}x${height}`,
    );
  }
}

/**
 * Freed pixel buffers by length. A fresh 256 KB array costs more in page
 * faults than the op that fills it (~0.1 ms here), so pipelines hand back
 * the intermediates they know are dead (`recycle`) and ops draw their
 * outputs from here. Only Compose and the loader recycle, and only images
 * they created themselves; a few buffers per size are kept per thread.
 */
const pool = new Map<number, Float32Array[]>();
const POOL_DEPTH = 4;

/** A new image whose pixels the caller will all overwrite (contents undefined). */
export function scratchImage(width: number, height: number): Image {
  const data = pool.get(width * height)?.pop() ?? new Float32Array(width * height);
  return { data, width, height };
}

/** Hands back a buffer nobody will read again, for a later image to reuse. */
export function recycle(data: Float32Array): void {
  if (data.byteOffset !== 0 || data.buffer.byteLength !== data.byteLength) return;
  let list = pool.get(data.length);
  if (!list) pool.set(data.length, list = []);
  if (list.length < POOL_DEPTH && !list.includes(data)) list.push(data);
}

/** `[height, width]` from a torchvision size argument (a number means square). */
export function toSize(size: number | readonly number[], op: string): [number, number] {
  // A string or a plain object (from a JSON spec) fails with the message, not a TypeError.
  const hw = typeof size === "number"
    ? [size, size]
    : size !== null && typeof size === "object" && Symbol.iterator in size
    ? [...size]
    : [];
  if (hw.length !== 2 || !hw.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`${op}: size must be a positive integer or [height, width], got ${fmt(size)}`);
  }
  return [hw[0], hw[1]];
}

/** Python's round(): halves go to the even neighbour (torchvision's crop offsets). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** [left, top, right, bottom] from torchvision's padding argument. */
export function toPadding(padding: number | readonly number[], op: string): number[] {
  // Anything but a number or an array (left out, null, an object) fails below with the usage.
  const p = typeof padding === "number"
    ? [padding, padding, padding, padding]
    : !Array.isArray(padding)
    ? []
    : padding.length === 2
    ? [padding[0], padding[1], padding[0], padding[1]]
    : [...padding];
  if (p.length !== 4 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(
      `${op}: padding must be a non-negative integer, [lr, tb] or [l, t, r, b], got ${
        fmt(padding)
      }`,
    );
  }
  return p;
}

/** Checks a value range, naming `op`. */
export function checkValueRange(op: string, range: unknown): [number, number] {
  if (
    !Array.isArray(range) || range.length !== 2 || !range.every(Number.isFinite) ||
    !(range[0] < range[1])
  ) {
    throw new Error(
      `${op}: valueRange must be [lo, hi] finite numbers with lo < hi ` +
        `(e.g. [0, 1], or [-1024, 3071] for raw HU), got ${fmt(range)}`,
    );
  }
  return [range[0], range[1]];
}

/** A warp's interpolation parameter: "bilinear" (the default) or "nearest". */
export function interpolationParam(op: string, v: unknown): Interpolation {
  if (v === undefined || v === "bilinear" || v === "nearest") return v ?? "bilinear";
  throw new Error(`${op}: interpolation must be "bilinear" or "nearest", got ${fmt(v)}`);
}

/**
 * A resize's `interpolation` ("bilinear", the default, "bicubic", "nearest"
 * or "nearest-exact", F.interpolate's name for PIL's nearest) and
 * `antialias` (a boolean, default false; null is Python's None, the
 * default), checked as torchvision's: antialias goes with bilinear and
 * bicubic only.
 */
export function resizeParams(
  op: string,
  interpolation: unknown,
  antialias: unknown,
): [ResizeInterpolation, boolean] {
  const mode = interpolation ?? "bilinear";
  if (
    mode !== "bilinear" && mode !== "bicubic" && mode !== "nearest" && mode !== "nearest-exact"
  ) {
    throw new Error(
      `${op}: interpolation must be "bilinear", "bicubic", "nearest" or "nearest-exact", got ${
        fmt(interpolation)
      }`,
    );
  }
  const aa = antialias ?? false;
  if (typeof aa === "number") {
    throw new Error(
      `${op}: antialias must be true or false, got ${aa}: torchvision's argument there is ` +
        "max_size, which is Resize's maxSize here (new transforms.Resize({ size, maxSize }))",
    );
  }
  if (typeof aa !== "boolean") {
    throw new Error(`${op}: antialias must be true or false, got ${fmt(antialias)}`);
  }
  if (aa && (mode === "nearest" || mode === "nearest-exact")) {
    throw new Error(
      `${op}: antialias goes with interpolation "bilinear" or "bicubic" (as torchvision), ` +
        `not "${mode}"; leave antialias out or write interpolation: "bilinear"`,
    );
  }
  return [mode, aa];
}

/** A short printable form of a parameter value for error messages. */
export function fmt(v: unknown): string {
  // JSON prints NaN and Infinity as null, which hides the user's value.
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Nearest-neighbour resize as `F.interpolate(mode="nearest")`: source index
 * floor(i * in / out); with `exact`, mode "nearest-exact" (PIL's nearest):
 * floor((i + 0.5) * in / out).
 */
export function resizeNearest(image: Image, oh: number, ow: number, exact = false): Image {
  const { data, width: w, height: h } = image;
  const out = scratchImage(ow, oh);
  // torch's floorf(i * (float)(in / out)), in float32: in float64 a whole product
  // (x = 56 of 124 -> 224) lands on the next source pixel.
  const half = exact ? 0.5 : 0;
  const source = (i: number, n: number, out: number) =>
    Math.min(n - 1, Math.floor(Math.fround((i + half) * Math.fround(n / out))));
  const cols = Int32Array.from({ length: ow }, (_, x) => source(x, w, ow));
  for (let y = 0; y < oh; y++) {
    const row = source(y, h, oh) * w, o = y * ow;
    for (let x = 0; x < ow; x++) out.data[o + x] = data[row + cols[x]];
  }
  return out;
}

/**
 * torchvision's output size for a number `size` (`_compute_resized_output_size`):
 * the smaller edge of a `width` x `height` image becomes `size`, the other
 * keeps the aspect ratio (floored); a longer edge past `maxSize` becomes
 * `maxSize` and the smaller one follows (floored). [height, width].
 */
export function smallerEdgeSize(
  width: number,
  height: number,
  size: number,
  maxSize: number | null = null,
): [number, number] {
  let short = size, long = Math.floor(size * Math.max(width, height) / Math.min(width, height));
  if (maxSize !== null && long > maxSize) {
    short = Math.floor(maxSize * short / long);
    long = maxSize;
  }
  return width <= height
    ? [Math.max(1, long), Math.max(1, short)]
    : [Math.max(1, short), Math.max(1, long)];
}

/**
 * torchvision's per-channel fill list of a grey image (`fill=[128]`) as its
 * number; a longer list names the channels these images lack.
 */
export function oneGrey(where: string, fill: unknown): unknown {
  if (!Array.isArray(fill)) return fill;
  if (fill.length === 1) return fill[0];
  throw new Error(
    `${where}: fill has ${fill.length} values (one per channel), but these images have one ` +
      `channel: write one grey value, e.g. fill: ${typeof fill[0] === "number" ? fill[0] : 0}`,
  );
}
