/**
 * From a scan's pixels to a model input, exactly as the training images were
 * made (the checkpoint's `Preprocessing`, or `--window` / `--image-size` for
 * a checkpoint that predates it):
 *
 * - a CT slice in Hounsfield units (NIfTI, DICOM) is box-averaged to the
 *   training images' size, clipped to the window and rounded to 0..255, as
 *   `importLiTSVolumes` writes its PNGs;
 * - every image, then, is min-max scaled to [0, 1] as `LiTSDataset` does,
 *   resized bilinearly to the model's side (the run's `Resize`) when it
 *   differs, and put through the run's other evaluation transforms as the
 *   checkpoint records them (an intensity window, `Normalize`); a checkpoint
 *   that predates that record is standardised with its mean and std.
 *
 * @module
 */
import { minMaxNormalize } from "../data/image_decode.ts";
import { windowedSlice } from "../data/import_lits.ts";
import { resize } from "../data/transforms/functional/geometry.ts";
import { compose } from "../data/transforms/compose.ts";
import type { TransformSpec } from "../data/transforms/transform.ts";
import { Rng } from "../data/rng.ts";
import type { Image } from "../data/types.ts";
import type { ModelSpec } from "../train/setup.ts";
import { sliceScaling } from "../train/intensity_window.ts";
import { UsageError } from "../train/errors.ts";

/** What predict does to each image, resolved from the checkpoint and the flags. */
export interface PredictPreprocessing {
  /** Hounsfield window [low, high] of the training images. */
  window: [number, number];
  /** Width and height of the training images (a volume slice is box-averaged to it). */
  dataSize: [number, number];
  /** Side of the model's input. */
  imageSize: number;
  /** The run's evaluation transforms after the resize (window, Normalize). */
  transforms: TransformSpec[];
}

/** One image ready for the model: its input and what the page shows. */
export interface PreparedImage {
  /** The model input, imageSize^2 values (standardised when the run was). */
  input: Float32Array;
  /** The same image in [0, 1] before standardisation, for the page. */
  view: Float32Array;
}

/** The flags that stand in for a checkpoint's missing record. */
export interface PreprocessingFlags {
  /** `--window LO,HI`. */
  window?: [number, number];
  /** `--image-size N`: the side of the training images. */
  imageSize?: number;
}

/**
 * The preprocessing of `spec` (the checkpoint's), with `flags` overriding
 * it; `notes` gets one line per override. A checkpoint that does not record
 * it needs both flags, and the UsageError says so.
 */
export function resolvePreprocessing(
  spec: ModelSpec,
  checkpoint: string,
  flags: PreprocessingFlags,
  notes: string[],
): PredictPreprocessing {
  const rec = spec.preprocessing;
  const side = flags.imageSize;
  if (!rec) {
    const missing = [
      ...(flags.window
        ? []
        : ["--window LO,HI (the HU window of the training images, e.g. -200,250)"]),
      ...(side ? [] : ["--image-size N (the side of the training images, e.g. 256)"]),
    ];
    if (missing.length > 0) {
      throw new UsageError(
        `checkpoint ${checkpoint} does not record how its training images were made ` +
          `(written before that was recorded, or a plain state dict); give ${
            missing.join(" and ")
          }`,
      );
    }
  }
  const window = flags.window ?? rec!.window;
  const dataSize: [number, number] = side ? [side, side] : rec!.dataSize;
  if (rec && flags.window && flags.window.join() !== rec.window.join()) {
    notes.push(`--window ${flags.window} overrides the checkpoint's window ${rec.window}`);
  }
  if (rec && side && dataSize.join() !== rec.dataSize.join()) {
    notes.push(
      `--image-size ${side} overrides the checkpoint's image size ${rec.dataSize.join("x")}`,
    );
  }
  const imageSize = spec.options.imageSize ?? dataSize[0];
  const transforms = rec?.transforms ??
    (spec.normalize ? [{ name: "Normalize", ...spec.normalize }] : []);
  return { window, dataSize, imageSize, transforms };
}

/**
 * The model input of an image in its file's own scale (a PNG's 0..255 or
 * 0..65535 as `maxValue` says, a JPEG's; 0..255 when not given).
 */
export function prepareImage(
  image: Image & { maxValue?: number },
  p: PredictPreprocessing,
): PreparedImage {
  // As the run scaled its slices (an input window is in the data's units).
  const scaled = sliceScaling(p.transforms) === "none"
    ? Float32Array.from(image.data, (v) => v / (image.maxValue ?? 255))
    : minMaxNormalize(Float32Array.from(image.data));
  const s = p.imageSize;
  const view = image.width === s && image.height === s
    ? scaled
    : resize({ data: scaled, width: image.width, height: image.height }, [s, s]).data;
  // Evaluation transforms are deterministic; the generator is only their signature's.
  const input = p.transforms.length > 0
    ? compose(p.transforms).apply(
      { data: Float32Array.from(view), width: s, height: s },
      new Rng(0),
    )
      .data
    : view;
  return { input, view };
}

/** The model input of a CT slice in Hounsfield units, made as the importer makes its PNGs. */
export function prepareHuSlice(hu: Image, p: PredictPreprocessing): PreparedImage {
  const [w, h] = p.dataSize;
  return prepareImage({ data: windowedSlice(hu, w, h, p.window), width: w, height: h }, p);
}

/** Parses `--window LO,HI`. */
export function parseWindow(text: string): [number, number] {
  const parts = text.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[1] > parts[0])) {
    throw new UsageError(`--window "${text}": give two numbers LO,HI with LO < HI, e.g. -200,250`);
  }
  return [parts[0], parts[1]];
}
