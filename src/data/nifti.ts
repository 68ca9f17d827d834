/**
 * NIfTI volumes (`.nii`, `.nii.gz`, `.hdr`/`.img` pairs), read one axial
 * slice at a time: LiTS volumes reach 0.5 GB, and a slice of 512^2 int16 is
 * 0.5 MB. Slices come out in the radiological view whatever the storage
 * order: columns run from the patient's right to left, rows from anterior to
 * posterior, slice indices from inferior to superior, as the header's affine
 * says.
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import {
  NIFTI_DATATYPES,
  type NiftiHeader,
  orientationOf,
  parseNiftiHeader,
} from "./nifti_header.ts";

export { NIFTI_DATATYPES, type NiftiHeader } from "./nifti_header.ts";

/** Sequential reads of exact lengths from a file or a gunzip stream. */
interface ByteSource {
  read(n: number): Promise<Uint8Array>;
  close(): void;
}

/** Sequential reads over a (possibly gzipped) file, with truncation reported by name. */
function openSource(path: string): ByteSource {
  const gz = path.endsWith(".gz");
  const file = createReadStream(path);
  const stream = gz ? file.pipe(createGunzip()) : file;
  if (gz) file.on("error", (e) => stream.destroy(e));
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let buffered = 0;
  return {
    async read(n: number): Promise<Uint8Array> {
      while (buffered < n) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await it.next();
        } catch (e) {
          const err = e as Error & { code?: string };
          if (err.code === "ENOENT") throw new Error(`${path}: file not found`, { cause: e });
          throw new Error(`${path}: unreadable${gz ? " gzip" : ""} data (${err.message})`, {
            cause: e,
          });
        }
        if (next.done) {
          throw new Error(`${path}: file is truncated (needed ${n - buffered} more bytes)`);
        }
        chunks.push(
          new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength),
        );
        buffered += next.value.byteLength;
      }
      const out = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const c = chunks[0];
        const take = Math.min(c.length, n - done);
        out.set(c.subarray(0, take), done);
        done += take;
        if (take === c.length) chunks.shift();
        else chunks[0] = c.subarray(take);
      }
      buffered -= n;
      return out;
    },
    close() {
      stream.destroy();
      file.destroy();
    },
  };
}

/** Reads `length` bytes at `offset` of an uncompressed file. */
async function readAt(path: string, offset: number, length: number): Promise<Uint8Array> {
  using f = await Deno.open(path, { read: true });
  await f.seek(offset, Deno.SeekMode.Start);
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = await f.read(out.subarray(done));
    if (n === null) throw new Error(`${path}: file is truncated at byte ${offset + done}`);
    done += n;
  }
  return out;
}

/** Voxel values of some raw bytes as float32, with the header's scaling applied. */
function toFloat(raw: Uint8Array, h: NiftiHeader): Float32Array {
  const type = NIFTI_DATATYPES[h.datatype];
  const n = raw.length / type.bytes;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = h.littleEndian;
  const out = new Float32Array(n);
  switch (type.name) {
    case "uint8":
      out.set(raw);
      break;
    case "int8":
      for (let i = 0; i < n; i++) out[i] = v.getInt8(i);
      break;
    case "int16":
      for (let i = 0; i < n; i++) out[i] = v.getInt16(2 * i, le);
      break;
    case "uint16":
      for (let i = 0; i < n; i++) out[i] = v.getUint16(2 * i, le);
      break;
    case "int32":
      for (let i = 0; i < n; i++) out[i] = v.getInt32(4 * i, le);
      break;
    case "uint32":
      for (let i = 0; i < n; i++) out[i] = v.getUint32(4 * i, le);
      break;
    case "float32":
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(4 * i, le);
      break;
    case "float64":
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(8 * i, le);
      break;
  }
  // NIfTI: a slope of 0 (or NaN, as nibabel writes) means "not scaled".
  const slope = h.sclSlope;
  if (Number.isFinite(slope) && slope !== 0) {
    const inter = Number.isFinite(h.sclInter) ? h.sclInter : 0;
    if (slope !== 1 || inter !== 0) { for (let i = 0; i < n; i++) out[i] = out[i] * slope + inter; }
  }
  return out;
}

