/**
 * torchvision's `ImageFolder`: `root/<class>/.../<image>` with the class
 * folders sorted into indices. Images are read as the library's other
 * readers read them: one grey float32 channel in [0, 1] (8-bit pixels / 255,
 * 16-bit / 65535, as `ToTensor`), colour files reduced as PIL's
 * `convert("L")`, which is torchvision's `ImageFolder` followed by
 * `Grayscale()` (without it torchvision gives three channels; here there is
 * one, and models take one input channel).
 *
 * @module
 */
import { extname, join, relative, resolve } from "node:path";
import { checkContract } from "../options.ts";
import { describe, wrapIndex } from "./dataset_common.ts";
import { decodeImage } from "./image_decode.ts";
import { Rng } from "./rng.ts";
import { Compose, compose, fromSpec, transformNames } from "./transforms/compose.ts";
import { Transform, type TransformSpec } from "./transforms/transform.ts";
import type { Dataset, Image, Sample } from "./types.ts";

/** torchvision's `IMG_EXTENSIONS` (lower case; matched case-insensitively). */
export const IMG_EXTENSIONS: readonly string[] = [
  ".jpg",
  ".jpeg",
  ".png",
  ".ppm",
  ".bmp",
  ".pgm",
  ".tif",
  ".tiff",
  ".webp",
];

/** The extensions the decoder reads (PNG and JPEG). */
const DECODED = [".png", ".jpg", ".jpeg"];

/** Options of `ImageFolder` (torchvision's, camelCase). */
export interface ImageFolderOptions {
  /**
   * Deterministic transforms applied in `get(i)` (a transform, its spec or a
   * list: `Resize`, `CenterCrop`, `ToTensor`, `Normalize` ...). Random ones go
   * to the DataLoader's `transform`, which draws them per sample and epoch.
   */
  transform?: Transform | TransformSpec | readonly (Transform | TransformSpec)[];
  /** Maps each class index to the label returned (an integer class index). */
  targetTransform?: (target: number) => number;
  /** File endings taken, case-insensitive (default `IMG_EXTENSIONS`); not with `isValidFile`. */
  extensions?: readonly string[] | string;
  /** Takes a file's path and says whether it is a sample; not with `extensions`. */
  isValidFile?: (path: string) => boolean;
}

const WHERE = "data.ImageFolder";
const USAGE = 'new data.ImageFolder("data/train", { transform })';

/** What a worker needs to rebuild an ImageFolder: the files (relative to root) and labels. */
export interface ImageFolderSpec {
  root: string;
  samples: [string, number][];
  transform: TransformSpec | null;
}

/** Sorted as Python sorts strings (by code point), not by locale. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Entries of a folder, split into folders and files, each sorted (symlinks followed). */
function listDir(dir: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [], files: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    let isDir = e.isDirectory, isFile = e.isFile;
    if (e.isSymlink) {
      const s = Deno.statSync(join(dir, e.name));
      isDir = s.isDirectory;
      isFile = s.isFile;
    }
    if (isDir) dirs.push(e.name);
    else if (isFile) files.push(e.name);
  }
  return { dirs: dirs.sort(byCodePoint), files: files.sort(byCodePoint) };
}

/**
 * Every file under `dir` in torchvision's order, `sorted(os.walk(dir))`:
 * folders sorted by their whole path, each one's files sorted. Not
 * depth-first: "b-c" and "b.d" come before "b/e", as '-' and '.' sort
 * before '/'.
 */
function walk(dir: string): string[] {
  const folders: [string, string[]][] = [];
  const visit = (d: string) => {
    const { dirs, files } = listDir(d);
    folders.push([d, files]);
    for (const sub of dirs) visit(join(d, sub));
  };
  visit(dir);
  folders.sort(([a], [b]) => byCodePoint(a, b));
  return folders.flatMap(([d, files]) => files.map((f) => join(d, f)));
}

