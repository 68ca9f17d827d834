/**
 * Loading one batch: read the samples, augment each with its own RNG, and
 * pack them into one Float32Array [N, H, W] plus Int32Array labels. The same
 * function runs in worker threads and, for datasets without a worker spec,
 * on the main thread, so both paths give identical batches.
 *
 * @module
 */
import { Rng } from "./rng.ts";
import { recycle } from "./transforms/image.ts";
import type { Transform } from "./transforms/transform.ts";
import type { Dataset, Image, Sample } from "./types.ts";
import { checkSample } from "./sample_form.ts";

/** One batch to load: sample positions start..start+n-1 of an epoch. */
export interface BatchTask {
  /** Batch number within the epoch. */
  id: number;
  /** Epoch (part of every sample's RNG seed). */
  epoch: number;
  /** Loader seed. */
  seed: number;
  /** Position of the first sample within the epoch's order. */
  start: number;
  /** Sample k's augmentation stream is that of position offset + stride * (start + k). */
  offset: number;
  /** See `offset`. */
  stride: number;
  /** Dataset indices of the batch's samples. */
  indices: Int32Array;
}

/** A loaded batch as plain arrays (transferable between threads). */
export interface RawBatch {
  /** Batch number within the epoch. */
  id: number;
  /** N * height * width pixels, sample after sample. */
  images: Float32Array;
  /** N labels. */
  labels: Int32Array;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
}

/** A batch that failed, with the sample that caused it (structured-clonable). */
export interface BatchFailure {
  /** What went wrong. */
  message: string;
  /** Dataset index of the failing sample, when one sample is to blame. */
  index?: number;
}

/** Thrown by `loadBatch` with what the loader reports. */
export class BatchError extends Error {
  /** Dataset index of the failing sample, if any. */
  readonly index: number | undefined;
  /** `failure` as a worker would post it. */
  constructor(failure: BatchFailure, options?: ErrorOptions) {
    super(failure.message, options);
    this.name = "BatchError";
    this.index = failure.index;
  }
}

/** Something that augments one image with a given RNG. */
export type ImageTransform = Pick<Transform, "apply">;

function sampleError(index: number, e: unknown): BatchError {
  const message = e instanceof Error ? e.message : String(e);
  return new BatchError({ index, message: `sample ${index}: ${message}` }, { cause: e });
}

/**
 * Spare batch buffers, reused so a steady loader asks the system for no new
 * memory (a fresh 8 MB batch costs ~2,000 page faults). The loader hands a
 * buffer back once its pixels are copied into a tensor.
 */
export class BufferPool {
  #free: Float32Array[] = [];
  /** A buffer of exactly `n` floats (contents undefined). */
  take(n: number): Float32Array {
    const i = this.#free.findIndex((b) => b.length === n);
    return i >= 0 ? this.#free.splice(i, 1)[0] : new Float32Array(n);
  }
  /** Keeps `b` for a later `take` (a few at most). */
  give(b: Float32Array): void {
    if (this.#free.length < 8 && b.byteLength > 0) this.#free.push(b);
  }
}

/**
 * Loads, augments and packs one batch. Samples are read concurrently (the
 * dataset may wait on files), augmented in order.
 */
export async function loadBatch(
  dataset: Dataset,
  transform: ImageTransform | null,
  task: BatchTask,
  buffers?: BufferPool,
): Promise<RawBatch> {
  const { indices } = task;
  const n = indices.length;
  const samples = await Promise.all(
    Array.from(indices, (index) =>
      (async (): Promise<Sample> => {
        try {
          return await dataset.get(index);
        } catch (e) {
          throw sampleError(index, e);
        }
      })()),
  );
  const labels = new Int32Array(n);
  let images: Float32Array | null = null;
  let first: Image | null = null;
  for (let k = 0; k < n; k++) {
    const index = indices[k];
    let image: Image;
    try {
      // The form is checked here, where worker and main thread both read samples.
      const { image: raw, label } = checkSample(samples[k]);
      labels[k] = label;
      image = transform
        ? transform.apply(
          raw,
          Rng.forSample(task.seed, task.epoch, task.offset + task.stride * (task.start + k)),
        )
        : raw;
      if (image.data.length !== image.width * image.height) {
        throw new Error(`image has ${image.data.length} values for ${image.width}x${image.height}`);
      }
    } catch (e) {
      throw sampleError(index, e);
    }
    if (!first || !images) {
      first = image;
      const size = n * image.width * image.height;
      images = buffers?.take(size) ?? new Float32Array(size);
    } else if (image.width !== first.width || image.height !== first.height) {
      throw new BatchError({
        index,
        message: `images in one batch differ in size: sample ${indices[0]} is ` +
          `${first.width}x${first.height} (w x h) but sample ${index} is ${image.width}x${image.height}; ` +
          `add a Resize or CenterCrop transform`,
      });
    }
    images.set(image.data, k * image.data.length);
    // The transform's output was made for this batch and is copied now.
    if (image.data !== samples[k].image.data) recycle(image.data);
  }
  return {
    id: task.id,
    images: images ?? new Float32Array(0),
    labels,
    width: first?.width ?? 0,
    height: first?.height ?? 0,
  };
}
