/**
 * What `Subset`, `ConcatDataset` and `TensorDataset` share: the check that an
 * argument is a dataset, labels read without decoding images, class counts,
 * torch's negative indices, and re-opening a wrapped dataset in a loader
 * worker from its `workerSpec()`.
 *
 * @module
 */
import type { Dataset } from "./types.ts";
import { Tensor } from "../tensor/tensor.ts";

/** What a wrapped dataset's `workerSpec()` returns. */
export type WorkerSpec = { module: string; spec: unknown };

/**
 * The labels type of a wrapper of `D`: `Int32Array` where `D` has a labels
 * array (`LiTSDataset`, `TensorDataset`, another wrapper of one), so that
 * `classBalancedSampler(subset)` type-checks; otherwise possibly undefined.
 */
export type LabelsOf<D> = D extends { labels: ArrayLike<number> } ? Int32Array
  : Int32Array | undefined;

/** A short description of a value, for the messages. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === "object") {
    const shape = (v as { shape?: unknown }).shape;
    if (Array.isArray(shape)) return `a Tensor of shape [${shape}]`;
    const name = v.constructor?.name;
    if (name && name !== "Object") return `a ${name}`;
    const keys = Object.keys(v).slice(0, 6);
    return `an object with keys { ${keys.join(", ")} }`;
  }
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Throws unless `value` is a dataset (an integer length >= 0 and a get(i) method). */
export function checkDataset(where: string, value: unknown, what = "dataset"): Dataset {
  const ds = value as Partial<Dataset> | null;
  if (
    ds === null || typeof ds !== "object" || typeof ds.get !== "function" ||
    !Number.isInteger(ds.length) || (ds.length as number) < 0
  ) {
    const hint = datasetHint(value);
    throw new Error(
      `${where}: ${what} must be a Dataset (an integer length and a get(i) method returning ` +
        `{ image, label }), got ${describe(value)}${hint}`,
    );
  }
  return ds as Dataset;
}

/**
 * What a non-dataset looks like to a PyTorch user, and what to write: a
 * tensor, a ported class with `__getitem__` / `__len__`, a `length()`
 * method, an iterable (torch's `IterableDataset`), or a plain array.
 */
function datasetHint(value: unknown): string {
  if (typeof value === "function") {
    return " (a class or function: pass an instance, new MyDataset(...))";
  }
  if (value instanceof Tensor) {
    return " (torch's TensorDataset(x, y) is new data.TensorDataset(x, y) here)";
  }
  if (value === null || typeof value !== "object") return "";
  const v = value as Record<string | symbol, unknown>;
  if (typeof v.__getitem__ === "function" || typeof v.__len__ === "function") {
    return " (a PyTorch Dataset's __getitem__(i) / __len__(): here they are get(i), returning " +
      "a sample or a Promise of one, and a length property: get length() { return n; })";
  }
  if (typeof v.length === "function" || typeof v.len === "function") {
    return " (length is a number here, not a method: get length() { return n; })";
  }
  if (Array.isArray(value)) {
    return " (a plain array of samples is not one: give it a length and a get(i) method: " +
      "{ length: arr.length, get: (i) => Promise.resolve(arr[i]) })";
  }
  if (typeof v.get !== "function" && (Symbol.asyncIterator in v || Symbol.iterator in v)) {
    return " (an iterable dataset, torch's IterableDataset, has no get(i), and this reads " +
      "samples by index; collect the samples and give { length, get(i) }; a DataLoader takes " +
      "the stream as it is)";
  }
  return "";
}

/** The dataset's labels when it holds them (as `datasetLabels` reads them), else undefined. */
export function cheapLabels(dataset: Dataset): ArrayLike<number> | undefined {
  const own = (dataset as { labels?: unknown }).labels;
  if (
    // A Tensor's .length throws (torch's len(x) is x.shape[0]): its labels are read per sample.
    own && typeof own === "object" && !(own instanceof Tensor) && "length" in own &&
    (own as ArrayLike<number>).length === dataset.length
  ) {
    return own as ArrayLike<number>;
  }
  return undefined;
}

/**
 * Samples per class, with at least `atLeast` classes (a base's count, so a
 * class missing from a subset shows 0 rather than vanishing).
 */
export function countClasses(
  labels: ArrayLike<number>,
  atLeast = 0,
  where = "classCounts",
): number[] {
  const counts = new Array<number>(atLeast).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0) {
      throw new Error(`${where}: label ${i} is ${l}, not a class index (an integer >= 0)`);
    }
    while (counts.length <= l) counts.push(0);
    counts[l]++;
  }
  return counts;
}

/** `i` as an index into `length` items, negative counting from the end (as Python's). */
export function wrapIndex(where: string, i: number, length: number): number {
  if (!Number.isInteger(i) || i < -length || i >= length) {
    throw new RangeError(
      `${where}: index ${i} out of range [${-length}, ${length}) (length ${length})`,
    );
  }
  return i < 0 ? i + length : i;
}

/** A dataset's worker spec, or undefined when it has none (the loader then reads it here). */
export function specOf(dataset: Dataset): WorkerSpec | undefined {
  const spec = dataset.workerSpec?.();
  return spec ? spec : undefined;
}

/** Opens a dataset in a worker from its `workerSpec()` (what the loader's worker does). */
export async function openSpec(where: string, spec: WorkerSpec): Promise<Dataset> {
  if (!spec || typeof spec.module !== "string") {
    throw new Error(`${where}: a part's worker spec has no module URL`);
  }
  const mod = await import(spec.module);
  if (typeof mod.openDataset !== "function") {
    throw new Error(`${where}: dataset module ${spec.module} exports no openDataset(spec)`);
  }
  return checkDataset(where, await mod.openDataset(spec.spec), `openDataset of ${spec.module}`);
}
