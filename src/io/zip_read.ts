/**
 * The zip container of `torch.save` (torch >= 1.6), read by position: the
 * end record and the central directory first (record names, sizes and
 * where their local headers lie; zip64 too, as torch writes for files past
 * 4 GB), then, for a record asked for, its local header and where its
 * bytes lie, checked against the file's size before anything is read or
 * allocated. torch stores every record uncompressed (and aligned to 64
 * bytes), so a compressed record means another tool rewrote the file and
 * is refused by name, never inflated; a record nobody asks for is never
 * read, so a small file cannot make the reader allocate much (a "zip
 * bomb"). CRC-32s are not checked (nor were they with fflate before: a
 * 100 MB file's would cost more than reading it).
 *
 * @module
 */
import type { ByteSource } from "./byte_source.ts";

/** Where a stored record's bytes lie in the file. */
export interface ZipRecord {
  /** The first byte's offset in the file. */
  offset: number;
  /** How many bytes. */
  size: number;
}

/** A zip archive's directory over its bytes: record names and, on request, their place and bytes. */
export interface ZipArchive {
  /** The record names, in directory order. */
  readonly names: readonly string[];
  /** Where a record's bytes lie, or undefined when there is none; a compressed or damaged one throws. */
  find(name: string): ZipRecord | undefined;
  /** A record's bytes, or undefined when there is none. */
  read(name: string): Uint8Array | undefined;
}

const END = 0x06054b50;
const END64 = 0x06064b50;
const LOCATOR64 = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** The smallest central-directory entry (46 bytes and an empty name). */
const ENTRY_BYTES = 46;
const MAX_COMMENT = 0xffff;

/** A directory entry, before its local header is read. */
interface Entry {
  name: string;
  method: number;
  size: number;
  originalSize: number;
  header: number;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** A 64-bit little-endian count that a JS number holds exactly, or an Error. */
function u64(v: DataView, at: number, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`its ${what} (${n}) is not a size`);
  return Number(n);
}

/** The directory's place and record count, from the end record (and zip64's, when there is one). */
function readEnd(source: ByteSource): { offset: number; size: number; count: number } {
  const tail = source.bytes(
    Math.max(0, source.size - (22 + MAX_COMMENT)),
    Math.min(source.size, 22 + MAX_COMMENT),
  );
  const t = view(tail);
  let e = tail.length - 22;
  while (e >= 0 && t.getUint32(e, true) !== END) e--;
  if (e < 0) throw new Error("it has no end of central directory record");
  let count = t.getUint16(e + 10, true);
  let size = t.getUint32(e + 12, true);
  let offset = t.getUint32(e + 16, true);
  const endAt = source.size - tail.length + e;
  if (endAt >= 20) {
    const locator = view(source.bytes(endAt - 20, 20));
    if (locator.getUint32(0, true) === LOCATOR64) {
      const at = u64(locator, 8, "zip64 end record's offset");
      if (at + 56 > endAt) throw new Error(`its zip64 end record at byte ${at} lies past the end`);
      const z = view(source.bytes(at, 56));
      if (z.getUint32(0, true) !== END64) {
        throw new Error(`there is no zip64 end record at byte ${at}, where its locator points`);
      }
      count = u64(z, 32, "record count");
      size = u64(z, 40, "directory size");
      offset = u64(z, 48, "directory offset");
    }
  }
  if (offset + size > source.size) {
    throw new Error(
      `its central directory [${offset}, ${offset + size}) lies past the end of the file ` +
        `(${source.size} bytes)`,
    );
  }
  // A damaged end record could claim billions of records: each takes at least 46 bytes.
  if (count * ENTRY_BYTES > size) throw new Error("its directory lists more records than fit");
  return { offset, size, count };
}

