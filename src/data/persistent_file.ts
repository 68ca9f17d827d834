/**
 * The cache file of a `PersistentDataset` item and its key's parts: the
 * canonical text an item's key hashes, the source files' content digests
 * (remembered while their stat stays the same), and the safetensors file
 * that holds a sample (its voxels, its fields and a checksum).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { describe } from "./dataset_common.ts";
import type { VolumeTransformSpec } from "./transforms/volume/transform.ts";
import type { Volume, VolumeSample } from "./types.ts";

/** The cache file format; a change of layout or of what the key covers bumps it. */
export const FORMAT = "lits.PersistentDataset";
export const VERSION = "2";
export const EXT = ".safetensors";

/** JSON with sorted keys, -0 and non-finite numbers kept: one text per value. */
export function canonical(v: unknown): string {
  if (typeof v === "number") {
    return Object.is(v, -0) || !Number.isFinite(v) ? JSON.stringify(numberText(v)) : String(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${
      keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
        .join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** -0, NaN and the infinities as text ("-0": String(-0) is "0"). */
const numberText = (v: number): string => Object.is(v, -0) ? "-0" : String(v);

/** A number as JSON keeps it: -0, NaN and the infinities as strings. */
const numberOut = (v: number): number | string =>
  Object.is(v, -0) || !Number.isFinite(v) ? numberText(v) : v;
const numberIn = (v: unknown): number => typeof v === "string" ? Number(v) : v as number;

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The SHA-256 (hex) of a file's content, read in blocks (a 57 MB .nii.gz: ~80 ms). */
async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const block = new Uint8Array(1 << 20);
  for (let n; (n = await file.read(block)) !== null;) hash.update(block.subarray(0, n));
  return hash.digest("hex");
}

/** What stat says of a source file: its digest is remembered while this stays the same. */
export interface Stamp {
  path: string;
  size: number;
  mtime: number | null;
  ctime: number | null;
  ino: number | null;
  dev: number;
}

async function stampOf(path: string): Promise<Stamp> {
  const info = await Deno.stat(path);
  return {
    path,
    size: info.size,
    mtime: info.mtime?.getTime() ?? null,
    ctime: info.ctime?.getTime() ?? null,
    ino: info.ino,
    dev: info.dev,
  };
}

const sameStamp = (a: Stamp, b: Stamp) =>
  a.size === b.size && a.mtime === b.mtime && a.ctime === b.ctime && a.ino === b.ino &&
  a.dev === b.dev;

/** Source files' digests in this thread, by absolute path, with the stamp they were taken at. */
const digests = new Map<string, { stamp: Stamp; sha256: string }>();

/**
 * A source file's stamp and content digest; throws when it cannot be read.
 * The digest is remembered while the stamp stays the same, but only for a
 * file whose ctime was over 2 s old when it was hashed: Deno gives ctime in
 * whole seconds, so a file changed again within the second of its ctime
 * (a rewrite with its size and mtime restored) would keep its stamp; such
 * a "racy" file (git's word) is hashed on every call until it settles.
 */
export async function sourceDigest(path: string): Promise<{ stamp: Stamp; sha256: string }> {
  const stamp = await stampOf(path);
  const known = digests.get(path);
  if (known && sameStamp(known.stamp, stamp)) return { stamp, sha256: known.sha256 };
  const start = Date.now();
  const sha256 = await hashFile(path);
  // Changed while it was read: not remembered, and get(i) will not write its sample.
  const settled = stamp.ctime !== null && stamp.ctime < start - 2000;
  if (settled && sameStamp(await stampOf(path), stamp)) digests.set(path, { stamp, sha256 });
  return { stamp, sha256 };
}

/** True when every source file's stat is still `stamps`. */
export async function unchanged(stamps: readonly Stamp[]): Promise<boolean> {
  for (const s of stamps) {
    try {
      if (!sameStamp(await stampOf(s.path), s)) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The checksum of a cache file: its voxels' SHA-256, then that and the sample's fields. */
export async function checksum(voxels: Uint8Array, sample: string): Promise<string> {
  return await sha256(new TextEncoder().encode(`${await sha256(voxels)}\n${sample}`));
}

/**
 * A transform's spec as the list of the transforms it applies in turn:
 * nested Composes flattened (as MONAI's `Compose.flatten()`), so that `t`,
 * `[t]` and a worker's rebuilt `Compose([Compose([t])])` give one key.
 */
export function flatSpecs(spec: VolumeTransformSpec | null): VolumeTransformSpec[] {
  if (spec === null) return [];
  if (spec.name === "volume.Compose" && Array.isArray(spec.transforms)) {
    return (spec.transforms as VolumeTransformSpec[]).flatMap(flatSpecs);
  }
  return [spec];
}

/** The files an item reads: each path, and a `.hdr`'s `.img`. */
export function sourceFiles(image: string | readonly string[]): string[] {
  const out: string[] = [];
  for (const p of typeof image === "string" ? [image] : image) {
    out.push(resolve(p));
    if (/\.hdr(\.gz)?$/i.test(p)) out.push(resolve(p.replace(/\.hdr(\.gz)?$/i, ".img$1")));
  }
  return out;
}

/** The sample's fields besides the voxels, as stored: `keys` in order, `fields` by name. */
export interface Stored {
  label: number;
  keys: string[];
  fields: Record<string, number | string | (number | string)[] | null>;
}

/** A sample as plain data for the file's metadata; throws on a field that cannot be stored. */
export function storedOf(sample: VolumeSample): Stored {
  const { image, label } = sample;
  const keys = Object.keys(image).filter((k) => k !== "data");
  const fields: Stored["fields"] = {};
  for (const k of keys) {
    const v = (image as unknown as Record<string, unknown>)[k];
    if (v === undefined) fields[k] = null;
    else if (typeof v === "number") fields[k] = numberOut(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === "number")) {
      fields[k] = v.map(numberOut);
    } else {
      throw new Error(`the sample's image.${k} is ${describe(v)}, which a cache file cannot hold`);
    }
  }
  return { label, keys, fields };
}

/** The sample of a stored form and its voxels. */
function sampleOf(s: Stored, data: Float32Array): VolumeSample {
  const image: Record<string, unknown> = { data };
  for (const k of s.keys) {
    const v = s.fields[k];
    image[k] = v === null ? undefined : Array.isArray(v) ? v.map(numberIn) : numberIn(v);
  }
  return { image: image as unknown as Volume, label: s.label };
}

/** The bytes before the voxels: safetensors' length, header JSON (padded) and nothing else. */
export function headerBytes(
  meta: Record<string, string>,
  shape: number[],
  bytes: number,
): Uint8Array {
  const image = { dtype: "F32", shape, data_offsets: [0, bytes] };
  const json = new TextEncoder().encode(
    `{"__metadata__":${JSON.stringify(meta)},"image":${JSON.stringify(image)}}`,
  );
  const length = json.length + ((8 - (json.length % 8)) % 8); // voxels 8-byte aligned
  const out = new Uint8Array(8 + length).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(length), true);
  out.set(json, 8);
  return out;
}

/** A cache file's sample, checked against `key`; throws with the reason it is not valid. */
export async function decodeFile(bytes: Uint8Array, key: string): Promise<VolumeSample> {
  if (bytes.length < 8) throw new Error(`${bytes.length} bytes, too short`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > bytes.length - 8) throw new Error(`truncated (a header of ${n} bytes)`);
  let header: Record<string, { dtype?: string; shape?: number[]; data_offsets?: number[] }>;
  let meta: Record<string, string>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
    meta = header.__metadata__ as unknown as Record<string, string>;
  } catch (e) {
    throw new Error(`unreadable header (${(e as Error).message})`);
  }
  if (meta?.format !== FORMAT || meta.version !== VERSION) {
    throw new Error(`not a ${FORMAT} file of version ${VERSION}`);
  }
  if (meta.key !== key) throw new Error(`it holds key ${meta.key}, not its name's`);
  const { dtype, shape, data_offsets: at } = header.image ?? {};
  const size = Array.isArray(shape) ? shape.reduce((a, b) => a * b, 1) : NaN;
  if (
    dtype !== "F32" || !Array.isArray(at) || at[0] !== 0 || at[1] !== 4 * size ||
    bytes.length !== 8 + n + 4 * size
  ) {
    throw new Error(`truncated or damaged (${bytes.length} bytes for [${shape}] voxels)`);
  }
  const voxels = bytes.subarray(8 + n);
  if (await checksum(voxels, meta.sample) !== meta.checksum) {
    throw new Error("it does not match its checksum (damaged after it was written)");
  }
  const stored = JSON.parse(meta.sample) as Stored;
  // Aligned: the header is padded to 8 bytes (a copy only if the read buffer was not).
  const data = voxels.byteOffset % 4 === 0 ? voxels : voxels.slice();
  return sampleOf(stored, new Float32Array(data.buffer, data.byteOffset, size));
}

/** Writes all of `bytes` to `file`. */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}
