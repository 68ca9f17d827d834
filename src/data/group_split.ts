/**
 * `groupSplit`: a random split that keeps each group (a CT volume, a
 * patient) whole on one side, as sklearn's `GroupShuffleSplit`; and
 * `volumeGroups`, the volume of every slice of a LiTS dataset.
 *
 * @module
 */
import { type CallContract, checkArity } from "../options.ts";
import { checkDataset, describe } from "./dataset_common.ts";
import { ConcatDataset } from "./concat.ts";
import {
  checkSplitOptions,
  permutation,
  type RandomSplitOptions,
  splitLengths,
  splitRng,
} from "./random_split.ts";
import { Subset } from "./subset.ts";
import type { Dataset } from "./types.ts";

/** Options of `groupSplit`. */
export interface GroupSplitOptions extends Omit<RandomSplitOptions, "generator"> {
  /** The group of every sample (a volume or patient id, one per sample). Required. */
  groups?: ArrayLike<number | string>;
}

const GROUP_SPLIT: CallContract<GroupSplitOptions> = {
  where: "data.groupSplit",
  most: 3,
  known: ["groups", "seed", "rng"],
  usage: "data.groupSplit(dataset, [0.8, 0.2], { groups: data.volumeGroups(dataset), seed: 42 })",
};

/**
 * Splits a dataset at random into `Subset`s that share no group: whole
 * groups (CT volumes, patients) go to one side, as sklearn's
 * `GroupShuffleSplit`. `lengths` count groups, not samples: counts summing
 * to the number of distinct groups, or fractions summing to 1 rounded as
 * `randomSplit` rounds them (torch 1.13's rule) over the groups; a split's
 * number of samples then depends on the sizes of the groups it drew. Each
 * subset's indices are ascending.
 *
 * Why: the slices of one CT volume are near-duplicates, so `randomSplit`
 * over slices puts every patient in both training and validation and the
 * validation score rewards recognising patients (optimistic). `groups`
 * names each sample's volume: `data.volumeGroups(dataset)` reads it from a
 * LiTS dataset's file names, or give your own (a patient id column).
 * The generator is the library's `Rng` (`{ seed }` or `{ rng }`; neither:
 * the global stream `manualSeed` seeds).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const ds = {
 *   length: 6,
 *   get: (i: number) => Promise.resolve({ image: { data: new Float32Array(4), width: 2, height: 2 }, label: i % 2 }),
 * };
 * const groups = ["p1", "p1", "p2", "p2", "p3", "p3"]; // two slices per patient
 * const [train, val] = data.groupSplit(ds, [2, 1], { groups, seed: 0 });
 * const patients = (s: data.Subset) => new Set([...s.indices].map((i) => groups[i]));
 * console.log(train.length, val.length, patients(train).size, patients(val).size); // 4 2 2 1
 * ```
 */
export function groupSplit<D extends Dataset>(
  dataset: D,
  lengths: readonly number[],
  options: GroupSplitOptions,
): Subset<D>[] {
  const where = GROUP_SPLIT.where;
  options = checkSplitOptions(GROUP_SPLIT, arguments.length, options);
  checkDataset(where, dataset);
  const groups = options.groups;
  if (groups === undefined) {
    throw new Error(`${where}: groups is required (one per sample); write ${GROUP_SPLIT.usage}`);
  }
  if (
    groups === null || typeof groups !== "object" ||
    typeof (groups as { length?: unknown }).length !== "number"
  ) {
    throw new Error(
      `${where}: groups must be an array of ids (numbers or strings), one per sample, got ` +
        describe(groups),
    );
  }
  if (groups.length !== dataset.length) {
    throw new Error(
      `${where}: ${groups.length} groups for ${dataset.length} samples; give one group per sample`,
    );
  }
  // Distinct groups in order of first appearance, and each one's samples.
  const members = new Map<number | string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (!(typeof g === "string" || (typeof g === "number" && Number.isFinite(g)))) {
      throw new Error(
        `${where}: groups[${i}] is ${describe(g)}; a group is a number or a string (an id)`,
      );
    }
    const list = members.get(g);
    if (list) list.push(i);
    else members.set(g, [i]);
  }
  const ids = [...members.values()];
  const counts = splitLengths(where, lengths, ids.length, "groups");
  const perm = permutation(ids.length, splitRng(options));
  let offset = 0;
  return counts.map((c) => {
    const picked = Array.from(perm.subarray(offset, offset += c), (g) => ids[g]).flat();
    return new Subset(dataset, Int32Array.from(picked).sort());
  });
}

/** The volume of one slice's file name, or null when the name says none. */
function volumeOf(name: string): string | null {
  const file = name.slice(name.lastIndexOf("/") + 1);
  // importLiTSVolumes: volume-12_slice-040.png; the challenge's volume-12.
  const volume = /^(volume-\d+)(?:\D|$)/i.exec(file);
  if (volume) return volume[1].toLowerCase();
  // synthesizeLiTS: p003_s017.png.
  const patient = /^(p\d+)_s\d+\./i.exec(file);
  if (patient) return patient[1].toLowerCase();
  // One folder per volume: p001/s010.png.
  return name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : null;
}

/**
 * The CT volume (patient) of every sample, for `groupSplit`, read from a
 * `LiTSDataset`'s file names: `volume-N...` (the challenge's and
 * `importLiTSVolumes`' names, `volume-12_slice-040.png`), `pNNN_sKKK`
 * (`synthesizeLiTS`), or the folder of `folder/slice.png`. A `Subset` or
 * `ConcatDataset` of such datasets maps its samples through. Throws,
 * naming the first file it cannot read, when the names say no volume:
 * then pass your own `groups` (a patient id column of your labels file).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const root = await Deno.makeTempDir();
 * await data.synthesizeLiTS({ out: root, preset: "easy", patients: 3, slicesPerPatient: 4 });
 * const train = new data.LiTSDataset({ root, split: "train" });
 * const groups = data.volumeGroups(train);
 * console.log(groups.length === train.length, new Set(groups).size); // true 1 (train drew one patient)
 * ```
 */
export function volumeGroups(dataset: Dataset): string[] {
  const where = "data.volumeGroups";
  checkArity(where, arguments.length, 1, "data.volumeGroups(dataset)");
  checkDataset(where, dataset);
  if (dataset instanceof Subset) {
    const base = volumeGroups(dataset.dataset);
    return Array.from(dataset.indices, (i) => base[i]);
  }
  if (dataset instanceof ConcatDataset) {
    return (dataset.datasets as Dataset[]).flatMap((d) => volumeGroups(d));
  }
  const filename = (dataset as { filename?: unknown }).filename;
  if (typeof filename !== "function") {
    throw new Error(
      `${where}: the dataset has no file names to read volumes from (a LiTSDataset, or a ` +
        "Subset or ConcatDataset of them); pass groupSplit your own groups, one id per sample",
    );
  }
  return Array.from({ length: dataset.length }, (_, i) => {
    const name = String(filename.call(dataset, i));
    const volume = volumeOf(name);
    if (volume === null) {
      throw new Error(
        `${where}: cannot tell the volume of ${JSON.stringify(name)} (sample ${i}): expected ` +
          "volume-N..., pNNN_sKKK... or one folder per volume; pass groupSplit your own " +
          "groups (a patient id per sample)",
      );
    }
    return volume;
  });
}
