/**
 * DICOM bytes to a parsed data set (npm `dicom-parser`), with every parser
 * failure turned into an Error that names the file, and the header fields a
 * reader of CT slices needs.
 *
 * @module
 */
import { inflateRawSync } from "node:zlib";
// deno-lint-ignore no-import-prefix -- pinned npm parser; deno.json has no import map
import dicomParser, { type DataSet } from "npm:dicom-parser@1.8.21";
import type { DicomMeta } from "./types.ts";

export type { DataSet, Element as DicomElement } from "npm:dicom-parser@1.8.21";

/** A parsed file: its data set and transfer syntax UID. */
export interface ParsedDicom {
  dataSet: DataSet;
  transferSyntax: string;
}

export const TAG = {
  transferSyntax: "x00020010",
  mediaStorageSopClass: "x00020002",
  modality: "x00080060",
  patientPosition: "x00185100",
  sliceThickness: "x00180050",
  seriesInstanceUid: "x0020000e",
  instanceNumber: "x00200013",
  imagePosition: "x00200032",
  imageOrientation: "x00200037",
  samplesPerPixel: "x00280002",
  photometric: "x00280004",
  frames: "x00280008",
  rows: "x00280010",
  columns: "x00280011",
  pixelSpacing: "x00280030",
  bitsAllocated: "x00280100",
  bitsStored: "x00280101",
  highBit: "x00280102",
  pixelRepresentation: "x00280103",
  windowCenter: "x00281050",
  windowWidth: "x00281051",
  rescaleIntercept: "x00281052",
  rescaleSlope: "x00281053",
  modalityLut: "x00283000",
  pixelData: "x7fe00010",
  sharedGroups: "x52009229",
  perFrameGroups: "x52009230",
  pixelMeasures: "x00289110",
  planePosition: "x00209113",
  planeOrientation: "x00209116",
  pixelValueTransformation: "x00289145",
  floatPixelData: "x7fe00008",
  doublePixelData: "x7fe00009",
} as const;

/** Thrown for bytes that are not DICOM at all, so a series reader can skip them. */
export class NotDicomError extends Error {
  override name = "NotDicomError";
}

/** dicom-parser throws strings, Errors, or `{ exception, dataSet }`: its message. */
function parserMessage(e: unknown): string {
  const inner = (e && typeof e === "object" && "exception" in e) ? e.exception : e;
  const text = inner instanceof Error ? inner.message : String(inner);
  return text.replace(/^dicomParser[.:]?\s*/, "");
}

/** The deflated syntax's data set follows the meta header as raw deflate. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

/**
 * Files written without the 128-byte preamble and meta header (older
 * scanners, pydicom's `rtstruct.dcm`) start straight with a group 0008
 * element; their syntax is implicit VR little endian unless a VR follows
 * the tag. Anything else is not DICOM.
 */
function bareSyntax(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const group = bytes[0] | (bytes[1] << 8);
  if (group !== 0x0008) return undefined;
  const vr = String.fromCharCode(bytes[4], bytes[5]);
  return /^[A-Z]{2}$/.test(vr) ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
}

/** Parses a whole DICOM file; `source` names it in errors. */
export function parseDicomBytes(bytes: Uint8Array, source: string): ParsedDicom {
  const part10 = bytes.length >= 132 &&
    String.fromCharCode(bytes[128], bytes[129], bytes[130], bytes[131]) === "DICM";
  const bare = part10 ? undefined : bareSyntax(bytes);
  if (!part10 && !bare) {
    throw new NotDicomError(
      `${source}: not a DICOM file (no 'DICM' at byte 128 and no data set at byte 0)`,
    );
  }
  let dataSet: DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, { inflater, TransferSyntaxUID: bare });
  } catch (e) {
    const why = parserMessage(e);
    const truncated = /overr(ead|un)|past end|beyond|greater than/i.test(why);
    throw new Error(
      `${source}: ${
        truncated ? "truncated or corrupt DICOM file" : "unreadable DICOM file"
      } (${why})`,
      { cause: e },
    );
  }
  const transferSyntax = bare ?? dataSet.string(TAG.transferSyntax)?.trim() ?? "";
  return { dataSet, transferSyntax };
}

