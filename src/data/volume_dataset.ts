/**
 * `VolumeDataset`: labelled NIfTI volumes for 3-D classification, as
 * MONAI's `Dataset(data=[{"image": path, "label": y}], transform)` with
 * `LoadImage` + `EnsureChannelFirst` at its head.
 *
 * Voxel order is MONAI's (and nibabel's `get_fdata()`): the file's own
 * index order, not reoriented. NIfTI dimension 1 (i, nibabel's X) becomes
 * D, dimension 2 (j, Y) becomes H and dimension 3 (k, Z; the slice axis of
 * an axial CT) becomes W, so a sample `{ data, depth, height, width }` holds
 * what MONAI's `[1, X, Y, Z]` tensor holds, and MONAI's spatial sizes
 * (`Resize(spatial_size=(96, 96, 64))`) port unchanged. (`readNifti`'s
 * slices are turned to the radiological view instead; this is not.)
 * `orientation: "RAS"` adds MONAI's `Orientation(axcodes="RAS")`: flips and
 * an axis permutation from each file's affine, as nibabel computes them.
 * `spacing: { pixdim }` adds MONAI's `Spacing` after it (volume_spacing.ts).
 * An item's list of files, or a file's 4th dimension, gives channels
 * [C, X, Y, Z] as MONAI's (volume_read.ts).
 *
 * @module
 */
import { checkContract } from "../options.ts";
import { countClasses, describe, wrapIndex } from "./dataset_common.ts";
import { Rng } from "./rng.ts";
import { Compose, compose } from "./transforms/volume/compose.ts";
import { applyToVolume } from "./transforms/volume/host.ts";
import { VolumeTransform, type VolumeTransformSpec } from "./transforms/volume/transform.ts";
import type { Dataset, Volume, VolumeSample } from "./types.ts";
import { checkAxcodes } from "./volume_orientation.ts";
import { readVolume } from "./volume_read.ts";
import { checkSpacing, type SpacingOptions, type SpacingSpec } from "./volume_spacing.ts";

/** One item: a NIfTI file (or several) and its class (MONAI's `{"image": path, "label": y}`). */
export interface VolumeItem {
  /**
   * Path of a `.nii` or `.nii.gz` file (or a `.hdr` with its `.img`), or a
   * list of them stacked as channels in order (MONAI's
   * `{"image": ["t1.nii.gz", "t2.nii.gz"]}`: one spatial shape and affine).
   */
  image: string | readonly string[];
  /** Class index (an integer >= 0). */
  label: number;
}

/** Options of `VolumeDataset`. */
export interface VolumeDatasetOptions {
  /**
   * Deterministic volume transforms applied in `get(i)` (MONAI's
   * preprocessing: `ScaleIntensityRange`, `CropForeground`, `Resize`, ...):
   * a volume transform, its spec, or a list of them. Random transforms
   * (`Rand*`) go to the DataLoader's `transform`, where each sample draws
   * from its own per-epoch stream.
   */
  transform?:
    | VolumeTransform
    | VolumeTransformSpec
    | readonly (VolumeTransform | VolumeTransformSpec)[];
  /**
   * Axis codes to reorient every volume to, as MONAI's
   * `Orientation(axcodes="RAS")` after `LoadImage`: three letters, one of
   * R/L, A/P, S/I each, naming where D, H, W point as their index grows.
   * Flips and axis permutations from the file's affine (nibabel's
   * `io_orientation`: its closest axes for an oblique file), no resampling.
   * Default: none, the file's own order.
   */
  orientation?: string | null;
  /**
   * MONAI's `Spacing(pixdim, mode, padding_mode)` after `orientation`:
   * every volume resampled to the voxel size `pixdim` along D, H, W (one
   * number for all three; an entry <= 0 keeps that axis), trilinear
   * (`mode: "bilinear"`, MONAI's name and default) or `"nearest"`, with
   * `paddingMode` "border" (default), "zeros" or "reflection"; the output
   * shape, origin and sample points are MONAI's (diagonal=False: the
   * affine's rotation kept, its shear dropped). Applied before `transform`;
   * the sample's `spacing` becomes the new voxel size. Default: none.
   */
  spacing?: SpacingOptions | null;
}

