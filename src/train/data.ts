/**
 * Where a run's images come from: the data folder (checked against the
 * Clean_LiTS layout before anything else happens, so a wrong path fails with
 * a list of what is missing rather than a stack trace), or synthetic LiTS
 * generated once into the cache folder; and the transforms that turn its
 * images into model inputs.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { LiTSDataset } from "../data/lits_dataset.ts";
import { fingerprintBytes } from "../data/cache.ts";
import { SPLITS, synthesizeLiTS } from "../data/synthetic/writer.ts";
import type { ModelSpec } from "./setup.ts";
import type { TransformSpec } from "../data/transforms/transform.ts";
import { augmentSpecs } from "./augment.ts";

/** The synthetic data `deno task train` uses when no `--data` is given. */
export const DEFAULT_SYNTHETIC = { preset: "realistic", seed: 0 } as const;

/** The cache folder: $XDG_CACHE_HOME/lits-vision, else ~/.cache/lits-vision. */
export function cacheDir(): string {
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE");
  const base = xdg ? xdg : home ? join(home, ".cache") : join(Deno.cwd(), ".cache");
  return join(base, "lits-vision");
}

/**
 * The folder of the default synthetic data set, generated on first use
 * (about 15 s); later calls find it complete and return at once.
 */
export async function defaultSyntheticData(log: (line: string) => void): Promise<string> {
  const out = join(
    cacheDir(),
    `synthetic-${DEFAULT_SYNTHETIC.preset}-seed${DEFAULT_SYNTHETIC.seed}`,
  );
  let announced = false;
  const summary = await synthesizeLiTS({
    out,
    ...DEFAULT_SYNTHETIC,
    onProgress: (done, total) => {
      if (!announced) log(`generating synthetic LiTS (realistic preset) once into ${out}`);
      announced = true;
      if (done === total) log(`  ${total} patients generated`);
    },
  });
  if (!summary.reused) log(`  done in ${summary.seconds.toFixed(1)} s`);
  return out;
}

/**
 * Checks that `root` is in the Clean_LiTS layout for `splits`: a folder with
 * `<split>/` image folders and `<split>_classes.csv` label files. Throws one
 * Error that lists everything missing.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const dir = await Deno.makeTempDir();
 * try {
 *   train.checkDataLayout(dir, ["train", "val"]);
 * } catch (e) {
 *   console.log((e as Error).message.includes("train_classes.csv")); // true
 * }
 * ```
 */
export function checkDataLayout(root: string, splits: readonly string[] = SPLITS): void {
  const abs = resolve(root);
  const kind = (p: string) => {
    try {
      const s = Deno.statSync(p);
      return s.isDirectory ? "dir" : "file";
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return "missing";
      throw e;
    }
  };
  if (kind(abs) !== "dir") {
    throw new Error(
      `data folder ${abs} ${kind(abs) === "missing" ? "does not exist" : "is a file"}`,
    );
  }
  const missing: string[] = [];
  for (const split of splits) {
    if (kind(join(abs, split)) !== "dir") missing.push(`${split}/ (the ${split} images)`);
    if (kind(join(abs, `${split}_classes.csv`)) !== "file") {
      missing.push(`${split}_classes.csv (the ${split} labels)`);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `data folder ${abs} is not in the Clean_LiTS layout: missing ${missing.join(", ")}. ` +
        `Expected ${splits.map((s) => `${s}/ + ${s}_classes.csv`).join(", ")} ` +
        `(columns filename, liver_visible, lesion_visible).`,
    );
  }
}

/**
 * Opens one split, with its uint8 cache in the cache folder (never inside
 * the user's data folder, which may be read-only or shared).
 */
export function openSplit(
  root: string,
  split: string,
  normalize: "minmax" | "none" = "minmax",
): LiTSDataset {
  const abs = resolve(root);
  const key = fingerprintBytes(new TextEncoder().encode(abs));
  const dir = join(cacheDir(), "u8");
  try {
    Deno.mkdirSync(dir, { recursive: true });
    return new LiTSDataset({
      root: abs,
      split,
      cache: join(dir, `${key}-${split}.cache`),
      normalize,
    });
  } catch (e) {
    // Without the cache: a problem of the data itself is thrown from here again.
    const plain = new LiTSDataset({ root: abs, split, normalize });
    console.warn(
      `warning: the ${split} split runs without its cache (${(e as Error).message}); set ` +
        "XDG_CACHE_HOME to a writable folder to decode the images only once",
    );
    return plain;
  }
}

/**
 * One warning per class with no slices in a split: an empty training class is
 * never learnt, and an empty evaluation class has an undefined recall that
 * the metrics report as 0 (sklearn's zero_division) inside the macro-F1.
 */
export function emptyClassWarnings(
  splits: Record<string, { classCounts(): number[] }>,
  classNames: readonly string[],
): string[] {
  const out: string[] = [];
  for (const [split, ds] of Object.entries(splits)) {
    const counts = ds.classCounts();
    classNames.forEach((name, c) => {
      if ((counts[c] ?? 0) > 0) return;
      const effect = split === "train"
        ? "the model cannot learn it"
        : "its recall and F1 are reported as 0 and pull the macro averages down";
      out.push(
        `warning: the ${split} split has no slices of class ${c} (${name}): ${effect}; ` +
          `counts per class ${JSON.stringify(counts)}`,
      );
    });
  }
  return out;
}

