/**
 * `PersistentDataset`: MONAI's `PersistentDataset` (`monai.data`), a disk
 * cache of a `VolumeDataset`'s deterministic preprocessing. The first
 * `get(i)` of an item reads its NIfTI file(s), reorients, resamples and
 * runs the deterministic transforms, then writes the sample to one file in
 * `cacheDir`; later calls, later epochs and later runs read that file
 * instead (a resampled CT volume in a fraction of a second, not seconds).
 *
 * The key of an item (its file name) is a SHA-256 over everything its
 * sample depends on: the item (absolute file paths and label), the reading
 * options (orientation, spacing), the deterministic transform's spec, and
 * each source file's size and the SHA-256 of its whole content. MONAI
 * hashes the item only (and the transform only with `hash_transform`); here
 * a changed transform or a scan whose bytes changed is recomputed, whatever
 * its size and times say (a file rewritten with its old mtime restored by
 * `touch -r`, `cp -p`, `rsync -a` or tar included). A process hashes each
 * source file once and remembers the digest while the file's size, mtime,
 * ctime, inode and device stay the same, so later epochs pay a stat, not a
 * read. A sample is written only if its files' stat is the same after it
 * was computed as before, so a file edited while it is read is not cached.
 * The key does not hold the times or the inode: a copy of the cache folder
 * and of the data serves the same samples on another machine, and a touch,
 * chmod or move of the data folder keeps the cache (a move changes the
 * absolute paths, so it misses).
 *
 * A cache file is a safetensors file (one float32 tensor `image` of shape
 * [C, D, H, W]; the sample's other fields, its key, its source and a
 * SHA-256 checksum in `__metadata__`), written under a temporary name
 * (`<key>.safetensors.tmp-<host>-<pid>-<8 hex>`), synced and renamed, so a
 * killed run or two processes writing one item never leave a half file
 * under the real name. A file that is truncated, damaged or unreadable is
 * reported once on stderr, deleted and recomputed (as MONAI's). A write or
 * rename that fails is reported once per folder and the computed sample
 * used uncached (MONAI ignores such write errors too). A `cacheDir` that
 * exists but cannot be written (a read-only mount) is used read-only, with
 * one warning: valid files are served, a missing one is computed, not
 * written.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { type CallContract, checkContract } from "../options.ts";
import { describe, openSpec, type WorkerSpec, wrapIndex } from "./dataset_common.ts";
import {
  canonical,
  checksum,
  decodeFile,
  EXT,
  flatSpecs,
  FORMAT,
  headerBytes,
  sha256,
  sourceDigest,
  sourceFiles,
  type Stamp,
  storedOf,
  unchanged,
  VERSION,
  writeAll,
} from "./persistent_file.ts";
import { host, prepareDir, removeDeadTemporaries, warned } from "./persistent_folder.ts";
import type { Dataset, VolumeSample } from "./types.ts";
import { VolumeDataset, type VolumeDatasetOptions, type VolumeItem } from "./volume_dataset.ts";
export { resetWarnings } from "./persistent_folder.ts";

/** Options of `PersistentDataset`. */
export interface PersistentDatasetOptions {
  /**
   * The folder of the cache files (MONAI's `cache_dir`), created if
   * missing; one file per item, `<key>.safetensors`. Several datasets,
   * runs, processes and loader workers may share one folder. `null`: no
   * cache, every `get(i)` reads the files (MONAI's `cache_dir=None`).
   * Required.
   */
  cacheDir: string | null;
}

const WHERE = "data.PersistentDataset";
const USAGE = "new data.PersistentDataset(new data.VolumeDataset(items, { transform }), " +
  '{ cacheDir: "./cache" })';
const WRAP: CallContract<PersistentDatasetOptions> = {
  where: WHERE,
  most: 2,
  known: ["cacheDir"],
  usage: USAGE,
};
const ITEMS: CallContract<PersistentDatasetOptions & VolumeDatasetOptions> = {
  where: WHERE,
  most: 2,
  known: ["cacheDir", "transform", "orientation", "spacing"],
  usage: 'new data.PersistentDataset(items, { transform, cacheDir: "./cache" })',
};

