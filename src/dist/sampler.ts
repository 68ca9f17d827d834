/**
 * `DistributedSampler`: each rank visits a disjoint shard of the same epoch
 * (PyTorch's `DistributedSampler`): the epoch's indices (a seeded
 * permutation, 0..n-1 in order, or another sampler's draw, such as the
 * class-balanced one) are padded by repeating their start to a multiple of
 * the world size, and rank r takes positions r, r + W, r + 2W, ... So a
 * global batch of B is the same samples as a one-process batch of B when
 * every rank loads B / W.
 *
 * @module
 */
import { RandomSampler, type Sampler, SequentialSampler } from "../data/sampler.ts";
import type { Dataset } from "../data/types.ts";
import { type CallContract, checkContract } from "../options.ts";
import { getRank, getWorldSize, isInitialized } from "./process_group.ts";

/** Options of `DistributedSampler` (PyTorch's names, camelCase). */
export interface DistributedSamplerOptions {
  /** Ranks (default: the process group's world size). */
  numReplicas?: number;
  /** This rank (default: the process group's rank). */
  rank?: number;
  /** A new seeded permutation every epoch (default true); not with a sampler. */
  shuffle?: boolean;
  /** Seed of the permutation, the same on every rank (default 0, as PyTorch). */
  seed?: number;
  /** Drop the tail that does not divide evenly instead of padding (default false). */
  dropLast?: boolean;
}

const NEW_DISTRIBUTED_SAMPLER: CallContract<DistributedSamplerOptions> = {
  where: "distributed.DistributedSampler",
  most: 2,
  known: ["numReplicas", "rank", "shuffle", "seed", "dropLast"],
  usage: "new distributed.DistributedSampler(dataset, { shuffle: true, seed: 0 })",
};

/**
 * A rank's shard of every epoch, as PyTorch's `DistributedSampler`. Pass it
 * as the DataLoader's `sampler`; the loader's epoch picks the permutation
 * unless `setEpoch` was called (then that epoch, as in PyTorch).
 *
 * @example
 * ```ts
 * import { distributed } from "@lits/vision";
 * const r0 = new distributed.DistributedSampler(5, { numReplicas: 2, rank: 0, shuffle: false });
 * const r1 = new distributed.DistributedSampler(5, { numReplicas: 2, rank: 1, shuffle: false });
 * console.log([...r0.indices(0)], [...r1.indices(0)]); // [0, 2, 4] [1, 3, 0]
 * ```
 */
export class DistributedSampler implements Sampler {
  /** Indices per epoch on this rank (PyTorch's `num_samples`). */
  readonly length: number;
  /** Indices per epoch over all ranks (`total_size`). */
  readonly totalSize: number;
  /** Ranks. */
  readonly numReplicas: number;
  /** This rank. */
  readonly rank: number;
  /** The permutation's seed. */
  readonly seed: number;
  /** Index k of this shard is position rank + numReplicas * k of the epoch (augmentation streams). */
  get positionOffset(): number {
    return this.rank;
  }
  /** See `positionOffset`. */
  get positionStride(): number {
    return this.numReplicas;
  }
  /** The wrapped sampler's weight count, where it has one (the loader checks it). */
  get numWeights(): number | undefined {
    return (this.#inner as { numWeights?: number }).numWeights;
  }
  readonly #inner: Sampler;
  readonly #dropLast: boolean;
  #epoch: number | null = null;

  /**
   * `source`: a dataset, its length, or a sampler whose per-epoch draw is
   * sharded (e.g. `data.classBalancedSampler(labels)`).
   */
  constructor(source: Dataset | number | Sampler, options: DistributedSamplerOptions = {}) {
    options = checkContract(NEW_DISTRIBUTED_SAMPLER, arguments.length, options);
    const group = isInitialized();
    if ((options.numReplicas === undefined || options.rank === undefined) && !group) {
      throw new Error(
        "DistributedSampler: pass { numReplicas, rank }, or call distributed.initProcessGroup() " +
          "first",
      );
    }
    this.numReplicas = options.numReplicas ?? getWorldSize();
    this.rank = options.rank ?? getRank();
    if (!Number.isInteger(this.numReplicas) || this.numReplicas < 1) {
      throw new Error(
        `DistributedSampler: numReplicas must be an integer >= 1, got ${this.numReplicas}`,
      );
    }
    if (!Number.isInteger(this.rank) || this.rank < 0 || this.rank >= this.numReplicas) {
      throw new Error(
        `DistributedSampler: rank must be 0..${this.numReplicas - 1}, got ${this.rank}`,
      );
    }
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) {
      throw new Error(`DistributedSampler: seed must be a safe integer, got ${this.seed}`);
    }
    this.#dropLast = options.dropLast ?? false;
    if (typeof source === "object" && source !== null && "indices" in source) {
      if (options.shuffle !== undefined) {
        throw new Error(
          "DistributedSampler: shuffle applies to a dataset; the given sampler chooses the order",
        );
      }
      this.#inner = source;
    } else {
      const isDataset = typeof source === "object" && source !== null &&
        typeof (source as Dataset).get === "function";
      const n = typeof source === "number" ? source : isDataset ? source.length : NaN;
      if (!Number.isInteger(n) || n! < 0) {
        throw new Error(
          "DistributedSampler: expected a dataset, a length or a sampler; " +
            NEW_DISTRIBUTED_SAMPLER.usage,
        );
      }
      this.#inner = options.shuffle ?? true ? new RandomSampler(n!) : new SequentialSampler(n!);
    }
    const n = this.#inner.length, w = this.numReplicas;
    // PyTorch: drop_last drops the tail; else the start repeats as padding.
    this.length = this.#dropLast && n % w !== 0 ? Math.ceil((n - w) / w) : Math.ceil(n / w);
    this.totalSize = this.length * w;
  }

  /** The epoch every later `indices` call uses (PyTorch's `set_epoch`). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new Error(`DistributedSampler.setEpoch: epoch must be an integer >= 0, got ${epoch}`);
    }
    this.#epoch = epoch;
  }

  /** This rank's indices of `epoch` (or of the epoch given to `setEpoch`). */
  indices(epoch = 0, _seed?: number): Int32Array {
    const all = this.#inner.indices(this.#epoch ?? epoch, this.seed);
    const padded = new Int32Array(this.totalSize);
    for (let i = 0; i < this.totalSize; i++) padded[i] = all[i % all.length];
    const out = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++) out[k] = padded[this.rank + k * this.numReplicas];
    return out;
  }
}
