/**
 * Loading one batch: read the samples, augment each with its own RNG, and
 * pack them into one Float32Array [N, H, W] (or [N, C, D, H, W] for volumes,
 * augmented by a volume transform on host voxels) plus Int32Array labels. The same
 * function runs in worker threads and, for datasets without a worker spec,
 * on the main thread, so both paths give identical batches.
 *
 * @module
 */
import { Rng } from "./rng.ts";
import { recycle } from "./transforms/image.ts";
import type { Transform } from "./transforms/transform.ts";
import { applyToVolume, isVolumeTransform } from "./transforms/volume/host.ts";
import type { VolumeTransform } from "./transforms/volume/transform.ts";
import type { Dataset, Image, Sample, Volume, VolumeSample } from "./types.ts";
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
  /** N * C * depth * height * width values (C, depth 1 for images), sample after sample. */
  images: Float32Array;
  /** N labels. */
  labels: Int32Array;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
  /** Volume depth; 0 for a batch of 2-D images. */
  depth: number;
  /** Channels per sample (1 for 2-D images and one-channel volumes). */
  channels: number;
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

/** What the loader applies to each sample: a 2-D transform, or a volume one for volumes. */
export type SampleTransform = ImageTransform | VolumeTransform;

/** Whether `x` is a volume: it has a depth (as `checkSample` decides). */
function isVolume(x: Image | Volume): x is Volume {
  return (x as Partial<Volume>).depth !== undefined;
}

/** "WxH" of an image, "DxHxW" of a volume. */
function dims(x: Image | Volume): string {
  return isVolume(x) ? `${x.depth}x${x.height}x${x.width}` : `${x.width}x${x.height}`;
}

/** Channels of a volume (1 when not given; 2-D images have one). */
function channelsOf(x: Image | Volume): number {
  return isVolume(x) ? x.channels ?? 1 : 1;
}

/** "a WxH image (w x h)" or "a DxHxW volume (d x h x w)" ("a 2-channel ..."), for the messages. */
function sizeOf(x: Image | Volume): string {
  const c = channelsOf(x);
  return isVolume(x)
    ? `a ${c === 1 ? "" : `${c}-channel `}${dims(x)} volume (d x h x w)`
    : `a ${dims(x)} image (w x h)`;
}

/** One sample augmented: a volume transform for a volume, a 2-D one for an image. */
export function augment(
  image: Image | Volume,
  transform: SampleTransform,
  rng: Rng,
): Image | Volume {
  const volumeT = isVolumeTransform(transform);
  if (isVolume(image)) {
    if (!volumeT) {
      throw new Error(
        `the sample is ${sizeOf(image)} but the loader's transform is a 2-D one ` +
          `(data.transforms); volumes take volume transforms: ` +
          `transform: data.transforms.volume.compose([...])`,
      );
    }
    return applyToVolume(transform, image, rng);
  }
  if (volumeT) {
    throw new Error(
      `the sample is ${sizeOf(image)} but the loader's transform is a volume transform ` +
        `(${transform.name}); 2-D images take data.transforms (e.g. transforms.ct())`,
    );
  }
  return transform.apply(image, rng);
}
/** @internal a failure of sample `index`, as the loader reports it. */
export function sampleError(index: number, e: unknown): BatchError {
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
  transform: SampleTransform | null,
  task: BatchTask,
  buffers?: BufferPool,
): Promise<RawBatch> {
  const { indices } = task;
  const n = indices.length;
  const samples = await Promise.all(
    Array.from(indices, (index) =>
      (async (): Promise<Sample | VolumeSample> => {
        try {
          return await dataset.get(index);
        } catch (e) {
          throw sampleError(index, e);
        }
      })()),
  );
  const labels = new Int32Array(n);
  let images: Float32Array | null = null;
  let first: Image | Volume | null = null;
  for (let k = 0; k < n; k++) {
    const index = indices[k];
    let image: Image | Volume;
    try {
      // The form is checked here, where worker and main thread both read samples.
      const { image: raw, label } = checkSample(samples[k]);
      labels[k] = label;
      image = transform
        ? augment(
          raw,
          transform,
          Rng.forSample(task.seed, task.epoch, task.offset + task.stride * (task.start + k)),
        )
        : raw;
      const size = image.width * image.height *
        (isVolume(image) ? image.depth * (image.channels ?? 1) : 1);
      if (image.data.length !== size) {
        throw new Error(`the transform made ${image.data.length} values for ${sizeOf(image)}`);
      }
    } catch (e) {
      throw sampleError(index, e);
    }
    if (!first || !images) {
      first = image;
      images = buffers?.take(n * image.data.length) ?? new Float32Array(n * image.data.length);
    } else if (isVolume(image) !== isVolume(first)) {
      // One kind per batch (and, the loader checks, per dataset): see sample_form.ts.
      throw new BatchError({
        index,
        message: `samples in one batch mix 2-D images and volumes: sample ${indices[0]} is ` +
          `${sizeOf(first)} but sample ${index} is ${sizeOf(image)}; a dataset holds only ` +
          `images { data, width, height } or only volumes { data, width, height, depth }`,
      });
    } else if (dims(image) !== dims(first)) {
      const fix = isVolume(image)
        ? "add a volume Resize, ResizeWithPadOrCrop or RandSpatialCrop transform " +
          "(data.transforms.volume)"
        : "add a Resize or CenterCrop transform";
      throw new BatchError({
        index,
        message: `${isVolume(image) ? "volumes" : "images"} in one batch differ in size: ` +
          `sample ${indices[0]} is ${dims(first)} (${isVolume(image) ? "d x h x w" : "w x h"}) ` +
          `but sample ${index} is ${dims(image)}; ${fix}`,
      });
    } else if (channelsOf(image) !== channelsOf(first)) {
      throw new BatchError({
        index,
        message: `volumes in one batch differ in channels: sample ${indices[0]} has ` +
          `${channelsOf(first)} but sample ${index} has ${channelsOf(image)}; the loader batches ` +
          `[N, C, D, H, W]: give every item as many files (or 4-D frames), or make the ` +
          `transforms leave every volume the same number of channels`,
      });
    }
    images.set(image.data, k * image.data.length);
    // A 2-D transform's output was made for this batch and is copied now
    // (volume transforms allocate their own and keep no pool).
    if (!isVolume(image) && image.data !== samples[k].image.data) recycle(image.data);
  }
  return {
    id: task.id,
    images: images ?? new Float32Array(0),
    labels,
    width: first?.width ?? 0,
    height: first?.height ?? 0,
    depth: first && isVolume(first) ? first.depth : 0,
    channels: first ? channelsOf(first) : 1,
  };
}
