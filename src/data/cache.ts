/**
 * A compact uint8 cache of a split's decoded images: decode every PNG once,
 * then later runs read 8-bit pixels straight from one file (35,000 slices of
 * 256^2 are 2.3 GB).
 *
 * Layout: the 8 bytes `LITSU8C2`, a little-endian uint32 N, N bytes of UTF-8
 * JSON `{ count, width, height, fingerprint }`, `count` little-endian uint32
 * checksums (one an image), then `count` images of `width * height` bytes
 * each, row-major. The file is written under a temporary name, synced and
 * renamed, so a reader never sees a half-written cache and two processes
 * building the same cache do not corrupt it; each image is checked against
 * its checksum when read, so a file damaged later (a bad disk, a power cut
 * before the data reached it) is an Error, never other pixels.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/** What a cache file holds and what it was built from. */
export interface CacheHeader {
  /** Number of images. */
  count: number;
  /** Columns of every image. */
  width: number;
  /** Rows of every image. */
  height: number;
  /** Identifies the source (labels file and options); a mismatch means rebuild. */
  fingerprint: string;
}

const MAGIC = new TextEncoder().encode("LITSU8C2");

/** A 32-bit checksum of an image's bytes (FNV-1a over 32-bit words: ~20 us for 256^2). */
function checksum32(bytes: Uint8Array): number {
  // Words need 4-aligned bytes: an image of odd size inside a write chunk is
  // copied first, so that writer and reader hash the same way.
  const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  let h = 0x811c9dc5 ^ b.length;
  const words = b.length >>> 2;
  if (words > 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let k = 0; k < words; k++) h = Math.imul(h ^ w[k], 0x01000193);
  }
  for (let k = words * 4; k < b.length; k++) h = Math.imul(h ^ b[k], 0x01000193);
  return h >>> 0;
}

/** An image that does not match its checksum: the cache file was damaged after it was written. */
export class CacheDamagedError extends Error {}

/**
 * A 64-bit fingerprint of some bytes as 16 hex digits (two 32-bit FNV-1a
 * lanes with different offsets, which avoids BigInt arithmetic per byte): a
 * cheap way to tell whether a cache was built from the same labels file.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.fingerprintBytes(new TextEncoder().encode("abc")).length); // 16
 * ```
 */
export function fingerprintBytes(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[i], 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

/**
 * Reads a cache file's header, or undefined when the file is missing or not
 * a complete cache (wrong magic, wrong length).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * console.log(data.readCacheHeader("/nonexistent.u8")); // undefined
 * ```
 */
export function readCacheHeader(path: string): CacheHeader | undefined {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
  try {
    const head = new Uint8Array(12);
    if (readFully(file, head) < 12 || !MAGIC.every((b, i) => head[i] === b)) return undefined;
    const jsonLength = new DataView(head.buffer).getUint32(8, true);
    if (jsonLength > 1 << 20) return undefined;
    const json = new Uint8Array(jsonLength);
    if (readFully(file, json) < jsonLength) return undefined;
    const header = JSON.parse(new TextDecoder().decode(json)) as CacheHeader;
    const expected = 12 + jsonLength + header.count * (4 + header.width * header.height);
    if (file.statSync().size !== expected) return undefined;
    return header;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  } finally {
    file.close();
  }
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
function readFully(file: Deno.FsFile, buf: Uint8Array): number {
  let done = 0;
  while (done < buf.length) {
    const n = file.readSync(buf.subarray(done));
    if (n === null || n === 0) break;
    done += n;
  }
  return done;
}

/** Writes all of `buf`. */
function writeFully(file: Deno.FsFile, buf: Uint8Array): void {
  let done = 0;
  while (done < buf.length) done += file.writeSync(buf.subarray(done));
}

function headerBytes(header: CacheHeader): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + json.length);
  out.set(MAGIC);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  return out;
}

/**
 * Removes `path`'s temporary files (`<path>.tmp-<pid>`) left by builds that
 * were killed: their process is gone (Linux's /proc says so; elsewhere they
 * stay).
 */
function removeDeadTemporaries(path: string): void {
  if (!existsSync("/proc/self")) return;
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = [...Deno.readDirSync(dirname(path))].map((e) => e.name);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? name.slice(prefix.length) : "";
    if (!/^\d+$/.test(pid) || Number(pid) === Deno.pid || existsSync(`/proc/${pid}`)) continue;
    try {
      Deno.removeSync(join(dirname(path), name));
    } catch {
      // Another process removed it first.
    }
  }
}

