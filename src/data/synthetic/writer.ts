/**
 * `synthesizeLiTS`: writes a synthetic LiTS dataset in the course's layout
 * (`train/`, `val/`, `test/` PNG folders and `*_classes.csv` files), split by
 * patient so that no patient's slices leak between splits.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { encodeGreyPng } from "../image_decode.ts";
import { simulatePatient } from "./patient.ts";
import { type PresetName, resolveSettings, SYNTH_PRESETS, type SynthSettings } from "./presets.ts";
import { Rng } from "./rng.ts";
import { checkShares, splitCounts } from "../split_shares.ts";
import { checkCall } from "../../options.ts";

const SYNTH_USAGE = 'data.synthesizeLiTS({ out: "data/synth", preset: "easy", patients: 8 })';
const SYNTH_KEYS: (keyof SynthesizeOptions)[] = [
  "out",
  "preset",
  "seed",
  "reuse",
  "onProgress",
  ...(Object.keys(SYNTH_PRESETS.realistic) as (keyof SynthSettings)[]),
  "minLiverPixels",
  "minLesionPixels",
];

/** Options of `synthesizeLiTS`: a preset, any settings to override, and where to write. */
export interface SynthesizeOptions extends Partial<SynthSettings> {
  /** Output folder (created if missing). */
  out: string;
  /** "realistic" (default) or "easy". */
  preset?: PresetName;
  /** Random seed (default 0): the same seed and settings give the same files. */
  seed?: number;
  /**
   * When `out` already holds a complete dataset made with the same seed and
   * settings, return its summary without writing (default true). A folder
   * made with other settings is replaced.
   */
  reuse?: boolean;
  /** Called after each patient with (patients done, patients in all). */
  onProgress?: (done: number, total: number) => void;
}

/** The three split names, in order. */
export const SPLITS = ["train", "val", "test"] as const;

/** What `synthesizeLiTS` made. */
export interface SynthSummary {
  /** Absolute output folder. */
  out: string;
  /** The seed used. */
  seed: number;
  /** The full settings used. */
  settings: Required<SynthSettings>;
  /** Per split: its patients, number of slices and class counts. */
  splits: Record<
    (typeof SPLITS)[number],
    { patients: number[]; slices: number; classCounts: number[] }
  >;
  /** Class counts over all splits [no liver, liver, liver + lesion]. */
  classCounts: number[];
  /** Generation time in seconds (of the run that wrote the files). */
  seconds: number;
  /** True when an existing dataset was reused. */
  reused: boolean;
}

/** Patient indices per split: a seeded shuffle, then cut by the split shares. */
export function splitPatients(n: number, shares: readonly number[], seed: number): number[][] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed, 0x7fffffff);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  checkShares(shares, "synthesizeLiTS");
  // With three or more patients every split with a share gets one.
  const [nTrain, nVal] = splitCounts(n, shares, true);
  return [
    order.slice(0, nTrain).sort((a, b) => a - b),
    order.slice(nTrain, nTrain + nVal).sort((a, b) => a - b),
    order.slice(nTrain + nVal).sort((a, b) => a - b),
  ];
}

const META = "synthetic_lits.json";

/** The slices the writer names (`p003_s017.png`), and its labels files' header. */
const OWN_SLICE = /^p\d+_s\d+\.png$/;
const OWN_HEADER = "filename,liver_visible,lesion_visible,patient,slice";

/**
 * Throws where writing into `out` would lose the user's files: labels
 * files it did not write, or files other than its slices in the split
 * folders (which regenerating clears). Its own leftovers, of a run killed
 * before its metadata was written, are not the user's.
 */
async function checkOwnFiles(out: string): Promise<void> {
  const foreign: string[] = [];
  for (const split of SPLITS) {
    const csv = join(out, `${split}_classes.csv`);
    const text = await Deno.readTextFile(csv).catch(() => null);
    if (text !== null && text.split(/\r?\n/)[0] !== OWN_HEADER) foreign.push(csv);
    try {
      for await (const e of Deno.readDir(join(out, split))) {
        if (!e.isFile || !OWN_SLICE.test(e.name)) foreign.push(join(out, split, e.name));
      }
    } catch (e) {
      ignoreNotFound(e);
    }
  }
  if (foreign.length === 0) return;
  throw new Error(
    `synthesizeLiTS: ${out} holds files it did not write (${foreign.slice(0, 3).join(", ")}` +
      `${foreign.length > 3 ? ", ..." : ""}), which writing a dataset there would delete or ` +
      "overwrite; choose another out folder",
  );
}
const FORMAT = 1;