const WHERE = "data.VolumeDataset";
const USAGE = 'new data.VolumeDataset([{ image: "ct_0.nii.gz", label: 1 }], { transform })';
const NIFTI = /\.(nii|hdr)(\.gz)?$/i;

/** A `VolumeDataset`'s worker spec. */
interface VolumeSpec {
  items: VolumeItem[];
  transform: VolumeTransformSpec | null;
  orientation?: string | null;
  spacing?: SpacingSpec | null;
}

/** The items checked and copied; errors name the item. */
function checkItems(items: unknown): VolumeItem[] {
  if (!Array.isArray(items)) {
    throw new Error(
      `${WHERE}: items must be an array of { image: path, label }, got ${describe(items)}; ` +
        `write ${USAGE}`,
    );
  }
  return items.map((item, i) => {
    const at = `${WHERE}: item ${i}`;
    if (typeof item === "string") {
      throw new Error(
        `${at} is the path ${JSON.stringify(item)} without a label; an item is ` +
          `{ image: path, label }: { image: ${JSON.stringify(item)}, label: 0 }`,
      );
    }
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw new Error(`${at} is ${describe(item)}; an item is { image: path, label }`);
    }
    const extra = Object.keys(item).filter((k) => k !== "image" && k !== "label");
    if (extra.length > 0) {
      throw new Error(
        `${at} has ${extra.map((k) => `'${k}'`).join(", ")}, which VolumeDataset does not ` +
          `read (an item is { image: path, label }); leave ${extra.length > 1 ? "them" : "it"} out`,
      );
    }
    const { image, label } = item as { image?: unknown; label?: unknown };
    if (Array.isArray(image) && image.length === 0) {
      throw new Error(
        `${at}: image is an empty list; give a path, or a list of paths stacked as channels ` +
          `(MONAI's { image: ["t1.nii.gz", "t2.nii.gz"], label })`,
      );
    }
    const paths: unknown[] = Array.isArray(image) ? image : [image];
    paths.forEach((path, f) => {
      const which = Array.isArray(image) ? `image[${f}]` : "image";
      if (typeof path !== "string" || path === "") {
        throw new Error(
          `${at}: ${which} must be the path of a NIfTI file, got ` +
            `${path === undefined ? "nothing" : describe(path)}`,
        );
      }
      if (!NIFTI.test(path)) {
        throw new Error(
          `${at}: ${JSON.stringify(path)} is not a NIfTI path; VolumeDataset reads .nii and ` +
            `.nii.gz files (or a .hdr with its .img)`,
        );
      }
    });
    if (!Number.isInteger(label) || (label as number) < 0) {
      throw new Error(
        `${at}: label must be a class index (an integer >= 0), got ` +
          `${label === undefined ? "nothing" : describe(label)}` +
          (typeof label === "string" && /^\d+$/.test(label) ? ` (write label: ${label})` : ""),
      );
    }
    const path = Array.isArray(image) ? Object.freeze([...image] as string[]) : image as string;
    return { image: path, label: label as number };
  });
}

/** MONAI's `axcodes` option, refused with the name to write. */
function noAxcodes(v: unknown): never {
  const codes = typeof v === "string" ? JSON.stringify(v) : '"RAS"';
  throw new Error(
    `${WHERE}: unknown option 'axcodes'; MONAI's Orientation(axcodes=...) is the option ` +
      `orientation here: write { orientation: ${codes} }`,
  );
}

/** MONAI's `Spacingd(pixdim=...)` key at the top level, refused with the option to write. */
function noPixdim(v: unknown): never {
  const shown = Array.isArray(v)
    ? `[${v.join(", ")}]`
    : typeof v === "number"
    ? String(v)
    : "[1.5, 1.5, 2]";
  throw new Error(
    `${WHERE}: unknown option 'pixdim'; MONAI's Spacing(pixdim=...) is the option spacing ` +
      `here: write { spacing: { pixdim: ${shown} } }`,
  );
}

/** The class names of a random transform inside `t`, if any (MONAI's Randomizable: Rand*). */
function randomIn(t: VolumeTransform): string | null {
  if (t instanceof Compose) {
    for (const inner of t.transforms) {
      const found = randomIn(inner);
      if (found) return found;
    }
    return null;
  }
  return t.name.startsWith("volume.Rand") ? t.name : null;
}