/**
 * One warning per split whose folder holds images that its labels file does
 * not list: they are not used, which a dataset read from a CSV does without
 * a word (a row forgotten, a file copied into the wrong split).
 */
export function unlistedImageWarnings(splits: Record<string, LiTSDataset>): string[] {
  const out: string[] = [];
  for (const [split, ds] of Object.entries(splits)) {
    const listed = new Set(Array.from({ length: ds.length }, (_, i) => ds.filename(i)));
    const dir = join(ds.root, split);
    const unlisted: string[] = [];
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && /\.(png|jpe?g)$/i.test(e.name) && !listed.has(e.name)) unlisted.push(e.name);
    }
    if (unlisted.length === 0) continue;
    unlisted.sort();
    out.push(
      `warning: ${dir} holds ${unlisted.length} image(s) that ${ds.csvPath} does not list, ` +
        `so they are not used (${unlisted.slice(0, 3).join(", ")}${
          unlisted.length > 3 ? ", ..." : ""
        })`,
    );
  }
  return out;
}

/** Mean and standard deviation of input pixels. */
export interface PixelStats {
  /** Mean pixel value. */
  mean: number;
  /** Standard deviation of the pixel values. */
  std: number;
}

/**
 * Pixel mean and std of a split, from up to `count` images spread evenly over
 * it (deterministic: the same split always gives the same numbers), after
 * the intensity `window` (a `windowTransform`) when one is given.
 */
export function pixelStats(
  ds: LiTSDataset,
  count = 256,
  window: { aMin: number; aMax: number } | null = null,
): PixelStats {
  const step = Math.max(1, Math.floor(ds.length / count));
  // The stats of what the model sees: after the intensity window, if any.
  const lo = window?.aMin ?? 0, width = window ? window.aMax - window.aMin : 1;
  const clip = window !== null;
  let sum = 0, sq = 0, n = 0;
  for (let i = 0; i < ds.length; i += step) {
    for (const raw of ds.getSync(i).image.data) {
      const x = (raw - lo) / width;
      const v = clip ? Math.min(1, Math.max(0, x)) : x;
      sum += v;
      sq += v * v;
      n++;
    }
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(sq / n - mean * mean, 1e-12));
  if (!(std >= 5e-5)) {
    // Every pixel the same after the window: nothing to learn from, and the
    // standardisation would divide by 0. Usually 16-bit PNGs whose values sit
    // low in their 0..65535 range, which the window reads as all below it.
    const seen = window
      ? `after the intensity window (PNG values ${lo.toFixed(3)}..${window.aMax.toFixed(3)} of ` +
        "their range)"
      : "";
    throw new Error(
      `${ds.root}: the ${ds.split} images are one flat value ${seen} (mean ${mean.toFixed(4)}); ` +
        "check their bit depth and value range (16-bit PNGs are read over 0..65535), or " +
        "give --input-window none",
    );
  }
  // Rounded so that config.json and checkpoints read cleanly; 4 digits change nothing.
  return { mean: Number(mean.toFixed(4)), std: Number(std.toFixed(4)) };
}

/** The preprocessing and augmentation of one run. */
export interface RunTransforms {
  /** Training: resize (if needed), then the augmentation. */
  train: TransformSpec[];
  /** Validation and test: resize only. */
  eval: TransformSpec[];
}

/**
 * The transforms for images of `width` x `height` fed to a model of side
 * `imageSize`: resized, clipped to the intensity `window` (a
 * `windowTransform`) and standardised with `normalize` when given.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const t = train.runTransforms("RandomGamma", 64, 128, 128);
 * console.log(t.eval, t.train.map((s) => s.name)); // [{ name: "Resize", size: [64, 64] }] ["Resize", "RandomGamma"]
 * ```
 */
export function runTransforms(
  augment: string,
  imageSize: number,
  width: number,
  height: number,
  normalize: PixelStats | null = null,
  window: TransformSpec | null = null,
): RunTransforms {
  const prepare: TransformSpec[] = imageSize === width && imageSize === height
    ? []
    : [{ name: "Resize", size: [imageSize, imageSize] }];
  if (window) prepare.push(window);
  // Normalisation comes last: the augmentations work on (windowed) [0, 1] intensities.
  const norm: TransformSpec[] = normalize ? [{ name: "Normalize", ...normalize }] : [];
  return { train: [...prepare, ...augmentSpecs(augment), ...norm], eval: [...prepare, ...norm] };
}

/**
 * The evaluation transforms of a trained model (its checkpoint's spec) for
 * images of `width` x `height`: a resize to the model's side when needed,
 * then what its run recorded (input window, standardisation); for a spec
 * without that record, its `normalize` alone. Rebuilding them by hand from
 * `spec.normalize` would miss the input window.
 *
 * @example
 * ```ts
 * import { train } from "@lits/vision";
 * const spec = { name: "simple", options: { imageSize: 16 }, normalize: { mean: 0.1, std: 0.2 } };
 * console.log(train.evalTransforms(spec, 32, 32).map((t) => t.name)); // ["Resize", "Normalize"]
 * ```
 */
export function evalTransforms(spec: ModelSpec, width: number, height: number): TransformSpec[] {
  const size = spec.options.imageSize ?? width;
  const recorded = spec.preprocessing?.transforms;
  if (!recorded) return runTransforms("none", size, width, height, spec.normalize ?? null).eval;
  return [...runTransforms("none", size, width, height).eval, ...recorded.map((t) => ({ ...t }))];
}