/**
 * Generates synthetic CT slices of whole simulated patients (pelvis to chest)
 * and writes them as the course's LiTS layout: `<out>/<split>/pNNN_sMMM.png`
 * (8-bit grey) and `<out>/<split>_classes.csv` with `filename`,
 * `liver_visible`, `lesion_visible`, `patient`, `slice`. See `SYNTH_PRESETS`
 * for what the presets simulate. The default realistic set (30 patients,
 * about 3,000 slices of 128^2) takes about 15 s on one core.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * const out = await Deno.makeTempDir();
 * const summary = await data.synthesizeLiTS({ out, preset: "easy", patients: 4, seed: 1 });
 * console.log(summary.splits.train.slices, summary.classCounts);
 * ```
 */
export async function synthesizeLiTS(options: SynthesizeOptions): Promise<SynthSummary> {
  checkCall<SynthesizeOptions>(
    "data.synthesizeLiTS",
    arguments.length,
    1,
    options,
    SYNTH_KEYS,
    SYNTH_USAGE,
  );
  if (typeof options?.out !== "string") {
    throw new Error(
      `data.synthesizeLiTS: out (the output folder) is required; write ${SYNTH_USAGE}`,
    );
  }
  const { out: outArg, preset = "realistic", seed = 0, reuse = true, onProgress, ...overrides } =
    options;
  if (!(preset in SYNTH_PRESETS)) {
    throw new Error(`synthesizeLiTS: unknown preset "${preset}" (easy or realistic)`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`synthesizeLiTS: seed must be an integer`);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const settings = resolveSettings({ ...SYNTH_PRESETS[preset], ...defined } as SynthSettings);
  const out = resolve(outArg);
  const metaPath = join(out, META);

  const previous = await readMeta(metaPath);
  if (
    previous && reuse && previous.format === FORMAT && previous.seed === seed &&
    JSON.stringify(previous.summary.settings) === JSON.stringify(settings)
  ) {
    return { ...previous.summary, out, reused: true };
  }
  // Only its own files are there (checked): clear an old dataset, or what a
  // killed run left, so that no stale slices of other settings remain.
  await checkOwnFiles(out);
  await Deno.remove(metaPath).catch(ignoreNotFound);
  for (const split of SPLITS) {
    await Deno.remove(join(out, split), { recursive: true }).catch(ignoreNotFound);
    await Deno.remove(join(out, `${split}_classes.csv`)).catch(ignoreNotFound);
  }

  const start = performance.now();
  const groups = splitPatients(settings.patients, settings.splits, seed);
  const summary: SynthSummary = {
    out,
    seed,
    settings,
    splits: {} as SynthSummary["splits"],
    classCounts: [0, 0, 0],
    seconds: 0,
    reused: false,
  };
  let done = 0;
  for (const [k, split] of SPLITS.entries()) {
    const dir = join(out, split);
    await Deno.mkdir(dir, { recursive: true });
    const lines = ["filename,liver_visible,lesion_visible,patient,slice"];
    const counts = [0, 0, 0];
    for (const patient of groups[k]) {
      const slices = simulatePatient(patient, seed, settings);
      const writes: Promise<void>[] = [];
      slices.forEach((s, i) => {
        const name = `p${String(patient).padStart(3, "0")}_s${String(i).padStart(3, "0")}.png`;
        writes.push(
          Deno.writeFile(join(dir, name), encodeGreyPng(s.pixels, settings.size, settings.size)),
        );
        lines.push(
          `${name},${s.liver ? "True" : "False"},${s.lesion ? "True" : "False"},${patient},${i}`,
        );
        counts[s.lesion ? 2 : s.liver ? 1 : 0]++;
      });
      await Promise.all(writes);
      onProgress?.(++done, settings.patients);
    }
    await Deno.writeTextFile(join(out, `${split}_classes.csv`), lines.join("\n") + "\n");
    summary.splits[split] = { patients: groups[k], slices: lines.length - 1, classCounts: counts };
    counts.forEach((c, i) => summary.classCounts[i] += c);
  }
  summary.seconds = (performance.now() - start) / 1000;
  // Written last: a run that dies half-way leaves no metadata, so it is redone.
  await Deno.writeTextFile(metaPath, JSON.stringify({ format: FORMAT, seed, summary }, null, 1));
  return summary;
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}

async function readMeta(
  path: string,
): Promise<{ format: number; seed: number; summary: SynthSummary } | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof SyntaxError) return undefined;
    throw e;
  }
}
