/**
 * DICOM inputs of `deno task predict`: one file (every frame of a
 * multi-frame file, as a volume) or the series in a folder. The pixels are
 * Hounsfield units for CT, so each slice is windowed as the importer windows
 * LiTS. Axial slices are turned into the radiological view the NIfTI path
 * gives and the model was trained on (the patient's right on the image's
 * left, anterior at the top, slices from inferior to superior): a
 * feet-first series (orientation -1 0 0 0 1 0) came out mirrored and upside
 * down otherwise. Other orientations are used as stored and noted, as is a
 * modality other than CT.
 *
 * @module
 */
import { readDicom, readDicomSeries } from "../data/dicom/mod.ts";
import type { DicomImage } from "../data/dicom/mod.ts";
import { type PredictPreprocessing, prepareHuSlice } from "./preprocess.ts";
import type { InputItem } from "./inputs.ts";

/** Notes on a modality or orientation the model was not trained on. */
function checkImage(where: string, img: DicomImage, notes: string[]): void {
  const m = img.meta.modality;
  if (m !== "CT") {
    notes.push(
      `${where}: modality ${m ?? "unknown"}, not CT: its values are not Hounsfield units, so ` +
        "the CT window and the predictions mean little",
    );
  }
  const o = img.meta.imageOrientation;
  if (o && o.length === 6) {
    // Axial: the slice normal (row x column) along the patient's z axis.
    const nz = o[0] * o[4] - o[1] * o[3];
    if (Math.abs(nz) < 0.9) notes.push(`${where}: not an axial slice (the model saw axial CT)`);
  }
}

/** Rows along the patient's x axis and columns along y, as axial CT stores them. */
function flipsOf(o: number[] | null): { cols: boolean; rows: boolean } | null {
  if (!o || o.length !== 6 || Math.abs(o[0]) < 0.9 || Math.abs(o[4]) < 0.9) return null;
  // DICOM's patient axes: +x left, +y posterior. The view wants both.
  return { cols: o[0] < 0, rows: o[4] < 0 };
}

/** `img`'s pixels with its columns and rows reversed as `flips` says. */
function inView(img: DicomImage, flips: { cols: boolean; rows: boolean } | null) {
  if (!flips || (!flips.cols && !flips.rows)) return img;
  const { width: w, height: h, data } = img;
  const out = new Float32Array(w * h);
  for (let r = 0; r < h; r++) {
    const src = (flips.rows ? h - 1 - r : r) * w;
    for (let c = 0; c < w; c++) out[r * w + c] = data[src + (flips.cols ? w - 1 - c : c)];
  }
  return { ...img, data: out };
}

/** The patient's z (superior) of a slice, or null without a position. */
const zOf = (img: DicomImage) => img.meta.imagePosition?.[2] ?? null;

/**
 * `images` in the radiological view, from inferior to superior where each
 * has a position; a note for what was turned.
 */
function toView(where: string, images: DicomImage[], notes: string[]): DicomImage[] {
  const flips = flipsOf(images[0].meta.imageOrientation);
  let out = images;
  const z = images.map(zOf);
  if (z.every((v) => v !== null) && z.some((v, i) => i > 0 && v! < z[i - 1]!)) {
    out = images.map((img, i) => ({ img, z: z[i]! })).sort((a, b) => a.z - b.z).map((e) => e.img);
    notes.push(`${where}: slices stored from superior to inferior; taken from inferior`);
  }
  if (flips && (flips.cols || flips.rows)) {
    const what = [flips.cols ? "left-right" : "", flips.rows ? "top-bottom" : ""].filter(Boolean);
    notes.push(
      `${where}: orientation ${images[0].meta.imageOrientation!.join(" ")}: flipped ` +
        `${what.join(" and ")} into the radiological view the model saw`,
    );
  }
  return out.map((img) => inView(img, flips));
}

/** One DICOM file: an image, or a volume of its frames. */
export async function readDicomInput(
  path: string,
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem> {
  const first = await readDicom(path);
  checkImage(path, first, notes);
  const frames = first.meta.frames;
  const images: DicomImage[] = [first];
  for (let f = 1; f < frames; f++) images.push(await readDicom(path, { frame: f }));
  const slices = toView(path, images, notes).map((img, i) => ({
    slice: i,
    image: prepareHuSlice(img, p),
  }));
  const ts = first.meta.transferSyntax;
  return {
    input: path,
    kind: frames > 1 ? "volume" : "image",
    detail: `DICOM ${first.meta.modality ?? "?"} ${first.width}x${first.height}` +
      (frames > 1 ? `x${frames} frames` : "") + `, transfer syntax ${ts}`,
    slices,
  };
}

/** The DICOM series of a folder as one volume, from the lowest position along the normal. */
export async function readDicomSeriesInput(
  dir: string,
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem> {
  const s = await readDicomSeries(dir);
  for (const w of s.warnings) notes.push(`${dir}: ${w}`);
  if (s.slices.length > 0) checkImage(dir, s.slices[0], notes);
  const { width, height } = s.slices[0];
  return {
    input: dir,
    kind: "volume",
    detail: `DICOM series ${width}x${height}x${s.slices.length}, ` +
      `${s.slices[0].meta.modality ?? "?"}, spacing ${s.spacing.toFixed(2)} mm`,
    slices: toView(dir, s.slices, notes).map((img, i) => ({
      slice: i,
      image: prepareHuSlice(img, p),
    })),
  };
}
