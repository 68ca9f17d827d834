/**
 * The zip container of `torch.save` (torch >= 1.6), read with fflate: the
 * directory's record names first, then only the records asked for. torch
 * stores every record uncompressed (and aligned to 64 bytes), so a
 * compressed record means another tool rewrote the file and is refused by
 * name, never inflated; a record nobody asks for is never extracted, so a
 * small file cannot make the reader allocate much (a "zip bomb").
 *
 * @module
 */
// deno-lint-ignore no-import-prefix
import { type UnzipFileInfo, unzipSync } from "npm:fflate@0.8.3";

/** A zip archive's directory over its bytes: record names and, on request, their bytes. */
export interface ZipArchive {
  /** The record names, in directory order. */
  readonly names: readonly string[];
  /** A record's bytes, or undefined when there is none. */
  read(name: string): Uint8Array | undefined;
}

/**
 * Walks the directory of `bytes` with fflate, extracting the records
 * `wanted` accepts. A damaged directory could claim billions of records:
 * each takes at least 46 bytes, so more than fit is an error.
 */
function walk(
  bytes: Uint8Array,
  wanted: (f: UnzipFileInfo) => boolean,
): Record<string, Uint8Array> {
  let records = 0;
  return unzipSync(bytes, {
    filter: (f) => {
      if (++records > bytes.length / 46) {
        throw new Error("its directory lists more records than fit");
      }
      return wanted(f);
    },
  });
}

/**
 * The directory of the zip archive `bytes`; a damaged one throws an Error
 * saying what is wrong (the caller names the file). The stored records are
 * extracted in one pass (together no larger than the file); a compressed
 * one only says how it was compressed, and reading it throws.
 */
export function readZipArchive(bytes: Uint8Array): ZipArchive {
  const names: string[] = [];
  const seen = new Set<string>();
  const bad = new Map<string, string>();
  const files = walk(bytes, (f) => {
    if (!seen.has(f.name)) {
      seen.add(f.name);
      names.push(f.name);
    }
    if (f.compression !== 0) {
      bad.set(
        f.name,
        `record ${f.name} is compressed (zip method ${f.compression}); torch.save stores its ` +
          "records uncompressed, so another tool rewrote this file: load and save it again " +
          "in PyTorch, or re-zip it uncompressed (zip -0)",
      );
      return false;
    }
    if (f.size !== f.originalSize) {
      bad.set(f.name, `record ${f.name} is stored with ${f.size} bytes but says ${f.originalSize}`);
      return false;
    }
    return true;
  });
  return {
    names,
    read(name: string): Uint8Array | undefined {
      const why = bad.get(name);
      if (why !== undefined) throw new Error(why);
      return files[name];
    },
  };
}