/** The typed-array view of each voxel type, over bytes in this machine's order. */
const VIEWS = {
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed array of any NIfTI voxel type. */
export type VoxelArray = InstanceType<(typeof VIEWS)[keyof typeof VIEWS]>;

/**
 * Raw voxel values as they are stored, in this machine's byte order, with
 * the scaling nibabel's `get_fdata()` applies: `raw * slope + inter` in
 * float64, rounded to float32 once (`slope` 1 and `inter` 0 when the file
 * is not scaled).
 */
export interface RawVoxels {
  /** The stored values. */
  values: VoxelArray;
  /** Multiplier (1: none). */
  slope: number;
  /** Offset, added after the slope (0: none, so -0 stays -0). */
  inter: number;
}

/**
 * The stored values of some raw bytes (a fresh array: it may be
 * byte-swapped in place) and the header's scaling.
 */
function rawVoxels(raw: Uint8Array, h: NiftiHeader): RawVoxels {
  const type = NIFTI_DATATYPES[h.datatype];
  const w = type.bytes, n = raw.length / w;
  if (w > 1 && h.littleEndian !== HOST_LE) {
    for (let o = 0; o < raw.length; o += w) {
      for (let a = o, b = o + w - 1; a < b; a++, b--) {
        const t = raw[a];
        raw[a] = raw[b];
        raw[b] = t;
      }
    }
  }
  if (raw.byteOffset % w !== 0) raw = raw.slice();
  const View = VIEWS[type.name as keyof typeof VIEWS];
  const values = new View(raw.buffer as ArrayBuffer, raw.byteOffset, n);
  // NIfTI: a slope of 0 (or NaN, as nibabel writes) means "not scaled".
  const scaled = Number.isFinite(h.sclSlope) && h.sclSlope !== 0;
  const slope = scaled ? h.sclSlope : 1;
  const inter = scaled && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  return { values, slope, inter };
}

/** One axial slice in radiological view. */
export interface NiftiSlice {
  /** Position from inferior (0) to superior (depth - 1). */
  index: number;
  /** `width * height` values, row-major, scaled to real units (HU for CT). */
  data: Float32Array;
}

/**
 * An open NIfTI volume: its header, its shape in radiological view, and
 * slice access. Close it (or `await using`) when done.
 */
export class NiftiVolume {
  /** Columns of a slice (patient right to left). */
  readonly width: number;
  /** Rows of a slice (anterior to posterior). */
  readonly height: number;
  /** Number of axial slices. */
  readonly depth: number;
  /** Volumes along the 4th dimension (1 for a 3D file). */
  readonly frames: number;
  /** Voxel size in mm: [column, row, slice]. */
  readonly spacing: [number, number, number];
  /** Direction of increasing voxel index i, j, k (nibabel's `aff2axcodes`), e.g. "LAS". */
  readonly axcodes: string;
  readonly #dataPath: string;
  readonly #axes: { col: number; row: number; slice: number };
  readonly #flip: { col: boolean; row: boolean; slice: boolean };
  #whole: Map<number, Uint8Array> = new Map();

  /** Use `readNifti(path)`. */
  constructor(readonly path: string, readonly header: NiftiHeader, dataPath: string) {
    this.#dataPath = dataPath;
    const shape = [0, 1, 2].map((a) => header.dims[a] ?? 1);
    this.frames = header.dims.slice(3).reduce((a, b) => a * b, 1);
    const { world, sign, axcodes } = orientationOf(header.affine);
    this.axcodes = axcodes;
    const axisOf = (w: number) => world.indexOf(w);
    this.#axes = { col: axisOf(0), row: axisOf(1), slice: axisOf(2) };
    // Columns run towards -x (patient left), rows towards -y (posterior),
    // slices towards +z (superior).
    this.#flip = {
      col: sign[this.#axes.col] > 0,
      row: sign[this.#axes.row] > 0,
      slice: sign[this.#axes.slice] < 0,
    };
    this.width = shape[this.#axes.col];
    this.height = shape[this.#axes.row];
    this.depth = shape[this.#axes.slice];
    const px = [0, 1, 2].map((a) => header.pixdim[a] ?? 1);
    this.spacing = [px[this.#axes.col], px[this.#axes.row], px[this.#axes.slice]];
  }

  /**
   * @internal This file's voxels read in `other`'s orientation: for a mask
   * whose header disagrees with its image's, paired voxel by voxel (as
   * nibabel's arrays pair them).
   */
  inOrientationOf(other: NiftiVolume): NiftiVolume {
    return new NiftiVolume(
      this.path,
      { ...this.header, affine: other.header.affine },
      this.#dataPath,
    );
  }

  get #voxelBytes(): number {
    return NIFTI_DATATYPES[this.header.datatype].bytes;
  }

  get #frameVoxels(): number {
    return this.width * this.height * this.depth;
  }

  /** Reorders a plane or a whole frame of voxels into slice `s` (canonical). */
  #extract(values: Float32Array, s: number, planeOnly: boolean): Float32Array {
    const d = [0, 1, 2].map((a) => this.header.dims[a] ?? 1);
    const stride = [1, d[0], planeOnly ? 0 : d[0] * d[1]];
    const { col, row, slice } = this.#axes;
    const sIdx = this.#flip.slice ? this.depth - 1 - s : s;
    const base = sIdx * stride[slice];
    const out = new Float32Array(this.width * this.height);
    for (let r = 0; r < this.height; r++) {
      const rIdx = this.#flip.row ? this.height - 1 - r : r;
      const rowBase = base + rIdx * stride[row];
      for (let c = 0; c < this.width; c++) {
        const cIdx = this.#flip.col ? this.width - 1 - c : c;
        out[r * this.width + c] = values[rowBase + cIdx * stride[col]];
      }
    }
    return out;
  }

  #checkFrame(frame: number): void {
    if (!(Number.isInteger(frame) && frame >= 0 && frame < this.frames)) {
      throw new RangeError(`${this.path}: frame ${frame} out of range [0, ${this.frames})`);
    }
  }

  /** The raw bytes of `count` whole frames from `frame`, read from the file (a fresh array). */
  async #readFrame(frame: number, count = 1): Promise<Uint8Array> {
    const frameBytes = this.#frameVoxels * this.#voxelBytes;
    const start = this.header.voxOffset + frame * frameBytes;
    const size = frameBytes * count;
    if (!this.#dataPath.endsWith(".gz")) return await readAt(this.#dataPath, start, size);
    const src = openSource(this.#dataPath);
    try {
      if (start > 0) await src.read(start);
      return await src.read(size);
    } finally {
      src.close();
    }
  }

  /** A whole frame's raw bytes (kept for later calls). */
  async #frameBytes(frame: number): Promise<Uint8Array> {
    let bytes = this.#whole.get(frame);
    if (!bytes) {
      bytes = await this.#readFrame(frame);
      this.#whole.set(frame, bytes);
    }
    return bytes;
  }

  /**
   * @internal The stored values of `frame` in the file's own order (i
   * fastest, then j, then k), with the scaling nibabel's `get_fdata()`
   * applies, for callers that convert while they copy; with `count`, that
   * many frames one after another (channels: frame `frame + c` starts at
   * value `c * width * height * depth`), read in one pass, which a gzipped
   * file needs (each read decompresses from its start). Read in one go, not
   * kept (the bytes may be byte-swapped in place).
   */
  async rawFileOrder(frame = 0, count = 1): Promise<RawVoxels> {
    this.#checkFrame(frame);
    if (count !== 1) {
      if (!(Number.isInteger(count) && count >= 1)) {
        throw new RangeError(`${this.path}: frame count ${count} must be an integer >= 1`);
      }
      this.#checkFrame(frame + count - 1);
    }
    return rawVoxels(await this.#readFrame(frame, count), this.header);
  }

  /**
   * Slice `index` (0 = most inferior) of `frame`. For an uncompressed file
   * whose slices are stored contiguously this reads just that slice; other
   * files are read whole once and kept in memory.
   */
  async readSlice(index: number, frame = 0): Promise<Float32Array> {
    this.#checkFrame(frame);
    if (!(Number.isInteger(index) && index >= 0 && index < this.depth)) {
      throw new RangeError(`${this.path}: slice ${index} out of range [0, ${this.depth})`);
    }
    if (this.#axes.slice === 2 && !this.#dataPath.endsWith(".gz")) {
      const plane = this.width * this.height * this.#voxelBytes;
      const k = this.#flip.slice ? this.depth - 1 - index : index;
      const offset = this.header.voxOffset +
        frame * this.#frameVoxels * this.#voxelBytes + k * plane;
      const raw = await readAt(this.#dataPath, offset, plane);
      return this.#extract(toFloat(raw, this.header), 0, true);
    }
    return this.#extract(toFloat(await this.#frameBytes(frame), this.header), index, false);
  }

  /**
   * Every slice of `frame` in file order, holding one slice in memory at a
   * time when slices are stored contiguously (the usual axial CT layout),
   * gzipped or not. `index` says where each slice sits (0 = most inferior).
   */
  async *slices(frame = 0): AsyncGenerator<NiftiSlice> {
    this.#checkFrame(frame);
    if (this.#axes.slice !== 2) {
      const values = toFloat(await this.#frameBytes(frame), this.header);
      for (let s = 0; s < this.depth; s++) {
        yield { index: s, data: this.#extract(values, s, false) };
      }
      return;
    }
    const plane = this.width * this.height * this.#voxelBytes;
    const src = openSource(this.#dataPath);
    try {
      const start = this.header.voxOffset +
        frame * this.#frameVoxels * this.#voxelBytes;
      if (start > 0) await src.read(start);
      for (let k = 0; k < this.depth; k++) {
        const raw = await src.read(plane);
        const index = this.#flip.slice ? this.depth - 1 - k : k;
        yield { index, data: this.#extract(toFloat(raw, this.header), 0, true) };
      }
    } finally {
      src.close();
    }
  }

  /** Drops any cached frame. */
  close(): void {
    this.#whole.clear();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Opens a NIfTI-1 or NIfTI-2 file (`.nii`, `.nii.gz`, or a `.hdr` with its
 * `.img`) and checks its header; voxels are read later, slice by slice.
 * Supported voxel types: uint8, int8, int16, uint16, int32, uint32, float32,
 * float64, in either byte order; `scl_slope`/`scl_inter` are applied. Throws
 * an Error naming the file for a missing file, a bad header or data shorter
 * than the header promises.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const vol = await data.readNifti("tests/fixtures/nifti/anatomical.nii");
 * console.log(vol.width, vol.height, vol.depth, vol.axcodes); // 33 41 25 "LAS"
 * for await (const { index, data: pixels } of vol.slices()) {
 *   if (index === 12) console.log(pixels.length); // 1353
 * }
 * ```
 */
export async function readNifti(path: string): Promise<NiftiVolume> {
  const src = openSource(path);
  let head: Uint8Array;
  try {
    head = await src.read(348);
    const size = new DataView(head.buffer).getInt32(0, true);
    if (size === 540 || size === 0x1c020000) head = concat(head, await src.read(540 - 348));
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.includes("truncated")) {
      const what = !path.endsWith(".gz") && await gzipped(path)
        ? "the file is gzip-compressed: name it .nii.gz (or gunzip it)"
        : "file is too short";
      throw new Error(`${path}: bad NIfTI header: ${what}`, { cause: e });
    }
    throw e;
  } finally {
    src.close();
  }
  const header = parseNiftiHeader(head, path);
  const pair = header.version === 1 ? "ni1" : "ni2";
  const magicOffset = header.version === 1 ? 344 : 4;
  const isPair = new TextDecoder().decode(head.subarray(magicOffset, magicOffset + 3)) === pair;
  const dataPath = isPair ? path.replace(/\.hdr(\.gz)?$/, ".img$1") : path;
  if (isPair && dataPath === path) throw new Error(`${path}: a ${pair} header needs a .hdr name`);
  if (!isPair && header.voxOffset < header.headerSize) {
    throw new Error(
      `${path}: bad NIfTI header: vox_offset ${header.voxOffset} lies inside the header`,
    );
  }
  const bytes = header.dims.reduce((a, b) => a * b, 1) * NIFTI_DATATYPES[header.datatype].bytes;
  if (!dataPath.endsWith(".gz")) {
    let size: number;
    try {
      size = (await Deno.stat(dataPath)).size;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`${dataPath}: file not found (data of ${path})`);
      }
      throw e;
    }
    const need = header.voxOffset + bytes;
    if (size < need) {
      throw new Error(`${dataPath}: file is truncated: ${size} bytes, the header needs ${need}`);
    }
  }
  return new NiftiVolume(path, header, dataPath);
}

/** Whether the file at `path` starts as gzip does (1f 8b). */
async function gzipped(path: string): Promise<boolean> {
  try {
    const head = (await Deno.readFile(path)).subarray(0, 2);
    return head[0] === 0x1f && head[1] === 0x8b;
  } catch {
    return false;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