/** MONAI's options that have no counterpart here, and why. */
const MONAI_ONLY: Record<string, string> = {
  hashFunc: "the key is always a SHA-256 over the item, the reading options, the transform's " +
    "spec and each file's size and content",
  hashTransform: "the transform's spec is always part of the key (as MONAI's " +
    "hash_transform=json_hashing), so a changed transform is never served from the cache",
  pickleModule: "cache files are safetensors, not pickles",
  pickleProtocol: "cache files are safetensors, not pickles",
  resetOpsId: "samples carry no transform trace",
  trackMeta: "samples carry their metadata (channels, spacing) always",
  weightsOnly: "cache files are safetensors, which hold no code",
};

/** The camelCase form of a snake_case option name. */
const camel = (k: string) => k.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Refuses MONAI's options that do not apply, with the reason. */
function refuseMonaiOnly(options: unknown): void {
  if (options === null || typeof options !== "object") return;
  for (const key of Object.keys(options)) {
    const why = MONAI_ONLY[camel(key)];
    if (why) throw new Error(`${WHERE}: unknown option '${key}': ${why}; leave it out`);
  }
}

/** `cacheDir` checked: a non-empty string or null. */
function checkCacheDir(dir: unknown, given: boolean): string | null {
  if (!given) {
    throw new Error(
      `${WHERE}: cacheDir is required (MONAI's cache_dir): give a folder for the cache files ` +
        `({ cacheDir: "./cache" }), or cacheDir: null for no cache`,
    );
  }
  if (dir === null) return null;
  if (typeof dir !== "string" || dir === "") {
    throw new Error(
      `${WHERE}: cacheDir must be the path of a folder (a string), or null for no cache, got ` +
        `${describe(dir)}` + (dir instanceof URL ? " (write its path: url.pathname)" : ""),
    );
  }
  return dir;
}

/** An item's key (a SHA-256, hex), the canonical text it hashes and its files' stamps. */
interface Key {
  key: string;
  source: string;
  stamps: Stamp[];
}

/** Set while `openDataset` builds one in a worker: the folder was prepared by the main thread. */
let opening = false;
/** With `opening`: the main thread found the folder read-only. */
let openingReadOnly = false;

