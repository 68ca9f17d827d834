/**
 * Safetensors files: state dicts shared with PyTorch and other libraries.
 *
 * The format is an 8-byte little-endian header length N, N bytes of UTF-8
 * JSON (`{ name: { dtype, shape, data_offsets: [begin, end] }, ...,
 * "__metadata__": { key: value } }`, padded with spaces to a multiple of 8),
 * then the raw little-endian data; offsets count from the first data byte.
 *
 * float32 tensors are written as F32 and int32 tensors as I64 (PyTorch's
 * integer type) or I32. Reading gives float32 for F32, F64, F16 and BF16 and
 * int32 for I64, I32, I16, I8, U8 and BOOL.
 *
 * @module
 */
import type { DeviceName } from "../tensor/device.ts";
import { tensor } from "../tensor/ops/creation.ts";
import { Tensor } from "../tensor/tensor.ts";
import { checkArity, checkCall, checkOptions } from "../options.ts";
import { writeReplacing } from "./write_file.ts";
import { bufferSource, type ByteSource, openSource } from "./byte_source.ts";
import {
  emptyTensor,
  fillFromHost,
  fillFromSource,
  LITTLE_ENDIAN,
  loadedDtype,
  storedAsIs,
} from "./tensor_fill.ts";

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
const SAVE_KEYS: (keyof SaveSafetensorsOptions)[] = ["metadata", "intType"];
const LOAD_KEYS: (keyof LoadSafetensorsOptions)[] = ["device"];

/** Options of `saveSafetensors` and `encodeSafetensors`. */
export interface SaveSafetensorsOptions {
  /** Free-form string pairs stored under `__metadata__`. */
  metadata?: Record<string, string>;
  /** How int32 tensors are stored: "I64" (default, as PyTorch's int64) or "I32". */
  intType?: "I64" | "I32";
}

/** Options of `loadSafetensors` and `decodeSafetensors`. */
export interface LoadSafetensorsOptions {
  /** Where the tensors are created (default cpu). */
  device?: DeviceName;
}

/** Tensors to save, by name, in the order they are written. */
export type NamedTensors = Map<string, Tensor> | Record<string, Tensor>;

/** Bytes per element of each dtype this module reads (pth_read.ts reads the same). */
export const ELEMENT_SIZE: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
const METADATA_KEY = "__metadata__";
/** The reference implementation's limit on the header length. */
const MAX_HEADER_BYTES = 100_000_000;

// ---------------------------------------------------------------- writing

/** Little-endian bytes of a tensor's elements as `dtype` (F32, I32 or I64); pth_write.ts shares it. */
export function elementBytes(values: Float32Array | Int32Array, dtype: string): Uint8Array {
  if (dtype === "I64") {
    const out = new Uint8Array(values.length * 8);
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) {
      view.setInt32(i * 8, values[i], true);
      view.setInt32(i * 8 + 4, values[i] < 0 ? -1 : 0, true);
    }
    return out;
  }
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < out.length; i++) out[i] = bytes[i ^ 3];
  return out;
}

/**
 * The bytes of a safetensors file holding `tensors` in their order (a pure
 * function: `saveSafetensors` writes them to a file).
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * using w = tensor(new Float32Array([1, 2, 3]), [3]);
 * const bytes = io.encodeSafetensors({ w }, { metadata: { format: "pt" } });
 * console.log(io.decodeSafetensors(bytes).get("w")!.toArray()); // Float32Array [1, 2, 3]
 * ```
 */
export function encodeSafetensors(
  tensors: NamedTensors,
  options: SaveSafetensorsOptions = {},
): Uint8Array {
  const usage = 'io.encodeSafetensors(tensors, { metadata: { format: "pt" } })';
  options = checkCall("io.encodeSafetensors", arguments.length, 2, options, SAVE_KEYS, usage);
  return encode(tensors, options, "<bytes>");
}

