/**
 * Small helpers every functional op shares: checking an image, making an
 * empty one, and parsing torchvision-style size arguments.
 *
 * @module
 */
import type { Image } from "../types.ts";

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
  const hw = typeof size === "number" ? [size, size] : [...size];
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

/** A short printable form of a parameter value for error messages. */
export function fmt(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
