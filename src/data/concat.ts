/**
 * `ConcatDataset`: several datasets read as one (PyTorch's
 * `torch.utils.data.ConcatDataset`).
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

const USAGE = "new data.ConcatDataset([train, extra])";

/**
 * The datasets one after another, as PyTorch's `ConcatDataset`: sample `i`
 * is that of the part `cumulativeSizes` puts it in (torch's
 * `cumulative_sizes`), and a negative index counts from the end, as torch's.
 *
 * `labels` is there when every part holds its labels, `classCounts()` when
 * every part has class counts (summed class by class; parts with labels
 * count from them), and `workerSpec()` when every part has one, so loader
 * workers rebuild each part in their threads. The parts' images must have
 * one size where a batch mixes them (or add a Resize / CenterCrop transform).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const part = (n: number, label: number) => ({
 *   length: n,
 *   labels: new Array(n).fill(label),
 *   get: (_i: number) => Promise.resolve({ image: { data: new Float32Array(4), width: 2, height: 2 }, label }),
 * });
 * const both = new data.ConcatDataset([part(3, 0), part(2, 1)]);
 * console.log(both.length, both.cumulativeSizes, (await both.get(-1)).label); // 5 [3, 5] 1
 * console.log(both.classCounts?.()); // [3, 2]
 * ```
 */
export class ConcatDataset<D extends Dataset = Dataset> implements Dataset {
  /** The parts, in order. */
  readonly datasets: readonly D[];
  /** Running totals of the parts' lengths (torch's `cumulative_sizes`). */
  readonly cumulativeSizes: readonly number[];
  /** Each sample's label, when every part holds its labels. */
  readonly labels: LabelsOf<D>;
  /** Samples per class, summed over the parts (only when every part can count). */
  readonly classCounts?: () => number[];
  /** How a loader worker rebuilds it (only when every part has a `workerSpec()`). */
  readonly workerSpec?: () => WorkerSpec;

  /** `datasets`: a non-empty array of datasets. */
  constructor(datasets: readonly D[]) {
    const where = "data.ConcatDataset";
    checkArity(where, arguments.length, 1, USAGE);
    if (!Array.isArray(datasets)) {
      throw new Error(
        `${where}: takes one array of datasets, got ${describe(datasets)}; write ${USAGE}`,
      );
    }
    if (datasets.length === 0) {
      throw new Error(`${where}: the list of datasets is empty; give at least one: ${USAGE}`);
    }
    datasets.forEach((d, k) => checkDataset(where, d, `datasets[${k}]`));
    this.datasets = [...datasets];
    let total = 0;
    this.cumulativeSizes = datasets.map((d) => (total += d.length));

    const parts = datasets.map(cheapLabels);
    let labels: Int32Array | undefined;
    if (parts.every((l) => l !== undefined)) {
      labels = new Int32Array(total);
      let at = 0;
      for (const l of parts) for (let i = 0; i < l!.length; i++) labels[at++] = l![i];
    }
    this.labels = labels as LabelsOf<D>;
    if (datasets.every((d, k) => parts[k] || typeof d.classCounts === "function")) {
      this.classCounts = () => {
        const sum: number[] = [];
        datasets.forEach((d, k) => {
          const own = d.classCounts?.();
          const counts: number[] = parts[k]
            ? countClasses(parts[k]!, own?.length ?? 0, "ConcatDataset.classCounts")
            : own!;
          counts.forEach((c, j) => (sum[j] = (sum[j] ?? 0) + c));
        });
        return Array.from(sum, (c) => c ?? 0);
      };
    }
    if (datasets.every((d) => typeof d.workerSpec === "function")) {
      this.workerSpec = () => {
        const specs = datasets.map(specOf);
        // A part without a spec this time: the whole is read on the main thread.
        if (specs.some((s) => !s)) return undefined as unknown as WorkerSpec;
        return { module: import.meta.url, spec: { parts: specs } };
      };
    }
  }

  /** Total number of samples. */
  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1];
  }

  /** Sample `i` (negative counts from the end, as torch's). */
  get(i: number): Promise<Sample> {
    try {
      const idx = wrapIndex("ConcatDataset.get", i, this.length);
      const sizes = this.cumulativeSizes;
      // torch's bisect_right: the first part whose running total exceeds idx.
      let lo = 0, hi = sizes.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sizes[mid] > idx) hi = mid;
        else lo = mid + 1;
      }
      return this.datasets[lo].get(lo === 0 ? idx : idx - sizes[lo - 1]);
    } catch (e) {
      return Promise.reject(e);
    }
  }
}

// torch's attribute name reads undefined here; say what to write.
Object.defineProperty(ConcatDataset.prototype, "cumulative_sizes", {
  configurable: true,
  enumerable: false,
  get() {
    throw new Error("ConcatDataset has no .cumulative_sizes: write .cumulativeSizes");
  },
});

/** A `ConcatDataset`'s worker spec. */
interface ConcatSpec {
  parts: WorkerSpec[];
}

/** @internal rebuilds a `ConcatDataset` in a loader worker, each part from its own spec. */
export async function openDataset(spec: ConcatSpec): Promise<ConcatDataset> {
  const parts = [];
  for (const part of spec.parts) parts.push(await openSpec("data.ConcatDataset (worker)", part));
  return new ConcatDataset(parts);
}
