/**
 * Samplers: which dataset indices an epoch visits, and in what order
 * (PyTorch's `SequentialSampler`, `RandomSampler`, `WeightedRandomSampler`).
 * A sampler is a pure function of (seed, epoch), so the same seed gives the
 * same epochs however many workers load them.
 *
 * @module
 */
import { Rng } from "./rng.ts";
import type { Dataset } from "./types.ts";
import { cheapLabels } from "./dataset_common.ts";
import { type CallContract, checkArity, checkContract } from "../options.ts";

/** Chooses the indices of one epoch. */
export interface Sampler {
  /** Indices per epoch. */
  readonly length: number;
  /** The indices of `epoch`, deterministic in (seed, epoch). */
  indices(epoch: number, seed: number): Int32Array;
  /**
   * Where index k sits in the epoch's global order: `positionOffset +
   * positionStride * k` (default 0 and 1). A sample's augmentation stream
   * is its global position's, so a DistributedSampler's shard (rank, world
   * size) is augmented as one process would augment the same samples.
   */
  readonly positionOffset?: number;
  /** See `positionOffset`. */
  readonly positionStride?: number;
}

/** The sampler's own random stream: position -1, never a sample's. */
function epochRng(seed: number, epoch: number): Rng {
  return Rng.forSample(seed, epoch, -1);
}

/**
 * The number of samples: `n`, or the length of a dataset (torch's
 * `data_source`: `RandomSampler(dataset)` ports as written).
 */
function checkCount(name: string, n: number | { readonly length: number }): number {
  const count = n !== null && typeof n === "object" ? n.length : n;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
    throw new Error(
      `${name}: takes the dataset or its length (a non-negative integer), got ` +
        (n !== null && typeof n === "object" ? `an object of length ${count}` : String(n)),
    );
  }
  return count;
}

/** A number of samples asked for: 0 would make every epoch empty (torch refuses it too). */
function checkSamples(name: string, n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(
      `${name}: numSamples must be a positive integer, got ${n} (every epoch would be empty)`,
    );
  }
  return n;
}

/**
 * 0, 1, ..., n - 1 every epoch. Takes the dataset (torch's
 * `SequentialSampler(dataset)`) or its length.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * console.log([...new data.SequentialSampler(3).indices(0, 0)]); // [0, 1, 2]
 * ```
 */
export class SequentialSampler implements Sampler {
  /** Indices per epoch. */
  readonly length: number;
  /** `n`: the dataset, or its length. */
  constructor(n: number | { readonly length: number }) {
    checkArity("data.SequentialSampler", arguments.length, 1, "new data.SequentialSampler(n)");
    this.length = checkCount("SequentialSampler", n);
  }
  /** 0..n-1, whatever the epoch and seed. */
  indices(_epoch = 0, _seed = 0): Int32Array {
    return Int32Array.from({ length: this.length }, (_, i) => i);
  }
}

const NEW_RANDOM_SAMPLER: CallContract<{ replacement?: boolean; numSamples?: number }> = {
  where: "data.RandomSampler",
  most: 2,
  known: ["replacement", "numSamples"],
  usage: "new data.RandomSampler(n, { replacement: true, numSamples: 100 })",
};

/**
 * A seeded permutation of 0..n-1 per epoch, as torch's `RandomSampler`
 * (takes the dataset or its length). `numSamples` below n keeps the
 * permutation's first ones; above n without replacement, as torch 1.13,
 * it is whole permutations one after another, the last one cut short;
 * with `replacement: true`, `numSamples` independent draws.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const s = new data.RandomSampler(5);
 * console.log([...s.indices(0, 1)].sort().join()); // 0,1,2,3,4
 * ```
 */
