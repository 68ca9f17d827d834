/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets,
 * then one PackBits-coded segment per byte of each sample, most significant
 * byte first. No maintained npm package decodes it on its own (cornerstone
 * keeps its decoder inside its image loader), and the format is this small.
 *
 * @module
 */
import type { DecodedFrame } from "./codecs.ts";

/** One PackBits segment of `bytes[start, end)` into `out[k], out[k + stride], ...`. */
function unpackSegment(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  first: number,
  stride: number,
  count: number,
): number {
  let at = start;
  let n = 0;
  while (at < end && n < count) {
    const header = (bytes[at++] << 24) >> 24;
    if (header >= 0) {
      const run = Math.min(header + 1, count - n, end - at);
      for (let i = 0; i < run; i++) out[first + (n++) * stride] = bytes[at++];
    } else if (header !== -128) {
      if (at >= end) break;
      const value = bytes[at++];
      const run = Math.min(1 - header, count - n);
      for (let i = 0; i < run; i++) out[first + (n++) * stride] = value;
    }
  }
  return n;
}

/** Decodes one RLE frame of `width * height` samples of `bytesPerSample` bytes (grey only). */
export function decodeRle(
  frame: Uint8Array,
  width: number,
  height: number,
  bytesPerSample: number,
  source: string,
): DecodedFrame {
  if (frame.length < 64) {
    throw new Error(`${source}: RLE frame has ${frame.length} bytes, less than its 64-byte header`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== bytesPerSample) {
    throw new Error(
      `${source}: RLE frame has ${segments} segments, expected ${bytesPerSample} ` +
        `(one per byte of a grey sample)`,
    );
  }
  const count = width * height;
  const out = new Uint8Array(count * bytesPerSample);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || start > end) {
      throw new Error(`${source}: RLE segment ${s} has bad offsets [${start}, ${end})`);
    }
    // Segment 0 holds the most significant bytes; output is little endian.
    const got = unpackSegment(
      frame,
      start,
      end,
      out,
      bytesPerSample - 1 - s,
      bytesPerSample,
      count,
    );
    if (got < count) {
      throw new Error(`${source}: RLE segment ${s} decodes to ${got} samples, expected ${count}`);
    }
  }
  return { bytes: out, bytesPerSample, width, height };
}