/**
 * A `VolumeDataset` with a disk cache, as MONAI's `PersistentDataset(data,
 * transform, cache_dir)`: the first `get(i)` of an item computes its sample
 * (the files read, reoriented and resampled, the deterministic transforms
 * applied) and writes it to `cacheDir`; every later `get(i)`, in this run or
 * a later one, in this process or another, reads that file. `get(i)` returns
 * what the VolumeDataset's `get(i)` returns, bit for bit, with the same
 * fields (`channels`, `spacing`); the DataLoader's random transforms run
 * after it as with a VolumeDataset. `cacheDir: null` is MONAI's
 * `cache_dir=None`: no cache.
 *
 * Two forms: wrapping a VolumeDataset (as `CacheDataset.create` wraps
 * one: the deterministic transforms live in it, the random ones in the
 * loader), or MONAI's own form, the items with the VolumeDataset's options
 * (`new data.PersistentDataset(items, { transform, orientation, spacing,
 * cacheDir })`), which builds the VolumeDataset.
 *
 * The key (file name) of item i is a SHA-256 over its absolute file paths
 * and label, the orientation and spacing options, the transform's spec, and
 * each source file's size and the SHA-256 of its content: a changed
 * transform or a file whose bytes changed gives a new key, whatever its
 * times say, so a stale sample is not served (MONAI keys on the item alone,
 * and on the transform only with `hash_transform`). Each process hashes a
 * source file once (a 57 MB .nii.gz: ~80 ms, against ~1.5 s to resample
 * it) and again only when its size, mtime, ctime or inode change; a sample
 * whose file changed while it was computed is returned, not written. A
 * source file that is gone makes `get(i)` fail as the VolumeDataset's does.
 * Old files stay in `cacheDir` until removed.
 *
 * Files are written under a temporary name, synced and renamed, so loader
 * workers and other processes, on this host or others sharing the folder,
 * may share `cacheDir`. A cache file that is truncated, damaged (checked by
 * a SHA-256) or unreadable is reported once on stderr, deleted and
 * recomputed, as MONAI's. A cache file that cannot be written (a full disk,
 * a rename that fails) is reported once per folder and the sample returned
 * uncached, as MONAI ignores write errors. The folder is created if missing
 * and a test file written in it here: a `cacheDir` that cannot be created
 * fails now, naming it; one that exists and can be read but not written (a
 * read-only mount) is used read-only (`readOnly` true, one warning), its
 * valid files served and a missing sample computed, not written.
 *
 * With loader workers, each worker rebuilds it (and its VolumeDataset) and
 * reads and writes the same folder; under `CacheDataset.create` a later run
 * fills its memory cache from the disk cache.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const V = data.transforms.volume;
 * const items = [{ image: "tests/fixtures/nifti/anatomical.nii", label: 1 }];
 * const cacheDir = await Deno.makeTempDir();
 * const pre = new V.ScaleIntensityRange({ aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true });
 * const ds = new data.PersistentDataset(new data.VolumeDataset(items, { transform: pre }), {
 *   cacheDir,
 * });
 * const first = await ds.get(0); // read, transformed and written to cacheDir
 * const again = await new data.PersistentDataset(items, { transform: pre, cacheDir }).get(0);
 * console.log(again.image.data.every((v, i) => v === first.image.data[i])); // true
 * console.log((await ds.cacheFile(0))!.endsWith(".safetensors")); // true
 * const loader = new data.DataLoader(ds, { batchSize: 1, transform: V.compose([new V.RandFlip({ p: 0.5, spatialAxis: 0 })]) });
 * for await (using batch of loader) console.log(batch.images.shape); // [1, 1, 33, 41, 25]
 * await Deno.remove(cacheDir, { recursive: true });
 * ```
 */
export class PersistentDataset implements Dataset {
  /** The wrapped dataset, whose `get(i)` computes a sample that is not cached. */
  readonly dataset: VolumeDataset;
  /** The cache folder (as given), or null: no cache. */
  readonly cacheDir: string | null;
  /** True when `cacheDir` could not be written: its files are read, none written or deleted. */
  readonly readOnly: boolean;
  /** Each item's class index. */
  readonly labels: Int32Array;

  /** Wraps a VolumeDataset with a disk cache. */
  constructor(dataset: VolumeDataset, options: PersistentDatasetOptions);
  /** MONAI's form: the items and the VolumeDataset's options, with `cacheDir`. */
  constructor(
    data: readonly VolumeItem[],
    options: PersistentDatasetOptions & VolumeDatasetOptions,
  );
  constructor(
    dataset: VolumeDataset | readonly VolumeItem[],
    options: PersistentDatasetOptions & VolumeDatasetOptions,
  ) {
    refuseMonaiOnly(options);
    if (Array.isArray(dataset)) {
      const o = checkContract(ITEMS, arguments.length, options);
      const { cacheDir: _, ...rest } = o ?? {};
      this.dataset = new VolumeDataset(dataset, rest);
    } else if (dataset instanceof VolumeDataset) {
      if (options !== null && typeof options === "object") {
        const own = ["transform", "orientation", "spacing"].find((k) =>
          (options as unknown as Record<string, unknown>)[k] !== undefined
        );
        if (own) {
          throw new Error(
            `${WHERE}: unknown option '${own}' with a VolumeDataset: the wrapped dataset has ` +
              `its own ${own} (and it is part of the cache key); give it there: ${USAGE}, or ` +
              `give the items: new data.PersistentDataset(items, { ${own}, cacheDir })`,
          );
        }
      }
      checkContract(WRAP, arguments.length, options);
      this.dataset = dataset;
    } else {
      throw new Error(
        `${WHERE}: the first argument must be a data.VolumeDataset (or its items, MONAI's ` +
          `data), got ${describe(dataset)}; the cache key describes the item's files, reading ` +
          `options and transform, which only a VolumeDataset holds. Write ${USAGE}` +
          (dataset !== null && typeof dataset === "object" && "get" in dataset
            ? " (the other way round for a Subset or CacheDataset: new data.Subset(" +
              "persistent, indices), await data.CacheDataset.create(persistent); another " +
              "dataset's samples are cached in memory by data.CacheDataset.create(dataset))"
            : ""),
      );
    }
    const given = options !== null && typeof options === "object" && "cacheDir" in options;
    this.cacheDir = checkCacheDir(given ? options.cacheDir : undefined, given);
    if (opening) this.readOnly = openingReadOnly;
    else this.readOnly = this.cacheDir !== null && !prepareDir(WHERE, this.cacheDir);
    if (this.cacheDir !== null && !opening && !this.readOnly) {
      removeDeadTemporaries(this.cacheDir);
    }
    this.labels = this.dataset.labels;
  }