/** The directory's entries, each checked to lie within the directory. */
function readDirectory(source: ByteSource): Entry[] {
  const { offset, size, count } = readEnd(source);
  const dir = source.bytes(offset, size);
  const d = view(dir);
  const entries: Entry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_BYTES > size || d.getUint32(at, true) !== CENTRAL) {
      throw new Error(`directory entry ${i} at byte ${offset + at} is damaged`);
    }
    const flags = d.getUint16(at + 8, true);
    const nameLength = d.getUint16(at + 28, true);
    const extraLength = d.getUint16(at + 30, true);
    const next = at + ENTRY_BYTES + nameLength + extraLength + d.getUint16(at + 32, true);
    if (next > size) throw new Error(`directory entry ${i} runs past the directory's end`);
    const nameBytes = dir.subarray(at + ENTRY_BYTES, at + ENTRY_BYTES + nameLength);
    // Bit 11: the name is UTF-8; else code page 437, read (as fflate reads it) as Latin-1.
    const name = flags & 0x800
      ? new TextDecoder().decode(nameBytes)
      : String.fromCharCode(...nameBytes);
    const entry: Entry = {
      name,
      method: d.getUint16(at + 10, true),
      size: d.getUint32(at + 20, true),
      originalSize: d.getUint32(at + 24, true),
      header: d.getUint32(at + 42, true),
    };
    readZip64Extra(d, at + ENTRY_BYTES + nameLength, extraLength, entry);
    entries.push(entry);
    at = next;
  }
  return entries;
}

/**
 * The zip64 extra field (id 1) of an entry whose sizes or header offset
 * are 0xffffffff: the true values, in that order, of those that are.
 */
function readZip64Extra(d: DataView, at: number, length: number, e: Entry): void {
  const FULL = 0xffffffff;
  const wide = [e.originalSize === FULL, e.size === FULL, e.header === FULL];
  if (!wide.includes(true)) return;
  for (let p = at; p + 4 <= at + length; p += 4 + d.getUint16(p + 2, true)) {
    if (d.getUint16(p, true) !== 1) continue;
    let q = p + 4;
    const end = Math.min(q + d.getUint16(p + 2, true), at + length);
    const take = (what: string) => {
      if (q + 8 > end) throw new Error(`record ${e.name}'s zip64 field lacks its ${what}`);
      const v = u64(d, q, what);
      q += 8;
      return v;
    };
    if (wide[0]) e.originalSize = take("size");
    if (wide[1]) e.size = take("stored size");
    if (wide[2]) e.header = take("header offset");
    return;
  }
  throw new Error(`record ${e.name} has sizes of 0xffffffff but no zip64 field`);
}

/**
 * The directory of the zip archive in `source`; a damaged one throws an
 * Error saying what is wrong (the caller names the file). Nothing but the
 * directory is read until a record is asked for.
 */
export function readZipArchive(source: ByteSource): ZipArchive {
  const entries = readDirectory(source);
  const names: string[] = [];
  // A name listed twice: the last entry is the record (fflate's rule, before this reader).
  const byName = new Map<string, Entry>();
  for (const e of entries) {
    if (!byName.has(e.name)) names.push(e.name);
    byName.set(e.name, e);
  }
  const found = new Map<string, ZipRecord>();
  const find = (name: string): ZipRecord | undefined => {
    const e = byName.get(name);
    if (e === undefined) return undefined;
    let r = found.get(name);
    if (r !== undefined) return r;
    if (e.method !== 0) {
      throw new Error(
        `record ${name} is compressed (zip method ${e.method}); torch.save stores its ` +
          "records uncompressed, so another tool rewrote this file: load and save it again " +
          "in PyTorch, or re-zip it uncompressed (zip -0)",
      );
    }
    if (e.size !== e.originalSize) {
      throw new Error(`record ${name} is stored with ${e.size} bytes but says ${e.originalSize}`);
    }
    if (e.header + 30 > source.size) {
      throw new Error(`record ${name}'s local header at byte ${e.header} lies past the end`);
    }
    const h = view(source.bytes(e.header, 30));
    if (h.getUint32(0, true) !== LOCAL) {
      throw new Error(`record ${name} has no local header at byte ${e.header} (a damaged file)`);
    }
    const offset = e.header + 30 + h.getUint16(26, true) + h.getUint16(28, true);
    if (offset + e.size > source.size) {
      throw new Error(
        `record ${name} [${offset}, ${offset + e.size}) lies past the end of the file ` +
          `(${source.size} bytes)`,
      );
    }
    r = { offset, size: e.size };
    found.set(name, r);
    return r;
  };
  return {
    names,
    find,
    read(name: string): Uint8Array | undefined {
      const r = find(name);
      return r && source.bytes(r.offset, r.size);
    },
  };
}
