/**
 * `TensorDataset`: images and labels already in tensors, as samples
 * (PyTorch's `torch.utils.data.TensorDataset(images, labels)`).
 *
 * @module
 */
import type { Tensor } from "../tensor/tensor.ts";
import { checkArity } from "../options.ts";
import { countClasses, describe, wrapIndex } from "./dataset_common.ts";
import type { Dataset, Sample } from "./types.ts";

const USAGE = "new data.TensorDataset(images, labels)";

/** A `TensorDataset`'s worker spec: the pixels in shared memory, not copied. */
interface TensorSpec {
  pixels: Float32Array;
  labels: Int32Array;
  width: number;
  height: number;
}

/** Set only while `openDataset` builds one from a spec. */
let restoring: TensorSpec | null = null;

function isTensorLike(v: unknown): v is Tensor {
  return v !== null && typeof v === "object" && Array.isArray((v as Tensor).shape) &&
    typeof (v as Tensor).toArray === "function";
}

/** [N, 1, H, W] or [N, H, W] float32: the pixels, copied once into shared memory. */
function readImages(where: string, images: unknown): { pixels: Float32Array; shape: number[] } {
  if (!isTensorLike(images)) {
    throw new Error(
      `${where}: images must be a float32 Tensor [N, 1, H, W] or [N, H, W], got ` +
        `${describe(images)}; write ${USAGE}`,
    );
  }
  const shape = [...images.shape];
  if (images.dtype !== "float32") {
    throw new Error(
      `${where}: images must be float32, got ${images.dtype} [${shape}]; write images.float()`,
    );
  }
  if (shape.length === 4 && shape[1] !== 1) {
    const channelsLast = shape[3] === 1
      ? `; for channels-last [N, H, W, 1] write images.reshape([${shape[0]}, 1, ${shape[1]}, ${
        shape[2]
      }])`
      : "";
    throw new Error(
      `${where}: images are [${shape}], ${shape[1]} channels; this library's images have one ` +
        `channel ([N, 1, H, W] or [N, H, W]): keep one (images.narrow(1, 0, 1)) or convert ` +
        `to grey first${channelsLast}`,
    );
  }
  if (shape.length !== 3 && shape.length !== 4) {
    // torch's TensorDataset takes any rows (MNIST flattened to [N, 784], features [N, F]).
    throw new Error(
      `${where}: images must be [N, 1, H, W] or [N, H, W], got [${shape}]: this dataset ` +
        "gives image samples; for rows of other tensors (features, flattened images) take " +
        "batches yourself: const order = randperm(n); then for each batch " +
        "x.indexSelect(0, order.slice(i, i + batchSize))",
    );
  }
  const [h, w] = shape.slice(-2);
  if (h < 1 || w < 1) {
    throw new Error(`${where}: images are [${shape}]; an image needs at least 1x1 pixels`);
  }
  const host = images.toArray() as Float32Array;
  // Shared memory: loader workers get this buffer itself, not a copy each.
  const pixels = new Float32Array(new SharedArrayBuffer(host.byteLength));
  pixels.set(host);
  return { pixels, shape };
}

/** Labels: a 1-D int32 Tensor or an array of class indices, one per image. */
function readLabels(where: string, labels: unknown, n: number): Int32Array {
  let values: ArrayLike<number>;
  if (isTensorLike(labels)) {
    if (labels.dtype !== "int32") {
      throw new Error(
        `${where}: labels must be class indices, an int32 tensor; got ${labels.dtype} ` +
          `[${labels.shape}]: write labels.int()`,
      );
    }
    if (labels.shape.length !== 1) {
      throw new Error(
        `${where}: labels must be 1-D (one class index per image), got [${labels.shape}]` +
          (labels.shape.length === 2 ? " (one-hot? write labels.argmax(1))" : ""),
      );
    }
    values = labels.toArray();
  } else if (
    Array.isArray(labels) || (ArrayBuffer.isView(labels) && !(labels instanceof DataView))
  ) {
    values = labels as ArrayLike<number>;
  } else {
    throw new Error(
      `${where}: labels must be an int32 Tensor or an array of class indices, got ` +
        `${describe(labels)}; write ${USAGE}`,
    );
  }
  if (values.length !== n) {
    // torch: "Size mismatch between tensors".
    throw new Error(`${where}: ${n} images but ${values.length} labels; give one label per image`);
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = values[i];
    if (!Number.isInteger(l) || l < 0) {
      throw new Error(`${where}: labels[${i}] is ${l}; labels are class indices (integers >= 0)`);
    }
    out[i] = l;
  }
  return out;
}

