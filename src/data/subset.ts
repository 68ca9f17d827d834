/**
 * `Subset`: the samples of a dataset at given indices (PyTorch's
 * `torch.utils.data.Subset`), what `randomSplit` returns.
 *
 * @module
 */
import { checkArity } from "../options.ts";
import {
  cheapLabels,
  checkDataset,
  countClasses,
  describe,
  type LabelsOf,
  openSpec,
  specOf,
  type WorkerSpec,
  wrapIndex,
} from "./dataset_common.ts";
import type { Dataset, Sample } from "./types.ts";

const USAGE = "new data.Subset(dataset, [0, 5, 7])";

/** Index arrays: numbers, or a 1-D int32 Tensor's elements. */
function indexValues(where: string, indices: unknown): ArrayLike<number> {
  if (indices !== null && typeof indices === "object" && "toArray" in indices) {
    const t = indices as { shape: readonly number[]; dtype: string; toArray(): ArrayLike<number> };
    if (!Array.isArray(t.shape) || t.shape.length !== 1 || t.dtype !== "int32") {
      throw new Error(
        `${where}: indices must be a 1-D int32 tensor or an array of integers, got ` +
          `${describe(indices)} (${t.dtype}); write indices.int() or indices.flatten()`,
      );
    }
    return t.toArray();
  }
  if (
    indices === null || typeof indices !== "object" ||
    typeof (indices as { length?: unknown }).length !== "number" || typeof indices === "string"
  ) {
    throw new Error(`${where}: indices must be an array of integers, got ${describe(indices)}`);
  }
  return indices as ArrayLike<number>;
}

/**
 * The samples of `dataset` at `indices`, in that order (indices may repeat),
 * as PyTorch's `Subset`. Indices are checked here, not when a batch reads
 * them: a negative or out-of-range one is an Error now (torch's IndexError
 * comes epochs later, or a negative index silently reads from the end).
 *
 * `labels` and `classCounts()` are there when the base holds its labels
 * (`LiTSDataset`, `TensorDataset`, another `Subset` or `ConcatDataset` of
 * them), so `classBalancedSampler(subset)` and the class report work; with
 * a base that can give labels only by decoding every image, use
 * `await data.datasetLabels(subset)`. `workerSpec()` is there when the
 * base has one, so a loader's workers rebuild the base and this subset in
 * their threads (`workers > 0` still decodes off the main thread).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const base = {
 *   length: 6,
 *   labels: [0, 1, 2, 0, 1, 2],
 *   get: (i: number) => Promise.resolve({ image: { data: new Float32Array(4).fill(i), width: 2, height: 2 }, label: i % 3 }),
 * };
 * const sub = new data.Subset(base, [5, 0, 0]);
 * console.log(sub.length, [...sub.indices], (await sub.get(0)).label); // 3 [5, 0, 0] 2
 * console.log(sub.classCounts?.()); // [2, 0, 1]
 * ```
 */
export class Subset<D extends Dataset = Dataset> implements Dataset {
  /** The base dataset. */
  readonly dataset: D;
  /** The base's index of each sample (a copy of those given). */
  readonly indices: Int32Array;
  /** Each sample's label, when the base holds its labels (see the class doc). */
  readonly labels: LabelsOf<D>;
  /** Samples per class (only when the base holds its labels). */
  readonly classCounts?: () => number[];
  /** How a loader worker rebuilds this subset (only when the base has a `workerSpec()`). */
  readonly workerSpec?: () => WorkerSpec;

  /** `dataset`: any Dataset; `indices`: integers in [0, dataset.length), an array or a 1-D int32 tensor. */
  constructor(dataset: D, indices: ArrayLike<number> | { toArray(): ArrayLike<number> }) {
    const where = "data.Subset";
    checkArity(where, arguments.length, 2, USAGE);
    this.dataset = checkDataset(where, dataset) as D;
    const values = indexValues(where, indices);
    const n = dataset.length;
    const own = new Int32Array(values.length);
    for (let k = 0; k < values.length; k++) {
      const i = values[k];
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        const why = typeof i === "number" && Number.isInteger(i) && i < 0
          ? " (negative indices are refused rather than read from the end)"
          : "";
        throw new RangeError(
          `${where}: indices[${k}] is ${i}, not an index of the dataset (an integer in ` +
            `[0, ${n}))${why}`,
        );
      }
      own[k] = i;
    }
    this.indices = own;
    const base = cheapLabels(dataset);
    const labels = base ? Int32Array.from(own, (i) => base[i]) : undefined;
    this.labels = labels as LabelsOf<D>;
    if (labels) {
      this.classCounts = () =>
        countClasses(labels, dataset.classCounts?.().length ?? 0, "Subset.classCounts");
    }
    if (typeof dataset.workerSpec === "function") {
      this.workerSpec = () => {
        const spec = specOf(dataset);
        // The base gave no spec this time: neither has this subset (read on the main thread).
        return (spec &&
          { module: import.meta.url, spec: { base: spec, indices: own } }) as WorkerSpec;
      };
    }
  }

  /** Number of samples (of indices). */
  get length(): number {
    return this.indices.length;
  }

  /** Sample `i` (negative counts from the end, as torch's): the base's sample `indices[i]`. */
  get(i: number): Promise<Sample> {
    try {
      return this.dataset.get(this.indices[wrapIndex("Subset.get", i, this.indices.length)]);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

/** A `Subset`'s worker spec. */
interface SubsetSpec {
  base: WorkerSpec;
  indices: Int32Array;
}

/**
 * @internal rebuilds a `Subset` in a loader worker from its
 * `workerSpec().spec` (the base first, from its own spec).
 */
export async function openDataset(spec: SubsetSpec): Promise<Subset> {
  return new Subset(await openSpec("data.Subset (worker)", spec.base), spec.indices);
}
