/**
 * The course's pre-processed LiTS slices ("Clean_LiTS"): `<root>/<split>/`
 * holds grey PNG (or JPEG) slices and `<root>/<split>_classes.csv` labels
 * them. Everything is checked when the dataset is opened (labels, paths,
 * that every file exists), so a bad row fails at once rather than hours into
 * training.
 *
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import {
  CacheDamagedError,
  CacheReader,
  fingerprintBytes,
  readCacheHeader,
  writeCache,
} from "./cache.ts";
import { type LabelRow, parseLabelsCsv } from "./csv_labels.ts";
import { decodeImage, type GreyImage, minMaxNormalize } from "./image_decode.ts";
import type { Dataset, Sample } from "./types.ts";
import { type CallContract, checkContract } from "../options.ts";

/** Options of `LiTSDataset`. */
export interface LiTSDatasetOptions {
  /** Folder holding `train/`, `val/`, `test/` and the `*_classes.csv` files. */
  root: string;
  /** Split name: "train", "val", "test" (any folder name works). */
  split: string;
  /**
   * "minmax" (default): each image scaled to [0, 1] by its own minimum and
   * maximum, as the course does. "none": the file's values divided by its bit
   * depth's maximum (255 or 65535), as torchvision's `ToTensor`.
   */
  normalize?: "minmax" | "none";
  /**
   * Decode every image once into a uint8 cache file and read from it after
   * that: `true` puts it at `<root>/<split>_u8.cache`, a string is its path.
   * Default false: decode on demand. The cache keeps 8-bit images exactly
   * and is remade when the labels file or any image's size or modification
   * time changes; 16-bit images are read from their files every time (8 bits
   * would round them, and training would see other pixels than `evaluate`).
   */
  cache?: boolean | string;
  /** Labels file (default `<root>/<split>_classes.csv`). */
  csv?: string;
  /** Check at open time that every listed file exists (default true). */
  checkFiles?: boolean;
}

/** Bumped when the cache's pixel conversion changes, so old caches rebuild. */
const CACHE_VERSION = 3; // 3: per-image checksums, hashed alike for every image size

const NEW_LITS_DATASET: CallContract<LiTSDatasetOptions> = {
  where: "data.LiTSDataset",
  most: 1,
  known: ["root", "split", "normalize", "cache", "csv", "checkFiles"],
  usage: 'new data.LiTSDataset({ root: "data/lits", split: "train" })',
};

/**
 * The LiTS slices of one split, with labels 0 = no liver, 1 = liver,
 * 2 = liver + lesion. Images are float32 in [0, 1]; all images of a split must
 * have the same size.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const root = await Deno.makeTempDir();
 * await data.synthesizeLiTS({ out: root, preset: "easy", patients: 3, slicesPerPatient: 12 });
 * const train = new data.LiTSDataset({ root, split: "train" });
 * const { image, label } = await train.get(0);
 * console.log(train.length, image.width, image.height, label, train.classCounts());
 * ```
 */
export class LiTSDataset implements Dataset {
  /** Absolute path of the dataset's root folder. */
  readonly root: string;
  /** The split's name. */
  readonly split: string;
  /** Columns of every image. */
  readonly width: number;
  /** Rows of every image. */
  readonly height: number;
  /** Class of each sample. */
  readonly labels: Uint8Array;
  /** The labels file. */
  readonly csvPath: string;
  readonly #rows: LabelRow[];
  readonly #dir: string;
  readonly #normalize: "minmax" | "none";
  readonly #cachePath: string | undefined;
  readonly #first: string;
  #cache: CacheReader | undefined;
  #warnedDamage = false;