/** The names of random transforms inside `t` (anything not known to be deterministic). */
function randomSteps(t: Transform): string[] {
  if (t instanceof Compose) return t.transforms.flatMap(randomSteps);
  const fixed = [
    "Resize",
    "CenterCrop",
    "Pad",
    "Normalize",
    "CropForeground",
    "ScaleIntensityRange",
    "ToTensor",
    "Grayscale",
    "ConvertImageDtype",
  ];
  // A class of the user's own is theirs to judge; the library's others draw.
  if (!transformNames().includes(t.name)) return [];
  return fixed.includes(t.name) ? [] : [t.name];
}

/** The dataset's transform: deterministic steps only, composed. */
function toTransform(t: ImageFolderOptions["transform"]): Transform | null {
  if (t === undefined || t === null) return null;
  let out: Transform;
  if (t instanceof Transform) out = t;
  else if (Array.isArray(t)) out = compose(t);
  else if (typeof t === "object" && typeof (t as { name?: unknown }).name === "string") {
    out = compose([t as TransformSpec]);
  } else {
    throw new Error(
      `${WHERE}: transform must be a transform (data.transforms), its spec or a list of them, ` +
        `got ${describe(t)}`,
    );
  }
  const random = [...new Set(randomSteps(out))];
  if (random.length > 0) {
    throw new Error(
      `${WHERE}: transform holds ${random.join(", ")}, drawn at random; the dataset applies ` +
        "deterministic steps only, so that every epoch and worker count gives the same " +
        "samples. Give the pipeline to the loader, which draws per sample and epoch (torch " +
        "draws from its global generator): new data.ImageFolder(root) and " +
        "new data.DataLoader(ds, { transform }) with the same Compose",
    );
  }
  return out;
}

/**
 * Images in class folders, as torchvision's `ImageFolder(root, transform,
 * target_transform, is_valid_file)`: `classes` are the sorted folder names
 * under `root`, `classToIdx` their indices, `samples` the `[path,
 * classIndex]` pairs (files in each class folder and its subfolders,
 * sorted, whose names end in one of `extensions`, case-insensitively),
 * `targets` the class indices. A root without class folders, or a class
 * folder without images, throws torchvision's message.
 *
 * `get(i)` reads the file (PNG or JPEG; other image types in `extensions`
 * throw when the dataset is built) as one grey channel in [0, 1] (see the
 * module doc for colour files), applies the deterministic `transform`, and
 * returns `{ image, label }`. A DataLoader reads it in worker threads
 * (`workers > 0`) unless `targetTransform`, `isValidFile` or a transform
 * class of your own is given (then on the main thread).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const root = await Deno.makeTempDir();
 * for (const [cls, v] of [["liver", 200], ["none", 10]] as const) {
 *   await Deno.mkdir(`${root}/${cls}`);
 *   await Deno.writeFile(`${root}/${cls}/a.PNG`, data.encodeGreyPng(new Uint8Array(16).fill(v), 4, 4));
 * }
 * const T = data.transforms;
 * const ds = new data.ImageFolder(root, { transform: T.compose([new T.ToTensor(), new T.Normalize({ mean: 0.5, std: 0.5 })]) });
 * console.log(ds.classes, ds.classToIdx, ds.targets); // ["liver", "none"] { liver: 0, none: 1 } [0, 1]
 * const { image, label } = await ds.get(1);
 * console.log(image.width, label, image.data[0].toFixed(3)); // 4 1 -0.922
 * ```
 */
