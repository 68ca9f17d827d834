/**
 * A split whose images may differ in size, for `deno task evaluate`: each
 * image is min-max scaled as `LiTSDataset` does and, when its size is not
 * the split's (the first image's), resized bilinearly to it, so that the
 * run's own evaluation transform applies unchanged. A 128 x 128 slice beside
 * 512 x 512 ones is then evaluated instead of refused.
 *
 * @module
 */
import { LiTSDataset, type LiTSDatasetOptions } from "../data/lits_dataset.ts";
import { decodeImage, minMaxNormalize } from "../data/image_decode.ts";
import { resize } from "../data/transforms/functional/geometry.ts";
import type { Dataset, Sample } from "../data/types.ts";

/** What a worker needs to re-open a `ResizedSplit`. */
export interface ResizedSplitSpec {
  /** Absolute data folder. */
  root: string;
  /** Split name. */
  split: string;
  /** Check at open time that every listed file exists. */
  checkFiles?: boolean;
  /** Each slice over its own min and max (default), or over its bit depth's maximum ("none"). */
  normalize?: "minmax" | "none";
}

/** The images of one split at the split's size (see the module doc). */
export class ResizedSplit implements Dataset {
  readonly #ds: LiTSDataset;
  readonly #spec: ResizedSplitSpec;

  /** Opens the split's labels (checked as `LiTSDataset` checks them) and its first image. */
  constructor(spec: ResizedSplitSpec) {
    const options: LiTSDatasetOptions = {
      root: spec.root,
      split: spec.split,
      checkFiles: spec.checkFiles ?? true,
    };
    this.#ds = new LiTSDataset(options);
    this.#spec = { ...spec, root: this.#ds.root };
  }

  /** Columns of every sample (the first image's). */
  get width(): number {
    return this.#ds.width;
  }

  /** Rows of every sample. */
  get height(): number {
    return this.#ds.height;
  }

  /** Number of slices. */
  get length(): number {
    return this.#ds.length;
  }

  /** Filename of sample `i` as the CSV lists it. */
  filename(i: number): string {
    return this.#ds.filename(i);
  }

  /** Sample counts per class. */
  classCounts(): number[] {
    return this.#ds.classCounts();
  }

  /** Sample `i`, scaled to [0, 1] and resized to the split's size when it differs. */
  get(i: number): Promise<Sample> {
    // The executor runs now; a throw in it (bad index or file) rejects rather than throws.
    return new Promise((resolve) => resolve(this.getSync(i)));
  }

  /** Sample `i` on this thread. */
  getSync(i: number): Sample {
    const path = this.#ds.path(i);
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch (e) {
      throw new Error(`${path}: cannot read: ${(e as Error).message}`);
    }
    let image = decodeImage(bytes, path);
    if (this.#spec.normalize === "none") {
      for (let k = 0; k < image.data.length; k++) image.data[k] /= image.maxValue;
    } else minMaxNormalize(image.data);
    const { width, height } = this.#ds;
    if (image.width !== width || image.height !== height) {
      image = { ...resize(image, [height, width]), maxValue: image.maxValue };
    }
    return {
      image: { data: image.data, width, height },
      label: this.#ds.labels[i],
    };
  }

  /** How a loader worker re-opens it. */
  workerSpec(): { module: string; spec: ResizedSplitSpec } {
    return { module: import.meta.url, spec: { ...this.#spec, checkFiles: false } };
  }

  /** Nothing to close (no cache); kept so it can stand where a `LiTSDataset` stood. */
  close(): void {
    this.#ds.close();
  }
}

/** Re-opens a `ResizedSplit` in a loader worker. */
export function openDataset(spec: ResizedSplitSpec): ResizedSplit {
  return new ResizedSplit(spec);
}