  /** Number of items. */
  get length(): number {
    return this.dataset.length;
  }

  /** Items per class (classes 0 .. the largest label). */
  classCounts(): number[] {
    return this.dataset.classCounts();
  }

  /**
   * Item `i` (negative counts from the end, as torch's): read from its cache
   * file when there is a valid one, else computed by the wrapped dataset and
   * written to `cacheDir`.
   */
  async get(i: number): Promise<VolumeSample> {
    const k = wrapIndex("PersistentDataset.get", i, this.length);
    if (this.cacheDir === null) return await this.dataset.get(k);
    const key = await this.#key(k);
    // A source file that cannot be read: the VolumeDataset's get(i) says what is wrong.
    if (key === null) return await this.dataset.get(k);
    const path = join(this.cacheDir, key.key + EXT);
    const hit = await this.#read(path, key.key);
    if (hit) return hit;
    const sample = await this.dataset.get(k);
    // A source file changed while it was read: the sample may not be the key's.
    if (!this.readOnly && await unchanged(key.stamps)) await this.#write(k, path, key, sample);
    return sample;
  }

  /**
   * The path of item `i`'s cache file in `cacheDir` (whether it exists yet
   * or not), or null without a cache or when a source file cannot be read.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const cacheDir = await Deno.makeTempDir();
   * const ds = new data.PersistentDataset([{ image: "tests/fixtures/nifti/anatomical.nii", label: 0 }], { cacheDir });
   * const path = await ds.cacheFile(0);
   * await ds.get(0);
   * console.log((await Deno.stat(path!)).isFile); // true
   * await Deno.remove(cacheDir, { recursive: true });
   * ```
   */
  async cacheFile(i: number): Promise<string | null> {
    const k = wrapIndex("PersistentDataset.cacheFile", i, this.length);
    if (this.cacheDir === null) return null;
    const key = await this.#key(k);
    return key && join(this.cacheDir, key.key + EXT);
  }

  /** How a loader worker rebuilds it: the VolumeDataset's spec and the folder. */
  workerSpec(): WorkerSpec {
    return {
      module: import.meta.url,
      spec: {
        base: this.dataset.workerSpec(),
        cacheDir: this.cacheDir,
        readOnly: this.readOnly,
      } satisfies PersistentSpec,
    };
  }

