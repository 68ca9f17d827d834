/**
 * `randomSplit`: a dataset cut into random non-overlapping `Subset`s
 * (PyTorch's `torch.utils.data.random_split`), and the rule both it and
 * `groupSplit` use to read the lengths asked for.
 *
 * @module
 */
import { type CallContract, checkContract } from "../options.ts";
import { checkDataset, describe } from "./dataset_common.ts";
import { globalRng, Rng } from "./rng.ts";
import { permutation } from "./sampler.ts";
import { Subset } from "./subset.ts";
import { TorchGenerator } from "./torch_generator.ts";
import type { Dataset } from "./types.ts";

/** Options of `randomSplit`. */
export interface RandomSplitOptions {
  /** Seed of the permutation (torch's `generator=torch.Generator().manual_seed(seed)`). */
  seed?: number;
  /** A generator to draw the permutation from (advanced by it); excludes `seed`. */
  rng?: Rng;
  /**
   * torch's generator, reproduced: `new data.TorchGenerator().manualSeed(42)`
   * gives the split `generator=torch.Generator().manual_seed(42)` gives in
   * PyTorch (`randomSplit` only); excludes `seed` and `rng`.
   */
  generator?: TorchGenerator;
}

const RANDOM_SPLIT: CallContract<RandomSplitOptions> = {
  where: "data.randomSplit",
  most: 3,
  known: ["seed", "rng", "generator"],
  usage: "data.randomSplit(dataset, [0.8, 0.2], { seed: 42 })",
};

/**
 * Throws on torch's `generator=` (a port's habit) with what to write; then
 * checks the options as `contract` says.
 */
export function checkSplitOptions<T extends RandomSplitOptions>(
  contract: CallContract<T>,
  given: number,
  options: T,
): T {
  if (options && typeof options === "object" && "generator" in options) {
    const takes = (contract.known as readonly string[]).includes("generator");
    const g = (options as { generator?: unknown }).generator;
    if (!takes) {
      throw new Error(
        `${contract.where}: no generator option (torch's generator is reproduced for ` +
          "randomSplit only: { generator: new data.TorchGenerator().manualSeed(42) }); write " +
          "{ seed: 42 }, or pass { rng: new data.Rng(42) }",
      );
    }
    if (!(g instanceof TorchGenerator)) {
      throw new Error(
        `${contract.where}: generator must be a data.TorchGenerator, got ${describe(g)}: ` +
          "torch.Generator().manual_seed(42) is new data.TorchGenerator().manualSeed(42) (the " +
          "split torch gives); or write { seed: 42 } for this library's own seeded split",
      );
    }
  }
  options = checkContract(contract, given, options);
  const chosen = ["seed", "rng", "generator"].filter((k) =>
    (options as Record<string, unknown>)[k] !== undefined
  );
  if (chosen.length > 1) {
    throw new Error(
      `${contract.where}: give one of seed, rng and generator, not ${chosen.join(" and ")}`,
    );
  }
  if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
    throw new Error(
      `${contract.where}: seed must be a safe integer, got ${describe(options.seed)}`,
    );
  }
  if (options.rng !== undefined && !(options.rng instanceof Rng)) {
    throw new Error(
      `${contract.where}: rng must be a data.Rng (new data.Rng(42)), got ${describe(options.rng)}`,
    );
  }
  return options;
}

/** The generator the options ask for: `rng`, a new one from `seed`, or the global stream. */
export function splitRng(options: RandomSplitOptions): Rng {
  return options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : globalRng());
}

export { permutation } from "./sampler.ts";

/**
 * The counts `lengths` asks for out of `n` `items`, by torch 1.13's rule:
 * fractions (each in [0, 1], summing to 1 within 1e-9) give
 * floor(n * fraction) each, then one more to the first splits, round
 * robin, until they sum to n (a split left empty is warned about, as torch
 * warns); otherwise they are counts, non-negative integers summing to n.
 * Unlike torch, fractions whose floating-point sum rounds just above 1
 * (`[0.33, 0.56, 0.11]`) are read as fractions rather than refused.
 */
