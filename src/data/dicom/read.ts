/**
 * `readDicom`: one DICOM file (or its bytes) to a grey image in real units.
 *
 * @module
 */
import { type CallContract, checkContract } from "../../options.ts";
import { type ParsedDicom, parseDicomBytes, readMeta } from "./parse.ts";
import { storedValues } from "./pixels.ts";
import type { DicomImage } from "./types.ts";

/** Options of `readDicom`. */
export interface ReadDicomOptions {
  /** Which frame of a multi-frame file to read (default 0; `meta.frames` says how many). */
  frame?: number;
  /** The name to use in errors when reading bytes (default "<bytes>"). */
  name?: string;
}

const READ_DICOM: CallContract<ReadDicomOptions> = {
  where: "data.readDicom",
  most: 2,
  known: ["frame", "name"],
  usage: 'data.readDicom("slice.dcm", { frame: 0 })',
};

/** Reads a file's bytes, with "file not found" naming it. */
export async function readFileBytes(path: string | URL): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    const name = path instanceof URL ? path.pathname : path;
    if (e instanceof Deno.errors.NotFound) throw new Error(`${name}: file not found`, { cause: e });
    if (e instanceof Deno.errors.IsADirectory) {
      throw new Error(`${name}: a folder, not a file (a series? use data.readDicomSeries)`, {
        cause: e,
      });
    }
    throw new Error(`${name}: cannot read (${(e as Error).message})`, { cause: e });
  }
}

/** A parsed file's image; shared by `readDicom` and `readDicomSeries`. */
export async function imageOf(
  parsed: ParsedDicom,
  frame: number,
  source: string,
): Promise<DicomImage> {
  const { values, width, height } = await storedValues(parsed, frame, source);
  const meta = readMeta(parsed, frame);
  const slope = meta.rescaleSlope ?? 1;
  const intercept = meta.rescaleIntercept ?? 0;
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i] * slope + intercept;
  return { data, width, height, meta };
}

/**
 * Reads one DICOM image: a path, a `file:` URL or the file's bytes. `data`
 * holds stored value x RescaleSlope + RescaleIntercept (Hounsfield units
 * for CT), row-major, `width * height` values; `meta` has the header fields
 * a reader of slices needs. Grey images only, in implicit or explicit VR
 * little endian, explicit big endian, deflated, RLE, JPEG lossless, JPEG
 * baseline (8-bit), JPEG-LS or JPEG 2000. A multi-frame file gives frame
 * `options.frame` (default 0) and says how many it has in `meta.frames`.
 * Anything else (not DICOM, no pixel data, truncated, colour, an unknown
 * compression) throws an Error that names the file and the reason.
 *
 * @example
 * ```ts
 * import { data } from "@lits/vision";
 *
 * // A made-up 2x1 CT image in implicit VR little endian, without a preamble.
 * const el = (g: number, e: number, v: number[]) => [g & 255, g >> 8, e & 255, e >> 8, v.length, 0, 0, 0, ...v];
 * const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));
 * const bytes = new Uint8Array([
 *   ...el(0x0008, 0x0060, ascii("CT")),
 *   ...el(0x0028, 0x0010, [1, 0]), ...el(0x0028, 0x0011, [2, 0]), // rows, columns
 *   ...el(0x0028, 0x0100, [16, 0]), ...el(0x0028, 0x0103, [1, 0]), // 16 bits, signed
 *   ...el(0x0028, 0x1052, ascii("-1024 ")), // rescale intercept
 *   ...el(0x7fe0, 0x0010, [0, 4, 0xe8, 3]), // stored 1024, 1000
 * ]);
 * const img = await data.readDicom(bytes, { name: "tiny.dcm" });
 * console.log(img.width, img.height, img.meta.modality); // 2 1 CT
 * console.log(img.data); // Float32Array(2) [ 0, -24 ]
 * ```
 */
export async function readDicom(
  pathOrBytes: string | URL | Uint8Array,
  options?: ReadDicomOptions,
): Promise<DicomImage> {
  const o = checkContract(READ_DICOM, arguments.length, options);
  const frame = o.frame ?? 0;
  if (!(Number.isInteger(frame) && frame >= 0)) {
    throw new Error(`data.readDicom: frame must be a non-negative integer, got ${frame}`);
  }
  let bytes: Uint8Array;
  let source: string;
  if (pathOrBytes instanceof Uint8Array) {
    bytes = pathOrBytes;
    source = o.name ?? "<bytes>";
  } else if (typeof pathOrBytes === "string" || pathOrBytes instanceof URL) {
    bytes = await readFileBytes(pathOrBytes);
    source = o.name ?? (pathOrBytes instanceof URL ? pathOrBytes.pathname : pathOrBytes);
  } else {
    throw new Error(
      `data.readDicom: expected a path, a file URL or a Uint8Array, got ${typeof pathOrBytes}`,
    );
  }
  return await imageOf(parseDicomBytes(bytes, source), frame, source);
}