  /** Item `k`'s key, or null when a source file cannot be read. */
  async #key(k: number): Promise<Key | null> {
    const ds = this.dataset;
    const { image, label } = ds.items[k];
    const paths = sourceFiles(image);
    const files = [], stamps = [];
    for (const path of paths) {
      let digest;
      try {
        digest = await sourceDigest(path);
      } catch {
        return null;
      }
      files.push({ path, size: digest.stamp.size, sha256: digest.sha256 });
      stamps.push(digest.stamp);
    }
    const source = canonical({
      format: `${FORMAT}/${VERSION}`,
      item: {
        image: typeof image === "string" ? [resolve(image)] : image.map((p) => resolve(p)),
        label,
      },
      orientation: ds.orientation,
      spacing: ds.spacing,
      transform: flatSpecs(ds.transform?.spec ?? null),
      files,
    });
    return { key: await sha256(new TextEncoder().encode(source)), source, stamps };
  }

  /** The cached sample at `path`, or null when there is none (a damaged one removed). */
  async #read(path: string, key: string): Promise<VolumeSample | null> {
    let reason: string;
    try {
      return await decodeFile(await Deno.readFile(path), key);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      reason = (e as Error)?.message ?? String(e);
    }
    if (!warned.has(path)) {
      warned.add(path);
      console.warn(
        `warning: ${WHERE}: cache file ${path}: ${reason}; ` +
          (this.readOnly
            ? "recomputing it (cacheDir is read-only: the file stays)"
            : "deleting and recomputing it"),
      );
    }
    if (this.readOnly) return null;
    try {
      await Deno.remove(path);
    } catch {
      // Gone already (another worker or process), or it is replaced by the rename.
    }
    return null;
  }

  /**
   * Writes item `k`'s sample to `path`: a temporary file, synced, then
   * renamed. A failure is reported once per folder (the sample is used
   * uncached, as MONAI ignores write errors).
   */
  async #write(k: number, path: string, key: Key, sample: VolumeSample): Promise<void> {
    const tmp = `${path}.tmp-${host() ?? "_"}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
    let file: Deno.FsFile | null = null;
    let renaming = false;
    try {
      const { data } = sample.image;
      const voxels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const stored = JSON.stringify(storedOf(sample));
      const meta = {
        format: FORMAT,
        version: VERSION,
        key: key.key,
        source: key.source,
        sample: stored,
        checksum: await checksum(voxels, stored),
      };
      const { channels, depth, height, width } = sample.image;
      const head = headerBytes(meta, [channels ?? 1, depth, height, width], voxels.length);
      file = await Deno.open(tmp, { write: true, createNew: true });
      await writeAll(file, head);
      await writeAll(file, voxels);
      // On disk before the rename: a power cut must not leave a complete-looking file of zeros.
      await file.sync();
      file.close();
      file = null;
      renaming = true;
      await Deno.rename(tmp, path);
    } catch (e) {
      file?.close();
      await Deno.remove(tmp).catch(() => {});
      const what = `write ${this.cacheDir}`;
      if (warned.has(what)) return;
      warned.add(what);
      const why = renaming && e instanceof Deno.errors.NotFound
        ? `its temporary file ${tmp} was gone at the rename (another process removed it)`
        : `${renaming ? "the rename of its temporary file failed" : "it cannot be written"}: ` +
          `${(e as Error)?.message ?? e}`;
      console.warn(
        `warning: ${WHERE}: item ${k}: no cache file written in cacheDir ` +
          `${JSON.stringify(this.cacheDir)}: ${why}; the computed sample is used uncached ` +
          `(later write failures in this folder are not reported)`,
      );
    }
  }
}

/** A `PersistentDataset`'s worker spec. */
interface PersistentSpec {
  base: WorkerSpec;
  cacheDir: string | null;
  readOnly?: boolean;
}

/** @internal rebuilds a `PersistentDataset` in a loader worker from its `workerSpec().spec`. */
export async function openDataset(spec: PersistentSpec): Promise<PersistentDataset> {
  const base = await openSpec(`${WHERE} (worker)`, spec.base);
  opening = true;
  openingReadOnly = spec.readOnly === true;
  try {
    return new PersistentDataset(base as VolumeDataset, { cacheDir: spec.cacheDir });
  } finally {
    opening = false;
    openingReadOnly = false;
  }
}