export function splitLengths(
  where: string,
  lengths: unknown,
  n: number,
  items = "samples",
): number[] {
  if (
    lengths === null || typeof lengths !== "object" || typeof lengths === "string" ||
    typeof (lengths as { length?: unknown }).length !== "number"
  ) {
    throw new Error(
      `${where}: lengths must be an array of counts or fractions (such as [0.8, 0.2]), got ` +
        describe(lengths),
    );
  }
  const values = Array.from(lengths as ArrayLike<unknown>);
  if (values.length === 0) {
    throw new Error(`${where}: lengths is empty; give one count or fraction per split`);
  }
  values.forEach((v, i) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
      throw new Error(
        `${where}: lengths[${i}] is ${describe(v)}; lengths are counts (integers >= 0) or ` +
          "fractions in [0, 1]",
      );
    }
  });
  const asked = values as number[];
  const sum = asked.reduce((a, b) => a + b, 0);
  // math.isclose(sum, 1) with its default rel_tol 1e-9, as torch.
  if (Math.abs(sum - 1) <= 1e-9 * Math.max(1, Math.abs(sum))) {
    const counts = asked.map((f, i) => {
      if (f > 1) throw new Error(`${where}: fraction at index ${i} is ${f}, not in [0, 1]`);
      return Math.floor(n * f);
    });
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length]++;
    counts.forEach((c, i) => {
      if (c === 0) {
        console.warn(
          `warning: ${where}: split ${i} gets 0 of ${n} ${items} (fraction ${asked[i]}); it ` +
            "will be an empty dataset",
        );
      }
    });
    return counts;
  }
  const odd = asked.findIndex((v) => !Number.isInteger(v));
  if (odd >= 0) {
    throw new Error(
      `${where}: lengths [${asked}] are neither counts (lengths[${odd}] = ${asked[odd]} is not ` +
        `an integer) nor fractions (they sum to ${sum}, not 1); give counts summing to ${n} ` +
        "or fractions summing to 1",
    );
  }
  if (sum !== n) {
    throw new Error(
      `${where}: lengths [${asked}] sum to ${sum} but there are ${n} ${items}; give counts ` +
        `summing to ${n} or fractions summing to 1 (such as [0.8, 0.2])`,
    );
  }
  return asked;
}

/**
 * Splits a dataset at random into non-overlapping `Subset`s of the given
 * lengths, as PyTorch's `random_split`: `lengths` are counts summing to
 * the dataset's length, or fractions summing to 1 (torch 1.13's rounding:
 * floor each, then one more to the first splits in turn for the
 * remainder; a split left empty is warned about). Each subset's indices
 * are in the order the permutation drew them, as torch's.
 *
 * The permutation comes from the library's `Rng` (`{ seed }` or `{ rng }`;
 * neither: the global stream `manualSeed` seeds): the same seed gives the
 * same split on every run and machine here, but not the one torch gives.
 * For torch's very split, pass torch's generator, reproduced:
 * `{ generator: new data.TorchGenerator().manualSeed(42) }` is PyTorch
 * 1.13's `generator=torch.Generator().manual_seed(42)`, index for index.
 * (Without a generator torch draws from its global generator, which this
 * library's `manualSeed` does not reproduce.)
 *
 * CT slices: the slices of one CT volume are near-duplicates, so a random
 * split of slices puts the same patient in training and validation, and
 * validation scores come out optimistic (the model is rewarded for
 * recognising patients). Split whole volumes instead: `groupSplit(dataset,
 * [0.8, 0.2], { groups: data.volumeGroups(dataset), seed: 42 })` (the
 * splits `synthesizeLiTS` and `importLiTSVolumes` write are by patient
 * already).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const ds = {
 *   length: 10,
 *   get: (i: number) => Promise.resolve({ image: { data: new Float32Array(4), width: 2, height: 2 }, label: i % 3 }),
 * };
 * // PyTorch: random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(42))
 * const [train, val] = data.randomSplit(ds, [0.8, 0.2], { seed: 42 });
 * console.log(train.length, val.length); // 8 2
 * console.log([...train.indices, ...val.indices].sort((a, b) => a - b).join()); // 0,1,2,3,4,5,6,7,8,9
 * // torch's own split, index for index:
 * const g = new data.TorchGenerator().manualSeed(42);
 * const [a, b] = data.randomSplit(ds, [0.8, 0.2], { generator: g });
 * console.log([...a.indices], [...b.indices]); // [2, 6, 1, 8, 4, 5, 0, 9] [3, 7]
 * ```
 */
export function randomSplit<D extends Dataset>(
  dataset: D,
  lengths: readonly number[],
  options: RandomSplitOptions = {},
): Subset<D>[] {
  options = checkSplitOptions(RANDOM_SPLIT, arguments.length, options);
  checkDataset(RANDOM_SPLIT.where, dataset);
  const counts = splitLengths(RANDOM_SPLIT.where, lengths, dataset.length);
  const perm = options.generator
    ? options.generator.randperm(dataset.length)
    : permutation(dataset.length, splitRng(options));
  let offset = 0;
  return counts.map((c) => new Subset(dataset, perm.subarray(offset, offset += c)));
}
