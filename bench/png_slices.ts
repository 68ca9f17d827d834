/**
 * A minimal PNG slice dataset for the data benchmark: a folder of 8-bit grey
 * PNGs, labels from the file name, min-max scaled to [0, 1] as the course
 * does. 8-bit grey PNGs are inflated with node:zlib (native) and unfiltered
 * in JS, about twice as fast as `fast-png` (pure JS, what `LiTSDataset`
 * uses); other PNG kinds go through `decodeImage`.
 *
 * @module
 */
import { inflateSync } from "node:zlib";
import { decodeImage } from "../src/data/image_decode.ts";
import type { Dataset, Sample } from "../src/data/types.ts";

/** How to open a `PngSlices` dataset (also its worker spec). */
export interface PngSlicesSpec {
  /** Folder of `<index>_<label>.png` files. */
  dir: string;
  /** Number of files. */
  count: number;
}

/** The file name of slice i with label l. */
export function sliceName(i: number, label: number): string {
  return `${String(i).padStart(5, "0")}_${label}.png`;
}

/** PNG bytes -> 8-bit grey pixels with node:zlib, or null for other PNG kinds. */
function decodeGrey8(
  bytes: Uint8Array,
): { pixels: Uint8Array; width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0;
  const idat: Uint8Array[] = [];
  for (let p = 8; p + 8 <= bytes.length;) {
    const len = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    const body = bytes.subarray(p + 8, p + 8 + len);
    if (type === "IHDR") {
      width = view.getUint32(p + 8);
      height = view.getUint32(p + 12);
      // 8-bit, grey (colour type 0), not interlaced: anything else goes to fast-png.
      if (body[8] !== 8 || body[9] !== 0 || body[12] !== 0) return null;
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    p += 12 + len;
  }
  const raw: Uint8Array = inflateSync(idat.length === 1 ? idat[0] : concat(idat));
  if (raw.length < height * (width + 1)) throw new Error("truncated PNG data");
  const px = new Uint8Array(width * height);
  const zero = new Uint8Array(width);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (width + 1)];
    const line = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    const cur = px.subarray(y * width, (y + 1) * width);
    const prev = y > 0 ? px.subarray((y - 1) * width, y * width) : zero;
    unfilter(f, line, prev, cur);
  }
  return { pixels: px, width, height };
}

/** Undoes one row's PNG filter (1 byte per pixel). */
function unfilter(f: number, line: Uint8Array, prev: Uint8Array, cur: Uint8Array): void {
  const n = cur.length;
  if (f === 0) cur.set(line);
  else if (f === 1) {
    cur[0] = line[0];
    for (let x = 1; x < n; x++) cur[x] = line[x] + cur[x - 1];
  } else if (f === 2) {
    for (let x = 0; x < n; x++) cur[x] = line[x] + prev[x];
  } else if (f === 3) {
    cur[0] = line[0] + (prev[0] >> 1);
    for (let x = 1; x < n; x++) cur[x] = line[x] + ((cur[x - 1] + prev[x]) >> 1);
  } else if (f === 4) {
    cur[0] = line[0] + prev[0];
    for (let x = 1; x < n; x++) {
      const a = cur[x - 1], b = prev[x], c = prev[x - 1];
      const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
      cur[x] = line[x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }
  } else throw new Error(`bad PNG filter type ${f}`);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, (o += p.length) - p.length);
  return out;
}

/** Slices `<dir>/<index>_<label>.png`, decoded on demand. */
export class PngSlices implements Dataset {
  /** Number of slices. */
  readonly length: number;
  readonly #spec: PngSlicesSpec;
  readonly #names: string[];
  /** Lists the folder's files once. */
  constructor(spec: PngSlicesSpec) {
    this.#spec = spec;
    this.length = spec.count;
    this.#names = [...Deno.readDirSync(spec.dir)].map((e) => e.name).filter((n) =>
      n.endsWith(".png")
    ).sort();
    if (this.#names.length !== spec.count) {
      throw new Error(`${spec.dir}: ${this.#names.length} PNG files, expected ${spec.count}`);
    }
  }
  /** Slice i, min-max scaled to [0, 1]. */
  get(i: number): Promise<Sample> {
    const name = this.#names[i];
    const bytes = Deno.readFileSync(`${this.#spec.dir}/${name}`);
    const img = decodeGrey8(bytes) ?? (() => {
      const p = decodeImage(bytes, name);
      return {
        pixels: Uint8Array.from(p.data, (v) => v * 255 / p.maxValue),
        width: p.width,
        height: p.height,
      };
    })();
    const { pixels, width, height } = img;
    let lo = 255, hi = 0;
    for (let k = 0; k < pixels.length; k++) {
      const v = pixels[k];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    // 256 grey levels: one table lookup per pixel instead of a subtract and multiply.
    const scale = hi > lo ? 1 / (hi - lo) : 0;
    const lut = new Float32Array(256).map((_, v) => (v - lo) * scale);
    const data = new Float32Array(pixels.length);
    for (let k = 0; k < pixels.length; k++) data[k] = lut[pixels[k]];
    const label = Number(name.slice(-5, -4));
    return Promise.resolve({ image: { data, width, height }, label });
  }
  /** Rebuild in a loader worker. */
  workerSpec(): { module: string; spec: PngSlicesSpec } {
    return { module: import.meta.url, spec: this.#spec };
  }
}

/** The loader workers' entry point. */
export function openDataset(spec: PngSlicesSpec): PngSlices {
  return new PngSlices(spec);
}