function encode(tensors: NamedTensors, options: SaveSafetensorsOptions, target: string) {
  const fail = (msg: string) => new Error(`safetensors ${target}: ${msg}`);
  const intType = options.intType ?? "I64";
  if (intType !== "I64" && intType !== "I32") {
    throw fail(`intType must be "I64" or "I32", got ${JSON.stringify(intType)}`);
  }
  const header: string[] = [];
  if (options.metadata !== undefined) {
    if (!isObject(options.metadata)) throw fail("metadata must be an object of strings");
    for (const [key, value] of Object.entries(options.metadata)) {
      if (typeof value !== "string") throw fail(`metadata value for '${key}' is not a string`);
    }
    header.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(options.metadata)}`);
  }
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (typeof name !== "string" || name === "") {
      throw fail("tensor names must be non-empty strings");
    }
    if (name === METADATA_KEY) throw fail(`'${METADATA_KEY}' is reserved, not a tensor name`);
    if (!(t instanceof Tensor)) throw fail(`'${name}' is not a Tensor`);
    if (!t.isAlive) throw fail(`tensor '${name}' was disposed`);
    const dtype = t.dtype === "float32" ? "F32" : intType;
    const bytes = elementBytes(t.toArray(), dtype);
    const info = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    header.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    chunks.push(bytes);
    offset += bytes.length;
  }
  // Built by hand: a JS object would move integer-like names ("0", "1") first.
  const json = new TextEncoder().encode(`{${header.join(",")}}`);
  const headerLength = json.length + ((8 - (json.length % 8)) % 8); // padded with spaces
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * Writes tensors to a safetensors file that PyTorch reads with
 * `safetensors.torch.load_file`. The file is replaced atomically: written to
 * `${path}.tmp-<pid>-<random>`, then renamed.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * using w = tensor(new Float32Array([0.5, -1]), [1, 2]);
 * using steps = tensor(new Int32Array([3]), []);
 * await io.saveSafetensors(path, { "fc.weight": w, steps }); // steps is stored as I64
 * const loaded = await io.loadSafetensors(path);
 * console.log([...loaded.keys()]); // ["fc.weight", "steps"]
 * for (const t of loaded.values()) t.dispose();
 * await Deno.remove(path);
 * ```
 */
export async function saveSafetensors(
  path: string,
  tensors: NamedTensors,
  options: SaveSafetensorsOptions = {},
): Promise<void> {
  const usage = 'io.saveSafetensors(path, tensors, { metadata: { format: "pt" } })';
  options = checkCall("io.saveSafetensors", arguments.length, 3, options, SAVE_KEYS, usage);
  const bytes = encode(tensors, options, path);
  await writeReplacing(path, bytes, "safetensors");
}

// ---------------------------------------------------------------- reading

/**
 * The `__metadata__` string pairs of safetensors bytes, without decoding the
 * tensors (an empty object when the file has none); `source` names the bytes
 * in errors.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * using w = tensor([1]);
 * const bytes = io.encodeSafetensors({ w }, { metadata: { epoch: "3" } });
 * console.log(io.safetensorsMetadata(bytes, "ckpt.safetensors")); // { epoch: "3" }
 * ```
 */
export function safetensorsMetadata(bytes: Uint8Array, source: string): Record<string, string> {
  if (bytes.length < 8) {
    throw new Error(`${source}: ${bytes.length} bytes, too short for safetensors`);
  }
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error(`${source}: truncated (header of ${n} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`${source}: unreadable safetensors header: ${(e as Error).message}`);
  }
  const meta = header.__metadata__;
  return meta && typeof meta === "object" ? meta as Record<string, string> : {};
}

/** One tensor's header entry, checked. */
interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Checks one header entry against the data section's length. */
function checkEntry(name: string, info: unknown, dataLength: number, fail: (m: string) => Error) {
  const what = `tensor '${name}'`;
  if (!isObject(info)) throw fail(`${what}: entry is not an object`);
  for (const key of ["dtype", "shape", "data_offsets"]) {
    if (!Object.hasOwn(info, key)) throw fail(`${what}: entry has no ${key}`);
  }
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== "string") throw fail(`${what}: dtype is not a string`);
  if (!Object.hasOwn(ELEMENT_SIZE, dtype)) {
    const known = Object.keys(ELEMENT_SIZE).join(", ");
    throw fail(`${what}: unknown or unsupported dtype '${dtype}' (supported: ${known})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw fail(`${what}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw fail(`${what}: data_offsets ${JSON.stringify(offsets)} is not two non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  if (end < begin) throw fail(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    throw fail(
      `${what}: data_offsets [${begin}, ${end}] lie outside the data section (${dataLength} bytes)`,
    );
  }
  const count = shape.reduce((a: number, d: number) => a * d, 1);
  if (end - begin !== count * ELEMENT_SIZE[dtype]) {
    throw fail(
      `${what}: ${end - begin} bytes of data, but shape [${shape}] of ${dtype} needs ` +
        `${count * ELEMENT_SIZE[dtype]}`,
    );
  }
  return { name, dtype, shape, begin, end } as Entry;
}

/** Half-precision bits to a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Element i of a little-endian `e.dtype` buffer, as a number. */
function elementReader(
  view: DataView,
  e: Entry,
  fail: (m: string) => Error,
): (i: number) => number {
  switch (e.dtype) {
    case "F64":
      return (i) => {
        const v = view.getFloat64(i * 8, true);
        // Narrowed to float32: a finite value beyond its range would become Infinity.
        if (Math.abs(v) > FLOAT32_MAX && Number.isFinite(v)) {
          throw fail(`tensor '${e.name}': F64 value ${v} at index ${i} is beyond float32's range`);
        }
        return v;
      };
    case "F32":
      return (i) => view.getFloat32(i * 4, true);
    case "F16":
      return (i) => halfToNumber(view.getUint16(i * 2, true));
    case "BF16": {
      const bits = new DataView(new ArrayBuffer(4));
      return (i) => {
        bits.setUint32(0, view.getUint16(i * 2, true) << 16);
        return bits.getFloat32(0);
      };
    }
    case "I64":
      return (i) => {
        const low = view.getInt32(i * 8, true);
        const high = view.getInt32(i * 8 + 4, true);
        if (high !== low >> 31) {
          const value = view.getBigInt64(i * 8, true);
          throw fail(`tensor '${e.name}': I64 value ${value} at index ${i} does not fit in int32`);
        }
        return low;
      };
    case "I32":
      return (i) => view.getInt32(i * 4, true);
    case "I16":
      return (i) => view.getInt16(i * 2, true);
    case "I8":
      return (i) => view.getInt8(i);
    case "BOOL":
      return (i) => (view.getUint8(i) !== 0 ? 1 : 0);
    default: // U8
      return (i) => view.getUint8(i);
  }
}

/** The elements of `bytes` (little-endian `dtype`) as float32 or int32 values. */
function convert(
  bytes: Uint8Array,
  e: Entry,
  fail: (m: string) => Error,
): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.length / ELEMENT_SIZE[e.dtype];
  const out = loadedDtype(e.dtype) === "float32" ? new Float32Array(n) : new Int32Array(n);
  if (storedAsIs(e.dtype)) {
    new Uint8Array(out.buffer).set(bytes); // aligned copy
    return out;
  }
  const read = elementReader(view, e, fail);
  for (let i = 0; i < n; i++) out[i] = read(i);
  return out;
}

/**
 * The elements of `bytes` (little-endian `dtype`, a key of ELEMENT_SIZE) as
 * float32 or int32 values, by the rules above (F64 beyond float32's range and
 * I64 beyond int32's are errors naming tensor `name`): pth_read.ts shares it.
 */
export function decodeElements(
  bytes: Uint8Array,
  dtype: string,
  name: string,
  fail: (m: string) => Error,
): Float32Array | Int32Array {
  return convert(bytes, { name, dtype, shape: [], begin: 0, end: bytes.length }, fail);
}

/**
 * Parses and checks the header of the safetensors bytes in `source` (a
 * buffer's, or a file's read by position): the tensors' entries, ordered by
 * their data, each checked against the file's size before any is read.
 */
function readHeader(
  source: ByteSource,
  fail: (m: string) => Error,
): { entries: Entry[]; dataStart: number } {
  const size = source.size;
  if (size < 8) {
    throw fail(`file is ${size} bytes, too short for the 8-byte header length`);
  }
  const prefix = source.bytes(0, 8);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${length} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (Number(length) > size - 8) {
    throw fail(`header length ${length} runs past the end of the file (${size} bytes)`);
  }
  const dataStart = 8 + Number(length);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(source.bytes(8, dataStart - 8));
  } catch {
    throw fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(header)) throw fail("header is not a JSON object");
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name !== METADATA_KEY) {
      entries.push(checkEntry(name, info, size - dataStart, fail));
    } else if (!isObject(info)) {
      throw fail(`${METADATA_KEY} is not an object`);
    } else {
      for (const [key, value] of Object.entries(info)) {
        if (typeof value !== "string") throw fail(`metadata value for '${key}' is not a string`);
      }
    }
  }
  // File order is data order (JSON objects do not keep the order of integer-like keys).
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The tensors tile the data section, as the reference reader demands: a
  // hole is most often a name listed twice, of which JSON keeps the last.
  let last: Entry | null = null;
  for (const e of entries) {
    if (e.begin === e.end) continue;
    if (last !== null && e.begin < last.end) {
      throw fail(
        `tensors '${last.name}' [${last.begin}, ${last.end}] and '${e.name}' ` +
          `[${e.begin}, ${e.end}] overlap`,
      );
    }
    const at = last?.end ?? 0;
    if (e.begin > at) {
      throw fail(
        `data bytes [${at}, ${e.begin}) belong to no tensor (a name listed twice in the header ` +
          "keeps only its last entry), so the file is damaged or not safetensors",
      );
    }
    if (last === null || e.end > last.end) last = e;
  }
  const extra = size - dataStart - (last?.end ?? 0);
  if (extra > 0) {
    throw fail(`${extra} data bytes after the last tensor belong to none (a damaged file)`);
  }
  return { entries, dataStart };
}