/** The dataset's transform: deterministic volume transforms only. */
function toTransform(t: VolumeDatasetOptions["transform"]): VolumeTransform | null {
  if (t === undefined || t === null) return null;
  let out: VolumeTransform;
  if (t instanceof VolumeTransform) out = t;
  else if (Array.isArray(t)) out = compose(t);
  else if (typeof t === "object" && typeof (t as { name?: unknown }).name === "string") {
    out = compose([t as VolumeTransformSpec]);
  } else {
    throw new Error(
      `${WHERE}: transform must be a volume transform (data.transforms.volume), its spec or ` +
        `a list of them, got ${describe(t)}`,
    );
  }
  const random = randomIn(out);
  if (random) {
    throw new Error(
      `${WHERE}: transform holds ${random}, a random transform; the dataset applies ` +
        `deterministic ones only, so that every epoch and every worker count gives the same ` +
        `samples. Give random ones to the loader, which draws them per sample and epoch: ` +
        `new data.DataLoader(ds, { transform: data.transforms.volume.compose([...]) })`,
    );
  }
  return out;
}

/**
 * Labelled 3-D NIfTI volumes, as MONAI's `Dataset(data=[{"image": path,
 * "label": y}])` with `LoadImage` + `EnsureChannelFirst`: `get(i)` reads item
 * `i` with `readNifti` and returns `{ image: { data, channels, width,
 * height, depth }, label }`, float32 voxels in real units (HU for CT: the
 * header's `scl_slope`/`scl_inter` applied), in MONAI's order [X, Y, Z] as
 * [D, H, W] (D = NIfTI dimension 1, H = 2, W = 3; the file's order, not
 * reoriented). The DataLoader batches them as [N, C, D, H, W].
 *
 * Channels as MONAI's `LoadImage` + `EnsureChannelFirst` make them: an item
 * `{ image: ["t1.nii.gz", "t2.nii.gz"] }` stacks its files as channels in
 * order (every file of the first one's spatial shape and affine, within
 * MONAI's `np.allclose`; otherwise an Error naming both files), and a 4-D
 * file [X, Y, Z, T] gives T channels (also a 5-D one [X, Y, Z, 1, C],
 * NIfTI's vector layout); a list of 4-D files concatenates their channels.
 * Orientation and spacing move every channel alike, by the first file's
 * affine. Items of one batch must agree in C.
 *
 * `orientation` (e.g. "RAS", "LPS") reorients every volume as MONAI's
 * `Orientation(axcodes=...)` after `LoadImage`: D, H, W then point where the
 * codes say (for "RAS": to the patient's right, anterior, superior), by
 * flips and an axis permutation taken from the file's affine (nibabel's
 * `io_orientation`: its closest axes when oblique), never resampled; a
 * dataset mixing LPS and RAS files then batches one anatomy. `spacing:
 * { pixdim: [1.5, 1.5, 2] }` then resamples every volume to that voxel size
 * as MONAI's `Spacing(pixdim, mode="bilinear", padding_mode="border")`
 * (`mode`, `paddingMode` as MONAI's), so that files of different slice
 * thickness share one physical scale. Each volume
 * carries `spacing`, the voxel size along D, H, W (the header's `pixdim`,
 * permuted alike), kept through the transforms that keep voxel size (the
 * intensity ones, crops, pads and flips), swapped by `Rotate90`, and left
 * out after those that resample (`Resize`, `Zoom`, `Rotate`, `Affine`).
 *
 * `transform` holds deterministic preprocessing, applied in `get(i)`;
 * random augmentation goes to the loader's `transform`. Files are read at
 * `get(i)`, not here; a missing or unreadable file, a file that is not
 * NIfTI, or files of one item that disagree is an Error naming the item. Loader
 * workers rebuild the dataset from its items, so files are read off the
 * main thread.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 * const V = data.transforms.volume;
 * const ds = new data.VolumeDataset(
 *   [{ image: "tests/fixtures/nifti/anatomical.nii", label: 1 }],
 *   { transform: [new V.ScaleIntensityRange({ aMin: 0, aMax: 200, bMin: 0, bMax: 1, clip: true })] },
 * );
 * const { image, label } = await ds.get(0);
 * console.log(image.depth, image.height, image.width, label); // 33 41 25 1
 * const ras = new data.VolumeDataset(ds.items, { orientation: "RAS" });
 * console.log((await ras.get(0)).image.spacing); // [2, 2, 2]
 * const iso = new data.VolumeDataset(ds.items, { orientation: "RAS", spacing: { pixdim: 3 } });
 * const { image: v } = await iso.get(0);
 * console.log(v.depth, v.height, v.width, v.spacing); // 22 28 17 [3, 3, 3]
 * const path = "tests/fixtures/nifti/anatomical.nii";
 * const two = new data.VolumeDataset([{ image: [path, path], label: 1 }]); // channels
 * console.log((await two.get(0)).image.channels); // 2
 * const loader = new data.DataLoader(ds, { batchSize: 1, transform: V.compose([new V.RandFlip({ p: 0.5, spatialAxis: 0 })]) });
 * for await (using batch of loader) console.log(batch.images.shape); // [1, 1, 33, 41, 25]
 * ```
 */