/**
 * Builds a cache file: `fill(i, pixels)` writes image `i`'s 8-bit pixels into
 * `pixels` (`width * height` bytes). Written to a temporary file, synced, then
 * renamed over `path`; what killed builds left behind is removed first.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const path = Deno.makeTempFileSync({ suffix: ".u8" });
 * data.writeCache(path, { count: 2, width: 2, height: 1, fingerprint: "x" }, (i, px) => px.fill(i));
 * const cache = new data.CacheReader(path);
 * console.log(cache.read(1)); // Uint8Array [1, 1]
 * cache.close();
 * ```
 */
export function writeCache(
  path: string,
  header: CacheHeader,
  fill: (i: number, pixels: Uint8Array) => void,
): void {
  removeDeadTemporaries(path);
  const tmp = `${path}.tmp-${Deno.pid}`;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    const head = headerBytes(header);
    writeFully(file, head);
    const sums = new Uint32Array(header.count);
    writeFully(file, new Uint8Array(sums.buffer)); // filled in once the images are written
    const size = header.width * header.height;
    // Batch images into ~4 MB writes: one syscall per slice is measurable.
    const perChunk = Math.max(1, Math.floor((4 << 20) / Math.max(1, size)));
    const chunk = new Uint8Array(perChunk * size);
    for (let start = 0; start < header.count; start += perChunk) {
      const end = Math.min(header.count, start + perChunk);
      for (let i = start; i < end; i++) {
        const pixels = chunk.subarray((i - start) * size, (i - start + 1) * size);
        fill(i, pixels);
        sums[i] = checksum32(pixels);
      }
      writeFully(file, chunk.subarray(0, (end - start) * size));
    }
    file.seekSync(head.length, Deno.SeekMode.Start);
    writeFully(file, new Uint8Array(sums.buffer));
    // On disk before the rename: a power cut must not leave a complete-looking file of zeros.
    file.syncSync();
  } catch (e) {
    file.close();
    Deno.removeSync(tmp);
    throw e;
  }
  file.close();
  Deno.renameSync(tmp, path);
}

/**
 * Random access to a cache file's images. Reads are synchronous positioned
 * reads, so concurrent `get()` calls on one dataset cannot interleave a seek
 * and a read.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const path = Deno.makeTempFileSync({ suffix: ".u8" });
 * data.writeCache(path, { count: 3, width: 1, height: 1, fingerprint: "" }, (i, px) => px.fill(9 * i));
 * using cache = new data.CacheReader(path);
 * console.log(cache.header.count, cache.read(2)[0]); // 3 18
 * ```
 */
export class CacheReader {
  /** The file's header. */
  readonly header: CacheHeader;
  #file: Deno.FsFile | null;
  #dataOffset: number;
  #sums: Uint32Array;

  /** Opens `path`; throws when it is not a complete cache file. */
  constructor(readonly path: string) {
    const header = readCacheHeader(path);
    if (!header) throw new Error(`${path}: not a complete uint8 cache file`);
    this.header = header;
    const head = headerBytes(header).length;
    this.#dataOffset = head + 4 * header.count;
    this.#file = Deno.openSync(path, { read: true });
    this.#sums = new Uint32Array(header.count);
    this.#file.seekSync(head, Deno.SeekMode.Start);
    readFully(this.#file, new Uint8Array(this.#sums.buffer));
  }

  /** Image `i`'s pixels, into `out` when given. */
  read(
    i: number,
    out: Uint8Array = new Uint8Array(this.header.width * this.header.height),
  ): Uint8Array {
    const size = this.header.width * this.header.height;
    if (!(Number.isInteger(i) && i >= 0 && i < this.header.count)) {
      throw new RangeError(`${this.path}: image ${i} out of range [0, ${this.header.count})`);
    }
    if (this.#file === null) throw new Error(`CacheReader ${this.path} is closed`);
    this.#file.seekSync(this.#dataOffset + i * size, Deno.SeekMode.Start);
    const pixels = out.subarray(0, size);
    if (readFully(this.#file, pixels) < size) {
      throw new Error(`${this.path}: truncated cache file (image ${i})`);
    }
    if (checksum32(pixels) !== this.#sums[i]) {
      throw new CacheDamagedError(
        `${this.path}: image ${i} does not match its checksum (the file was damaged after it ` +
          "was written); delete the file and it is built again",
      );
    }
    return out;
  }

  /** Closes the file (again: nothing). */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
