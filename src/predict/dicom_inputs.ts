/**
 * DICOM inputs of `deno task predict`: one file (every frame of a
 * multi-frame file, as a volume) or the series in a folder, sorted along the
 * slice normal by `readDicomSeries`. The pixels are Hounsfield units for CT,
 * so each slice is windowed as the importer windows LiTS. Slices are used as
 * stored (rows and columns as in the file); a series that is not axial, or a
 * modality other than CT, is noted, since the model was trained on axial CT.
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

/** One DICOM file: an image, or a volume of its frames. */
export async function readDicomInput(
  path: string,
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem> {
  const first = await readDicom(path);
  checkImage(path, first, notes);
  const frames = first.meta.frames;
  const slices: InputItem["slices"] = [];
  for (let f = 0; f < frames; f++) {
    const img = f === 0 ? first : await readDicom(path, { frame: f });
    slices.push({ slice: f, image: prepareHuSlice(img, p) });
  }
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
    slices: s.slices.map((img, i) => ({ slice: i, image: prepareHuSlice(img, p) })),
  };
}
