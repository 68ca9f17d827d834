/**
 * What `deno task predict` reads: each command-line input (a PNG or JPEG
 * slice, a NIfTI volume, a DICOM file, or a folder of any of them) becomes
 * one or more `InputItem`s of model-ready slices. Everything is read and
 * checked before anything is written, and every error names the file.
 *
 * @module
 */
import { basename, join } from "node:path";
import { decodeImage } from "../data/image_decode.ts";
import { readNifti } from "../data/nifti.ts";
import { type PredictPreprocessing, prepareHuSlice, prepareImage } from "./preprocess.ts";
import type { PreparedImage } from "./preprocess.ts";
import { readDicomInput, readDicomSeriesInput } from "./dicom_inputs.ts";

/** One input as the outputs list it: a 2-D image, or a volume of slices. */
export interface InputItem {
  /** The path as the user gave it (or a file inside a given folder). */
  input: string;
  /** "image": one slice; "volume": slices from inferior (0) to superior. */
  kind: "image" | "volume";
  /** What was read, for the page ("PNG 512x512", "NIfTI 512x512x75, LAS"). */
  detail: string;
  /** The slices, in order. */
  slices: { slice: number; image: PreparedImage }[];
}

type Kind = "image" | "nifti" | "dicom";

const IMAGE_EXT = /\.(png|jpe?g)$/i;
const NIFTI_EXT = /\.(nii|nii\.gz|hdr|hdr\.gz)$/i;
const DICOM_EXT = /\.(dcm|dicom)$/i;

/** The kind of a file by its name, else by its first bytes; null when neither says. */
async function kindOf(path: string): Promise<Kind | null> {
  if (IMAGE_EXT.test(path)) return "image";
  if (NIFTI_EXT.test(path)) return "nifti";
  if (DICOM_EXT.test(path)) return "dicom";
  const head = new Uint8Array(132);
  let n = 0;
  const f = await Deno.open(path);
  try {
    for (let r; n < head.length && (r = await f.read(head.subarray(n))) !== null;) n += r;
  } finally {
    f.close();
  }
  const b = head.subarray(0, n);
  if (n >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "image";
  if (n >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image";
  if (n >= 132 && new TextDecoder().decode(b.subarray(128, 132)) === "DICM") return "dicom";
  const v = new DataView(b.buffer, 0, n);
  if (n >= 4 && [348, 540].some((s) => v.getInt32(0, true) === s || v.getInt32(0, false) === s)) {
    return "nifti";
  }
  return null;
}

/** An Error that names `path`, whatever the reader's own message said. */
function naming(path: string, e: unknown): Error {
  const msg = (e as Error)?.message ?? String(e);
  return msg.includes(path) ? e as Error : new Error(`${path}: ${msg}`, { cause: e });
}

async function readImage(path: string, p: PredictPreprocessing): Promise<InputItem> {
  const bytes = await Deno.readFile(path);
  const img = decodeImage(bytes, path);
  const format = bytes[0] === 0x89 ? "PNG" : "JPEG";
  return {
    input: path,
    kind: "image",
    detail: `${format} ${img.width}x${img.height}`,
    slices: [{ slice: 0, image: prepareImage(img, p) }],
  };
}

async function readVolume(
  path: string,
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem> {
  const vol = await readNifti(path);
  try {
    // A 4-D file (a time series, several phases): its first volume only, said.
    if (vol.frames > 1) {
      notes.push(
        `${path}: ${vol.frames} volumes along the dimensions after the 3rd; predicted on the first only ` +
          "(save the others as files of their own to predict on them)",
      );
    }
    const slices: InputItem["slices"] = [];
    let lo = Infinity, hi = -Infinity;
    for await (const { index, data } of vol.slices()) {
      for (const v of data) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      slices.push({
        slice: index,
        image: prepareHuSlice({ data, width: vol.width, height: vol.height }, p),
      });
    }
    if (slices.length === 0) throw new Error(`${path}: the volume has no slices`);
    // NIfTI names no modality (DICOM's is checked): a CT in HU holds air
    // near -1000 and little above a few thousand; an MR or a rescaled
    // export does not, and the model was trained on CT.
    if (lo > -500 || hi > 5000) {
      notes.push(
        `${path}: values ${lo.toFixed(0)}..${hi.toFixed(0)} do not look like CT Hounsfield ` +
          "units (air near -1000, bone below a few thousand); the model was trained on CT, so " +
          "its predictions on this volume mean little",
      );
    }
    return {
      input: path,
      kind: "volume",
      detail: `NIfTI ${vol.width}x${vol.height}x${vol.depth}, ${vol.axcodes}`,
      slices,
    };
  } finally {
    vol.close();
  }
}

async function readFile(
  path: string,
  kind: Kind,
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem> {
  if (kind === "image") return await readImage(path, p);
  if (kind === "nifti") return await readVolume(path, p, notes);
  return await readDicomInput(path, p, notes);
}

/**
 * A folder: its images and volumes one by one, its DICOM files as one
 * series. Files of no known kind (DICOM without preamble or extension) go to
 * the series reader when the folder holds nothing else; otherwise they are
 * skipped with a note.
 */
async function readFolder(
  dir: string,
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && !e.name.startsWith(".")) names.push(e.name);
  }
  names.sort();
  const items: InputItem[] = [];
  const dicom: string[] = [];
  let skipped = 0;
  for (const name of names) {
    const path = join(dir, name);
    const kind = await kindOf(path);
    if (kind === null) skipped++;
    else if (kind === "dicom") dicom.push(path);
    else {items.push(
        await readFile(path, kind, p, notes).catch((e) => Promise.reject(naming(path, e))),
      );}
  }
  if (names.length === 0) {
    throw new Error(`${dir}: no PNG, JPEG, NIfTI or DICOM files in the folder`);
  }
  if (dicom.length > 0 || items.length === 0) {
    items.push(await readDicomSeriesInput(dir, p, notes));
    skipped = 0; // the series reader warned about each file it skipped
  }
  if (skipped > 0) {
    notes.push(`${dir}: skipped ${skipped} file(s) that are not PNG, JPEG, NIfTI or DICOM`);
  }
  return items;
}

/**
 * Reads every input (files and folders, in the order given) into items of
 * model-ready slices. A missing, unreadable or mislabelled file throws an
 * Error naming it; `notes` collects what was skipped or assumed.
 */
export async function loadInputs(
  paths: readonly string[],
  p: PredictPreprocessing,
  notes: string[],
): Promise<InputItem[]> {
  const items: InputItem[] = [];
  for (const path of paths) {
    let stat: Deno.FileInfo;
    try {
      stat = await Deno.stat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw new Error(`${path}: no such file or folder`);
      throw naming(path, e);
    }
    try {
      if (stat.isDirectory) {
        items.push(...await readFolder(path, p, notes));
        continue;
      }
      const kind = await kindOf(path);
      if (kind === null) {
        // Last, DICOM without preamble or extension; its reader says why not.
        items.push(
          await readDicomInput(path, p, notes).catch((e) => {
            throw new Error(
              `${path}: not a PNG, JPEG, NIfTI or DICOM file (by its name ${
                basename(path)
              } or its first bytes; as DICOM: ${(e as Error).message})`,
            );
          }),
        );
        continue;
      }
      items.push(await readFile(path, kind, p, notes));
    } catch (e) {
      throw naming(path, e);
    }
  }
  return items;
}
