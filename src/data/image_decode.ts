/**
 * PNG and JPEG files to one grey float32 channel, and grey PNGs back out.
 *
 * Colour is reduced as PIL's `convert("L")` does (ITU-R 601-2 luma,
 * `L = (299 R + 587 G + 114 B) / 1000`, computed with PIL's own rounding for
 * 8-bit pixels), so images match what the course's PyTorch code sees. Alpha
 * is dropped, palettes are looked up, 1/2/4-bit grey is widened to 8 bits as
 * PIL does, and 16-bit samples keep their full range. JPEG pixels come from
 * jpeg-js, whose inverse DCT rounds differently from libjpeg's (PIL's): about
 * 6% of a grey JPEG's pixels differ from PIL's by 1 of 255 (PNG pixels are
 * exact).
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned npm decoders; deno.json has no import map
import { decode as decodePngRaw, encode as encodePngRaw } from "npm:fast-png@8";
// deno-lint-ignore no-import-prefix -- pinned npm decoders; deno.json has no import map
import jpeg from "npm:jpeg-js@0.4";
import type { Image } from "./types.ts";

/** A decoded grey image with the largest value its bit depth can hold. */
export interface GreyImage extends Image {
  /** 255 for 8-bit sources (and JPEG), 65535 for 16-bit PNGs. */
  maxValue: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when `bytes` start with the PNG signature. */
function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** True when `bytes` start with a JPEG start-of-image marker. */
function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/**
 * Decodes a PNG or JPEG file's bytes to one grey channel in the file's own
 * scale (0..255, or 0..65535 for 16-bit PNGs). `source` names the file in
 * errors: a truncated or corrupt file throws an Error that names it.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const png = data.encodeGreyPng(new Uint8Array([0, 128, 255, 64]), 2, 2);
 * const img = data.decodeImage(png, "tiny.png");
 * console.log(img.width, img.height, img.data); // 2 2 Float32Array [0, 128, 255, 64]
 * ```
 */
export function decodeImage(bytes: Uint8Array, source = "<bytes>"): GreyImage {
  if (isPng(bytes)) return decodePng(bytes, source);
  if (isJpeg(bytes)) return decodeJpeg(bytes, source);
  throw new Error(`${source}: not a PNG or JPEG file (unrecognised signature)`);
}

/** PIL's 8-bit luma: the rounded form of (299 R + 587 G + 114 B) / 1000. */
function luma8(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >>> 16;
}

/** Samples of packed 1/2/4-bit rows, one per byte, row padding dropped. */
function unpackBits(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (the PNG/zlib polynomial) of `bytes[start, end)`. */
function crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Walks the PNG's chunks and checks each one's CRC: the decoder does not, and
 * a flipped bit in pixel data would otherwise give a silently wrong image.
 */
function checkPngChunks(bytes: Uint8Array, source: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 8 + length;
    if (end + 4 > bytes.length) {
      throw new Error(`${source}: truncated PNG (chunk ${type} runs past the end of the file)`);
    }
    if (crc32(bytes, at + 4, end) !== view.getUint32(end)) {
      throw new Error(`${source}: corrupt PNG (CRC mismatch in chunk ${type})`);
    }
    if (type === "IEND") return;
    at = end + 4;
  }
  throw new Error(`${source}: truncated PNG (no IEND chunk)`);
}

function decodePng(bytes: Uint8Array, source: string): GreyImage {
  checkPngChunks(bytes, source);
  let png;
  try {
    png = decodePngRaw(bytes);
  } catch (e) {
    throw new Error(`${source}: corrupt or truncated PNG (${(e as Error).message})`, { cause: e });
  }
  const { width, height, depth, channels, palette } = png;
  const n = width * height;
  let samples = png.data as Uint8Array | Uint16Array;
  if (depth < 8) {
    const rowBytes = Math.ceil((width * depth * channels) / 8);
    if (channels !== 1 || samples.length < rowBytes * height) {
      throw new Error(`${source}: corrupt or truncated PNG (short image data)`);
    }
    samples = unpackBits(samples as Uint8Array, width, height, depth);
    if (!palette) {
      // PIL widens 1/2/4-bit grey to 8 bits: 1 -> 255, 3 -> 255, 15 -> 255.
      const scale = 255 / ((1 << depth) - 1);
      for (let i = 0; i < n; i++) samples[i] = samples[i] * scale;
    }
  }
  if (samples.length < n * channels) {
    throw new Error(
      `${source}: corrupt or truncated PNG (${samples.length} samples for ${width}x${height}x${channels})`,
    );
  }
  const data = new Float32Array(n);
  if (palette) {
    const lut = palette.map((rgb) => luma8(rgb[0], rgb[1], rgb[2]));
    for (let i = 0; i < n; i++) {
      const v = lut[samples[i]];
      if (v === undefined) throw new Error(`${source}: corrupt PNG (palette index out of range)`);
      data[i] = v;
    }
    return { data, width, height, maxValue: 255 };
  }
  if (channels <= 2) {
    for (let i = 0; i < n; i++) data[i] = samples[i * channels];
  } else if (depth === 16) {
    for (let i = 0; i < n; i++) {
      const p = i * channels;
      data[i] = (299 * samples[p] + 587 * samples[p + 1] + 114 * samples[p + 2]) / 1000;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = i * channels;
      data[i] = luma8(samples[p], samples[p + 1], samples[p + 2]);
    }
  }
  return { data, width, height, maxValue: depth === 16 ? 65535 : 255 };
}

function decodeJpeg(bytes: Uint8Array, source: string): GreyImage {
  let img;
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
  } catch (e) {
    throw new Error(`${source}: corrupt or truncated JPEG (${(e as Error).message})`, { cause: e });
  }
  const { width, height } = img;
  const n = width * height;
  const channels = n > 0 ? img.data.length / n : 0;
  const data = new Float32Array(n);
  if (channels === 1) {
    data.set(img.data.subarray(0, n));
  } else if (channels === 3) {
    for (let i = 0; i < n; i++) {
      data[i] = luma8(img.data[3 * i], img.data[3 * i + 1], img.data[3 * i + 2]);
    }
  } else {
    throw new Error(`${source}: unsupported JPEG layout (${channels} channels)`);
  }
  return { data, width, height, maxValue: 255 };
}

/**
 * Scales `data` in place to [0, 1] by its own minimum and maximum, as the
 * course does per image. A constant image becomes all zeros rather than
 * dividing by zero. Returns `data`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.minMaxNormalize(new Float32Array([10, 20, 30]))); // [0, 0.5, 1]
 * console.log(data.minMaxNormalize(new Float32Array([7, 7]))); // [0, 0]
 * ```
 */
export function minMaxNormalize(data: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  if (!(range > 0)) return data.fill(0);
  const scale = 1 / range;
  for (let i = 0; i < data.length; i++) data[i] = (data[i] - lo) * scale;
  return data;
}

/**
 * Encodes 8-bit grey pixels (row-major, `width * height` bytes) as a PNG.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const png = data.encodeGreyPng(new Uint8Array(16).fill(200), 4, 4);
 * console.log(png.subarray(1, 4)); // the bytes of "PNG"
 * ```
 */
export function encodeGreyPng(pixels: Uint8Array, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height) {
    throw new RangeError(`encodeGreyPng: ${pixels.length} pixels for ${width}x${height}`);
  }
  return encodePngRaw({ width, height, data: pixels, channels: 1, depth: 8 });
}
