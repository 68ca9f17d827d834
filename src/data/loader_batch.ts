/**
 * The DataLoader's `Batch`: a loaded raw batch (pixels and labels on the
 * host) made into the two tensors the loader yields, and the check that a
 * loader's batches all hold one kind of sample (2-D images or volumes).
 *
 * @module
 */
import { tensor } from "../tensor/ops/creation.ts";
import { disown } from "../tensor/ownership.ts";
import type { Device } from "../tensor/device.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { BatchTask, RawBatch } from "./batch.ts";

/**
 * One batch. The tensors are yours, wherever the loop runs (inside
 * `noGrad(async ...)` or `scope(async ...)` too): dispose them, iterate with
 * `for await (using b of loader)`, or drop them for the collector. It is also iterable as `[images, labels]`,
 * so PyTorch's `for x, y in loader:` ports as
 * `for await (const [x, y] of loader)` (the named fields stay), and
 * `batch[0]`, `batch[1]` are the same two tensors (MONAI's
 * `batch_data[0].to(device)`).
 */
export interface Batch extends Disposable, Iterable<Tensor> {
  /** [N, 1, H, W] float32, or [N, C, D, H, W] for volume samples. */
  images: Tensor;
  /** [N] int32 class indices. */
  labels: Tensor;
  /** The dataset indices of the N samples. */
  indices: Int32Array;
  /** `images` (read-only, not enumerable: no field of its own). */
  readonly 0: Tensor;
  /** `labels` (read-only, not enumerable). */
  readonly 1: Tensor;
  /** Yields `images`, then `labels`: `const [x, y] = batch`. */
  [Symbol.iterator](): Iterator<Tensor>;
}

/** The batch tensors of `raw` on `device`, owned by the caller. */
export function toBatch(raw: RawBatch, indices: Int32Array, device: Device): Batch {
  const n = raw.labels.length;
  const shape = raw.depth > 0
    ? [n, raw.channels, raw.depth, raw.height, raw.width]
    : [n, 1, raw.height, raw.width];
  const images = tensor(raw.images, shape, { device });
  let labels: Tensor;
  try {
    labels = tensor(raw.labels, [n], { dtype: "int32", device });
  } catch (e) {
    images.dispose();
    throw e;
  }
  // Yours wherever the loop runs: inside noGrad(async ...) the chain would
  // otherwise hold every batch until the loop ends.
  disown(images);
  disown(labels);
  const batch: Omit<Batch, 0 | 1> = {
    images,
    labels,
    indices,
    [Symbol.dispose]() {
      images.dispose();
      labels.dispose();
    },
    *[Symbol.iterator]() {
      yield images;
      yield labels;
    },
  };
  // Not enumerable: keys, spreading and JSON see the named fields only.
  return Object.defineProperties(batch, { 0: { value: images }, 1: { value: labels } }) as Batch;
}

/** "2-D images" or "volumes": what a raw batch holds. */
function kindOf(raw: RawBatch): string {
  return raw.depth > 0 ? "volumes" : "2-D images";
}

/**
 * The kind of sample the loader's batches hold, given `seen`, the kind of
 * its earlier batches (null before the first non-empty one); throws when
 * `raw` holds the other kind.
 */
export function checkKind(raw: RawBatch, task: BatchTask, seen: string | null): string | null {
  if (raw.labels.length === 0) return seen;
  const kind = kindOf(raw);
  if (seen === null || kind === seen) return kind;
  const got = raw.depth > 0
    ? `a ${raw.depth}x${raw.height}x${raw.width} volume (d x h x w)`
    : `a ${raw.width}x${raw.height} image (w x h)`;
  throw new Error(
    `DataLoader: batch ${task.id} of epoch ${task.epoch}: sample ${task.indices[0]} is ` +
      `${got} but the loader's earlier batches held ${seen}; a dataset holds only ` +
      `2-D images { data, width, height } or only volumes { data, width, height, depth }`,
  );
}