export class RandomSampler implements Sampler {
  /** Indices per epoch. */
  readonly length: number;
  readonly #n: number;
  readonly #replacement: boolean;
  /** `n`: the dataset or its length; `replacement` (default false); `numSamples` (default n). */
  constructor(
    n: number | { readonly length: number },
    options: { replacement?: boolean; numSamples?: number } = {},
  ) {
    options = checkContract(NEW_RANDOM_SAMPLER, arguments.length, options);
    const count = this.#n = checkCount("RandomSampler", n);
    this.#replacement = options.replacement ?? false;
    if (typeof this.#replacement !== "boolean") {
      throw new Error(
        `RandomSampler: replacement must be true or false, got ${String(this.#replacement)}`,
      );
    }
    this.length = options.numSamples === undefined
      ? count
      : checkSamples("RandomSampler", options.numSamples);
    if (count === 0 && this.length > 0) {
      throw new Error(`RandomSampler: numSamples ${this.length} from an empty dataset`);
    }
  }
  /** The epoch's indices. */
  indices(epoch: number, seed: number): Int32Array {
    const rng = epochRng(seed, epoch);
    if (this.#replacement) {
      return Int32Array.from({ length: this.length }, () => rng.int(0, this.#n));
    }
    const out = new Int32Array(this.length);
    // torch 1.13: numSamples // n whole permutations, then the start of one more.
    for (let at = 0; at < out.length; at += this.#n) {
      out.set(permutation(this.#n, rng).subarray(0, out.length - at), at);
    }
    return out;
  }
}

/**
 * A uniform random permutation of 0..n-1 drawn from `rng` (Fisher-Yates
 * from the end): the samplers' shuffles and `randomSplit`'s.
 */
export function permutation(n: number, rng: Rng): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

const NEW_WEIGHTED_RANDOM_SAMPLER: CallContract<{ replacement?: boolean }> = {
  where: "data.WeightedRandomSampler",
  most: 3,
  known: ["replacement"],
  // PyTorch's third argument is replacement: WeightedRandomSampler(w, n, False).
  usage: "new data.WeightedRandomSampler(weights, numSamples, { replacement: false })",
};

/**
 * Draws `numSamples` indices with probability proportional to `weights`
 * (PyTorch's `WeightedRandomSampler`; with replacement by default).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const s = new data.WeightedRandomSampler([0, 0, 1], 4);
 * console.log([...s.indices(0, 0)]); // [2, 2, 2, 2]
 * ```
 */
/** The weights as numbers: an array-like, or a 1-D Tensor's elements. */
function weightValues(name: string, weights: unknown): ArrayLike<number> {
  if (
    weights !== null && typeof weights === "object" && "toArray" in weights && "shape" in weights
  ) {
    const shape = (weights as { shape: readonly number[] }).shape;
    if (shape.length !== 1) {
      throw new Error(
        `${name}: weights must be 1-D (one per sample), got a tensor of shape [${shape}]`,
      );
    }
    return (weights as { toArray(): ArrayLike<number> }).toArray();
  }
  const length = (weights as { length?: unknown } | null)?.length;
  if (typeof length !== "number") {
    throw new Error(`${name}: weights must be an array or a 1-D Tensor of numbers, one per sample`);
  }
  if (length === 0) throw new Error(`${name}: weights is empty; give one weight per sample`);
  return weights as ArrayLike<number>;
}

export class WeightedRandomSampler implements Sampler {
  /** Indices per epoch. */
  readonly length: number;
  /** The weights' count: indices are drawn from 0 .. numWeights - 1 (the dataset's size). */
  readonly numWeights: number;
  readonly #cdf: Float64Array;
  readonly #weights: Float64Array;
  readonly #replacement: boolean;

  /**
   * `weights` (one per sample, >= 0, not all 0; an array or a 1-D Tensor, as
   * torch's), `numSamples`, `replacement` (default true).
   */
  constructor(
    weights: ArrayLike<number> | { shape: readonly number[]; toArray(): ArrayLike<number> },
    numSamples: number,
    options: { replacement?: boolean } = {},
  ) {
    const name = "WeightedRandomSampler";
    options = checkContract(NEW_WEIGHTED_RANDOM_SAMPLER, arguments.length, options);
    this.length = checkSamples(name, numSamples);
    this.#weights = Float64Array.from(weightValues(name, weights));
    this.#cdf = new Float64Array(this.#weights.length);
    let total = 0, positive = 0;
    this.#weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) {
        throw new Error(`${name}: weight ${i} must be finite and >= 0, got ${w}`);
      }
      if (w > 0) positive++;
      this.#cdf[i] = total += w;
    });
    if (!(total > 0)) throw new Error(`${name}: weights must not all be 0`);
    this.numWeights = this.#weights.length;
    this.#replacement = options.replacement ?? true;
    if (!this.#replacement && numSamples > positive) {
      throw new Error(
        `${name}: ${numSamples} samples without replacement, but only ${positive} weights are > 0`,
      );
    }
  }

  /** The epoch's indices. */
  indices(epoch: number, seed: number): Int32Array {
    const rng = epochRng(seed, epoch);
    const cdf = this.#cdf, n = cdf.length, total = cdf[n - 1];
    if (!this.#replacement) {
      // Efraimidis-Spirakis: the k largest u^(1/w) are a weighted draw without replacement.
      const keys = Array.from(
        this.#weights,
        (w, i) => [w > 0 ? Math.log(rng.uniform()) / w : -Infinity, i],
      );
      keys.sort((a, b) => b[0] - a[0]);
      return Int32Array.from(keys.slice(0, this.length), (k) => k[1]);
    }
    const out = new Int32Array(this.length);
    for (let k = 0; k < out.length; k++) {
      const u = rng.uniform() * total;
      let lo = 0, hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      out[k] = lo;
    }
    return out;
  }
}

/**
 * Per-sample weights 1 / (count of its class), so every class is drawn
 * equally often on average.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * console.log([...data.classBalancedWeights([0, 0, 0, 1])]); // [0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1]
 * ```
 */
export function classBalancedWeights(labels: ArrayLike<number>): Float64Array {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0) {
      throw new Error(`classBalancedWeights: label ${i} must be a non-negative integer, got ${l}`);
    }
    counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  return Float64Array.from({ length: labels.length }, (_, i) => 1 / counts.get(labels[i])!);
}

