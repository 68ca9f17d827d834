/**
 * The shapes data takes before it becomes tensors: one grey-level image or
 * volume, one labelled sample, and the dataset contract the loader reads.
 *
 * @module
 */

/** A single-channel image, row-major, `data.length === width * height`. */
export interface Image {
  /** Pixel values, row by row. */
  data: Float32Array;
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/**
 * A volume, row-major as [C, D, H, W] (width fastest, then height, then
 * depth, then channel): `data.length === channels * depth * height * width`,
 * channel after channel. Without `channels` it has one. The loader batches
 * volumes into [N, C, D, H, W].
 */
export interface Volume {
  /** Voxel values, [C, D, H, W] row-major (one [D, H, W] block per channel). */
  data: Float32Array;
  /**
   * Channels C (MONAI's channel-first axis): several files of one item, or
   * the 4th dimension of a NIfTI file. Optional; absent means 1.
   */
  channels?: number;
  /** Size along the last spatial axis (W, fastest in memory). */
  width: number;
  /** Size along the middle spatial axis (H). */
  height: number;
  /** Size along the first spatial axis (D). */
  depth: number;
  /**
   * Voxel size along D, H, W (mm for CT), where known: `VolumeDataset`
   * sets it from the file (after any reorientation). Optional; the loader
   * does not read it.
   */
  spacing?: [number, number, number];
}

/** LiTS slice classes: 0 = no liver, 1 = liver, 2 = liver + lesion. */
export type LiTSLabel = 0 | 1 | 2;

/** One labelled image. */
export interface Sample {
  /** The image. */
  image: Image;
  /** Its class index. */
  label: number;
}

/** One labelled volume. */
export interface VolumeSample {
  /** The volume. */
  image: Volume;
  /** Its class index. */
  label: number;
}

/** Anything the data loader can read samples from. */
export interface Dataset {
  /** Number of samples. */
  readonly length: number;
  /**
   * Sample `i` (0 <= i < length) as `{ image: { data, width, height }, label }`,
   * or a volume `{ image: { data, width, height, depth }, label }` (all samples
   * of a dataset of one kind): not a PyTorch `(image, label)` tuple nor a
   * tensor image, which the loader refuses with a message saying what to
   * return (see `sample_form.ts`).
   */
  get(i: number): Promise<Sample | VolumeSample>;
  /** Number of samples per class. */
  classCounts?(): number[];
  /**
   * How a worker can rebuild this dataset in its own thread (a module URL
   * exporting `openDataset(spec)` and a structured-clonable spec), so that
   * decoding runs off the main thread. Datasets without it are read on the
   * main thread.
   */
  workerSpec?(): { module: string; spec: unknown };
}
