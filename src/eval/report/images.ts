/**
 * Small PNG thumbnails as `data:` URIs, so the page carries its images
 * inside it. Pixels are min-max scaled per image (a CT slice may hold
 * Hounsfield units, [0, 1] or standardised values) and large images are
 * box-averaged down, to keep the page light.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm package; deno.json has no import map
import { encode } from "npm:fast-png@8";
import type { ReportImage } from "./types.ts";

/** Thumbnails are at most this many pixels on their longer side. */
export const THUMBNAIL_MAX = 160;

/**
 * Encodes an image as a `data:image/png;base64,...` URI, min-max scaled, or
 * mapped from `range` to 0..255 when given (an RGB overlay keeps its colours).
 *
 * @throws {RangeError} When the data length is not width x height (x 3).
 */
export function pngDataUri(
  image: ReportImage,
  maxSide = THUMBNAIL_MAX,
  range?: [number, number],
): string {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`report image: bad size ${width}x${height}`);
  }
  const plane = width * height;
  const channels = data.length === plane ? 1 : data.length === 3 * plane ? 3 : 0;
  if (channels === 0) {
    throw new RangeError(
      `report image: ${data.length} values for ${width}x${height} ` +
        `(expected ${plane} grey or ${3 * plane} channel-first RGB)`,
    );
  }
  const f = Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
  const w = Math.floor(width / f) || 1, h = Math.floor(height / f) || 1;
  let lo = range?.[0] ?? Infinity, hi = range?.[1] ?? -Infinity;
  for (let i = 0; i < data.length && !range; i++) {
    const v = data[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8Array(w * h * channels);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // Box average of the f x f source block (plain copy when f = 1).
        let sum = 0, n = 0;
        for (let dy = 0; dy < f; dy++) {
          for (let dx = 0; dx < f; dx++) {
            const v = data[c * plane + (y * f + dy) * width + x * f + dx];
            if (Number.isFinite(v)) {
              sum += v;
              n++;
            }
          }
        }
        const mean = n === 0 ? lo : sum / n;
        out[(y * w + x) * channels + c] = Math.max(
          0,
          Math.min(255, Math.round((mean - lo) * scale)),
        );
      }
    }
  }
  const png = encode({ width: w, height: h, data: out, channels, depth: 8 });
  return `data:image/png;base64,${base64(png)}`;
}

/** Base64 of bytes, in chunks so that String.fromCharCode gets few arguments. */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