const CLASS_BALANCED_SAMPLER: CallContract<{ numSamples?: number }> = {
  where: "data.classBalancedSampler",
  most: 2,
  known: ["numSamples"],
  usage: "data.classBalancedSampler(labels, { numSamples: 1000 })",
};

/**
 * A class-balanced `WeightedRandomSampler` for skewed classes (LiTS has
 * about 69 / 18 / 13 % of classes 0 / 1 / 2): one epoch draws `numSamples`
 * (default: as many as there are labels) with replacement, each class
 * equally likely. Takes labels, or a dataset with a `labels` array (as
 * `LiTSDataset`); other datasets are read once with `get` (use
 * `datasetLabels` for that).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const s = data.classBalancedSampler([0, 0, 0, 0, 0, 0, 1, 2]);
 * const drawn = [...s.indices(0, 7)];
 * console.log(drawn.length); // 8
 * ```
 */
export function classBalancedSampler(
  labels: ArrayLike<number> | (Dataset & { labels: ArrayLike<number> }),
  options: { numSamples?: number } = {},
): WeightedRandomSampler {
  options = checkContract(CLASS_BALANCED_SAMPLER, arguments.length, options);
  const l = "get" in labels ? labels.labels : labels;
  if (!l || typeof l.length !== "number") {
    throw new Error(
      "classBalancedSampler: the dataset has no labels array; pass `await datasetLabels(dataset)`",
    );
  }
  return new WeightedRandomSampler(classBalancedWeights(l), options.numSamples ?? l.length);
}

/**
 * Every sample's label: `dataset.labels` when it has them, else read with
 * `get` (decoding every image once).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const ds = { length: 2, get: (i: number) => Promise.resolve({ image: { data: new Float32Array(1), width: 1, height: 1 }, label: i }) };
 * console.log([...await data.datasetLabels(ds)]); // [0, 1]
 * ```
 */
export async function datasetLabels(dataset: Dataset): Promise<Int32Array> {
  const own = cheapLabels(dataset);
  if (own) return Int32Array.from(own);
  const out = new Int32Array(dataset.length);
  for (let i = 0; i < out.length; i++) out[i] = (await dataset.get(i)).label;
  return out;
}