/**
 * Tensors from the bytes of a safetensors file, in file order. `source` names
 * the bytes in error messages; malformed input throws an Error saying what is
 * wrong.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * using n = tensor(new Int32Array([7]), []);
 * const loaded = io.decodeSafetensors(io.encodeSafetensors({ n }), "n.safetensors");
 * console.log(loaded.get("n")!.dtype, loaded.get("n")!.item()); // int32 7
 * ```
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = "<bytes>",
  options: LoadSafetensorsOptions = {},
): Map<string, Tensor> {
  // decodeSafetensors(bytes, { device }) would take the options for the source name.
  const usage = 'io.decodeSafetensors(bytes, "model.safetensors", { device: "cuda" })';
  checkArity("io.decodeSafetensors", arguments.length, 3, usage);
  if (typeof source !== "string") {
    throw new Error(`io.decodeSafetensors: the second argument is the source name; write ${usage}`);
  }
  options = checkOptions("io.decodeSafetensors", options, LOAD_KEYS, usage);
  return readSafetensors(bufferSource(bytes), source, options);
}

/**
 * Reads a safetensors file (as written by PyTorch's `safetensors.torch.save_file`
 * or `saveSafetensors`) into tensors by name, in file order. The header is
 * read and checked against the file's size first, then each float32 or
 * int32 tensor straight from the file into its memory.
 *
 * @example
 * ```ts
 * import { io, tensor } from "@lits/vision";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * using w = tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * await io.saveSafetensors(path, new Map([["w", w]]));
 * const state = await io.loadSafetensors(path);
 * console.log(state.get("w")!.shape); // [2, 2]
 * state.get("w")!.dispose();
 * await Deno.remove(path);
 * ```
 */