export class ImageFolder implements Dataset {
  /** The root folder (absolute). */
  readonly root: string;
  /** Class folder names, sorted. */
  readonly classes: readonly string[];
  /** Class name to index (torchvision's `class_to_idx`). */
  readonly classToIdx: Readonly<Record<string, number>>;
  /** `[path, classIndex]` of every sample. */
  readonly samples: readonly (readonly [string, number])[];
  /** Class index of every sample. */
  readonly targets: readonly number[];
  /** The label `get(i)` returns for every sample (targets through `targetTransform`). */
  readonly labels: Int32Array;
  /** The deterministic transform applied in `get(i)`, or null. */
  readonly transform: Transform | null;
  /**
   * How a loader worker rebuilds it (the files found here, not scanned
   * again); absent with `targetTransform`, `isValidFile` or a transform class
   * of your own, which cannot travel to a worker (the loader then reads here).
   */
  readonly workerSpec?: () => { module: string; spec: ImageFolderSpec };
  readonly #targetTransform: ((target: number) => number) | undefined;

  /** Scans `root`; see the class doc. */
  constructor(root: string, options: ImageFolderOptions = {}) {
    options = checkContract(
      {
        where: WHERE,
        most: 2,
        known: ["transform", "targetTransform", "extensions", "isValidFile"],
        usage: USAGE,
      },
      arguments.length,
      options,
    );
    if (typeof root !== "string" || root === "") {
      throw new Error(`${WHERE}: root must be a folder path (a string), got ${describe(root)}`);
    }
    this.root = resolve(root);
    this.transform = toTransform(options.transform);
    const { targetTransform, isValidFile } = options;
    for (const [key, fn] of [["targetTransform", targetTransform], ["isValidFile", isValidFile]]) {
      if (fn !== undefined && fn !== null && typeof fn !== "function") {
        throw new Error(`${WHERE}: ${key} must be a function, got ${describe(fn)}`);
      }
    }
    if (options.extensions !== undefined && isValidFile !== undefined) {
      // torchvision's ValueError.
      throw new Error(
        `${WHERE}: Both extensions and is_valid_file cannot be None or not None at the same ` +
          "time: give extensions or isValidFile, not both",
      );
    }
    const given = options.extensions;
    const extensions = (typeof given === "string" ? [given] : given ?? IMG_EXTENSIONS)
      .map((e) => {
        if (typeof e !== "string" || e === "") {
          throw new Error(
            `${WHERE}: extensions must be strings such as ".png", got ${describe(e)}`,
          );
        }
        return e.toLowerCase();
      });
    this.#targetTransform = targetTransform;

    let classes: string[];
    try {
      classes = listDir(this.root).dirs;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new Error(`${WHERE}: ${this.root}: not found`);
      throw e;
    }
    if (classes.length === 0) {
      throw new Error(`${WHERE}: Couldn't find any class folder in ${this.root}.`);
    }
    this.classes = Object.freeze(classes);
    this.classToIdx = Object.freeze(Object.fromEntries(classes.map((c, i) => [c, i])));
    const valid = isValidFile ??
      ((path: string) => extensions.some((e) => path.toLowerCase().endsWith(e)));
    const samples: [string, number][] = [];
    const empty: string[] = [];
    classes.forEach((cls, index) => {
      const found = walk(join(this.root, cls)).filter((p) => valid(p));
      if (found.length === 0) empty.push(cls);
      for (const p of found) samples.push([p, index]);
    });
    if (empty.length > 0) {
      throw new Error(
        `${WHERE}: Found no valid file for the classes ${empty.join(", ")}. ` +
          (isValidFile ? "" : `Supported extensions are: ${extensions.join(", ")}`),
      );
    }
    // Fail now, not in the middle of an epoch, on files the decoder cannot read.
    const unreadable = samples.find(([p]) => !DECODED.includes(extname(p).toLowerCase()));
    if (unreadable) {
      throw new Error(
        `${WHERE}: ${unreadable[0]}: only PNG and JPEG files are read here (${
          DECODED.join(", ")
        }); convert the images, or leave them out with extensions: [".png", ".jpg", ".jpeg"]`,
      );
    }
    this.samples = Object.freeze(samples.map((s) => Object.freeze(s)));
    this.targets = Object.freeze(samples.map(([, t]) => t));
    this.labels = Int32Array.from(this.targets, (t) => this.#label(t));
    // Functions and classes of the user's own cannot travel to a worker.
    const local = targetTransform !== undefined || isValidFile !== undefined ||
      (this.transform !== null && !specKnown(this.transform.spec));
    if (!local) {
      const spec: ImageFolderSpec = {
        root: this.root,
        samples: samples.map(([p, t]) => [relative(this.root, p), t]),
        transform: this.transform?.spec ?? null,
      };
      this.workerSpec = () => ({ module: import.meta.url, spec });
    }
  }

  /** Number of samples. */
  get length(): number {
    return this.samples.length;
  }

  /**
   * Sample `i`: `{ image, label }` (the file as one grey channel in [0, 1],
   * transformed); negative `i` counts from the end, as torchvision's.
   */
  get(i: number): Promise<Sample> {
    return new Promise((done) => done(this.getSync(i)));
  }

  /** Sample `i` (negative counts from the end, as torchvision's), read on this thread. */
  getSync(i: number): Sample {
    const k = wrapIndex(`${WHERE}.get`, i, this.samples.length);
    return { image: readImage(this.samples[k][0], this.transform), label: this.labels[k] };
  }

  /** Samples per class index (of the labels `get` returns). */
  classCounts(): number[] {
    const counts = new Array<number>(this.classes.length).fill(0);
    for (const l of this.labels) {
      while (counts.length <= l) counts.push(0);
      counts[l]++;
    }
    return counts;
  }

  /** The label of class index `t`, through `targetTransform`, checked. */
  #label(t: number): number {
    if (!this.#targetTransform) return t;
    const l = this.#targetTransform(t);
    if (!Number.isInteger(l) || l < 0) {
      throw new Error(
        `${WHERE}: targetTransform(${t}) returned ${describe(l)}; labels here are class ` +
          "indices (integers >= 0)",
      );
    }
    return l;
  }
}

/** A file as one grey channel in [0, 1] (ToTensor's / 255), through the deterministic transform. */
function readImage(path: string, transform: Transform | null): Image {
  const img = decodeImage(Deno.readFileSync(path), path);
  const data = img.data;
  for (let k = 0; k < data.length; k++) data[k] /= img.maxValue;
  const image = { data, width: img.width, height: img.height };
  // Deterministic steps draw nothing; the stream is only a formality.
  return transform ? transform.apply(image, new Rng(0)) : image;
}

/** Whether every transform in `spec` is one the library can rebuild (workers can). */
function specKnown(spec: TransformSpec): boolean {
  if (!transformNames().includes(spec.name)) return false;
  const inner = spec.transforms;
  return !Array.isArray(inner) || (inner as TransformSpec[]).every(specKnown);
}

/**
 * Re-opens an `ImageFolder` in a loader worker from its `workerSpec().spec`
 * (the files found on the main thread, not scanned again).
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * import { openDataset } from "./image_folder.ts";
 * const root = await Deno.makeTempDir();
 * await Deno.mkdir(`${root}/a`);
 * await Deno.writeFile(`${root}/a/x.png`, data.encodeGreyPng(new Uint8Array(4), 2, 2));
 * const { spec } = new data.ImageFolder(root).workerSpec!();
 * console.log(openDataset(spec).length); // 1
 * ```
 */
export function openDataset(spec: ImageFolderSpec): Dataset {
  const transform = spec.transform ? fromSpec(spec.transform) : null;
  const samples = spec.samples.map(([p, t]) => [join(spec.root, p), t] as const);
  return {
    length: samples.length,
    get(i: number): Promise<Sample> {
      return new Promise((done) => {
        // The loader passes torch's negative indices on: read them as the main thread does.
        const [path, label] = samples[wrapIndex(`${WHERE}.get`, i, samples.length)];
        done({ image: readImage(path, transform), label });
      });
    },
  };
}