/**
 * Images and labels from tensors, as PyTorch's `TensorDataset(images,
 * labels)`: sample `i` is `{ image: { data, width, height }, label }` with
 * image `i` of a float32 `[N, 1, H, W]` (or `[N, H, W]`) tensor and label
 * `i` of an int32 `[N]` tensor or an array. The pixels are copied out of the
 * tensor once, here (into shared memory that loader workers read without a
 * copy), so the tensors may be disposed afterwards and no batch reads the
 * device. Each `get(i)` returns a fresh copy of one image. Images have one
 * channel in this library: `[N, C, H, W]` with C > 1 is refused.
 *
 * @example
 * ```ts
 * import { data, tensor } from "@lits/vision";
 * const images = tensor(new Float32Array(4 * 2 * 3).map((_, k) => k), [4, 1, 2, 3]);
 * const ds = new data.TensorDataset(images, [0, 1, 1, 2]);
 * images.dispose(); // the dataset holds its own copy
 * const { image, label } = await ds.get(1);
 * console.log(ds.length, image.width, image.height, [...image.data], label); // 4 3 2 [6, 7, 8, 9, 10, 11] 1
 * console.log(ds.classCounts()); // [1, 2, 1]
 * ```
 */
export class TensorDataset implements Dataset {
  /** Each sample's class index. */
  readonly labels: Int32Array;
  /** Image columns. */
  readonly width: number;
  /** Image rows. */
  readonly height: number;
  readonly #pixels: Float32Array;

  /** `images`: float32 [N, 1, H, W] or [N, H, W]; `labels`: int32 [N] or an array of N class indices. */
  constructor(images: Tensor, labels: Tensor | ArrayLike<number>) {
    const where = "data.TensorDataset";
    if (restoring) {
      ({ pixels: this.#pixels, labels: this.labels, width: this.width, height: this.height } =
        restoring);
      return;
    }
    if (arguments.length > 2) {
      throw new Error(
        `${where}: takes two tensors (images, labels), got ${arguments.length}; a sample is ` +
          `{ image, label } here, so extra tensors have nowhere to go: ${USAGE} (for rows of ` +
          "several tensors, take batches yourself: x.indexSelect(0, randperm(n).slice(i, j)))",
      );
    }
    checkArity(where, arguments.length, 2, USAGE);
    if (labels === undefined) {
      throw new Error(`${where}: labels are missing; write ${USAGE}`);
    }
    const { pixels, shape } = readImages(where, images);
    this.labels = readLabels(where, labels, shape[0]);
    this.#pixels = pixels;
    [this.height, this.width] = shape.slice(-2);
  }

  /** Number of samples. */
  get length(): number {
    return this.labels.length;
  }

  /** Sample `i` (negative counts from the end, as torch's), its pixels copied. */
  get(i: number): Promise<Sample> {
    try {
      const k = wrapIndex("TensorDataset.get", i, this.labels.length);
      const size = this.width * this.height;
      const data = this.#pixels.slice(k * size, (k + 1) * size);
      return Promise.resolve({
        image: { data, width: this.width, height: this.height },
        label: this.labels[k],
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Samples per class (classes 0 .. the largest label). */
  classCounts(): number[] {
    return countClasses(this.labels);
  }

  /** How a loader worker rebuilds it: the same shared pixels, no copy. */
  workerSpec(): { module: string; spec: TensorSpec } {
    return {
      module: import.meta.url,
      spec: { pixels: this.#pixels, labels: this.labels, width: this.width, height: this.height },
    };
  }
}

/** @internal rebuilds a `TensorDataset` in a loader worker from its `workerSpec().spec`. */
export function openDataset(spec: TensorSpec): TensorDataset {
  restoring = spec;
  try {
    return new TensorDataset(undefined as never, undefined as never);
  } finally {
    restoring = null;
  }
}