export async function loadSafetensors(
  path: string,
  options: LoadSafetensorsOptions = {},
): Promise<Map<string, Tensor>> {
  const usage = 'io.loadSafetensors(path, { device: "cuda" })';
  options = checkCall("io.loadSafetensors", arguments.length, 2, options, LOAD_KEYS, usage);
  let source: ByteSource & Disposable;
  try {
    source = await openSource(path);
  } catch (e) {
    throw new Error(`safetensors ${path}: cannot read: ${(e as Error).message}`, { cause: e });
  }
  using _ = source;
  return readSafetensors(source, path, options);
}

/**
 * @internal The tensors of the safetensors bytes in `source`, named `name`
 * in errors, with options already checked: `decodeSafetensors`' result.
 * From a file, each float32 or int32 tensor is read straight into its
 * memory (no copy of the file in fresh memory); a buffer's bytes are
 * decoded as `decodeSafetensors` decodes them.
 */
export function readSafetensors(
  source: ByteSource,
  name: string,
  options: LoadSafetensorsOptions,
): Map<string, Tensor> {
  const fail = (msg: string) => new Error(`safetensors ${name}: ${msg}`);
  const { entries, dataStart } = readHeader(source, fail);
  const out = new Map<string, Tensor>();
  try {
    for (const e of entries) {
      const tensorFail = (m: string) => fail(`tensor '${e.name}': ${m}`);
      const at = dataStart + e.begin;
      if (!source.reads) {
        const values = convert(source.bytes(at, e.end - e.begin), e, fail);
        try {
          out.set(e.name, tensor(values, e.shape, { device: options.device }));
        } catch (err) {
          throw tensorFail((err as Error).message);
        }
        continue;
      }
      const t = emptyTensor(e.shape, loadedDtype(e.dtype), options.device, tensorFail);
      if (storedAsIs(e.dtype)) {
        fillFromSource(t, source, at, tensorFail);
      } else {
        let values: Float32Array | Int32Array;
        try {
          values = convert(source.bytes(at, e.end - e.begin), e, fail);
        } catch (err) {
          t.dispose();
          throw err;
        }
        fillFromHost(t, new Uint8Array(values.buffer), tensorFail);
      }
      out.set(e.name, t);
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}
