/**
 * `BatchSampler`: a sampler's indices cut into batches (PyTorch's
 * `torch.utils.data.BatchSampler`), and what the loader's `batchSampler`
 * option takes: one, or your own batches of indices.
 *
 * @module
 */
import { describe } from "./dataset_common.ts";
import type { Sampler } from "./sampler.ts";
import { indexArray, toSampler } from "./sampler_input.ts";

/** What the loader's `batchSampler` reads: the batches of each epoch. */
export interface BatchSamplerLike {
  /** Batches per epoch. */
  readonly length: number;
  /** The batches of `epoch` (dataset indices each), deterministic in (seed, epoch). */
  batches(epoch: number, seed: number): Int32Array[];
  /** The sampler batched, when there is one (its weights and positions are the loader's). */
  readonly sampler?: Sampler;
}

const USAGE = "new data.BatchSampler(new data.RandomSampler(dataset), 32, false)";

/**
 * Batches of `batchSize` indices from `sampler`, the last one shorter unless
 * `dropLast`, as PyTorch's `BatchSampler(sampler, batch_size, drop_last)`
 * (the same three arguments, positional, or `{ batchSize, dropLast }`).
 * `sampler` is a `Sampler` or, as torch's, an array of indices. Give it to
 * a loader as `{ batchSampler }`, which then takes no `batchSize`,
 * `shuffle`, `sampler` or `dropLast`.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * // list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
 * const bs = new data.BatchSampler(new data.SequentialSampler(10), 3, false);
 * console.log(bs.batches(0, 0).map((b) => [...b])); // [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
 * console.log(new data.BatchSampler(new data.SequentialSampler(10), 3, true).length); // 3
 * ```
 */
export class BatchSampler implements BatchSamplerLike {
  /** The sampler batched. */
  readonly sampler: Sampler;
  /** Indices per batch. */
  readonly batchSize: number;
  /** Whether a short last batch is dropped. */
  readonly dropLast: boolean;

  /** `sampler`, `batchSize` (an integer >= 1), `dropLast` (a boolean), as torch's. */
  constructor(
    sampler: Sampler | ArrayLike<number>,
    batchSize: number | { batchSize?: number; dropLast?: boolean },
    dropLast?: boolean,
  ) {
    const where = "data.BatchSampler";
    if (arguments.length > 3) {
      throw new Error(`${where}: takes (sampler, batchSize, dropLast), got ${arguments.length}`);
    }
    let size: unknown = batchSize;
    if (batchSize !== null && typeof batchSize === "object") {
      // The keyword port: BatchSampler(s, batch_size=3, drop_last=False).
      const keys = Object.keys(batchSize).filter((k) => k !== "batchSize" && k !== "dropLast");
      if (keys.length > 0 || dropLast !== undefined) {
        throw new Error(`${where}: unknown option '${keys[0] ?? "dropLast"}'; write ${USAGE}`);
      }
      ({ batchSize: size, dropLast } = batchSize as { batchSize?: number; dropLast?: boolean });
    }
    this.sampler = toSampler(`${where}: sampler`, sampler);
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1) {
      throw new Error(
        `${where}: batchSize must be an integer >= 1, got ${describe(size)}; write ${USAGE}`,
      );
    }
    if (typeof dropLast !== "boolean") {
      // torch: "drop_last should be a boolean value"; a missing one is not False there either.
      const got = dropLast === undefined
        ? "nothing (torch's drop_last has no default)"
        : describe(dropLast);
      throw new Error(`${where}: dropLast must be true or false, got ${got}; write ${USAGE}`);
    }
    this.batchSize = size;
    this.dropLast = dropLast;
  }

  /** Batches per epoch (torch's `len(batch_sampler)`). */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * The batches of `epoch`: the sampler's order for (epoch, seed), cut.
   *
   * @example
   * ```ts
   * import { data } from "@lits/vision";
   * const bs = new data.BatchSampler([4, 2, 0, 1, 3], 2, true);
   * console.log(bs.batches(0, 0).map((b) => [...b])); // [[4, 2], [0, 1]]
   * ```
   */
  batches(epoch: number, seed: number): Int32Array[] {
    const order = this.sampler.indices(epoch, seed);
    const out: Int32Array[] = [];
    for (let start = 0; start < order.length; start += this.batchSize) {
      const b = order.slice(start, start + this.batchSize);
      if (this.dropLast && b.length < this.batchSize) break;
      out.push(b);
    }
    return out;
  }
}

/** Your own batches, fixed: an array of index arrays, the same every epoch (torch's list of lists). */
class ListBatchSampler implements BatchSamplerLike {
  readonly length: number;
  readonly #batches: Int32Array[];
  constructor(batches: Int32Array[]) {
    this.#batches = batches;
    this.length = batches.length;
  }
  batches(): Int32Array[] {
    return this.#batches.map((b) => b.slice());
  }
}

/**
 * The loader's batch sampler from its `batchSampler` option: a
 * `BatchSampler` (or your own `{ length, batches(epoch, seed) }`) as is; an
 * array of index arrays as fixed batches; otherwise an Error.
 */
export function toBatchSampler(where: string, value: unknown): BatchSamplerLike {
  const v = value as Partial<BatchSamplerLike> | null;
  if (v !== null && typeof v === "object" && typeof v.batches === "function") {
    if (!Number.isInteger(v.length)) {
      throw new Error(`${where} has no integer length (batches per epoch)`);
    }
    return v as BatchSamplerLike;
  }
  if (Array.isArray(value)) {
    return new ListBatchSampler(value.map((b, k) => {
      if (!Array.isArray(b) && !(ArrayBuffer.isView(b) && !(b instanceof DataView))) {
        throw new Error(`${where}: batch ${k} is ${describe(b)}, not an array of indices`);
      }
      const indices = indexArray(`${where}: batch ${k}`, Array.from(b as ArrayLike<unknown>));
      if (indices.length === 0) throw new Error(`${where}: batch ${k} is empty`);
      return indices;
    }));
  }
  throw new Error(
    `${where} must be a data.BatchSampler (${USAGE}), your own { length, batches(epoch, seed) } ` +
      `or an array of index arrays, got ${describe(value)}` +
      (typeof (value as { __iter__?: unknown } | null)?.__iter__ === "function"
        ? " (torch's __iter__ / __len__ are batches(epoch, seed) / length here)"
        : ""),
  );
}