export class VolumeDataset implements Dataset {
  /** The items (copies). */
  readonly items: readonly Readonly<VolumeItem>[];
  /** Each item's class index. */
  readonly labels: Int32Array;
  /** The deterministic transform applied in `get(i)`, or null. */
  readonly transform: VolumeTransform | null;
  /** The axis codes volumes are reoriented to (e.g. "RAS"), or null: the file's order. */
  readonly orientation: string | null;
  /** MONAI's `Spacing` applied after orientation (pixdim and both modes, checked), or null. */
  readonly spacing: Readonly<SpacingSpec> | null;

  /** `items`: `{ image: path, label }[]`; `options.transform`: deterministic volume transforms. */
  constructor(items: readonly VolumeItem[], options: VolumeDatasetOptions = {}) {
    options = checkContract(
      { where: WHERE, most: 2, known: ["transform", "orientation", "spacing"], usage: USAGE },
      arguments.length,
      options !== null && typeof options === "object" && "axcodes" in options
        ? noAxcodes(options.axcodes)
        : options !== null && typeof options === "object" && "pixdim" in options
        ? noPixdim(options.pixdim)
        : options,
    );
    this.items = Object.freeze(checkItems(items).map((it) => Object.freeze(it)));
    this.labels = Int32Array.from(this.items, (it) => it.label);
    this.transform = toTransform(options.transform);
    this.orientation = options.orientation === undefined || options.orientation === null
      ? null
      : checkAxcodes(WHERE, options.orientation);
    this.spacing = options.spacing === undefined || options.spacing === null
      ? null
      : Object.freeze(checkSpacing(WHERE, options.spacing));
  }

  /** Number of items. */
  get length(): number {
    return this.items.length;
  }

  /** Item `i` (negative counts from the end, as torch's), read from its file. */
  async get(i: number): Promise<VolumeSample> {
    const k = wrapIndex("VolumeDataset.get", i, this.items.length);
    const { image: path, label } = this.items[k];
    let volume: Volume;
    try {
      volume = await readVolume(path, this.orientation, this.spacing);
      if (this.transform) {
        const spacing = volume.spacing && this.transform.spacingAfter(volume.spacing);
        // Deterministic transforms draw nothing; the stream is only a formality.
        volume = applyToVolume(this.transform, volume, new Rng(0));
        if (spacing !== undefined) volume.spacing = spacing;
      }
    } catch (e) {
      throw new Error(`${WHERE}: item ${k}: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    return { image: volume, label };
  }

  /** Items per class (classes 0 .. the largest label). */
  classCounts(): number[] {
    return countClasses(this.labels);
  }

  /** How a loader worker rebuilds it: the items and the transform's spec. */
  workerSpec(): { module: string; spec: VolumeSpec } {
    return {
      module: import.meta.url,
      spec: {
        items: this.items.map((it) => ({
          image: typeof it.image === "string" ? it.image : [...it.image],
          label: it.label,
        })),
        transform: this.transform?.spec ?? null,
        orientation: this.orientation,
        spacing: this.spacing ? { ...this.spacing, pixdim: [...this.spacing.pixdim] } : null,
      },
    };
  }
}

/** @internal rebuilds a `VolumeDataset` in a loader worker from its `workerSpec().spec`. */
export function openDataset(spec: VolumeSpec): VolumeDataset {
  return new VolumeDataset(spec.items, {
    ...(spec.transform ? { transform: spec.transform } : {}),
    orientation: spec.orientation ?? null,
    spacing: spec.spacing ?? null,
  });
}