  /** Reads and checks the labels file, the first image and (optionally) the cache. */
  constructor(options: LiTSDatasetOptions) {
    options = checkContract(NEW_LITS_DATASET, arguments.length, options);
    for (const key of ["root", "split"] as const) {
      if (typeof options[key] !== "string" || options[key] === "") {
        throw new Error(
          `data.LiTSDataset: ${key} is required (a string); write ${NEW_LITS_DATASET.usage}`,
        );
      }
    }
    this.root = resolve(options.root);
    this.split = options.split;
    this.#normalize = options.normalize ?? "minmax";
    if (this.#normalize !== "minmax" && this.#normalize !== "none") {
      throw new Error(`LiTSDataset: normalize must be "minmax" or "none", not ${this.#normalize}`);
    }
    this.#dir = join(this.root, this.split);
    this.csvPath = options.csv
      ? resolve(options.csv)
      : join(this.root, `${this.split}_classes.csv`);
    let csvBytes: Uint8Array;
    try {
      csvBytes = Deno.readFileSync(this.csvPath);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`${this.csvPath}: labels file not found (split "${this.split}")`);
      }
      throw e;
    }
    this.#rows = parseLabelsCsv(new TextDecoder().decode(csvBytes), this.csvPath);
    if (this.#rows.length === 0) {
      throw new Error(`${this.csvPath}: empty split "${this.split}" (no rows)`);
    }
    this.labels = Uint8Array.from(this.#rows, (r) => r.label);
    if (options.checkFiles ?? true) this.#checkFiles();

    const first = this.#decode(0);
    this.width = first.width;
    this.height = first.height;
    this.#first = this.path(0);

    // The cache holds a byte a pixel: 16-bit images are read from their files
    // (rounded to 8 bits, training saw other pixels than evaluate's reader).
    if (options.cache && first.maxValue === 255) {
      this.#cachePath = typeof options.cache === "string"
        ? resolve(options.cache)
        : join(this.root, `${this.split}_u8.cache`);
      // The images' sizes and times too: a slice rewritten in place (a
      // re-export into the same folder) must not be served from the cache.
      const fingerprint = `v${CACHE_VERSION}:${fingerprintBytes(csvBytes)}:${this.#filesStamp()}`;
      const header = {
        count: this.#rows.length,
        width: this.width,
        height: this.height,
        fingerprint,
      };
      const found = readCacheHeader(this.#cachePath);
      if (JSON.stringify(found) !== JSON.stringify(header)) {
        writeCache(this.#cachePath, header, (i, px) => this.#toBytes(i, px));
      }
      this.#cache = new CacheReader(this.#cachePath);
    }
  }

  /** Number of slices. */
  get length(): number {
    return this.#rows.length;
  }

  /** Filename of sample `i` as the CSV lists it. */
  filename(i: number): string {
    return this.#rows[this.#check(i)].filename;
  }

  /** Absolute path of sample `i`'s image. */
  path(i: number): string {
    return join(this.#dir, this.#rows[this.#check(i)].filename);
  }

  /** Sample `i`: `{ image: { data, width, height }, label }`. */
  get(i: number): Promise<Sample> {
    // The executor runs now; a throw in it (bad index or file) rejects rather than throws.
    return new Promise((resolve) => resolve(this.getSync(i)));
  }

  /** Sample `i`, decoded on this thread without waiting. */
  getSync(i: number): Sample {
    this.#check(i);
    let data: Float32Array;
    const bytes = this.#cached(i);
    if (bytes) {
      data = new Float32Array(bytes.length);
      for (let k = 0; k < bytes.length; k++) data[k] = bytes[k] / 255;
      if (this.#normalize === "minmax") minMaxNormalize(data);
    } else {
      const img = this.#decode(i);
      data = img.data;
      if (this.#normalize === "minmax") minMaxNormalize(data);
      else for (let k = 0; k < data.length; k++) data[k] /= img.maxValue;
    }
    return { image: { data, width: this.width, height: this.height }, label: this.labels[i] };
  }

  /**
   * Image `i` from the cache, or null without one. A damaged image is read
   * from its file instead (the same pixels), and the run is told once.
   */
  #cached(i: number): Uint8Array | null {
    if (!this.#cache) return null;
    try {
      return this.#cache.read(i);
    } catch (e) {
      if (!(e instanceof CacheDamagedError)) throw e;
      if (!this.#warnedDamage) console.warn(`warning: ${e.message}; reading from the images`);
      this.#warnedDamage = true;
      return null;
    }
  }

  /** Number of samples of each class [no liver, liver, liver + lesion]. */
  classCounts(): number[] {
    const counts = [0, 0, 0];
    for (const label of this.labels) counts[label]++;
    return counts;
  }

  /** How a loader worker re-opens this dataset (see `openDataset`). */
  workerSpec(): { module: string; spec: LiTSDatasetOptions } {
    return {
      module: import.meta.url,
      spec: {
        root: this.root,
        split: this.split,
        normalize: this.#normalize,
        cache: this.#cachePath ?? false,
        csv: this.csvPath,
        // This thread already checked every file; workers need not again.
        checkFiles: false,
      },
    };
  }

  /** Closes the cache file, if any. */
  close(): void {
    this.#cache?.close();
    this.#cache = undefined;
  }

  #check(i: number): number {
    if (!(Number.isInteger(i) && i >= 0 && i < this.#rows.length)) {
      throw new RangeError(
        `LiTSDataset(${this.split}): index ${i} out of range [0, ${this.length})`,
      );
    }
    return i;
  }

  #where(i: number): string {
    return `listed in ${this.csvPath} line ${this.#rows[i].line}`;
  }

  #checkFiles(): void {
    try {
      if (!Deno.statSync(this.#dir).isDirectory) throw new Deno.errors.NotFound();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`${this.#dir}: split folder not found`);
      }
      throw e;
    }
    for (let i = 0; i < this.#rows.length; i++) {
      const path = join(this.#dir, this.#rows[i].filename);
      try {
        if (!Deno.statSync(path).isFile) throw new Error(`${path}: not a file (${this.#where(i)})`);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new Error(`${path}: file not found (${this.#where(i)})`);
        }
        throw e;
      }
    }
  }

  /** Decodes image `i` and checks it has the split's size. */
  #decode(i: number): GreyImage {
    const path = join(this.#dir, this.#rows[i].filename);
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`${path}: file not found (${this.#where(i)})`);
      }
      throw e;
    }
    const img = decodeImage(bytes, `${path} (${this.#where(i)})`);
    // width is undefined only while the constructor decodes image 0.
    if (this.width !== undefined && (img.width !== this.width || img.height !== this.height)) {
      throw new Error(
        `${path}: image is ${img.width}x${img.height} but the split's images are ` +
          `${this.width}x${this.height} (as ${this.#first}) (${this.#where(i)})`,
      );
    }
    return img;
  }

  /** A checksum of every listed image's size and modification time. */
  #filesStamp(): string {
    const parts = this.#rows.map((r, i) => {
      const path = join(this.#dir, r.filename);
      try {
        const s = Deno.statSync(path);
        return `${s.size}:${s.mtime?.getTime() ?? 0}`;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new Error(`${path}: file not found (${this.#where(i)})`);
        }
        throw e;
      }
    });
    return fingerprintBytes(new TextEncoder().encode(parts.join(",")));
  }

  /** Image `i` as the cache stores it (8-bit splits only: see the constructor). */
  #toBytes(i: number, out: Uint8Array): void {
    const img = this.#decode(i);
    if (img.maxValue !== 255) {
      throw new Error(
        `${this.path(i)}: a 16-bit image in a split whose ` +
          `first image (${this.#first}) is 8-bit; the split's images must share one bit depth ` +
          `(${this.#where(i)})`,
      );
    }
    for (let k = 0; k < out.length; k++) out[k] = Math.round(img.data[k]);
  }
}

/**
 * Re-opens a `LiTSDataset` from its `workerSpec().spec`, for the data
 * loader's workers.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const root = await Deno.makeTempDir();
 * await data.synthesizeLiTS({ out: root, preset: "easy", patients: 3, slicesPerPatient: 12 });
 * const { spec } = new data.LiTSDataset({ root, split: "val" }).workerSpec();
 * console.log(data.openDataset(spec).length);
 * ```
 */
export function openDataset(spec: LiTSDatasetOptions): LiTSDataset {
  if (!spec || typeof spec.root !== "string" || !isAbsolute(spec.root)) {
    throw new Error("openDataset: spec.root must be an absolute path");
  }
  return new LiTSDataset(spec);
}