/** All numbers of a multi-valued decimal string, or null if absent or malformed. */
function numbers(ds: DataSet, tag: string, count: number): number[] | null {
  if (!ds.elements[tag]) return null;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = ds.floatString(tag, i);
    if (v === undefined || !Number.isFinite(v)) return null;
    out.push(v);
  }
  return out;
}

/** `numbers` of a data set that may be missing. */
const nums0 = (ds: DataSet | null, tag: string, count: number) =>
  ds ? numbers(ds, tag, count) : null;

/** `number` of a data set that may be missing. */
const number0 = (ds: DataSet | null, tag: string) => (ds ? number(ds, tag) : null);

/** A single decimal string value, or null. */
function number(ds: DataSet, tag: string): number | null {
  const v = ds.elements[tag] ? ds.floatString(tag, 0) : undefined;
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/** An integer string value, or null when absent or malformed. */
function integer(ds: DataSet, tag: string): number | null {
  const v = ds.elements[tag] ? ds.intString(tag) : undefined;
  return v === undefined || !Number.isInteger(v) ? null : v;
}

/** A trimmed string value, or null when absent or empty. */
function text(ds: DataSet, tag: string): string | null {
  const v = ds.elements[tag] ? ds.string(tag)?.trim() : undefined;
  return v ? v : null;
}

/** Item `index` of sequence `tag` in `ds`, or null. */
function item(ds: DataSet | null, tag: string, index = 0): DataSet | null {
  const items = ds?.elements[tag]?.items;
  return items && index < items.length ? items[index].dataSet ?? null : null;
}

/**
 * Where frame `frame` of an enhanced multi-frame file (Enhanced CT) keeps
 * the attributes of functional group `macro`: its own per-frame group,
 * else the shared one, else nowhere (null). Such files have no top-level
 * rescale or position: they are only there.
 */
function group(ds: DataSet, frame: number, macro: string): DataSet | null {
  return item(item(ds, TAG.perFrameGroups, frame), macro) ??
    item(item(ds, TAG.sharedGroups), macro);
}

/** The header fields of `DicomMeta` (frame counts are filled in here too). */
export function readMeta(parsed: ParsedDicom, frame: number): DicomMeta {
  const ds = parsed.dataSet;
  // Top level first; an enhanced file's functional groups where it has none.
  const g = (macro: string) => group(ds, frame, macro);
  const nums = (tag: string, count: number, macro: string) =>
    numbers(ds, tag, count) ?? nums0(g(macro), tag, count);
  const one = (tag: string, macro: string) => number(ds, tag) ?? number0(g(macro), tag);
  const spacing = nums(TAG.pixelSpacing, 2, TAG.pixelMeasures);
  const frames = integer(ds, TAG.frames);
  const transform = TAG.pixelValueTransformation;
  return {
    modality: text(ds, TAG.modality),
    patientPosition: text(ds, TAG.patientPosition),
    imagePosition: nums(TAG.imagePosition, 3, TAG.planePosition),
    imageOrientation: nums(TAG.imageOrientation, 6, TAG.planeOrientation),
    pixelSpacing: spacing ? [spacing[0], spacing[1]] : null,
    sliceThickness: one(TAG.sliceThickness, TAG.pixelMeasures),
    seriesInstanceUid: text(ds, TAG.seriesInstanceUid),
    instanceNumber: integer(ds, TAG.instanceNumber),
    windowCenter: number(ds, TAG.windowCenter),
    windowWidth: number(ds, TAG.windowWidth),
    rescaleSlope: one(TAG.rescaleSlope, transform),
    rescaleIntercept: one(TAG.rescaleIntercept, transform),
    transferSyntax: parsed.transferSyntax,
    photometricInterpretation: text(ds, TAG.photometric),
    frames: frames !== null && frames > 0 ? frames : 1,
    frame,
  };
}
